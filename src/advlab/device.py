"""Device choice: CUDA when present, forced by argument or ``ADVLAB_DEVICE``."""

from __future__ import annotations

import os

import torch


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    name = device if device is not None else os.environ.get("ADVLAB_DEVICE")
    if name is None or name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(name)
    except RuntimeError as exc:
        raise ValueError(f"device: expected 'cpu', 'cuda', 'cuda:N' or 'auto', got {name!r}") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device: 'cuda' was requested but no CUDA device is available")
    return dev
