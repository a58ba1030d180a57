"""Shared pieces of the benchmarks: timing, machine description, the cached MNIST model, RESULTS.md.

Every benchmark measures side by side in one run and writes its own section of
``benchmarks/RESULTS.md`` (between ``<!-- BEGIN name -->`` / ``<!-- END name -->``
markers) with the machine it ran on.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import platform
import re
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

import advlab
from advlab._io import write_text
from advlab.data import Dataset, load
from advlab.models import Model, build
from advlab.train import fit

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "out"  # gitignored: cached models and raw outputs
RESULTS = REPO / "benchmarks" / "RESULTS.md"
# $ADVLAB_DATA when set (as everywhere in advlab), else ../shared/data beside the repository
DEFAULT_DATA_DIR = Path(os.environ["ADVLAB_DATA"]).expanduser() if os.environ.get("ADVLAB_DATA", "").strip() else REPO.parent / "shared" / "data"
MNIST_CNN = OUT / "mnist-cnn-small-1epoch.safetensors"


def best_time(fn: Callable[[], Any], repeats: int = 3) -> tuple[float, Any]:
    """(best wall time over ``repeats`` calls, the last call's result), timed with ``perf_counter``."""
    best, out = float("inf"), None
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def interleaved(runs: dict[str, Callable[[], Any]], repeats: int = 3) -> dict[str, tuple[float, Any]]:
    """Best time of each run over ``repeats`` rounds, the runs alternating inside each round.

    Alternating (rather than timing one run r times, then the next) makes a busy,
    shared machine slow every contender alike, so ratios stay meaningful.
    """
    out: dict[str, tuple[float, Any]] = {name: (float("inf"), None) for name in runs}
    for _ in range(max(1, repeats)):
        for name, fn in runs.items():
            seconds, result = best_time(fn, 1)
            out[name] = (min(out[name][0], seconds), result)
    return out


@dataclass
class Timing:
    wall: float  # best wall-clock seconds (time.perf_counter)
    cpu: float  # best CPU seconds (user + system) of this process: steadier on a shared machine
    system: float  # the system (kernel) part of that CPU time: page faults, mostly
    result: Any


def _cpu() -> tuple[float, float]:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime, r.ru_stime


def interleaved_timings(runs: dict[str, Callable[[], Any]], repeats: int = 3) -> dict[str, Timing]:
    """Like ``interleaved``, recording the best wall-clock and the best CPU time of each run.

    On a machine shared with other jobs, wall time includes waiting for a core; the
    process's own CPU time (single-threaded runs) does not, so its ratios move less.
    """
    out = {name: Timing(float("inf"), float("inf"), float("inf"), None) for name in runs}
    for _ in range(max(1, repeats)):
        for name, fn in runs.items():
            w0, (c0, s0) = time.perf_counter(), _cpu()
            result = fn()
            wall, (c1, s1) = time.perf_counter() - w0, _cpu()
            t = out[name]
            best_cpu = c1 - c0 < t.cpu
            out[name] = Timing(min(t.wall, wall), min(t.cpu, c1 - c0), s1 - s0 if best_cpu else t.system, result)
    return out


def steady_malloc() -> str:
    """Stop glibc returning big blocks to the kernel between steps; returns what was done.

    PyTorch's CPU tensors come from ``malloc``. With glibc's adaptive thresholds, multi-
    megabyte activations are sometimes mmapped and unmapped every step, and the page
    faults on re-use cost 0–40 % extra system time that changes with the heap's history,
    not with the code measured (seen: the same loop 0.0 s or 1.2 s of system time).
    Fixed, high thresholds make every contender reuse memory alike.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3
        ok = all(
            libc.mallopt(opt, value) == 1
            for opt, value in ((m_mmap_threshold, 32 << 20), (m_trim_threshold, 1 << 30), (m_top_pad, 256 << 20))
        )
    except (OSError, AttributeError):
        return ""
    return "glibc mallopt: mmap threshold 32 MiB (its maximum), trim threshold 1 GiB, top pad 256 MiB" if ok else ""


def machine() -> str:
    """One line: CPU, cores, load, torch and its threads, Python."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load_avg = ""
    if hasattr(os, "getloadavg"):
        load_avg = f", load average {os.getloadavg()[0]:.1f} at start"
    return (
        f"{cpu}, {os.cpu_count()} CPUs{load_avg}; torch {torch.__version__} ({torch.get_num_threads()} threads), "
        f"Python {platform.python_version()}, {platform.system()}"
    )


def mnist(data_dir: Path | str | None = None, quiet: bool = True) -> Dataset:
    return load("mnist", data_dir=data_dir or DEFAULT_DATA_DIR, quiet=quiet)


def mnist_test(n: int = 1000, data_dir: Path | str | None = None, quiet: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``n`` MNIST test images (N×1×28×28 in [0, 1]) and labels."""
    data = mnist(data_dir, quiet)
    return data.x_test[:n], data.y_test[:n]


def mnist_cnn_small(data_dir: Path | str | None = None, quiet: bool = True) -> tuple[Model, Dataset]:
    """MNIST ``cnn-small`` after one epoch of standard training (Adam, batch 128, seed 0), and the data.

    Trained once and cached in ``benchmarks/out/``; a later run reuses the file.
    """
    data = mnist(data_dir, quiet)
    if MNIST_CNN.is_file():
        try:
            return advlab.load(MNIST_CNN), data
        except ValueError:
            pass  # corrupt or stale cache: train again
    torch.manual_seed(0)
    model = build("cnn-small", input_shape=data.input_shape, classes=data.class_names)
    fit(model, data, epochs=1, batch_size=128, seed=0, quiet=quiet)
    advlab.save(model, MNIST_CNN)
    return model, data


mnist_cnn = mnist_cnn_small  # the name other benchmarks look for


def write_section(path: Path | str, name: str, body: str) -> Path:
    """Append, or replace in place, the section ``name`` of a results file (atomic write)."""
    path = Path(path)
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    block = f"{begin}\n{body.rstrip()}\n{end}\n"
    text = path.read_text(encoding="utf-8") if path.is_file() else "# Benchmark results\n\n"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end) + r"\n?", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block
    return write_text(path, text)


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """A Markdown table from dicts sharing their keys (the first row's order)."""
    if not rows:
        return ""
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(str(r.get(k, "")) for k in keys) + " |" for r in rows]
    return "\n".join(lines)


def add_common_args(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                        help="folder holding mnist/ (default $ADVLAB_DATA, else ../shared/data)")
    parser.add_argument("--repeats", type=int, default=3, help="timing: best of this many rounds")
    parser.add_argument("--write", action="store_true", help="also write this benchmark's section of RESULTS.md (default: print only)")
    parser.add_argument("--no-write", action="store_true", help=argparse.SUPPRESS)  # the old default-off switch, now the default
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    return parser


def apply_threads(threads: int | None) -> None:
    """Pin torch's intra-op threads; on a shared, oversubscribed machine one thread times more stably."""
    if threads is not None:
        torch.set_num_threads(threads)
