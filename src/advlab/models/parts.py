"""The two parts of a zoo network: ``features`` (input → representation) and ``head`` (→ logits).

Every zoo family except the ensemble is a ``Classifier(features, head)``. Code that
works in a model's hidden space (hidden-space inversion, drawing a 2-D bottleneck)
asks for the parts here rather than reaching into ``model.net``, so a model
without that shape fails with a clear error.
"""

from __future__ import annotations

import torch
from torch import nn

from advlab.models.layers import Classifier
from advlab.models.model import Model


def feature_head(model: Model) -> tuple[nn.Module, nn.Module]:
    """``(features, head)`` of a model whose network is a ``Classifier``; TypeError otherwise."""
    net = getattr(model, "net", None)
    if not isinstance(model, Model) or not isinstance(net, Classifier):
        family = model.spec.get("family") if isinstance(model, Model) else type(model).__name__
        raise TypeError(f"expected a model made of features → head (a zoo Classifier), got family {family!r}")
    return net.features, net.head


def linear_head(model: Model) -> nn.Linear:
    """The model's head when it is one linear layer (hidden space → logits); TypeError otherwise."""
    _, head = feature_head(model)
    if not isinstance(head, nn.Linear):
        raise TypeError(f"expected a linear head (hidden → logits), got {type(head).__name__} "
                        f"in family {model.spec.get('family')!r}")  # fmt: skip
    return head


@torch.no_grad()
def embed(model: Model, x: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
    """The hidden representation ``features(x)`` of every input, batched, on the CPU."""
    features, _ = feature_head(model)
    was_training = model.training
    model.eval()
    try:
        return torch.cat([features(x[i : i + batch_size].to(model.device)).cpu() for i in range(0, len(x), batch_size)])
    finally:
        model.train(was_training)
