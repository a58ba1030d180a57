"""Read gzip-compressed IDX files (the MNIST format): magic, dimensions, then unsigned bytes."""

from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path

import numpy as np

from advlab.data.errors import DatasetError

_UBYTE = 0x08
_REFETCH = "delete it and fetch it again (advlab.data.fetch)"


def read_idx_gz(path: Path, ndim: int) -> np.ndarray:
    """The array stored in ``path``; raises :class:`DatasetError` for a corrupt, truncated or unexpected file."""
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError; truncation is EOFError
        raise DatasetError(f"{path}: not a complete gzip file ({exc}); {_REFETCH}") from exc
    return parse_idx(raw, ndim, str(path))


def parse_idx(raw: bytes, ndim: int, where: str = "IDX data") -> np.ndarray:
    """Decode IDX bytes holding an unsigned-byte array with ``ndim`` dimensions."""
    if len(raw) < 4:
        raise DatasetError(f"{where}: truncated IDX file ({len(raw)} bytes, no header); {_REFETCH}")
    zero, dtype_code, found_ndim = int.from_bytes(raw[:2], "big"), raw[2], raw[3]
    if zero != 0 or dtype_code != _UBYTE:
        raise DatasetError(
            f"{where}: not an unsigned-byte IDX file (magic {raw[:4].hex()}, expected 0000{_UBYTE:02x}{ndim:02x}); "
            f"{_REFETCH}"
        )
    if found_ndim != ndim:
        raise DatasetError(f"{where}: expected an IDX array with {ndim} dimensions, found {found_ndim}; {_REFETCH}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DatasetError(f"{where}: truncated IDX header ({len(raw)} bytes, need {header}); {_REFETCH}")
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header + math.prod(dims)
    if len(raw) != expected:
        problem = "truncated" if len(raw) < expected else "has trailing bytes"
        raise DatasetError(
            f"{where}: IDX data {problem}: dimensions {dims} need {expected} bytes, found {len(raw)}; {_REFETCH}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)
