"""``advlab fool``: fooling images for a trained run, saved, re-measurable, and clean errors."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")
import torch
from click.testing import CliRunner

from advlab.cli import cli
from advlab.data import load
from advlab.fooling import FoolingResult
from advlab.models import build
from advlab.runs import open_run, save_run
from advlab.train import fit


def _run(tmp_path):
    ds = load("digits", classes=(0, 1, 2), quiet=True)
    torch.manual_seed(0)
    model = build("mlp", input_shape=ds.input_shape, classes=ds.class_names, bounds=ds.bounds, widths=[32])
    fit(model, ds, epochs=3, batch_size=64, lr=3e-3, quiet=True)
    save_run(tmp_path / "run", model, {"name": "digits", "classes": [0, 1, 2]})
    return tmp_path / "run"


def test_fool_writes_a_result_that_the_model_confirms(tmp_path):
    run = _run(tmp_path)
    res = CliRunner().invoke(cli, ["fool", str(run), "--strategy", "ascent", "--classes", "0,2", "--budget", "200",
                                   "--confidence", "0.9", "--quiet"])
    assert res.exit_code == 0, res.output
    out = run / "fooling" / "ascent"
    result = FoolingResult.load(out / "result.safetensors")
    assert result.targets.tolist() == [0, 2]
    model = open_run(run).load_model()
    again = result.measure(model)
    torch.testing.assert_close(again.target_confidences, result.target_confidences)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["success_rate"] == result.success_rate
    assert [r["target"] for r in summary["table"]] == ["0", "2"]
    assert (out / "grid.png").stat().st_size > 0
    assert "classes reached p ≥ 0.9" in res.output


def test_fool_errors_are_one_line(tmp_path):
    run = _run(tmp_path)
    res = CliRunner().invoke(cli, ["fool", str(run), "--classes", "7"])
    assert res.exit_code != 0 and "Traceback" not in res.output and "--classes" in res.output
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "m.safetensors").write_bytes((run / "model.safetensors").read_bytes())
    res = CliRunner().invoke(cli, ["fool", str(bare / "m.safetensors"), "--strategy", "invert", "--quiet"])
    assert res.exit_code != 0 and "invert needs the training data" in res.output
