"""``advlab attack`` and ``advlab transfer`` on tiny digits runs trained in tmp_path."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from advlab.attacks import AttackResult
from advlab.cli import cli


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    runner = CliRunner()
    for name, model, extra in (("soft", "softmax", []), ("mlp", "mlp", ["--option", "widths=[16]"])):
        res = runner.invoke(cli, ["train", model, "--data", "digits", "--epochs", "2", "--lr", "0.01", "-q",
                                  "--out", str(root / name), *extra])
        assert res.exit_code == 0, res.output
    return root


def test_attack_prints_the_table_and_writes_result_summary_and_gallery(runs):
    res = CliRunner().invoke(cli, ["attack", str(runs / "soft"), "--attack", "fgsm", "--eps", "0.05,0.2", "--n", "40", "-q"])
    assert res.exit_code == 0, res.output
    assert "robust acc" in res.output and "0.05" in res.output and "0.2" in res.output
    out = runs / "soft" / "attacks" / "fgsm-linf"
    result = AttackResult.load(out / "result.safetensors")
    assert result.adversarials.shape == (2, 40, 1, 8, 8)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n"] == 40 and len(summary["table"]) == 2
    assert summary["table"][1]["robust_accuracy"] == pytest.approx(result.robust_accuracy[1].item())
    assert (out / "gallery.png").stat().st_size > 0


def test_attack_targeted_pgd_into_chosen_folder(runs, tmp_path):
    out = tmp_path / "pgd"
    res = CliRunner().invoke(cli, ["attack", str(runs / "mlp"), "--attack", "pgd", "--eps", "0.3", "--steps", "5",
                                   "--targeted", "--n", "20", "--gallery", "0", "--out", str(out), "-q"])
    assert res.exit_code == 0, res.output
    result = AttackResult.load(out / "result.safetensors")
    assert result.targeted and (result.targets != result.labels).all()
    assert not (out / "gallery.png").exists()


def test_attack_errors_are_one_line(runs):
    res = CliRunner().invoke(cli, ["attack", str(runs / "soft"), "--attack", "nope", "--eps", "0.1", "-q"])
    assert res.exit_code != 0 and "unknown attack" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(cli, ["attack", str(runs / "soft"), "--attack", "fgsm", "--steps", "3", "--eps", "0.1", "-q"])
    assert res.exit_code != 0 and "fgsm" in res.output


def test_transfer_prints_and_plots_the_matrix(runs, tmp_path):
    out = tmp_path / "tr"
    res = CliRunner().invoke(cli, ["transfer", str(runs / "soft"), str(runs / "mlp"), "--eps", "0.1,0.25", "--n", "40",
                                   "--out", str(out), "-q"])
    assert res.exit_code == 0, res.output
    assert "error rate" in res.output and "transfer rate" in res.output and "soft" in res.output
    saved = json.loads((out / "transfer.json").read_text())
    assert saved["sources"] == ["soft", "mlp"] and len(saved["error_rate"]) == 2
    assert (out / "transfer.png").stat().st_size > 0
    res = CliRunner().invoke(cli, ["transfer", str(runs / "soft"), "--attack", "pgd", "--n", "5", "-q"])
    assert res.exit_code != 0 and "--eps" in res.output
