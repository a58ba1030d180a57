"""The hidden space of a zoo network: ``features`` (input → representation) then ``head`` (→ logits).

Built on the documented accessors ``advlab.models.layers.classifier``/``linear_head`` (no attribute
paths into ``model.net``): ``feature_head`` returns both parts, ``embed`` maps inputs to the
representation. A model without that shape (the ensemble, a black box) fails with a TypeError.
"""

from __future__ import annotations

import torch
from torch import nn

from advlab.models.layers import classifier, linear_head
from advlab.models.model import Model

__all__ = ["embed", "feature_head", "linear_head"]


def feature_head(model: Model) -> tuple[nn.Module, nn.Module]:
    """``(features, head)`` of a zoo network (TypeError when it has no features/head split)."""
    net = classifier(model)
    return net.features, net.head


@torch.no_grad()
def embed(model: Model, x: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
    """The hidden representation ``features(x)`` of every input, batched, in eval mode, on the CPU."""
    features, _ = feature_head(model)
    was_training = model.training
    model.eval()
    try:
        return torch.cat([features(x[i : i + batch_size].to(model.device)).cpu() for i in range(0, len(x), batch_size)])
    finally:
        model.train(was_training)
