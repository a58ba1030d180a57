"""``load``, ``fetch``, ``info`` and ``list_datasets``: the public face of :mod:`advlab.data`."""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from advlab.data import embedded, registry, remote
from advlab.data.cifar import load_cifar10
from advlab.data.dataset import Dataset
from advlab.data.mnist import load_idx_dataset
from advlab.data.raw import RawSplits
from advlab.data.registry import DatasetInfo
from advlab.data.select import limit, select_classes, select_features

PathLike = str | os.PathLike[str]

_EMBEDDED: dict[str, Callable[..., RawSplits]] = {
    "iris": embedded.iris,
    "digits": embedded.digits,
    "moons": embedded.moons,
    "blobs": embedded.blobs,
}
_DOWNLOADED: dict[str, Callable[[Path], RawSplits]] = {
    "mnist": lambda folder: load_idx_dataset("mnist", folder),
    "fashion-mnist": lambda folder: load_idx_dataset("fashion-mnist", folder),
    "cifar10": load_cifar10,
}
_COMMON_OPTIONS = ("limit_train", "limit_test")


def list_datasets() -> list[DatasetInfo]:
    """Every dataset ``load`` knows, embedded ones first."""
    return list(registry.INFOS.values())


def info(name: str) -> DatasetInfo:
    """Catalogue entry for ``name``: kind, description, input shape, classes, files."""
    return registry.INFOS[registry.canonical_name(name)]


def fetch(name: str, data_dir: PathLike | None = None, quiet: bool = False) -> Path:
    """Download (if missing) and verify ``name``'s canonical files; return their folder."""
    return remote.fetch(name, data_dir, download=True, quiet=quiet)


def _check_options(key: str, options: dict[str, object]) -> dict[str, object]:
    """The loader-specific options; unknown names fail with the list of accepted ones."""
    accepted: tuple[str, ...] = ()
    if key in _EMBEDDED:
        accepted = tuple(inspect.signature(_EMBEDDED[key]).parameters)
    unknown = sorted(set(options) - set(accepted) - set(_COMMON_OPTIONS))
    if unknown:
        raise TypeError(
            f"load({key!r}): unknown option(s) {', '.join(unknown)}; "
            f"accepted: {', '.join((*accepted, *_COMMON_OPTIONS))}"
        )
    return {k: v for k, v in options.items() if k not in _COMMON_OPTIONS}


def load(
    name: str,
    *,
    features: Sequence[str | int] | None = None,
    classes: Sequence[int | str] | None = None,
    data_dir: PathLike | None = None,
    download: bool = True,
    quiet: bool = False,
    **options: object,
) -> Dataset:
    """Load a dataset as float32 inputs inside its bounds and int64 labels.

    ``classes`` keeps a subset (names or indices) relabelled 0..k-1 in the given
    order; ``features`` picks tabular columns by name or index. Options:
    ``limit_train``/``limit_test`` keep the first n samples of each split (after
    the class subset); embedded sets also take their own (``test_fraction``,
    ``seed``, and ``n_samples``/``noise`` for moons and blobs). Downloaded sets
    are read from ``<data_dir>/<name>/`` and fetched there when missing.
    """
    key = registry.canonical_name(name)
    own = _check_options(key, options)
    if key in _EMBEDDED:
        raw = _EMBEDDED[key](**own)
    else:
        folder = remote.fetch(key, data_dir, download=download, quiet=quiet)
        raw = _DOWNLOADED[key](folder)
    if features is not None:
        raw = select_features(raw, features)
    if classes is not None:
        raw = select_classes(raw, classes)
    raw = limit(raw, options.get("limit_train"), options.get("limit_test"))
    return raw.to_dataset()
