"""``advlab train``: writes a run folder that loads back, resumes, and fails in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

import advlab
from advlab.cli import cli
from advlab.runs import open_run

FAST = ["--option", "widths=[16]", "--batch-size", "64", "-q"]


def _train(out: Path, *extra: str) -> object:
    return CliRunner().invoke(cli, ["train", "mlp", "--data", "digits", "--out", str(out), *FAST, *extra])


def _one_line_error(result: object) -> str:
    assert result.exit_code != 0  # type: ignore[attr-defined]
    assert isinstance(result.exception, SystemExit)  # type: ignore[attr-defined]  (not a crash)
    text = result.output.strip()  # type: ignore[attr-defined]
    assert "Traceback" not in text and len(text.splitlines()) == 1, text
    return text


def test_train_writes_a_run_that_loads_back(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = _train(out, "--epochs", "1", "--lr", "0.01")
    assert result.exit_code == 0, result.output
    assert "test acc" in result.output and "after 1 epochs" in result.output
    for name in ("model.safetensors", "run.json", "history.json"):
        assert (out / name).is_file()
    info = json.loads((out / "run.json").read_text())
    assert info["model"] == "mlp" and info["data"] == {"name": "digits"}
    history = json.loads((out / "history.json").read_text())
    assert [e["epoch"] for e in history["epochs"]] == [1]
    assert history["config"]["lr"] == 0.01
    model = advlab.load(out / "model.safetensors")
    assert model.spec["options"] == {"widths": [16]} and model.spec["training"]["epochs"] == 1
    ds = open_run(out).load_data()
    acc = (model.predict(ds.x_test) == ds.y_test).float().mean().item()
    assert acc == pytest.approx(history["epochs"][0]["test_accuracy"]) and acc > 0.5


def test_resume_continues_the_run(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert _train(out, "--epochs", "1").exit_code == 0
    first = json.loads((out / "history.json").read_text())["epochs"]
    result = _train(out, "--epochs", "2", "--resume")
    assert result.exit_code == 0, result.output
    epochs = json.loads((out / "history.json").read_text())["epochs"]
    assert [e["epoch"] for e in epochs] == [1, 2] and epochs[0] == first[0]
    # the same as two epochs in one go
    straight = tmp_path / "straight"
    assert _train(straight, "--epochs", "2").exit_code == 0
    a, b = advlab.load(out / "model.safetensors"), advlab.load(straight / "model.safetensors")
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values(), strict=True))


def test_resume_with_other_settings_fails_cleanly(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert _train(out, "--epochs", "1").exit_code == 0
    text = _one_line_error(_train(out, "--epochs", "2", "--resume", "--lr", "0.5"))
    assert "different settings" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "no-such-net", "--data", "digits"], "unknown model 'no-such-net'"),
        (["train", "mlp", "--data", "no-such-data"], "unknown dataset 'no-such-data'"),
        (["train", "mlp", "--data", "digits", "--epochs", "0"], "epochs must be a positive integer"),
        (["train", "mlp", "--data", "digits", "--option", "depth=3"], "unknown option"),
        (["train", "mlp", "--data", "digits", "--method", "magic"], "unknown training method 'magic'"),
    ],
)
def test_bad_arguments_give_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "r"), "-q"])
    assert message in _one_line_error(result)
    assert not (tmp_path / "r" / "model.safetensors").exists()
