"""Run folders: ``save_run`` writes what ``open_run`` reads back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from advlab import data
from advlab.models import build
from advlab.runs import HISTORY_FILE, MODEL_FILE, RUN_FILE, open_run, save_run
from advlab.train import fit


@pytest.fixture
def trained(tmp_path: Path) -> tuple[Path, object, dict]:
    spec = {"name": "digits", "classes": [0, 1, 2], "limit_train": 200}
    ds = data.load(quiet=True, **spec)
    torch.manual_seed(0)
    model = build("mlp", input_shape=ds.input_shape, classes=ds.class_names, widths=[8])
    history = fit(model, ds, epochs=1, quiet=True)
    save_run(tmp_path / "run", model, spec, history.to_json(), note="test")
    return tmp_path / "run", model, history.to_json()


def test_save_run_writes_three_files_and_opens_back(trained: tuple) -> None:
    path, model, history = trained
    assert sorted(p.name for p in path.iterdir()) == sorted([MODEL_FILE, RUN_FILE, HISTORY_FILE])
    run = open_run(path)
    assert run.info == {"model": "mlp", "data": {"name": "digits", "classes": [0, 1, 2], "limit_train": 200}, "note": "test"}
    assert json.loads((path / HISTORY_FILE).read_text()) == json.loads(json.dumps(history))
    loaded = run.load_model()
    x = torch.rand(5, 1, 8, 8)
    assert torch.equal(loaded.predict_proba(x), model.predict_proba(x))
    assert loaded.spec["training"] == model.spec["training"]


def test_run_reloads_the_same_data(trained: tuple) -> None:
    path, _, _ = trained
    ds = open_run(path).load_data()
    assert ds.name == "digits" and ds.num_classes == 3 and len(ds.x_train) == 200
    assert set(ds.y_train.tolist()) == {0, 1, 2}
    assert len(open_run(path).load_data(limit_train=50).x_train) == 50  # overrides win


def test_open_run_accepts_the_model_file(trained: tuple) -> None:
    path, _, _ = trained
    run = open_run(path / MODEL_FILE)
    assert run.info["data"]["name"] == "digits" and run.model_path == path / MODEL_FILE


def test_a_bare_model_file_has_no_data(tmp_path: Path) -> None:
    from advlab import save

    model_path = save(build("softmax", input_shape=(4,), classes=2), tmp_path / "other.safetensors")
    run = open_run(model_path)
    assert run.info == {} and run.load_model().spec["family"] == "softmax"
    with pytest.raises(ValueError, match="does not say which dataset"):
        run.load_data()


def test_not_a_run_folder(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a run folder.*advlab train"):
        open_run(tmp_path)
    with pytest.raises(ValueError, match="not a run folder"):
        open_run(tmp_path / "missing")


def test_corrupt_run_json(trained: tuple) -> None:
    path, _, _ = trained
    (path / RUN_FILE).write_text("{not json")
    with pytest.raises(ValueError, match="not JSON"):
        open_run(path)
    (path / RUN_FILE).write_text("[1, 2]")
    with pytest.raises(ValueError, match="JSON object"):
        open_run(path)


def test_save_run_needs_a_dataset_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="name"):
        save_run(tmp_path / "r", build("softmax", input_shape=(4,), classes=2), {"classes": [0, 1]})
    assert not (tmp_path / "r").exists()
