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
}


def expected_duration(name: str) -> tuple[str, str] | None:
    """(full scale, --fast) wall-clock time of experiment ``name`` on a 2-core CPU, or None if unknown."""
    return DURATIONS.get(name)
