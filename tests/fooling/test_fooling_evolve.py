"""MAP-Elites with direct and CPPN encodings; CMA-ES; the mutation operators."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from advlab.fooling import (
    CMAES,
    CPPN,
    CPPNEncoding,
    DirectEncoding,
    evolve_cppn,
    evolve_direct,
    nearest_distances,
    polynomial_mutation,
)
from advlab.fooling.cppn import add_connection, add_node, remove_node
from advlab.models import wrap


def brightness_model(shape=(1, 6, 6)):
    """Black box with a known answer: p(bright) = sigmoid(40·(mean − 0.5)); class 0 'dark', 1 'bright'."""

    def probabilities(x: np.ndarray) -> np.ndarray:
        p = 1 / (1 + np.exp(-40 * (x.reshape(len(x), -1).mean(1) - 0.5)))
        return np.stack([1 - p, p], 1)

    return wrap(probabilities, bounds=(0.0, 1.0), classes=["dark", "bright"], input_shape=shape)


def test_polynomial_mutation_stays_in_bounds_and_is_symmetric_in_the_middle():
    rng = np.random.default_rng(0)
    for x0 in (0.0, 0.5, 1.0, 0.03):
        y = polynomial_mutation(np.full(20000, x0), 15.0, rng)
        assert y.min() >= 0.0 and y.max() <= 1.0
    y = polynomial_mutation(np.full(20000, 0.5), 15.0, rng)
    assert abs(float(np.median(y - 0.5))) < 0.005 and 0.01 < float(np.abs(y - 0.5).mean()) < 0.1
    # a larger strength η makes smaller steps
    small = polynomial_mutation(np.full(20000, 0.5), 100.0, rng)
    assert float(np.abs(small - 0.5).mean()) < float(np.abs(y - 0.5).mean())


def test_direct_mutation_rate_and_uniform_crossover():
    rng = np.random.default_rng(1)
    enc = DirectEncoding(rate=0.1)
    g = np.full((1, 50, 50), 0.5, dtype=np.float32)
    changed = float((enc.mutate(g, rng) != g).mean())
    assert 0.07 < changed < 0.13
    a, b = np.zeros((1, 50, 50), np.float32), np.ones((1, 50, 50), np.float32)
    c = enc.crossover(a, b, rng)
    assert set(np.unique(c)) == {0.0, 1.0} and 0.4 < float(c.mean()) < 0.6


def test_cppn_draws_its_closed_form():
    g = CPPN({0: (0.0, "input"), 1: (0.0, "input"), 2: (0.0, "input"), 3: (0.0, "input"), 4: (1.0, "sigmoid"),
              5: (0.5, "sin")}, {(0, 5): 2.0, (5, 4): 3.0, (3, 4): -1.0})
    img = g.render(5, 7)
    xs = np.linspace(-1, 1, 7)[None, :].repeat(5, 0)
    np.testing.assert_allclose(img[0], 1 / (1 + np.exp(-(3 * np.sin(2 * xs) - 1))), rtol=1e-5)


def test_cppn_mutations_keep_the_network_acyclic_and_consistent():
    rng = np.random.default_rng(2)
    enc = CPPNEncoding(add_node=0.6, remove_node=0.3, add_connection=0.6, remove_connection=0.2, max_hidden=6)
    genomes = enc.random(5, (1, 8, 8), rng)
    for _ in range(40):
        genomes = [enc.mutate(g, rng) for g in genomes]
    for g in genomes:
        assert len(g.hidden) <= 6
        for src, dst in g.connections:
            assert src in g.nodes and dst in g.nodes and g.nodes[src][0] < g.nodes[dst][0]
    g = genomes[0]
    before = len(g.nodes)
    add_node(g, rng)
    assert len(g.nodes) == before + 1
    remove_node(g, rng)
    assert all(n in g.nodes for c in g.connections for n in c)
    add_connection(g, rng)
    img = enc.render(genomes, (1, 8, 8))
    assert img.shape == (5, 1, 8, 8) and float(img.min()) >= 0 and float(img.max()) <= 1
    torch.testing.assert_close(img, enc.render(genomes, (1, 8, 8)))  # drawing is deterministic


@pytest.mark.parametrize("make", [evolve_direct, evolve_cppn])
def test_map_elites_fills_every_niche_from_probabilities_alone(make):
    model = brightness_model()
    result = make(generations=60, batch=20)(model, required=0.99, seed=0)
    assert bool(result.success.all())
    means = result.images.flatten(1).mean(1)
    assert float(means[0]) < 0.5 < float(means[1])  # 'dark' is dark, 'bright' is bright
    assert bool((result.queries % 20 == 0).all())  # counted in whole generations of children
    again = make(generations=60, batch=20)(model, required=0.99, seed=0)
    torch.testing.assert_close(again.images, result.images)  # seeded


def test_map_elites_never_loses_an_elite():
    model = brightness_model()
    short = evolve_direct(generations=2, batch=10)(model, required=0.999999, seed=4)
    long = evolve_direct(generations=30, batch=10)(model, required=0.999999, seed=4)
    assert bool((long.target_confidences >= short.target_confidences).all())


def test_cma_es_reaches_both_classes():
    result = CMAES(evaluations=3000, popsize=12)(brightness_model(), required=0.99, seed=0)
    assert bool(result.success.all()) and int(result.queries.max()) <= 3000


def test_map_elites_keeps_elites_away_from_the_data_and_from_lookalikes():
    model = brightness_model()
    dark, bright = torch.zeros(1, 1, 6, 6), torch.ones(1, 1, 6, 6)
    reference = torch.cat([dark, bright])
    far = evolve_direct(generations=40, batch=20, min_distance=1.5)(model, required=0.99, seed=0, reference=reference)
    assert bool((far.nearest_distances >= 1.5).all())
    # 'unlike': a 'dark' elite may not lie nearest the black image (labelled dark); a grey image labelled 'bright'
    # leaves room for dark-but-not-black patterns
    labelled = torch.cat([dark, bright, torch.full((1, 1, 6, 6), 0.4)])
    labels = torch.tensor([0, 1, 1])
    unlike = evolve_direct(generations=40, batch=20, unlike=(labelled, labels))(model, [0], required=0.9, seed=0)
    _, nearest = nearest_distances(unlike.images, labelled)
    assert bool(unlike.success.all()) and int(labels[nearest[0]]) == 1
    with pytest.raises(ValueError, match="min_distance needs reference"):
        evolve_direct(generations=1, min_distance=1.0)(model)
