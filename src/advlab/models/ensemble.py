"""Ensembles: several models averaged in probability space, themselves one ``Model``.

The family "ensemble" keeps each member's spec (family, options and, when
present, its training record) in ``options["members"]``, so ``advlab.save`` /
``advlab.load`` rebuild it. The net's forward returns log(mean of the members'
softmax probabilities): normalised log-probabilities, hence valid logits whose
softmax *is* the average. Attack the whole ensemble (it is a Model) or one member
(``ensemble_member(model, i)``, a Model sharing that member's weights).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from advlab.models.model import Model
from advlab.models.registry import MODELS, family

_UNSAVEABLE = {"custom", "blackbox"}


class EnsembleNet(nn.Module):
    """log((1/M)·Σₘ softmax(memberₘ(x))); ``members`` is an ``nn.ModuleList`` of the member nets."""

    def __init__(self, members: Sequence[nn.Module]):
        super().__init__()
        if len(members) < 1:
            raise ValueError("ensemble: expected at least one member model, got none")
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        log_probs = torch.stack([F.log_softmax(m(x), dim=1) for m in self.members])
        return torch.logsumexp(log_probs, dim=0) - math.log(len(self.members))


def _member_net(spec: Any, input_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    if not isinstance(spec, Mapping) or "family" not in spec:
        raise ValueError(f"ensemble: each member must be a spec {{'family': …, 'options': {{…}}}}, got {spec!r}")
    options = dict(spec.get("options", {}))
    try:
        return family(spec["family"]).builder(input_shape=input_shape, num_classes=num_classes, **options)
    except TypeError as exc:
        raise ValueError(f"ensemble: member {spec['family']!r} cannot be built with options {options}: {exc}") from exc


@MODELS.register("ensemble")
def ensemble(input_shape: tuple[int, ...], num_classes: int, members: Sequence[Mapping[str, Any]] = ()) -> nn.Module:
    """average of the members' probabilities; members=[{family, options}, …]"""
    return EnsembleNet([_member_net(spec, input_shape, num_classes) for spec in members])


def _member_spec(model: Model) -> dict[str, Any]:
    """The member's own spec (family, options, training record, dtype…); bounds and classes are the ensemble's."""
    spec = copy.deepcopy(model.spec)
    spec.pop("dtype", None)  # one dtype for the whole ensemble, recorded by save()
    spec.setdefault("family", "custom")
    spec.setdefault("options", {})
    return spec


def _check_compatible(first: Model, other: Model, i: int) -> None:
    if other.input_shape != first.input_shape:
        raise ValueError(f"make_ensemble: member {i} has input shape {other.input_shape}, member 0 has {first.input_shape}")
    if other.classes != first.classes:
        raise ValueError(f"make_ensemble: member {i} has classes {other.classes}, member 0 has {first.classes}")
    if other.dtype != first.dtype:
        raise ValueError(
            f"make_ensemble: member {i} computes in {other.dtype}, member 0 in {first.dtype}; "
            "convert one (e.g. member.float()) so the ensemble has one dtype"
        )
    lo, hi = first.bounds.lower, first.bounds.upper
    if not (torch.equal(other.bounds.lower, lo) and torch.equal(other.bounds.upper, hi)):
        raise ValueError(f"make_ensemble: member {i} has bounds {other.bounds!r}, member 0 has {first.bounds!r}")


def make_ensemble(models: Sequence[Model]) -> Model:
    """One Model averaging the members' probabilities; it shares (does not copy) their weights.

    Members must agree on input shape, classes, bounds and dtype. With zoo members the
    ensemble saves and loads like any model; with a ``custom`` member it works
    but has family "custom" (``save`` refuses it, as for the member itself).
    """
    models = list(models)
    if not models:
        raise ValueError("make_ensemble: expected at least one model, got none")
    for i, m in enumerate(models):
        if not isinstance(m, Model) or not m.differentiable:
            raise TypeError(f"make_ensemble: member {i} must be a differentiable advlab Model, got {type(m).__name__}")
        _check_compatible(models[0], m, i)
    first = models[0]
    specs = [_member_spec(m) for m in models]
    fam = "custom" if any(s["family"] in _UNSAVEABLE for s in specs) else "ensemble"
    return Model(
        EnsembleNet([m.net for m in models]),
        bounds=first.bounds,
        classes=first.classes,
        input_shape=first.input_shape,
        spec={"family": fam, "options": {"members": specs}},
    )


def _ensemble_net(model: Model) -> EnsembleNet:
    if not isinstance(model, Model) or not isinstance(model.net, EnsembleNet):
        raise TypeError(f"expected an ensemble Model (see make_ensemble), got {type(model).__name__}")
    return model.net


def ensemble_member(model: Model, i: int) -> Model:
    """Member ``i`` as a Model with the ensemble's bounds and classes, sharing its weights."""
    net = _ensemble_net(model)
    if isinstance(i, bool) or not isinstance(i, int) or not -len(net.members) <= i < len(net.members):
        raise ValueError(f"ensemble_member: index must be an integer in 0..{len(net.members) - 1}, got {i!r}")
    specs = model.spec.get("options", {}).get("members", [])
    spec = copy.deepcopy(specs[i]) if len(specs) == len(net.members) else {"family": "custom", "options": {}}
    return Model(net.members[i], bounds=model.bounds, classes=model.classes, input_shape=model.input_shape, spec=spec)


def ensemble_members(model: Model) -> list[Model]:
    """Every member as a Model (see ``ensemble_member``)."""
    return [ensemble_member(model, i) for i in range(len(_ensemble_net(model).members))]
