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


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> object:
    """advlab's cache (checksum stamps, slice cache) in a temporary folder: tests never write into the
    user's cache or into $ADVLAB_DATA."""
    old = os.environ.get("ADVLAB_CACHE")
    os.environ["ADVLAB_CACHE"] = str(tmp_path_factory.mktemp("advlab-cache"))
    yield
    if old is None:
        os.environ.pop("ADVLAB_CACHE", None)
    else:
        os.environ["ADVLAB_CACHE"] = old


def pytest_configure(config: pytest.Config) -> None:
    # Test models are tiny: one thread avoids thread-sync overhead (5-10x on a busy 2-core machine)
    # and makes float results independent of the machine's core count.
    import torch

    torch.set_num_threads(1)
