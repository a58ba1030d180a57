"""compute_slice: linear models put boundaries where the algebra does; only feasible points are evaluated; cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from advlab.models import Model, build
from advlab.viz import SliceData, compute_slice


class RowCounter:
    """Counts the inputs a model's forward pass receives."""

    def __init__(self, model: Model):
        self.rows = 0
        self.calls = 0
        model.register_forward_hook(self)

    def __call__(self, module: torch.nn.Module, args: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        self.rows += len(args[0])
        self.calls += 1


def _linear_model(seed: int = 0, shape: tuple[int, ...] = (1, 5, 5), classes: int = 4) -> Model:
    torch.manual_seed(seed)
    model = build("softmax", input_shape=shape, classes=classes)
    with torch.no_grad():
        w = model.net.head.weight
        w.mul_(20.0)  # steep logits: several regions inside one slice
        # Centre the logits on the middle of the box so no class wins everywhere.
        model.net.head.bias.copy_(-0.5 * w.sum(dim=1) + torch.empty(classes).uniform_(-1, 1))
    return model


def _points(seed: int, shape: tuple[int, ...]) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.rand(shape, generator=g) for _ in range(3)]


@pytest.mark.parametrize("rotated", [False, True])
def test_linear_model_boundaries_are_where_the_algebra_puts_them(rotated: bool) -> None:
    model = _linear_model()
    a, b, c = _points(1, model.input_shape)
    side = (c - b) if rotated else None
    data = compute_slice(model, a, b, c, resolution=96, side=side)
    weight = model.net.head.weight.detach().double().numpy()
    bias = model.net.head.bias.detach().double().numpy()
    ss, tt = data.grid()
    x = a.double().numpy().reshape(-1) + ss[..., None] * data.basis[0] + tt[..., None] * data.basis[1]
    logits = x @ weight.T + bias
    top2 = np.sort(logits, axis=-1)[..., -2:]
    clear = data.feasible & (top2[..., 1] - top2[..., 0] > 1e-3)  # skip float32 near-ties on a boundary
    assert len(np.unique(data.labels[data.feasible])) >= 2
    np.testing.assert_array_equal(data.labels[clear], logits.argmax(-1)[clear])
    np.testing.assert_allclose(data.probabilities[data.feasible].sum(-1), 1.0, atol=1e-5)


