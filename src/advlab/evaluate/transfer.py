"""Transferability: adversarials crafted on each source model, evaluated on each target model.

``transfer(sources, targets, attack, x, y, eps)`` runs ``attack`` once per source
(white-box, on that source) and asks every target to classify the result. Two
rates are reported per (ε, source, target) cell, because they answer different
questions:

* ``error_rate``: the fraction of *all* n inputs whose source-adversarial the
  target misclassifies. Inputs the target already gets wrong when clean count as
  errors, so this is comparable with "robust accuracy" (error = 1 − accuracy).
* ``transfer_rate``: among inputs that *both* the source and the target classify
  correctly when clean, the fraction the target misclassifies after the
  source's attack: how often a working deception carries over, free of
  either model's clean mistakes.

Where a target is also a source (the same object) the diagonal is the white-box
error rate of that model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from advlab.attacks.base import Attack
from advlab.attacks.validation import check_eps, check_labels
from advlab.models.model import Model
from advlab.progress import progress

ModelSet = Mapping[str, Model] | Sequence[Model]


@dataclass
class TransferResult:
    """Rates as arrays of shape K×S×T (ε × source × target), with row/column names."""

    source_names: tuple[str, ...]
    target_names: tuple[str, ...]
    eps: list[float] | None  # None: one "minimal" row from a minimisation attack without ε
    attack: dict[str, Any]
    n: int
    error_rate: np.ndarray  # K×S×T: target wrong on source-adversarial, over all n inputs
    transfer_rate: np.ndarray  # K×S×T: same, among inputs both models classify correctly when clean
    both_correct: np.ndarray  # S×T: how many inputs the transfer rate is taken over
    clean_error: np.ndarray  # T: each target's error on the clean inputs
    source_error: np.ndarray  # K×S: each source's white-box error on its own adversarials
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def num_eps(self) -> int:
        return int(self.error_rate.shape[0])

    def eps_label(self, k: int) -> str:
        return "minimal" if self.eps is None else f"{self.eps[k]:g}"

    def matrix(self, k: int = 0, kind: str = "error") -> np.ndarray:
        """The S×T matrix for ε index ``k``; ``kind`` is "error" or "transfer"."""
        return _kind_array(self, kind)[k]

    def table(self) -> list[dict[str, Any]]:
        """One row per (ε, source, target) cell, both rates and the counts they rest on."""
        rows = []
        for k in range(self.num_eps):
            for i, src in enumerate(self.source_names):
                for j, tgt in enumerate(self.target_names):
                    rows.append(
                        {
                            "eps": None if self.eps is None else self.eps[k],
                            "source": src,
                            "target": tgt,
                            "error_rate": float(self.error_rate[k, i, j]),
                            "transfer_rate": float(self.transfer_rate[k, i, j]),
                            "both_correct": int(self.both_correct[i, j]),
                            "target_clean_error": float(self.clean_error[j]),
                            "source_whitebox_error": float(self.source_error[k, i]),
                        }
                    )
        return rows

    def to_json(self) -> dict[str, Any]:
        return {
            "sources": list(self.source_names),
            "targets": list(self.target_names),
            "eps": self.eps,
            "attack": self.attack,
            "n": self.n,
            "error_rate": self.error_rate.tolist(),
            "transfer_rate": self.transfer_rate.tolist(),
            "both_correct": self.both_correct.tolist(),
            "clean_error": self.clean_error.tolist(),
            "source_error": self.source_error.tolist(),
        }

    def __str__(self) -> str:
        width = max(10, *(len(t) + 2 for t in self.target_names))
        lab = max(8, *(len(s) for s in self.source_names))
        head = (
            f"transfer of {self.attack.get('attack', '?')} ({self.attack.get('norm', '?')}) adversarials, "
            f"{self.n} inputs; rows: source (crafted on), columns: target (evaluated on)"
        )
        lines = [head]
        for kind, what in (("error", "error rate (all inputs; clean mistakes count)"),
                           ("transfer", "transfer rate (inputs both models classify correctly)")):
            for k in range(self.num_eps):
                lines.append(f"\n{what}, eps={self.eps_label(k)}")
                lines.append(" " * lab + "".join(f"{t:>{width}}" for t in self.target_names))
                m = self.matrix(k, kind)
                for i, src in enumerate(self.source_names):
                    lines.append(f"{src:<{lab}}" + "".join(_pct(v).rjust(width) for v in m[i]))
        lines.append("\nclean error: " + ", ".join(f"{t} {_pct(v)}" for t, v in zip(self.target_names, self.clean_error)))
        return "\n".join(lines)


def _pct(v: float) -> str:
    return "nan" if math.isnan(v) else f"{100 * v:.1f}%"


def _kind_array(result: TransferResult, kind: str) -> np.ndarray:
    if kind == "error":
        return result.error_rate
    if kind == "transfer":
        return result.transfer_rate
    raise ValueError(f"transfer: kind must be 'error' or 'transfer', got {kind!r}")


def _named(models: ModelSet, what: str) -> tuple[list[str], list[Model]]:
    if isinstance(models, Mapping):
        names, items = [str(k) for k in models], list(models.values())
    elif isinstance(models, Sequence) and not isinstance(models, (str, bytes)):
        items = list(models)
        base = [str(m.spec.get("family", "model")) if isinstance(m, Model) else "model" for m in items]
        names = [b if base.count(b) == 1 else f"{b}#{base[:i + 1].count(b)}" for i, b in enumerate(base)]
    else:
        raise TypeError(f"transfer: {what} must be a list of models or a dict name → model, got {type(models).__name__}")
    if not items:
        raise ValueError(f"transfer: {what} is empty; give at least one model")
    for name, m in zip(names, items):
        if not isinstance(m, Model):
            raise TypeError(f"transfer: {what} {name!r} must be an advlab Model (see advlab.models.wrap), got {type(m).__name__}")
    return names, items


def _check_compatible(models: list[tuple[str, Model]], x: torch.Tensor) -> None:
    """All models must read the same inputs and speak the same labels."""
    name0, m0 = models[0]
    for name, m in models:
        if m.input_shape != tuple(x.shape[1:]):
            raise ValueError(f"transfer: model {name!r} expects inputs of shape {m.input_shape}, x has {tuple(x.shape[1:])}")
        if m.num_classes != m0.num_classes:
            raise ValueError(f"transfer: model {name!r} has {m.num_classes} classes, {name0!r} has {m0.num_classes}")
        same_bounds = m.bounds.lower.shape == m0.bounds.lower.shape and torch.equal(m.bounds.lower, m0.bounds.lower) \
            and torch.equal(m.bounds.upper, m0.bounds.upper)
        if not same_bounds:
            raise ValueError(f"transfer: model {name!r} has bounds {m.bounds!r}, {name0!r} has {m0.bounds!r}; inputs must live in one box")


def transfer(
    sources: ModelSet,
    targets: ModelSet,
    attack: Attack,
    x: torch.Tensor,
    y: Any,
    eps: float | list[float] | None,
    *,
    batch_size: int | None = None,
    seed: int | None = None,
    quiet: bool = True,
) -> TransferResult:
    """Attack each source (white-box), classify its adversarials with every target.

    ``sources``/``targets`` are lists of models (named by family) or dicts
    name → model; targets may be black boxes. ``y`` holds the true labels
    (required: transfer is measured against the truth, not a model's guess).
    ``eps=None`` is allowed only for minimisation attacks (one "minimal" row).
    """
    if not isinstance(attack, Attack):
        raise TypeError(f"transfer: attack must be an advlab Attack (see advlab.attacks.make_attack), got {type(attack).__name__}")
    src_names, src_models = _named(sources, "sources")
    tgt_names, tgt_models = _named(targets, "targets")
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError(f"transfer: x must be a floating-point torch.Tensor, got {type(x).__name__}")
    if y is None:
        raise ValueError("transfer: y (the true labels) is required")
    _check_compatible(list(zip(src_names, src_models)) + list(zip(tgt_names, tgt_models)), x)
    labels = check_labels(src_models[0], y, len(x), "y")
    eps_list = check_eps(eps, required=not attack.minimization, name="transfer")

    clean_ok_src = np.stack([(m.predict(x).cpu() == labels).numpy() for m in src_models])  # S×N
    clean_ok_tgt = np.stack([(m.predict(x).cpu() == labels).numpy() for m in tgt_models])  # T×N
    both = clean_ok_src[:, None, :] & clean_ok_tgt[None, :, :]  # S×T×N
    k_count = 1 if eps_list is None else len(eps_list)
    err = np.zeros((k_count, len(src_models), len(tgt_models)))
    rate = np.full_like(err, np.nan)
    src_err = np.zeros((k_count, len(src_models)))
    with progress(quiet) as bar:
        task = bar.add_task("transfer", total=len(src_models), info="")
        for i, (name, src) in enumerate(zip(src_names, src_models)):
            bar.update(task, info=f"attacking {name}")
            result = attack(src, x, labels, eps=eps_list, batch_size=batch_size, seed=seed, quiet=True)
            src_err[:, i] = 1.0 - result.robust_accuracy.numpy()
            for k in range(k_count):
                adv = result.adversarials[k]
                for j, tgt in enumerate(tgt_models):
                    wrong = (tgt.predict(adv, batch_size=batch_size or 2048).cpu() != labels).numpy()
                    err[k, i, j] = wrong.mean()
                    if both[i, j].any():
                        rate[k, i, j] = wrong[both[i, j]].mean()
            bar.advance(task)
    return TransferResult(
        source_names=tuple(src_names),
        target_names=tuple(tgt_names),
        eps=eps_list,
        attack=attack.config(),
        n=len(x),
        error_rate=err,
        transfer_rate=rate,
        both_correct=both.sum(axis=2),
        clean_error=1.0 - clean_ok_tgt.mean(axis=1),
        source_error=src_err,
    )
