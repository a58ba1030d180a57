"""The CLI under bad input and faults: one-line errors, never a traceback; nothing overwritten silently;
a user's own network through every model-taking command."""

from __future__ import annotations

import errno
import json
import shutil
from pathlib import Path

import click
import pytest
import torch
from click.testing import CliRunner
from torch import nn

import advlab
from advlab.cli import cli
from advlab.cli.errors import AdvlabGroup


def _invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=True)


def _one_line_error(res) -> str:
    assert res.exit_code != 0, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert "Traceback" not in res.output
    lines = [line for line in res.output.splitlines() if line.startswith("Error")]
    assert len(lines) == 1, res.output
    return lines[0]


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("edges") / "run"
    res = _invoke("train", "mlp", "--data", "digits", "--epochs", "1", "--limit-train", "300", "-q", "--out", str(out))
    assert res.exit_code == 0, res.output
    return out


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (OSError(errno.ENOSPC, "No space left on device", "/data/out.bin"), "cannot access /data/out.bin: No space left on device; free some disk space"),
        (PermissionError(errno.EACCES, "Permission denied", "/x"), "cannot access /x: Permission denied; choose a folder you may write to"),
        (MemoryError(), "not enough memory for this work (MemoryError)"),
        (RuntimeError("[enforce fail at alloc_cpu.cpp:127] DefaultCPUAllocator: can't allocate memory: 5 GB"), "not enough memory"),
        (ValueError("a clear message"), "Error: a clear message"),
        (KeyError("k"), "Error: 'k'"),
        (ZeroDivisionError("division by zero"), "internal error (ZeroDivisionError: division by zero)"),
    ],
)
def test_every_failure_is_one_line(exc: BaseException, expected: str, monkeypatch) -> None:
    monkeypatch.delenv("ADVLAB_DEBUG", raising=False)

    @click.group(cls=AdvlabGroup)
    def group() -> None:
        pass

    @group.command()
    def boom() -> None:
        raise exc

    res = CliRunner().invoke(group, ["boom"])
    assert expected in _one_line_error(res)


def test_a_full_disk_during_attack_is_one_line(run: Path, tmp_path: Path, monkeypatch) -> None:
    from advlab.attacks import result

    def full(self, path):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(result.AttackResult, "save", full)
    line = _one_line_error(_invoke("attack", str(run), "--attack", "fgsm", "--eps", "0.1", "--n", "5", "-q", "--out", str(tmp_path / "o")))
    assert "No space left on device" in line


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--attack", ""], "unknown attack ''"),
        (["--option", "bogus=1"], "unknown option(s) ['bogus']"),
        (["--eps", "nan"], "eps must be finite"),
        (["--gallery", "-1"], "--gallery"),
    ],
)
def test_bad_attack_options_are_refused(run: Path, args: list[str], match: str) -> None:
    base = ["attack", str(run), "--n", "5", "-q", "--eps", "0.1"]
    assert match in _one_line_error(_invoke(*base, *args))


def test_limit_train_zero_is_refused(tmp_path: Path) -> None:
    line = _one_line_error(_invoke("train", "softmax", "--data", "digits", "--limit-train", "0", "-q", "--out", str(tmp_path / "r")))
    assert "--limit-train" in line and not (tmp_path / "r").exists()


def test_attack_never_overwrites_a_result_silently(run: Path, tmp_path: Path) -> None:
    out = tmp_path / "same"
    args = ["attack", str(run), "--attack", "fgsm", "--n", "5", "-q", "--gallery", "0", "--out", str(out)]
    assert _invoke(*args, "--eps", "0.1").exit_code == 0
    first = (out / "result.safetensors").read_bytes()
    assert "--force" in _one_line_error(_invoke(*args, "--eps", "0.3"))
    assert (out / "result.safetensors").read_bytes() == first
    assert _invoke(*args, "--eps", "0.3", "--force").exit_code == 0
    assert json.loads((out / "summary.json").read_text())["table"][0]["eps"] == 0.3


