"""Transfer and substitute attacks (Papernot et al., AsiaCCS 2017): attack a model you have, apply to one you don't.

``TransferAttack(substitute, attack)`` runs any white-box ``attack`` on the ``substitute``
model at the requested ε and hands its adversarials to the target unchanged: no query of
the target at all (the base verifies on the target). ``train_substitute`` builds the
substitute the paper's way: label a small seed set with the target, train, grow the set by
Jacobian-based augmentation ``x + λ·sign(∂F_sub[ŷ(x)]/∂x)``, label the new points, repeat,
within a total query budget. ``SubstituteAttack`` does both inside one attack call,
seeding the substitute with the attacked inputs themselves (each input's lineage spends
its own query budget).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from advlab.attacks.base import Attack
from advlab.attacks.oracle import Oracle
from advlab.attacks.query import QueryAttack
from advlab.attacks.registry import ATTACKS
from advlab.attacks.validation import check_positive_float, check_positive_int
from advlab.models.model import Model


class TransferAttack(QueryAttack):
    """``TransferAttack(substitute, attack)``: fixed ε; the norm is the inner attack's."""

    name = "transfer"

    def __init__(self, substitute: Model, attack: Attack):
        if not isinstance(substitute, Model):
            raise TypeError(f"transfer: substitute must be an advlab Model (use advlab.models.wrap), got {type(substitute).__name__}")
        if not isinstance(attack, Attack):
            raise TypeError(f"transfer: attack must be an advlab Attack, got {type(attack).__name__}")
        super().__init__(attack.norm.name)
        self.substitute, self.attack = substitute, attack

    def params(self) -> dict[str, Any]:
        return {"inner": self.attack.config()}

    def search(self, oracle, x, y, *, eps, target, generator) -> torch.Tensor:
        if eps is None:
            raise ValueError("transfer: eps is required (a fixed-size attack)")
        seed = int(torch.randint(0, 2**62, (1,), generator=generator))
        sub = self.substitute.to(x.device)
        with torch.enable_grad():
            res = self.attack(sub, x, y, eps=float(eps.max()), target=target, seed=seed)
        return res.adversarials[0].to(x.device)


@dataclass
class Substitute:
    model: Model
    queries: int  # labels asked of the target
    sizes: list[int]  # the training set's size after each round


def train_substitute(
    target: Any, x_seed: torch.Tensor, substitute: Model, *, rounds: int = 6, lam: float = 0.1, epochs: int = 10,
    lr: float = 1e-3, batch_size: int = 128, max_queries: int | None = None, seed: int = 0,
) -> Substitute:
    """Papernot et al.'s substitute training; ``max_queries`` bounds the target's labels over all rounds."""
    from advlab.attacks.validation import as_model

    tgt = as_model(target, x_seed)
    oracle = Oracle(tgt, 1, check_positive_int(max_queries, "train_substitute: max_queries"))
    owner = torch.zeros(len(x_seed), dtype=torch.long)
    data, labels = _label(oracle, x_seed.float(), owner)
    generator = torch.Generator().manual_seed(seed)
    fitted, sizes, _ = _fit_rounds(substitute, oracle, data, labels, None, rounds, lam, epochs, lr, batch_size, generator)
    return Substitute(fitted, int(oracle.counts.sum()), sizes)


