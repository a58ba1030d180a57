"""slices-mnist and slices-compare in fast mode on the embedded digits."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest

from advlab.experiments import EXPERIMENTS, ExperimentContext

# Smaller than fast mode's own settings: the test checks the plumbing and the invariants, not the pictures.
SMALL = {"resolution": 32, "church_images": 2, "church_resolution": 12, "pgd_steps": 8, "candidates": 8, "pair_tries": 20000,
         "profile_points": 30, "n": 60}


def _run(name, tmp_path_factory, **options):
    ctx = ExperimentContext(tmp_path_factory.mktemp(name), quiet=True, fast=True, options=options)
    return EXPERIMENTS.get(name).run(ctx), ctx


@pytest.fixture(scope="module")
def mnist_slices(tmp_path_factory):
    res, ctx = _run("slices-mnist", tmp_path_factory, **SMALL)
    yield res, ctx
    for fig in res.figures.values():
        plt.close(fig)


def test_slices_mnist_outputs(mnist_slices):
    res, _ = mnist_slices
    m = res.metrics
    assert m["settings"]["data"] == "digits" and m["test_accuracy"] > 0.6
    assert m["class_a"] != m["class_b"] and m["adversarial_linf"] <= m["settings"]["eps"] + 1e-6
    assert len(m["slices"]) == 6 and {"grey (centre of H)", "random image", "FGSM adversarial"} <= set(m["component_counts"])
    for row in m["slices"]:
        assert 0 < row["inside H %"] < 100  # images with saturated pixels: part of every rectangle is outside H
        assert row["regions (4-conn.)"] >= row["classes seen"] >= 2  # a and b differ in class
    assert {"third_points", "local_global", "church_windows", "profiles"} <= set(res.figures)
    assert set(res.captions) == set(res.figures)
    assert m["church"]["image_is_prediction"] == 1.0
    assert set(m["church"]["inside_H_by_kind"]) == set(m["church"]["kinds"]) and "crosses a decision boundary" in res.summary
    assert "outside" in res.summary and "fast mode" in res.scale


def test_slices_mnist_connectivity_demonstration(mnist_slices):
    res, _ = mnist_slices
    conn = res.metrics["connectivity"]
    if not conn["found"]:
        pytest.skip(f"no connecting slice in fast mode: {conn}")
    assert conn["class"] in conn["segment_classes"] and len(conn["segment_classes"]) >= 2
    assert conn["disconnected_in"] != conn["connected_in"] and "connectivity" in res.figures


def test_slices_mnist_reuses_the_cached_model(mnist_slices, monkeypatch):
    res, ctx = mnist_slices

    def no_training(*args, **kwargs):
        raise AssertionError("the cached model should have been loaded, not retrained")

    monkeypatch.setattr("advlab.experiments.recipes.fit", no_training)
    again = EXPERIMENTS.get("slices-mnist").run(ctx)  # same out_dir: the trained model is loaded, not retrained
    assert again.metrics["test_accuracy"] == res.metrics["test_accuracy"]
    assert again.metrics["adversarial_l2"] == pytest.approx(res.metrics["adversarial_l2"])
    for fig in again.figures.values():
        plt.close(fig)


def test_slices_compare(tmp_path_factory):
    res, _ = _run("slices-compare", tmp_path_factory, **SMALL, epochs=2)
    rows = {r["model"]: r for r in res.metrics["models"]}
    assert len(rows) == 4 and "cnn-small (adversarially trained)" in rows
    assert rows["cnn-small (standard)"]["fooled by b"]
    assert set(res.figures) == {"global_slices", "local_slices", "profiles"} == set(res.captions)
    assert res.comparisons and "robust" in res.summary
    for fig in res.figures.values():
        plt.close(fig)
