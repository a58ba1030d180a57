"""The GPU path of ``fit``: batches through pinned memory, and mixed precision (autocast + loss scaling)."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

import torch


def to_device(t: torch.Tensor, device: torch.device) -> torch.Tensor:
    """``t`` on ``device``; to CUDA through page-locked memory with an asynchronous copy (the caching host
    allocator keeps the staging buffer alive until the copy is done)."""
    if device.type != "cuda" or t.device.type != "cpu":
        return t.to(device)
    return t.pin_memory().to(device, non_blocking=True)


class MixedPrecision:
    """``amp=False``: plain float32. ``amp=True``: float16 autocast with a ``GradScaler`` on CUDA (as Wong et al.'s
    apex O1/O2), bfloat16 autocast on the CPU (no scaling needed: bfloat16 has float32's exponent range)."""

    def __init__(self, device: torch.device, enabled: bool):
        if not isinstance(enabled, bool):
            raise TypeError(f"fit: amp must be True or False, got {enabled!r}")
        self.device, self.enabled = device, enabled
        self.dtype = torch.float16 if device.type == "cuda" else torch.bfloat16
        self.scaler: Any = torch.amp.GradScaler("cuda") if enabled and device.type == "cuda" else None

    def autocast(self) -> AbstractContextManager[Any]:
        if not self.enabled:
            return nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.dtype)

    def backward_step(self, loss: torch.Tensor, opt: torch.optim.Optimizer) -> None:
        if self.scaler is None:
            loss.backward()
            opt.step()
            return
        self.scaler.scale(loss).backward()
        self.scaler.step(opt)
        self.scaler.update()
