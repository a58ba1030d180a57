"""``advlab evaluate``: evaluation.json complete, report written, several runs compared, clean errors, resuming."""

from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner

from advlab.cli import cli
from advlab.data import load
from advlab.models import build
from advlab.runs import save_run
from advlab.train import fit


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    ds = load("digits", quiet=True)
    out = []
    for i, epochs in enumerate((1, 6)):
        torch.manual_seed(i)
        model = build("mlp", input_shape=ds.input_shape, classes=ds.class_names, widths=[16])
        fit(model, ds, epochs=epochs, lr=3e-3, quiet=True, seed=i)
        out.append(save_run(tmp_path_factory.mktemp("runs") / f"mlp{i}", model, {"name": "digits"}).path)
    return out


ARGS = ["--eps", "0.05,0.1", "--n", "40", "--preset", "quick", "--check-n", "20", "--noise-n", "50", "-q"]


def test_one_run(runs, tmp_path):
    out = tmp_path / "ev"
    res = CliRunner().invoke(cli, ["evaluate", str(runs[1]), *ARGS, "--out", str(out)])
    assert res.exit_code == 0, res.output
    ev = json.loads((out / "evaluation.json").read_text())
    for key in ("model", "data", "n", "clean_accuracy", "robust_accuracy", "cascade", "contributions",
                "minimal_perturbations", "checks", "seed", "advlab_version", "seconds", "noise_confidence"):
        assert key in ev, key
    assert ev["n"] == 40 and set(ev["robust_accuracy"]) == {"0.05", "0.1"}
    assert ev["robust_accuracy"]["0.1"] <= ev["robust_accuracy"]["0.05"] <= ev["clean_accuracy"]
    assert ev["checks"]["checks"][0]["message"]
    html = (out / "report.html").read_text()
    assert "Cascade" in html and "Sanity checks" in html and "data:image/png;base64" in html
    # Running again resumes from the finished state: same numbers.
    again = CliRunner().invoke(cli, ["evaluate", str(runs[1]), *ARGS, "--out", str(out)])
    assert again.exit_code == 0
    assert json.loads((out / "evaluation.json").read_text())["robust_accuracy"] == ev["robust_accuracy"]
    assert len(list(out.glob("state-*.safetensors"))) == 1
    # Other settings in the same folder start a fresh evaluation, not a clash with the old state.
    other = CliRunner().invoke(cli, ["evaluate", str(runs[1]), *ARGS, "--seed", "3", "--check-n", "0", "--medians", "none",
                                     "--out", str(out)])
    assert other.exit_code == 0, other.output
    assert len(list(out.glob("state-*.safetensors"))) == 2


def test_several_runs_are_compared(runs, tmp_path):
    out = tmp_path / "cmp"
    res = CliRunner().invoke(cli, ["evaluate", *map(str, runs), *ARGS, "--medians", "none", "--check-n", "0", "--out", str(out)])
    assert res.exit_code == 0, res.output
    both = json.loads((out / "evaluation.json").read_text())
    assert len(both["runs"]) == 2 and len(both["comparison"]) == 2
    assert (out / "mlp0" / "evaluation.json").is_file() and (out / "mlp1" / "evaluation.json").is_file()
    assert "Comparison" in (out / "report.html").read_text()


def test_bad_input_is_a_clean_error(runs, tmp_path):
    res = CliRunner().invoke(cli, ["evaluate", str(runs[0]), "--eps", "0.1", "--norm", "l7", "--out", str(tmp_path)])
    assert res.exit_code != 0 and "norm" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(cli, ["evaluate", str(runs[0]), "--eps", "x", "--out", str(tmp_path)])
    assert res.exit_code != 0 and "Traceback" not in res.output


def test_a_users_own_network_saved_as_a_file(tmp_path):
    """A model file saved with advlab.save outside any run folder: no run.json, so --data names the test set.
    (A network that is not in the zoo is evaluated from Python: ``evaluate_model(wrap(net, …), x, y, …)``.)"""
    import advlab

    torch.manual_seed(0)
    path = tmp_path / "mine.safetensors"
    advlab.save(build("mlp", input_shape=(1, 8, 8), classes=10, widths=[8]), path)
    args = ["evaluate", str(path), "--eps", "0.1", "--n", "20", "--preset", "quick", "--check-n", "0", "--noise-n", "0",
            "--medians", "none", "-q", "--out", str(tmp_path / "ev")]
    missing = CliRunner().invoke(cli, args)
    assert missing.exit_code != 0 and "--data" in missing.output
    res = CliRunner().invoke(cli, [*args, "--data", "digits"])
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "ev" / "evaluation.json").read_text())["data"]["name"] == "digits"
