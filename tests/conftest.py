"""Shared fixtures for the whole test suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# ../shared/data beside the repository root: canonical MNIST and Fashion-MNIST files
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    """The folder holding mnist/ and fashion-mnist/ canonical files; skips the test when absent."""
    candidates = [SHARED_DATA] + ([Path(os.environ["ADVLAB_DATA"])] if os.environ.get("ADVLAB_DATA") else [])
    for folder in candidates:
        if (folder / "mnist").is_dir():
            return folder
    pytest.skip(f"canonical dataset files not found in {' or '.join(map(str, candidates))}")


def pytest_configure(config: pytest.Config) -> None:
    # Test models are tiny: one thread avoids thread-sync overhead (5-10x on a busy 2-core machine)
    # and makes float results independent of the machine's core count.
    import torch

    torch.set_num_threads(1)
