"""How long each experiment runs, so ``advlab reproduce --list`` can say it before a run starts.

Wall-clock times of ``advlab reproduce NAME [--fast]`` on the development machine (2 shared x86
cores, one torch thread, MNIST already on disk), rounded up. "est." marks a full-scale time
estimated from the --fast run and the ratio of work (epochs × training images, attack steps ×
inputs) because the full run was not timed here. bottleneck-fooling runs on the embedded digits
by default (``--option data=mnist`` for MNIST), so its full scale is as quick as --fast.
"""

from __future__ import annotations

#: name → (full scale, --fast)
DURATIONS: dict[str, tuple[str, str]] = {
    "iris-fooling": ("1.1 min", "40 s"),
    "bottleneck-fooling": ("40 s", "55 s"),
    "goodfellow-linear": ("1 min", "55 s"),
    "linear-dimension": ("2.8 min", "50 s"),
    "transfer-disjoint": ("5 min", "1 min"),
    "slices-mnist": ("2.5 min", "2.2 min"),
    "slices-compare": ("5 min", "1.7 min"),
    "goodfellow-mnist": ("≈ 1 h (est.)", "1.7 min"),
    "madry-mnist": ("≈ 3 h (est.)", "1.8 min"),
    "rubbish-mnist": ("11.5 min", "1 min"),
    "abs-mnist": ("not timed yet (budget 90 min)", "≈ 10 min (est.)"),
    # CIFAR-10: 0.106 s per forward+backward per image for preact-resnet18 on one CPU thread (benchmarks/engine.py),
    # so the two 15-epoch recipes are days on 2 cores; on a GPU Wong et al. report 12 min for the fast one.
    "madry-cifar10": ("≈ 3 days on CPU, ≈ 1 h on a GPU (est.)", "≈ 1 min (est., synthetic files)"),
    "slices-cifar10": ("≈ 1 day on CPU, ≈ 30 min on a GPU (est.)", "≈ 1 min (est., synthetic files)"),
}


def expected_duration(name: str) -> tuple[str, str] | None:
    """(full scale, --fast) wall-clock time of experiment ``name`` on a 2-core CPU, or None if unknown."""
    return DURATIONS.get(name)
