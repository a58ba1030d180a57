"""Evaluation shards: worst case over an attack list, per ε, over index ranges; the ``robustness`` command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from advlab.attacks import ATTACKS
from advlab.cli import cli
from advlab.engine import AttackSpec, evaluation_shards, run_shards, summarize
from advlab.runs import open_run

EPS = [0.05, 0.15]
N = 60


def _direct_worst_case(run_path: Path, eps: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Reference: both deterministic attacks on all N points at once; robust = correct and neither succeeded."""
    run = open_run(run_path)
    model, ds = run.load_model(), run.load_data()
    x, y = ds.x_test[:N], ds.y_test[:N]
    clean = model.predict(x) == y
    fgsm = ATTACKS.create("fgsm")(model, x, y, eps=[eps])
    bim = ATTACKS.create("bim", steps=5)(model, x, y, eps=[eps])
    return clean, clean & ~fgsm.success[0] & ~bim.success[0]


@pytest.mark.parametrize("shard_size", [7, 60])
def test_sharded_worst_case_equals_the_direct_computation(digits_run: Path, tmp_path: Path, shard_size: int) -> None:
    attacks = [AttackSpec("fgsm"), AttackSpec("bim", options={"steps": 5})]
    shards = evaluation_shards([digits_run], attacks, EPS, N, shard_size=shard_size)
    assert len(shards) == len(EPS) * -(-N // shard_size)
    run = run_shards(shards, tmp_path)
    rows = summarize(run.shards, run.results)
    assert [r["eps"] for r in rows] == EPS and all(r["n"] == N for r in rows)
    for row, eps in zip(rows, EPS):
        clean, robust = _direct_worst_case(digits_run, eps)
        assert row["clean_accuracy"] == pytest.approx(clean.float().mean().item())
        assert row["robust_accuracy"] == pytest.approx(robust.float().mean().item())
        per_point = sum((res["robust"][0] for s, res in zip(run.shards, run.results) if s.config["eps"] == [eps]), [])
        assert per_point == robust.int().tolist()
    assert 0 < rows[1]["robust_accuracy"] < rows[0]["robust_accuracy"] < rows[0]["clean_accuracy"]


def test_random_attack_results_depend_on_shard_seed_only(digits_run: Path, tmp_path: Path) -> None:
    pgd = {"name": "pgd", "options": {"steps": 3}}
    shards = evaluation_shards([digits_run], [pgd], [0.1], 40, shard_size=20, seed=1)
    forward = run_shards(shards, tmp_path / "a").results
    backward = run_shards(shards[::-1], tmp_path / "b").results[::-1]
    assert forward == backward
    other_seed = evaluation_shards([digits_run], [pgd], [0.1], 40, shard_size=20, seed=2)
    assert [s.seed for s in other_seed] != [s.seed for s in shards]


def test_evaluation_shards_validate(digits_run: Path) -> None:
    with pytest.raises(ValueError, match="unknown attack"):
        evaluation_shards([digits_run], ["nope"], [0.1], 10)
    with pytest.raises(ValueError, match="eps"):
        evaluation_shards([digits_run], ["fgsm"], [-0.1], 10)
    with pytest.raises(ValueError, match="at least one model"):
        evaluation_shards([], ["fgsm"], [0.1], 10)
    shards = evaluation_shards([digits_run], ["fgsm"], [0.1], 10_000, shard_size=1000)
    assert shards[-1].stop == len(open_run(digits_run).load_data().y_test)  # n is capped at the split's size


def test_robustness_command_and_its_resume(digits_run: Path, tmp_path: Path) -> None:
    args = ["robustness", str(digits_run), "--attack", "fgsm", "--attack", "bim:steps=5", "--eps", "0.05,0.15",
            "--n", str(N), "--shard-size", "20", "--out", str(tmp_path), "-q"]  # fmt: skip
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert "6 shard(s) run, 0 reused" in first.output
    rows = json.loads((tmp_path / "summary.json").read_text())["rows"]
    for row, eps in zip(rows, EPS):
        assert row["robust_accuracy"] == pytest.approx(_direct_worst_case(digits_run, eps)[1].float().mean().item())
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 0 and "0 shard(s) run, 6 reused" in again.output
    bad = CliRunner().invoke(cli, [*args[:-3], "--attack", "nope", "-q"])
    assert bad.exit_code != 0 and "unknown attack" in bad.output and "Traceback" not in bad.output


def test_a_moved_model_keeps_its_shards_and_a_changed_one_does_not(digits_run: Path, tmp_path: Path) -> None:
    import shutil

    shards = evaluation_shards([digits_run], ["fgsm"], [0.1], 30, shard_size=10)
    run_shards(shards, tmp_path / "out")
    moved = tmp_path / "moved"
    shutil.copytree(digits_run, moved)
    again = evaluation_shards([moved], ["fgsm"], [0.1], 30, shard_size=10)
    assert [s.id for s in again] == [s.id for s in shards] and [s.seed for s in again] == [s.seed for s in shards]
    assert len(run_shards(again, tmp_path / "out").reused) == 3
    model = open_run(moved).load_model()
    with torch.no_grad():
        next(model.parameters()).add_(0.01)
    from advlab.models import save

    save(model, moved / "model.safetensors")
    changed = evaluation_shards([moved], ["fgsm"], [0.1], 30, shard_size=10)
    assert not {s.id for s in changed} & {s.id for s in shards}


def _has_suites() -> bool:
    import advlab.evaluate

    return hasattr(advlab.evaluate, "robust_accuracy")


@pytest.mark.skipif(_has_suites(), reason="advlab.evaluate's suites are present")
def test_suite_shards_say_what_they_need(digits_run: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["robustness", str(digits_run), "--suite", "quick", "--eps", "0.1", "--out", str(tmp_path), "-q"])
    assert result.exit_code != 0 and "advlab.evaluate.robust_accuracy" in result.output and "Traceback" not in result.output


@pytest.mark.skipif(not _has_suites(), reason="needs advlab.evaluate's suites (robust_accuracy)")
def test_suite_shards_equal_the_unsharded_suite(digits_run: Path, tmp_path: Path) -> None:
    """A one-shard suite run equals ``robust_accuracy`` called directly with the shard's seed; sharding changes
    only the seeds, and the robust fraction stays a worst case (≤ clean)."""
    import advlab.evaluate as ev
    from advlab.engine import suite_shards

    shards = suite_shards([digits_run], [0.1, 0.05], 40, preset="quick", shard_size=40)
    assert len(shards) == 1 and shards[0].config["eps"] == [0.1, 0.05]
    run = run_shards(shards, tmp_path)
    model, ds = open_run(digits_run).load_model(), open_run(digits_run).load_data()
    direct = ev.robust_accuracy(model, ds.x_test[:40], ds.y_test[:40], eps=[0.05, 0.1], norm="linf", preset="quick",
                                seed=shards[0].seed)  # fmt: skip
    assert run.results[0]["robust"] == [direct.robust[1].int().tolist(), direct.robust[0].int().tolist()]
    rows = summarize(run.shards, run.results)
    assert rows[0]["eps"] == 0.05 and rows[0]["robust_accuracy"] >= rows[1]["robust_accuracy"]
    sharded = run_shards(suite_shards([digits_run], [0.1, 0.05], 40, preset="quick", shard_size=10), tmp_path / "s")
    rows4 = summarize(sharded.shards, sharded.results)
    assert all(0 <= r["robust_accuracy"] <= r["clean_accuracy"] for r in rows4) and rows4[0]["n"] == 40
