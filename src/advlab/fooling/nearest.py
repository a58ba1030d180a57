"""Distance from each image to its nearest reference (training) image."""

from __future__ import annotations

import torch


def nearest_distances(x: torch.Tensor, reference: torch.Tensor, batch_size: int = 8192) -> tuple[torch.Tensor, torch.Tensor]:
    """L2 distance from each input to its nearest reference input (float64), and that input's index."""
    if len(reference) == 0:
        raise ValueError("nearest_distances: the reference set is empty")
    if x.shape[1:] != reference.shape[1:]:
        raise ValueError(f"nearest_distances: inputs shaped {tuple(x.shape[1:])} but reference {tuple(reference.shape[1:])}")
    q = x.flatten(1).double()
    best = torch.full((len(x),), float("inf"), dtype=torch.float64)
    index = torch.zeros(len(x), dtype=torch.long)
    for start in range(0, len(reference), batch_size):
        chunk = reference[start : start + batch_size].flatten(1).double()
        d = torch.cdist(q, chunk)
        values, idx = d.min(dim=1)
        better = values < best
        best = torch.where(better, values, best)
        index = torch.where(better, idx + start, index)
    return best, index
