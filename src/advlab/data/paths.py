"""Where downloaded datasets live on disk."""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "ADVLAB_DATA"
DEFAULT_DIR = Path("~/.cache/advlab/data")


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The data folder: ``explicit`` if given, else ``$ADVLAB_DATA``, else ``~/.cache/advlab/data``.

    Each dataset sits in its own sub-folder holding its canonical file names,
    e.g. ``<data_dir>/mnist/train-images-idx3-ubyte.gz``.
    """
    if explicit is not None:
        if not isinstance(explicit, (str, os.PathLike)):
            raise TypeError(f"data_dir: expected a path (str or os.PathLike), got {type(explicit).__name__}")
        return Path(explicit).expanduser()
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return Path(env).expanduser()
    return DEFAULT_DIR.expanduser()
