"""Subsets applied by ``load``: classes (relabelled 0..k-1), tabular features, and first-n limits."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import TypeGuard

import numpy as np

from advlab.bounds import Bounds
from advlab.data.raw import RawSplits


def _is_index(item: object) -> TypeGuard[int | np.integer]:
    return isinstance(item, (int, np.integer)) and not isinstance(item, bool)


def _as_list(items: object, what: str) -> list[object]:
    if isinstance(items, (str, bytes)) or not isinstance(items, Sequence):
        raise ValueError(f"{what}: expected a sequence of names or indices, got {items!r}")
    out = list(items)
    if not out:
        raise ValueError(f"{what}: expected at least one entry, got an empty sequence")
    return out


def _norm(text: str) -> str:
    """Lower case, units dropped, ``_``/``-`` as spaces: 'Petal_Length', 'petal length (cm)' match."""
    text = re.sub(r"\(.*?\)", "", text.lower())
    return " ".join(re.split(r"[\s_\-]+", text.strip()))


def _resolve(items: list[object], names: tuple[str, ...], what: str, normalise: bool) -> list[int]:
    key = _norm if normalise else str.lower
    lookup = {key(n): i for i, n in enumerate(names)}
    picked: list[int] = []
    for item in items:
        if _is_index(item):
            i = int(item)
            if not 0 <= i < len(names):
                raise ValueError(f"{what}: index {i} out of range; expected 0..{len(names) - 1} ({', '.join(names)})")
        elif isinstance(item, str) and key(item) in lookup:
            i = lookup[key(item)]
        else:
            raise ValueError(f"{what}: unknown entry {item!r}; expected one of {list(names)} or an index 0..{len(names) - 1}")
        if i in picked:
            raise ValueError(f"{what}: {names[i]!r} is given twice")
        picked.append(i)
    return picked


def select_classes(raw: RawSplits, classes: object) -> RawSplits:
    """Keep the given classes (names or indices), relabelled 0..k-1 in the order given."""
    picked = _resolve(_as_list(classes, "classes"), raw.class_names, f"{raw.name} classes", normalise=False)
    relabel = np.full(len(raw.class_names), -1, dtype=np.int64)
    relabel[picked] = np.arange(len(picked))

    def cut(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        keep = np.isin(y, picked)
        return x[keep], relabel[np.asarray(y, dtype=np.int64)[keep]]

    x_train, y_train = cut(raw.x_train, raw.y_train)
    x_test, y_test = cut(raw.x_test, raw.y_test)
    info = {**raw.info, "original_classes": list(picked)}
    return replace(
        raw, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test,
        class_names=tuple(raw.class_names[i] for i in picked), info=info,
    )  # fmt: skip


def select_features(raw: RawSplits, features: object) -> RawSplits:
    """Keep the given tabular columns (names or indices), in the order given; bounds follow."""
    if raw.feature_names is None or len(raw.input_shape) != 1:
        raise ValueError(
            f"features=: {raw.name} has inputs of shape {raw.input_shape}, not named tabular columns; "
            "expected features=None"
        )
    picked = _resolve(_as_list(features, "features"), raw.feature_names, f"{raw.name} features", normalise=True)
    lower, upper = raw.bounds.lower, raw.bounds.upper
    bounds = raw.bounds if raw.bounds.is_scalar else Bounds(lower[picked].clone(), upper[picked].clone())
    return replace(
        raw,
        x_train=raw.x_train[:, picked],
        x_test=raw.x_test[:, picked],
        feature_names=tuple(raw.feature_names[i] for i in picked),
        input_shape=(len(picked),),
        bounds=bounds,
    )


def _check_limit(value: object, what: str) -> int | None:
    if value is None:
        return None
    if not _is_index(value) or int(value) < 0:
        raise ValueError(f"{what}: expected a non-negative int or None, got {value!r}")
    return int(value)


def limit(raw: RawSplits, limit_train: object = None, limit_test: object = None) -> RawSplits:
    """Keep the first ``limit_train`` / ``limit_test`` samples of each split."""
    n_train = _check_limit(limit_train, "limit_train")
    n_test = _check_limit(limit_test, "limit_test")
    return replace(
        raw,
        x_train=raw.x_train[:n_train], y_train=raw.y_train[:n_train],
        x_test=raw.x_test[:n_test], y_test=raw.y_test[:n_test],
    )  # fmt: skip
