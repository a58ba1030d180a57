"""Shallow RBF network: per-class prototype units, confident only near its prototypes.

Goodfellow et al. use p(y = i | x) = exp(−β‖x − wᵢ‖²) directly: unnormalised,
so all classes can be unlikely at once. A softmax over K scores cannot say that
(it is shift-invariant: far from every prototype the score *differences* grow
and the softmax becomes confident again). We therefore add a fixed "none"
score of 0 that is not a class: with unit scores

    s_u = −β_u · ‖h − w_u‖² / d + b_u        (h: the normalised input, d its size)
    c_i = log Σ_{u of class i} exp(s_u)

a (K + 1)-way softmax over (c_1 … c_K, 0) gives p(class i) and p(none), and
"none" means "no idea": its mass is spread evenly over the K classes,

    q_i = (exp(c_i) + 1/K) / (Σ_j exp(c_j) + 1).

The net outputs log qᵢ (normalised log-probabilities, valid logits), so
``Model.predict_proba`` = softmax(logits) = q exactly: near prototype i, qᵢ → 1;
far from every prototype, all qᵢ → 1/K (the least confident answer).
Distances are divided by d so one β suits 2-D and 784-D inputs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from advlab.models.layers import Classifier, Normalize, classifier
from advlab.models.model import Model
from advlab.models.registry import MODELS


class RBFHead(nn.Module):
    """``per_class`` prototype units per class with learnable centres ``prototypes``, widths ``log_beta`` and ``bias``."""

    def __init__(self, in_features: int, num_classes: int, per_class: int = 1, beta: float = 10.0):
        super().__init__()
        self.num_classes, self.per_class = num_classes, per_class
        units = num_classes * per_class
        self.prototypes = nn.Parameter(0.1 * torch.randn(units, in_features))
        self.log_beta = nn.Parameter(torch.full((units,), math.log(beta)))
        self.bias = nn.Parameter(torch.zeros(units))

    def unit_scores(self, h: torch.Tensor) -> torch.Tensor:
        """s_u = −β_u·‖h − w_u‖²/d + b_u, shape (N, K·per_class); units of class i are i·per_class …."""
        sq = (h * h).sum(1, keepdim=True) - 2 * h @ self.prototypes.T + (self.prototypes**2).sum(1)
        return -self.log_beta.exp() * sq.clamp_min(0) / h.shape[1] + self.bias

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        s = self.unit_scores(h)
        c = torch.logsumexp(s.view(len(h), self.num_classes, self.per_class), dim=2)
        # log q_i = log(e^{c_i} + 1/K) − log(Σ_j e^{c_j} + 1): the "none" score 0 spread over the classes.
        numerator = torch.logaddexp(c, torch.full_like(c, -math.log(self.num_classes)))
        denominator = torch.logaddexp(torch.logsumexp(c, dim=1, keepdim=True), torch.zeros_like(c[:, :1]))
        return numerator - denominator

    def extra_repr(self) -> str:
        return f"classes={self.num_classes}, per_class={self.per_class}, features={self.prototypes.shape[1]}"


@MODELS.register("rbf")
def rbf(
    input_shape: tuple[int, ...],
    num_classes: int,
    per_class: int = 1,
    beta: float = 10.0,
    mean: float | Sequence[float] = 0.0,
    std: float | Sequence[float] = 1.0,
) -> nn.Module:
    """shallow RBF network: per_class prototypes per class, low confidence far from them (reject mass)"""
    if isinstance(per_class, bool) or not isinstance(per_class, int) or per_class < 1:
        raise ValueError(f"rbf: per_class must be a positive integer, got {per_class!r}")
    if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not 0 < beta < math.inf:
        raise ValueError(f"rbf: beta must be a positive number, got {beta!r}")
    features = nn.Sequential(Normalize(mean, std, ndim=len(input_shape)), nn.Flatten())
    return Classifier(features, RBFHead(math.prod(input_shape), num_classes, per_class, float(beta)))


def rbf_head(model: Model) -> RBFHead:
    head = getattr(model.net, "head", None)
    if not isinstance(head, RBFHead):
        raise TypeError(f"expected an 'rbf' model, got family {model.spec.get('family')!r}")
    return head


@torch.no_grad()
def init_rbf_from_data(
    model: Model, x: torch.Tensor, y: torch.Tensor, *, scale: float = 4.0, seed: int = 0
) -> Model:
    """Put each class's prototypes on that class's training inputs and size β from the data.

    With one unit per class the prototype is the class mean; with several, random
    members of the class. β_u is set so that a typical member of the class sits at
    score −``scale``/2… i.e. β = scale / (2·median own-class distance), and the
    bias so that the prototype itself scores ``scale`` (confident). Returns ``model``.
    """
    head = rbf_head(model)
    if len(x) != len(y):
        raise ValueError(f"init_rbf_from_data: {len(x)} inputs but {len(y)} labels")
    h = classifier(model).features(x.to(model.device).float())
    y = y.to(h.device)
    gen = torch.Generator().manual_seed(seed)
    for k in range(head.num_classes):
        members = h[y == k]
        if len(members) == 0:
            raise ValueError(f"init_rbf_from_data: no input of class {k} ({model.classes[k]!r})")
        if head.per_class == 1:
            centres = members.mean(0, keepdim=True)
        else:
            pick = torch.randperm(len(members), generator=gen)[: head.per_class]
            centres = members[pick.repeat(-(-head.per_class // len(pick)))[: head.per_class]]
        units = slice(k * head.per_class, (k + 1) * head.per_class)
        head.prototypes[units] = centres
        sq = torch.cdist(members, centres).pow(2).min(1).values / h.shape[1]
        beta = scale / (2 * sq.median().clamp_min(1e-12))
        head.log_beta[units] = beta.log()
        head.bias[units] = scale
    return model
