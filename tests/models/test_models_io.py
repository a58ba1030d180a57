"""``advlab.save``/``advlab.load``: exact round trips, clear errors, atomic writes."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

import advlab
from advlab.models import Model, build, wrap
from advlab.models import io as model_io
from advlab.train import fit

FAMILIES = [
    ("softmax", (4,), {}),
    ("mlp", (1, 8, 8), {"widths": [16, 8], "activation": "tanh", "bottleneck": 2, "mean": 0.5, "std": 0.25}),
    ("cnn-small", (1, 28, 28), {}),
    ("cnn-madry", (3, 12, 12), {"mean": [0.1, 0.2, 0.3], "std": [0.5, 0.5, 0.5]}),
]


def _assert_same(a: Model, b: Model) -> None:
    assert type(b) is Model
    assert a.full_spec() == b.full_spec()
    assert a.classes == b.classes and a.input_shape == b.input_shape
    assert a.bounds.to_json() == b.bounds.to_json()
    sa, sb = a.net.state_dict(), b.net.state_dict()
    assert sa.keys() == sb.keys()
    assert all(torch.equal(sa[k], sb[k]) and sa[k].dtype == sb[k].dtype for k in sa)
    x = a.bounds.uniform(8, a.input_shape, torch.Generator().manual_seed(1))
    assert torch.equal(a.predict_proba(x), b.predict_proba(x))


def _no_temp_files(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize(("name", "shape", "options"), FAMILIES)
def test_every_family_round_trips(tmp_path: Path, name: str, shape: tuple, options: dict) -> None:
    torch.manual_seed(0)
    model = build(name, input_shape=shape, classes=["cat", "dog", "emu"], bounds=(0, 1), **options)
    path = advlab.save(model, tmp_path / "m.safetensors")
    assert path == tmp_path / "m.safetensors" and _no_temp_files(tmp_path)
    _assert_same(model, advlab.load(path))


def test_per_feature_bounds_round_trip(tmp_path: Path) -> None:
    model = build("softmax", input_shape=(3,), classes=2, bounds=([0, -1, 2], [1, 1, 5]))
    _assert_same(model, advlab.load(advlab.save(model, tmp_path / "m.safetensors")))


def test_converted_sklearn_model_round_trips_exactly(tmp_path: Path) -> None:
    x, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier((6,), max_iter=50, random_state=0).fit(x, y)
    model = wrap(clf, bounds=(0, 10))
    loaded = advlab.load(advlab.save(model, tmp_path / "clf.safetensors"))
    _assert_same(model, loaded)
    assert loaded.dtype == torch.float64 and loaded.spec["converted_from"] == "sklearn.MLPClassifier"
    x32 = torch.tensor(x, dtype=torch.float32)
    theirs = clf.predict_proba(x32.double().numpy())
    assert np.abs(loaded.predict_proba(x32).double().numpy() - theirs).max() < 1e-6


def test_trained_model_keeps_its_training_record(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = build("mlp", input_shape=(4,), classes=2, widths=[8])
    xs, ys = torch.rand(64, 4), torch.randint(0, 2, (64,))
    fit(model, (xs, ys), epochs=1, lr=0.01, quiet=True)
    loaded = advlab.load(advlab.save(model, tmp_path / "trained.safetensors"))
    assert loaded.spec["training"] == model.spec["training"]
    assert loaded.spec["training"]["method"] == "standard" and loaded.spec["training"]["lr"] == 0.01
    _assert_same(model, loaded)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no model file"):
        advlab.load(tmp_path / "nope.safetensors")


def test_truncated_file(tmp_path: Path) -> None:
    path = advlab.save(build("mlp", input_shape=(4,), classes=3), tmp_path / "m.safetensors")
    data = path.read_bytes()
    for keep in (len(data) - 10, len(data) // 2, 20, 3, 0):
        path.write_bytes(data[:keep])
        with pytest.raises(ValueError, match="truncated or corrupt"):
            advlab.load(path)


def test_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "noise.safetensors"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(ValueError, match="not a readable .safetensors model file"):
        advlab.load(path)


def test_foreign_safetensors_file_without_spec(tmp_path: Path) -> None:
    path = tmp_path / "foreign.safetensors"
    save_file({"weight": torch.zeros(3, 3)}, str(path), metadata={"format": "pt"})
    with pytest.raises(ValueError, match="not an advlab model"):
        advlab.load(path)


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ("{broken", "corrupt model spec"),
        ("[1, 2]", "corrupt model spec"),
        ('{"family": "mlp"}', "incomplete spec"),
        ('{"family": "gone", "bounds": [0, 1], "classes": ["a", "b"], "input_shape": [2]}', "unknown model"),
        ('{"family": "mlp", "bounds": [0, 1], "classes": ["a", "b"], "input_shape": [2]}', "do not match"),
    ],
)
def test_bad_spec_in_metadata(tmp_path: Path, spec: str, match: str) -> None:
    path = tmp_path / "bad.safetensors"
    save_file({"weight": torch.zeros(2)}, str(path), metadata={model_io.SPEC_KEY: spec})
    with pytest.raises(ValueError, match=match):
        advlab.load(path)


def test_black_box_and_custom_models_refuse_to_save(tmp_path: Path) -> None:
    box = wrap(lambda x: np.ones((len(x), 2)) / 2, bounds=(0, 1), classes=2, input_shape=(3,))
    custom = wrap(torch.nn.Linear(3, 2), bounds=(0, 1), classes=2, input_shape=(3,))
    for model, kind in ((box, "blackbox"), (custom, "custom")):
        with pytest.raises(ValueError, match=kind):
            advlab.save(model, tmp_path / f"{kind}.safetensors")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(TypeError, match="advlab Model"):
        advlab.save(torch.nn.Linear(3, 2), tmp_path / "x.safetensors")


def test_save_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    torch.manual_seed(0)
    old = build("mlp", input_shape=(4,), classes=3)
    path = advlab.save(old, tmp_path / "m.safetensors")
    before = path.read_bytes()

    def half_then_crash(tensors: dict, filename: str, metadata: dict) -> None:
        real_save_file(tensors, filename, metadata=metadata)
        data = Path(filename).read_bytes()
        Path(filename).write_bytes(data[: len(data) // 2])
        raise OSError("disk full")

    real_save_file = model_io.save_file
    monkeypatch.setattr(model_io, "save_file", half_then_crash)
    torch.manual_seed(1)
    with pytest.raises(OSError, match="disk full"):
        advlab.save(build("mlp", input_shape=(4,), classes=3), path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.safetensors"]
    _assert_same(old, advlab.load(path))


def test_a_float64_zoo_model_stays_float64(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = build("mlp", input_shape=(4,), classes=3)
    model.net.double()
    with torch.no_grad():
        model.net.head.bias.add_(1e-12)  # a difference float32 cannot hold
    loaded = advlab.load(advlab.save(model, tmp_path / "m64.safetensors"))
    assert model.dtype == loaded.dtype == torch.float64
    assert torch.equal(loaded.net.head.bias, model.net.head.bias)
    assert loaded(torch.rand(2, 4)).dtype == torch.float64  # float32 inputs are cast by Normalize
