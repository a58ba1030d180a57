"""Shared fixtures for the whole test suite."""

from __future__ import annotations

from pathlib import Path

import pytest

# ../shared/data beside the repository root: canonical MNIST and Fashion-MNIST files
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    """The folder holding mnist/ and fashion-mnist/ canonical files; skips the test when absent."""
    if not (SHARED_DATA / "mnist").is_dir():
        pytest.skip(f"canonical dataset files not found in {SHARED_DATA}")
    return SHARED_DATA


def pytest_configure(config: pytest.Config) -> None:
    # Test models are tiny: one thread avoids thread-sync overhead (5-10x on a busy 2-core machine)
    # and makes float results independent of the machine's core count.
    import torch

    torch.set_num_threads(1)