def _label(oracle: Oracle, x: torch.Tensor, owner: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    lab = oracle.labels(x, owner=owner).cpu()
    keep = lab >= 0  # refused rows (budget spent) are dropped
    return x[keep.to(x.device)], lab[keep]


def _fit_rounds(sub: Model, oracle: Oracle, data, labels, owners, rounds, lam, epochs, lr, batch_size, generator):
    sizes = []
    for r in range(rounds):
        _fit(sub, data, labels, epochs, lr, batch_size, generator)
        sizes.append(len(data))
        if r == rounds - 1 or (oracle.remaining() <= 0).all():
            break
        new = _augment(sub, data, labels, lam)
        own = torch.zeros(len(new), dtype=torch.long) if owners is None else owners
        lab = oracle.labels(new, owner=own).cpu()
        keep = lab >= 0
        data, labels = torch.cat([data, new[keep.to(new.device)]]), torch.cat([labels, lab[keep]])
        if owners is not None:
            owners = torch.cat([owners, owners[keep]])
    return sub, sizes, owners


def _augment(sub: Model, x: torch.Tensor, labels: torch.Tensor, lam: float) -> torch.Tensor:
    """Jacobian-based augmentation: step λ along the sign of the substitute's gradient of the labelled class."""
    xa = x.clone().to(sub.device).requires_grad_(True)
    logits = sub(xa)
    (grad,) = torch.autograd.grad(logits.gather(1, labels.to(sub.device)[:, None]).sum(), xa)
    return sub.bounds.clip(xa.detach() + lam * grad.sign()).to(x.device)


def _fit(sub: Model, x, labels, epochs: int, lr: float, batch_size: int, generator: torch.Generator) -> None:
    was = [(p, p.requires_grad) for p in sub.parameters()]
    for p, _ in was:
        p.requires_grad_(True)
    sub.train()
    opt = torch.optim.Adam(sub.parameters(), lr=lr)
    dev = sub.device
    for _ in range(epochs):
        perm = torch.randperm(len(x), generator=generator)
        for s in range(0, len(x), batch_size):
            b = perm[s : s + batch_size]
            loss = F.cross_entropy(sub(x[b].to(dev)), labels[b].to(dev))
            opt.zero_grad()
            loss.backward()
            opt.step()
    sub.eval()
    for p, flag in was:
        p.requires_grad_(flag)


@ATTACKS.register("substitute")
class SubstituteAttack(QueryAttack):
    """``SubstituteAttack(family="mlp", attack="pgd", rounds=4, lam=0.1, epochs=20, max_queries=None, **attack options)``.

    Trains a zoo ``family`` substitute from the target's labels of the attacked inputs (Jacobian
    augmentation), then transfers ``attack`` from it. Fixed ε; the norm is the inner attack's.
    """

    name = "substitute"

    def __init__(
        self, family: str = "mlp", attack: str = "pgd", norm: str = "linf", rounds: int = 4, lam: float = 0.1,
        epochs: int = 20, lr: float = 1e-3, max_queries: int | None = None, **attack_options: Any,
    ):
        super().__init__(norm, max_queries)
        self.family = family
        self.inner = ATTACKS.create(attack, norm=norm, **attack_options)
        if not self.inner.needs_gradient:
            raise ValueError(f"substitute: the inner attack should be a white-box one, got {attack!r}")
        self.rounds: int = check_positive_int(rounds, "substitute: rounds", allow_none=False) or 1
        self.lam = check_positive_float(lam, "substitute: lam")
        self.epochs: int = check_positive_int(epochs, "substitute: epochs", allow_none=False) or 1
        self.lr = check_positive_float(lr, "substitute: lr")

    def params(self) -> dict[str, Any]:
        return {"family": self.family, "inner": self.inner.config(), "rounds": self.rounds, "lam": self.lam, "epochs": self.epochs}

    def search(self, oracle, x, y, *, eps, target, generator) -> torch.Tensor:
        from advlab.models.registry import build

        if eps is None:
            raise ValueError("substitute: eps is required (a fixed-size attack)")
        torch_seed = int(torch.randint(0, 2**62, (1,), generator=generator))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(torch_seed)  # the substitute's initial weights
            sub = build(self.family, input_shape=oracle.model.input_shape, classes=oracle.model.classes)
        sub = sub.to(x.device)
        sub.bounds = oracle.bounds
        owners = torch.arange(len(x))
        lab = oracle.labels(x, owner=owners).cpu()
        keep = lab >= 0
        with torch.enable_grad():
            _fit_rounds(sub, oracle, x[keep.to(x.device)], lab[keep], owners[keep], self.rounds, self.lam, self.epochs,
                        self.lr, 128, generator)
            res = self.inner(sub, x, y, eps=float(eps.max()), target=target, seed=torch_seed)
        return res.adversarials[0].to(x.device)