def test_train_never_overwrites_a_run_silently(run: Path) -> None:
    before = (run / "model.safetensors").read_bytes()
    line = _one_line_error(_invoke("train", "mlp", "--data", "digits", "--epochs", "1", "--limit-train", "100", "-q", "--out", str(run)))
    assert "--resume" in line and "--force" in line
    assert (run / "model.safetensors").read_bytes() == before


@pytest.mark.parametrize(
    ("args", "what"),
    [(["--data", "iris"], "dataset"), (["--data", "digits", "--classes", "0,1"], "classes"), (["--data", "digits", "--limit-train", "100"], "labels")],
)
def test_resume_refuses_other_data(tmp_path: Path, args: list[str], what: str) -> None:
    out = tmp_path / "r"
    assert _invoke("train", "softmax", "--data", "digits", "--limit-train", "200", "--epochs", "1", "-q", "--out", str(out)).exit_code == 0
    extra = [] if "--limit-train" in args else ["--limit-train", "200"]
    line = _one_line_error(_invoke("train", "softmax", *args, *extra, "--epochs", "2", "-q", "--resume", "--out", str(out)))
    assert "different settings" in line and what in line


def test_resume_refuses_a_negative_epoch(tmp_path: Path) -> None:
    from safetensors import safe_open
    from safetensors.torch import save_file

    out = tmp_path / "r"
    assert _invoke("train", "softmax", "--data", "digits", "--limit-train", "200", "--epochs", "1", "-q", "--out", str(out)).exit_code == 0
    ckpt = out / "checkpoint.safetensors"
    with safe_open(str(ckpt), framework="pt") as f:
        meta, tensors = dict(f.metadata()), {k: f.get_tensor(k) for k in f.keys()}
    info = json.loads(meta["advlab_checkpoint"])
    info["epoch"] = -3
    meta["advlab_checkpoint"] = json.dumps(info)
    save_file(tensors, str(ckpt), metadata=meta)
    line = _one_line_error(_invoke("train", "softmax", "--data", "digits", "--limit-train", "200", "--epochs", "2", "-q", "--resume", "--out", str(out)))
    assert "epoch -3" in line


def test_paths_with_brackets_and_class_names_with_dollars(run: Path, tmp_path: Path) -> None:
    weird = tmp_path / "we[ir]d [/bold] run"
    shutil.copytree(run, weird)
    model = advlab.load(weird)
    model.classes = ["$a", "b$", "$\\alpha$", "d", "e", "f", "g", "h", "i", "j$"]
    advlab.save(model, weird / "model.safetensors")
    res = _invoke("attack", str(weird), "--attack", "fgsm", "--eps", "0.2", "--n", "8", "--force")  # not quiet: rich prints
    assert res.exit_code == 0, res.output
    assert (weird / "attacks" / "fgsm-linf" / "gallery.png").stat().st_size > 0
    res = _invoke("slice", str(weird), "--steps", "2", "--resolution", "32", "-q", "--out", str(tmp_path / "s.png"))
    assert res.exit_code == 0, res.output


def test_attack_states_its_steps_and_step_size(run: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["attack", str(run), "--attack", "pgd", "--eps", "0.1", "--steps", "7", "--n", "4",
                                   "--gallery", "0", "--out", str(tmp_path / "p")])
    assert res.exit_code == 0, res.output
    assert "steps=7" in res.output and "rel_stepsize=" in res.output


