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


KILL_DURING_TRAINING = """
import os, signal, sys
from pathlib import Path
import importlib
fit_mod = importlib.import_module("advlab.train.fit")
from advlab.engine.sweep import SweepGrid, sweep

out = Path(sys.argv[1])
original = fit_mod.save_checkpoint

def save_then_die(path, *args, **kwargs):
    original(path, *args, **kwargs)
    marker = out / "killed-once"
    if not marker.exists():
        marker.touch()
        os.kill(os.getpid(), signal.SIGKILL)  # killed mid-shard, right after epoch 1's checkpoint

fit_mod.save_checkpoint = save_then_die
grid = SweepGrid(data={"name": "digits"}, models=["mlp"], methods=["standard"], epochs=3, lr=0.003,
                 model_options={"widths": [16]})
result = sweep(grid, ["fgsm"], [0.1], 40, out, shard_size=40)
print(result.rows[0]["clean_accuracy"], result.rows[0]["robust@0.1"], result.rows[0]["run"])
"""


@pytest.mark.slow
def test_a_training_shard_killed_mid_run_resumes_from_its_checkpoint(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    import torch

    script = tmp_path / "job.py"
    script.write_text(KILL_DURING_TRAINING)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    run = lambda out: subprocess.run([sys.executable, str(script), str(out)], capture_output=True, text=True, env=env)  # noqa: E731
    killed = run(tmp_path / "a")
    assert killed.returncode == -9, killed.stderr
    resumed = run(tmp_path / "a")
    assert resumed.returncode == 0, resumed.stderr
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "killed-once").touch()
    clean = run(tmp_path / "b")
    assert clean.returncode == 0, clean.stderr
    assert resumed.stdout.split()[:2] == clean.stdout.split()[:2]
    a, b = (open_run(p.split()[2]).load_model() for p in (resumed.stdout, clean.stdout))
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    history = json.loads((Path(resumed.stdout.split()[2]) / "history.json").read_text())
    assert [e["epoch"] for e in history["epochs"]] == [1, 2, 3]
