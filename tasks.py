#!/usr/bin/env python3
"""Set-up and entry points that need nothing but Python 3.11.

    python3 tasks.py demo     # create .venv on first use, install, run `advlab demo`
    python3 tasks.py test     # same environment plus test and peer libraries: ruff, mypy, then pytest

Extra arguments are passed on (`python3 tasks.py test -m slow`, `python3 tasks.py demo --quiet`).
The environment is reinstalled only when pyproject.toml or constraints.txt change.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("ADVLAB_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
CONSTRAINTS = ROOT / "constraints.txt"
# Peer libraries pin old torchvision/requests; --no-deps keeps the CPU torch build.
PEERS_NO_DEPS = ["torchattacks==3.5.1", "foolbox==3.3.4", "eagerpy==0.30.0"]


def _pip(*args: str) -> None:
    cmd = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q", *args]
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT)


def _fingerprint(extras: str) -> str:
    h = hashlib.sha256(extras.encode())
    for f in (ROOT / "pyproject.toml", CONSTRAINTS):
        h.update(f.read_bytes())
    return h.hexdigest()


def ensure_env(extras: str) -> None:
    """Create the virtual environment and install advlab[extras] once."""
    if not PYTHON.exists():
        print(f"creating virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / f".advlab-installed-{extras or 'base'}"
    want = _fingerprint(extras)
    if stamp.exists() and stamp.read_text() == want:
        return
    spec = f".[{extras}]" if extras else "."
    _pip("-c", str(CONSTRAINTS), "-e", spec)
    if "bench" in extras:
        _pip("--no-deps", *PEERS_NO_DEPS)
    stamp.write_text(want)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"demo", "test", "setup"}:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "demo":
        ensure_env("")
        return subprocess.call([str(BIN / "advlab"), "demo", *rest], cwd=ROOT)
    ensure_env("dev,bench,explore,ray")
    if command == "setup":
        return 0
    if not rest:  # the full check: lint and types first (seconds), then the tests
        for check in (["ruff", "check", "src", "tests", "benchmarks"], ["mypy"]):
            print("+", " ".join(check), flush=True)
            code = subprocess.call([str(PYTHON), "-m", *check], cwd=ROOT)
            if code:
                return code
    return subprocess.call([str(PYTHON), "-m", "pytest", *rest], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
