"""``advlab attack RUN --attack boundary|hsj|pointwise|square|onepixel … --max-queries N``."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from advlab.attacks import AttackResult
from advlab.cli import cli


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs") / "mlp"
    res = CliRunner().invoke(cli, ["train", "mlp", "--data", "digits", "--epochs", "2", "--lr", "0.01", "-q",
                                   "--option", "widths=[16]", "--out", str(root)])
    assert res.exit_code == 0, res.output
    return root


@pytest.mark.parametrize(
    "args",
    [
        ["--attack", "square", "--eps", "0.1,0.3"],
        ["--attack", "hsj", "--norm", "linf", "--steps", "3"],
        ["--attack", "boundary", "--steps", "50"],
        ["--attack", "pointwise"],
        ["--attack", "onepixel", "--option", "pixels=2", "--option", "population=10", "--option", "generations=3"],
    ],
)
def test_blackbox_attacks_run_from_the_cli_within_the_budget(run, tmp_path, args):
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["attack", str(run), *args, "--max-queries", "60", "--n", "10", "--gallery", "0",
                                   "--out", str(out), "-q"])
    assert res.exit_code == 0, res.output
    result = AttackResult.load(out / "result.safetensors")
    assert result.config["max_queries"] == 60
    assert (result.queries <= 60).all() and result.queries.sum() > 0


def test_max_queries_errors_are_one_line(run):
    res = CliRunner().invoke(cli, ["attack", str(run), "--attack", "square", "--eps", "0.1", "--max-queries", "0", "-q"])
    assert res.exit_code != 0 and "max_queries" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(cli, ["attack", str(run), "--attack", "pgd", "--eps", "0.1", "--max-queries", "10", "-q"])
    assert res.exit_code != 0 and "max_queries" in res.output and "Traceback" not in res.output
