"""``advlab sweep`` in process: a grid of trainings, each evaluated; table, figure; a rerun reuses everything."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from advlab.cli import cli
from advlab.engine.sweep import SweepGrid, training_shards
from advlab.runs import open_run

ARGS = ["sweep", "--data", "digits", "--model", "mlp", "--option", "widths=[16]", "--method", "standard,fgsm",
        "--eps", "0.1,0.2", "--seeds", "0", "--epochs", "1", "--lr", "0.003", "--attack", "fgsm",
        "--eval-eps", "0.05,0.1", "--n", "40", "--shard-size", "20", "-q"]  # fmt: skip


def test_sweep_trains_the_grid_evaluates_and_resumes(tmp_path: Path) -> None:
    first = CliRunner().invoke(cli, [*ARGS, "--out", str(tmp_path)])
    assert first.exit_code == 0, first.output
    rows = json.loads((tmp_path / "summary.json").read_text())["rows"]
    # standard takes no ε: 1 + 2 configurations
    assert [(r["method"], r["train_eps"]) for r in rows] == [("standard", None), ("fgsm", 0.1), ("fgsm", 0.2)]
    for r in rows:
        assert r["n"] == 40 and 0 <= r["robust@0.1"] <= r["robust@0.05"] <= r["clean_accuracy"] <= 1
        model = open_run(r["run"]).load_model()
        assert model.spec["training"]["method"] == r["method"] and model.spec["training"].get("eps") == r["train_eps"]
    assert "| mlp fgsm ε=0.2 seed 0 |" in (tmp_path / "summary.md").read_text()
    assert (tmp_path / "sweep.png").stat().st_size > 1000
    shard_files = sorted((tmp_path / "shards").glob("*.json"))
    assert len(shard_files) == 3 + 3 * 2 * 2  # 3 trainings; 3 models × 2 ε × 2 ranges of 20
    stamps = [p.stat().st_mtime_ns for p in shard_files]
    again = CliRunner().invoke(cli, [*ARGS, "--out", str(tmp_path)])
    assert again.exit_code == 0, again.output
    assert [p.stat().st_mtime_ns for p in shard_files] == stamps  # nothing recomputed
    assert json.loads((tmp_path / "summary.json").read_text())["rows"] == rows


def test_sweep_grid_validation() -> None:
    with pytest.raises(ValueError, match="needs --eps"):
        training_shards(SweepGrid(data={"name": "digits"}, methods=["fgsm"]))
    with pytest.raises(ValueError, match="unknown model"):
        training_shards(SweepGrid(data={"name": "digits"}, models=["nope"]))
    with pytest.raises(ValueError, match="unknown training method"):
        training_shards(SweepGrid(data={"name": "digits"}, methods=["nope"], eps=[0.1]))
    bad = CliRunner().invoke(cli, ["sweep", "--data", "digits", "--method", "fgsm", "--eval-eps", "0.1", "-q"])
    assert bad.exit_code != 0 and "needs --eps" in bad.output and "Traceback" not in bad.output