@pytest.fixture(scope="module")
def own_network(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("own")
    source = root / "my_net.py"
    source.write_text("from torch import nn\n\n\ndef make_net():\n    return nn.Sequential(nn.Flatten(), nn.Linear(64, 10))\n")
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    torch.save(net.state_dict(), root / "w.pt")
    torch.jit.save(torch.jit.script(net), str(root / "net.ts"))
    return {"source": source, "weights": root / "w.pt", "ts": root / "net.ts", "root": root}


@pytest.mark.parametrize("cmd", ["attack", "slice", "church", "profile"])
def test_a_users_network_works_with_every_command(own_network, cmd: str, tmp_path: Path) -> None:
    model = [f"{own_network['source']}:make_net", "--weights", str(own_network["weights"]), "--data", "digits"]
    extra = {"attack": ["--attack", "fgsm", "--eps", "0.1", "--n", "5", "--out", str(tmp_path / "a")],
             "slice": ["--steps", "2", "--resolution", "32", "--out", str(tmp_path / "s.png")],
             "church": ["--steps", "2", "--indices", "0", "--out", str(tmp_path / "c.png")],
             "profile": ["--steps", "2", "--points", "20", "--out", str(tmp_path / "p.png")]}[cmd]
    res = _invoke(cmd, *model, "-q", *extra)
    assert res.exit_code == 0, res.output


def test_torchscript_and_transfer_with_a_users_network(own_network, run: Path, tmp_path: Path) -> None:
    res = _invoke("attack", str(own_network["ts"]), "--data", "digits", "--attack", "fgsm", "--eps", "0.1", "--n", "5", "-q",
                  "--gallery", "0", "--out", str(tmp_path / "ts"))
    assert res.exit_code == 0, res.output
    from advlab.attacks import AttackResult

    ts_result = AttackResult.load(tmp_path / "ts" / "result.safetensors")
    res = _invoke("attack", f"{own_network['source']}:make_net", "--weights", str(own_network["weights"]), "--data", "digits",
                  "--attack", "fgsm", "--eps", "0.1", "--n", "5", "-q", "--gallery", "0", "--out", str(tmp_path / "py"))
    assert res.exit_code == 0, res.output
    assert torch.equal(AttackResult.load(tmp_path / "py" / "result.safetensors").adversarials, ts_result.adversarials)
    res = _invoke("transfer", f"{own_network['source']}:make_net", str(run), "--weights", str(own_network["weights"]),
                  "--data", "digits", "--eps", "0.1", "--n", "5", "-q", "--out", str(tmp_path / "t"))
    assert res.exit_code == 0, res.output


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["{source}:missing", "--data", "digits"], "has no 'missing'"),
        (["{source}:make_net"], "needs --data"),
        (["{source}:make_net", "--weights", "{root}/nope.pt", "--data", "digits"], "no file"),
        (["{ts}", "--data", "iris"], "fails on an input of shape"),
    ],
)
def test_bad_user_networks_are_one_line_errors(own_network, args: list[str], match: str) -> None:
    args = [a.format(**own_network) for a in args]
    assert match in _one_line_error(_invoke("attack", *args, "--eps", "0.1", "-q"))


def test_reproduce_list_states_each_experiments_duration() -> None:
    from advlab.experiments import EXPERIMENTS

    res = _invoke("reproduce", "--list")
    assert res.exit_code == 0, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == len(EXPERIMENTS)
    for line in lines:
        assert "[full " in line and "--fast " in line, line


def test_reproduce_refuses_unknown_options_before_running(tmp_path: Path) -> None:
    from advlab.experiments.options import accepted_options

    line = _one_line_error(_invoke("reproduce", "transfer-disjoint", "--fast", "-q", "--option", "epoch=3", "--out", str(tmp_path / "x")))
    assert "unknown option(s) epoch" in line and "epochs" in line
    assert not (tmp_path / "x").exists()
    assert {"epochs", "limit_train", "pgd_steps"} <= accepted_options("advlab.experiments.transfer_disjoint")
    assert accepted_options("advlab.experiments.iris_fooling") == {"queries"}


@pytest.mark.parametrize("query", ["nan,1", "1,inf"])
def test_reproduce_refuses_non_finite_query_points(query: str, tmp_path: Path) -> None:
    line = _one_line_error(_invoke("reproduce", "iris-fooling", "--fast", "-q", "--query", query, "--out", str(tmp_path / "q")))
    assert "finite" in line


def test_echo_prints_brackets_as_text(capsys: pytest.CaptureFixture[str]) -> None:
    from advlab.progress import echo

    echo("resuming from runs/[/bold]x[red]/checkpoint.safetensors")  # markup here would raise MarkupError
    assert "runs/[/bold]x[red]/checkpoint.safetensors" in capsys.readouterr().err
