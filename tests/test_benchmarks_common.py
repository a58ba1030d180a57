"""benchmarks/common.py: data from $ADVLAB_DATA, and RESULTS.md written only when asked (--write)."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import pytest

COMMON = Path(__file__).resolve().parents[1] / "benchmarks" / "common.py"


def _load_common():
    spec = importlib.util.spec_from_file_location("bench_common_under_test", COMMON)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def test_benchmarks_honour_advlab_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ADVLAB_DATA", str(tmp_path))
    common = _load_common()
    assert common.DEFAULT_DATA_DIR == tmp_path
    args = common.add_common_args(argparse.ArgumentParser()).parse_args([])
    assert args.data_dir == tmp_path


def test_results_are_written_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ADVLAB_DATA", raising=False)
    common = _load_common()
    parser = common.add_common_args(argparse.ArgumentParser())
    assert parser.parse_args([]).write is False
    assert parser.parse_args(["--write"]).write is True
    assert common.DEFAULT_DATA_DIR.name == "data"  # ../shared/data without the variable
