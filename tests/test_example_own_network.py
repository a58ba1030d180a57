"""The README's own-network example runs as written, and the CLI attacks the model it saves."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_own_network_example_runs_and_its_model_works_in_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "src")])}
    done = subprocess.run([sys.executable, "-m", "examples.own_network"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "robust acc" in done.stdout and (tmp_path / "runs" / "small-net.safetensors").is_file()

    from advlab.cli import cli

    monkeypatch.chdir(REPO)  # the factory examples.small_net is found from the repository root
    res = CliRunner().invoke(cli, ["attack", str(tmp_path / "runs" / "small-net.safetensors"), "--data", "digits",
                                   "--attack", "fgsm", "--eps", "0.1", "--n", "20", "-q", "--out", str(tmp_path / "a")])
    assert res.exit_code == 0, res.output
    assert "robust acc" in res.output
