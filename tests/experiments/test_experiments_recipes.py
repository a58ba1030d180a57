"""The one train-or-load cache: reused for the same recipe and data, retrained otherwise, never half-written."""

from __future__ import annotations

import os

import pytest
import torch

from advlab.data import load
from advlab.experiments import recipes
from advlab.experiments.recipes import Recipe, data_fingerprint, trained_model

RECIPE = Recipe("mlp", epochs=1, seed=3, model_options={"widths": [16]}, lr=3e-3)


@pytest.fixture(scope="module")
def digits():
    return load("digits", classes=[0, 1, 2], limit_train=120)


def _counting_fit(monkeypatch):
    calls = []
    real = recipes.fit

    def counted(*args, **kwargs):
        calls.append(kwargs.get("epochs"))
        return real(*args, **kwargs)

    monkeypatch.setattr(recipes, "fit", counted)
    return calls


def test_second_call_loads_the_same_weights_without_training(digits, tmp_path, monkeypatch):
    calls = _counting_fit(monkeypatch)
    first = trained_model(RECIPE, digits, tmp_path)
    second = trained_model(RECIPE, digits, tmp_path)
    assert calls == [1]
    assert torch.equal(first.logits(digits.x_test), second.logits(digits.x_test))


def test_other_data_or_settings_retrain(digits, tmp_path, monkeypatch):
    calls = _counting_fit(monkeypatch)
    trained_model(RECIPE, digits, tmp_path)
    trained_model(Recipe("mlp", epochs=2, seed=3, model_options={"widths": [16]}, lr=3e-3), digits, tmp_path)
    trained_model(RECIPE, load("digits", classes=[0, 1, 2], limit_train=100), tmp_path)
    assert calls == [1, 2, 1]
    assert len([p for p in tmp_path.iterdir() if p.is_dir()]) == 3


def test_fingerprint_sees_the_data_not_just_its_name(digits):
    other = load("digits", classes=[0, 1, 2], limit_train=119)
    assert data_fingerprint(digits)["name"] == data_fingerprint(other)["name"]
    assert data_fingerprint(digits) != data_fingerprint(other)
    assert RECIPE.key(digits) != RECIPE.key(other)


def test_a_killed_training_leaves_no_entry_and_stale_temporaries_go(digits, tmp_path, monkeypatch):
    stale = tmp_path / ".tmp-old-entry-999999999"
    stale.mkdir()
    (stale / "model.safetensors").write_bytes(b"half")

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(recipes, "fit", killed)
    with pytest.raises(KeyboardInterrupt):
        trained_model(RECIPE, digits, tmp_path)
    assert list(tmp_path.iterdir()) == []  # the stale temporary is gone and nothing half-written appeared
    assert os.listdir(tmp_path) == []


def test_only_recipes_are_accepted(digits, tmp_path):
    with pytest.raises(TypeError, match="Recipe"):
        trained_model({"family": "mlp"}, digits, tmp_path)  # type: ignore[arg-type]
