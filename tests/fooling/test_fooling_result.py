"""FoolingResult: measured by the model, saved and loaded exactly, refused when the file is not one."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file

from advlab.fooling import FoolingResult, make_strategy


def test_measure_recomputes_every_probability_from_the_images(linear):
    result = make_strategy("ascent", budget=100)(linear, required=0.99, seed=0)
    probs = linear.predict_proba(result.images).double()
    torch.testing.assert_close(result.target_confidences, probs[torch.arange(3), result.targets])
    torch.testing.assert_close(result.confidences, probs.max(1).values)
    faked = FoolingResult("x", {}, 0.99, result.images, result.targets, torch.ones(3), result.targets, torch.ones(3),
                          result.queries, result.steps, result.nearest_distances)
    torch.testing.assert_close(faked.measure(linear).target_confidences, result.target_confidences)


def test_save_and_load_round_trip(linear, tmp_path):
    result = make_strategy("evolve-direct", budget=50)(linear, [0, 2], required=0.9, seed=1, reference=torch.rand(20, 1, 4, 4))
    path = result.save(tmp_path / "r.safetensors")
    back = FoolingResult.load(path)
    assert back.strategy == "evolve-direct" and back.config == result.config and back.required == 0.9
    assert back.class_names == result.class_names
    for name in ("images", "targets", "target_confidences", "queries", "steps", "nearest_distances"):
        torch.testing.assert_close(getattr(back, name), getattr(result, name))
    assert back.table() == result.table()


def test_load_refuses_other_files(tmp_path):
    save_file({"a": torch.zeros(2)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(ValueError, match="not an advlab fooling result"):
        FoolingResult.load(tmp_path / "other.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"\x00\x01junk")
    with pytest.raises(ValueError, match="not a readable fooling result"):
        FoolingResult.load(tmp_path / "junk.safetensors")


def test_bad_arguments_are_refused(linear):
    ascent = make_strategy("ascent", budget=10)
    with pytest.raises(ValueError, match="required confidence"):
        ascent(linear, required=1.5)
    with pytest.raises(ValueError, match="indices in 0..2"):
        ascent(linear, [0, 5])
    with pytest.raises(ValueError, match="unknown fooling strategy"):
        make_strategy("gradient")
    with pytest.raises(ValueError, match="steps must be"):
        make_strategy("ascent", steps=0)
    with pytest.raises(ValueError, match="reference"):
        make_strategy("invert", budget=10)(linear)
