"""CIFAR-10 from the canonical ``cifar-10-python.tar.gz`` (pickled batches inside a tar)."""

from __future__ import annotations

import io
import pickle
import tarfile
from pathlib import Path
from typing import Any

import numpy as np

from advlab.bounds import Bounds
from advlab.data.errors import DatasetError
from advlab.data.raw import RawSplits
from advlab.data.registry import INFOS

ARCHIVE = "cifar-10-python.tar.gz"
_FOLDER = "cifar-10-batches-py"
_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
_TEST = "test_batch"
# What a CIFAR batch may reference: numpy array reconstruction (and bytes), nothing else.
_ALLOWED = {
    ("_codecs", "encode"),  # how protocol-2 pickles written by Python 3 spell bytes
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
}


class _BatchUnpickler(pickle.Unpickler):
    """Refuses any global outside numpy's array reconstruction (defence in depth, see ``_read_batch``)."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"CIFAR batch references {module}.{name}, which a data batch never needs")
        return super().find_class(module, name)


def _read_batch(raw: bytes, where: str) -> tuple[np.ndarray, np.ndarray]:
    # Pickle is CIFAR's canonical format. We only unpickle members of an archive
    # whose md5 was verified against the registry (remote.fetch runs first), and
    # the restricted unpickler above refuses everything but numpy arrays.
    try:
        batch = _BatchUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except Exception as exc:
        raise DatasetError(f"{where}: unreadable CIFAR batch ({exc}); delete the archive and fetch it again") from exc
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        raise DatasetError(f"{where}: expected a dict with b'data' and b'labels'")
    data = np.asarray(batch[b"data"])
    labels = np.asarray(batch[b"labels"], dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise DatasetError(f"{where}: expected uint8 data of shape (N, 3072), got {data.dtype} {data.shape}")
    if labels.shape != (data.shape[0],) or (labels.size and (labels.min() < 0 or labels.max() > 9)):
        raise DatasetError(f"{where}: expected {data.shape[0]} labels in 0..9, got shape {labels.shape}")
    # rows hold the red, green then blue 32x32 planes in row-major order
    return data.reshape(-1, 3, 32, 32), labels


def load_cifar10(folder: Path) -> RawSplits:
    """Read the five training batches and the test batch from the verified archive in ``folder``."""
    path = folder / ARCHIVE
    wanted = {f"{_FOLDER}/{n}" for n in (*_TRAIN, _TEST)}
    found: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    try:
        with tarfile.open(path, "r:gz") as tar:
            for member in tar:  # one pass: a gzip stream is slow to seek in
                if member.name in wanted and member.isfile():
                    f = tar.extractfile(member)
                    if f is not None:
                        found[member.name.split("/")[-1]] = _read_batch(f.read(), f"{path}:{member.name}")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise DatasetError(f"{path}: not a complete tar.gz archive ({exc}); delete it and fetch it again") from exc
    missing = [n for n in (*_TRAIN, _TEST) if n not in found]
    if missing:
        raise DatasetError(f"{path}: archive lacks {', '.join(f'{_FOLDER}/{n}' for n in missing)}")
    x_train = np.concatenate([found[n][0] for n in _TRAIN])
    y_train = np.concatenate([found[n][1] for n in _TRAIN])
    x_test, y_test = found[_TEST]
    meta = INFOS["cifar10"]
    info: dict[str, object] = {"description": meta.description, "path": str(folder), "split": "canonical"}
    return RawSplits(
        "cifar10", x_train, y_train, x_test, y_test, meta.classes, Bounds.of((0.0, 1.0)), meta.input_shape,
        info=info, scale=255.0,
    )  # fmt: skip
