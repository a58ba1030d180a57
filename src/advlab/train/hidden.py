"""Perturbing a hidden layer instead of the input (Goodfellow et al. compared the two).

``split_at(net, "features")`` cuts a network into the part up to and including
that submodule and the rest, so an attack can run on the rest as if the hidden
activation were its input. Networks made of ``nn.Sequential`` blocks and zoo
``Classifier`` s (``features`` then ``head``) can be cut at any submodule path,
e.g. ``"features"`` or ``"features.3"``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from advlab.models.model import Model

#: Hidden activations have no bounds; the model wrapper needs finite ones.
_UNBOUNDED = (-1e30, 1e30)


def _children(module: nn.Module) -> list[tuple[str, nn.Module]]:
    """The submodules a module applies one after another, or a clear error if it is not a chain."""
    if isinstance(module, nn.Sequential):
        return list(module.named_children())
    names = [n for n, _ in module.named_children()]
    if names == ["features", "head"]:
        return list(module.named_children())
    raise ValueError(
        f"layer=: cannot cut a {type(module).__name__} into before/after parts; supported are nn.Sequential "
        "and zoo networks (features, head)"
    )


def split_at(net: nn.Module, layer: str) -> tuple[nn.Module, nn.Module]:
    """(up to and including ``layer``, everything after it)."""
    head, _, rest = layer.partition(".")
    chain = _children(net)
    names = [n for n, _ in chain]
    if head not in names:
        raise ValueError(f"layer={layer!r}: {type(net).__name__} has no submodule {head!r}; expected one of {names}")
    i = names.index(head)
    before = [m for _, m in chain[:i]]
    after = [m for _, m in chain[i + 1 :]]
    if rest:
        inner_before, inner_after = split_at(chain[i][1], rest)
        before, after = [*before, inner_before], [inner_after, *after]
    else:
        before = [*before, chain[i][1]]
    if not after:
        raise ValueError(f"layer={layer!r} is the network's last layer; nothing after it to classify the perturbed activation")
    return nn.Sequential(*before), nn.Sequential(*after)


@contextmanager
def hidden_view(model: Model, layer: str, x: torch.Tensor) -> Iterator[tuple[Model, torch.Tensor]]:
    """(the rest of the network as an unbounded Model, the activation of ``layer`` at ``x`` with its graph)."""
    before, after = split_at(model.net, layer)
    h = before(x)
    tail = Model(after, bounds=_UNBOUNDED, classes=model.classes, input_shape=tuple(h.shape[1:]),
                 spec={"family": "custom", "options": {}})
    tail.train(model.training)
    yield tail, h