def test_feasible_is_the_coordinatewise_check_and_infeasible_is_never_evaluated() -> None:
    model = _linear_model(1)
    a = torch.zeros(model.input_shape)
    a[0, 0] = 1.0  # saturated coordinates: a on a face of H
    _, b, c = _points(2, model.input_shape)
    counter = RowCounter(model)
    data = compute_slice(model, a, b, c, resolution=80, batch_size=500)
    ss, tt = data.grid()
    x = data.to_input(ss, tt)
    assert x.shape == (80, 80, *model.input_shape)
    margin = np.minimum(x, 1 - x).reshape(80, 80, -1).min(-1)
    clear = np.abs(margin) > 1e-7
    np.testing.assert_array_equal(data.feasible[clear], (margin >= 0)[clear])
    assert 0 < data.feasible.sum() < data.feasible.size
    assert counter.rows == data.evaluations == int(data.feasible.sum())
    assert counter.calls == -(-data.evaluations // 500)  # big batches, not per pixel
    assert (data.labels[~data.feasible] == -1).all()
    assert np.isnan(data.probabilities[~data.feasible]).all()
    assert not np.isnan(data.probabilities[data.feasible]).any()


def test_anchors_map_back_and_fields() -> None:
    model = _linear_model(2)
    a, b, c = _points(3, model.input_shape)
    for side in (None, a - c):
        data = compute_slice(model, a[None], b.reshape(-1), c, resolution=16, side=side)
        np.testing.assert_allclose(data.to_input(data.anchors), torch.stack([a, b, c]).numpy(), atol=1e-6)
        np.testing.assert_allclose(data.project(torch.stack([a, b, c])), data.anchors, atol=1e-9)
        assert data.origin.shape == (25,) and data.basis.shape == (2, 25)
        assert data.labels.shape == data.feasible.shape == (16, 16)
        assert data.probabilities.shape == (16, 16, 4)
        assert data.class_names == model.classes
        ss, tt = data.grid()
        assert (np.diff(ss, axis=1) > 0).all() and (np.diff(tt, axis=0) > 0).all()  # row i is t_i, upwards
        assert data.full_extent == data.extent and data.center is None
    rotated = compute_slice(model, a, b, c, resolution=16, side=c - a)
    assert rotated.angle != 0.0
    np.testing.assert_allclose(rotated.side, ((c - a) / (c - a).norm()).reshape(-1).numpy(), atol=1e-6)


def test_zoom_magnifies_around_the_centre() -> None:
    model = _linear_model(3)
    a, b, c = _points(4, model.input_shape)
    full = compute_slice(model, a, b, c, resolution=32)
    local = compute_slice(model, a, b, c, resolution=32, zoom=10.0, zoom_center="b")
    assert local.magnification == pytest.approx(10.0)
    (s0, s1), (t0, t1) = local.extent
    np.testing.assert_allclose([(s0 + s1) / 2, (t0 + t1) / 2], full.anchors[1], atol=1e-9)
    np.testing.assert_allclose(local.anchors, full.anchors)
    # Each zoomed pixel has the model's label at its input point.
    ss, tt = local.grid()
    x = torch.as_tensor(local.to_input(ss[local.feasible], tt[local.feasible]), dtype=torch.float32)
    np.testing.assert_array_equal(local.labels[local.feasible], model.predict(x.clamp(0, 1)).numpy())


def test_per_feature_bounds_tabular_model() -> None:
    torch.manual_seed(0)
    lo, hi = [0.0, -2.0, 1.0], [1.0, 2.0, 4.0]
    model = build("mlp", input_shape=(3,), classes=3, widths=[8], bounds=(lo, hi))
    a, b, c = torch.tensor([0.5, 0.0, 2.0]), torch.tensor([0.9, 1.5, 1.2]), torch.tensor([0.1, -1.0, 3.5])
    data = compute_slice(model, a, b, c, resolution=40)
    ss, tt = data.grid()
    x = data.to_input(ss, tt)
    inside = ((x >= np.array(lo) - 1e-7) & (x <= np.array(hi) + 1e-7)).all(-1)
    assert (data.feasible <= inside).all() and data.feasible.sum() > 0


def test_cache_hit_skips_the_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = _linear_model(4)
    a, b, c = _points(5, model.input_shape)
    counter = RowCounter(model)
    first = compute_slice(model, a, b, c, resolution=24, cache=tmp_path)
    assert counter.rows > 0 and len(list(tmp_path.glob("*.npz"))) == 1
    counter.rows = 0
    again = compute_slice(model, a, b, c, resolution=24, cache=tmp_path)
    assert counter.rows == 0
    for name in ("feasible", "labels", "probabilities", "origin", "basis", "anchors", "polygon"):
        np.testing.assert_array_equal(getattr(again, name), getattr(first, name))
    assert (again.extent, again.class_names, again.evaluations) == (first.extent, first.class_names, first.evaluations)
    # Anything that changes the picture is a miss: resolution, zoom, weights.
    compute_slice(model, a, b, c, resolution=24, zoom=2.0, cache=tmp_path)
    with torch.no_grad():
        model.net.head.bias[0] += 1.0
    compute_slice(model, a, b, c, resolution=24, cache=tmp_path)
    assert len(list(tmp_path.glob("*.npz"))) == 3
    # cache=True uses $ADVLAB_CACHE/slices; a corrupt file is recomputed, not trusted.
    monkeypatch.setenv("ADVLAB_CACHE", str(tmp_path / "root"))
    compute_slice(model, a, b, c, resolution=24, cache=True)
    (stored,) = (tmp_path / "root" / "slices").glob("*.npz")
    stored.write_bytes(b"not a zip file")
    counter.rows = 0
    data = compute_slice(model, a, b, c, resolution=24, cache=True)
    assert counter.rows == data.evaluations > 0
    assert isinstance(SliceData.from_arrays(dict(np.load(stored, allow_pickle=False))), SliceData)


@pytest.mark.parametrize(
    "points, match",
    [
        (lambda a, b, c: (a, a.clone(), c), "coincide"),
        (lambda a, b, c: (a, b, 0.5 * (a + b)), "collinear"),
        (lambda a, b, c: (a, b + 2.0, c), "outside"),
        (lambda a, b, c: (a, b, torch.full_like(c, float("nan"))), "NaN"),
        (lambda a, b, c: (a, b[:, :4], c), "shaped"),
    ],
)
def test_degenerate_inputs_raise(points, match: str) -> None:
    model = _linear_model(5)
    a, b, c = _points(6, model.input_shape)
    with pytest.raises(ValueError, match=match):
        compute_slice(model, *points(a, b, c), resolution=8)


def test_bad_arguments_raise() -> None:
    model = _linear_model(6)
    a, b, c = _points(7, model.input_shape)
    with pytest.raises(TypeError, match="advlab Model"):
        compute_slice(torch.nn.Linear(25, 4), a, b, c)  # type: ignore[arg-type]
    for kwargs in ({"resolution": 1}, {"resolution": 2.5}, {"batch_size": 0}, {"side": torch.ones(24)}, {"cache": 3}):
        with pytest.raises((ValueError, TypeError)):
            compute_slice(model, a, b, c, **kwargs)
