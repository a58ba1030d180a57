"""The attack template: ``__call__`` validates, batches, projects and verifies; subclasses ``run``.

A subclass implements one method, ``run(model, x, y, eps, target, generator)``,
returning candidate adversarials for a batch. Everything users rely on —
inputs checked, results inside the bounds and the ε-ball, success re-measured
on the model — happens here once, so no attack can claim a success it did not
achieve.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import torch

from advlab.attacks.norms import DISTANCE_NAMES, Norm, all_distances, get_norm
from advlab.attacks.oracle import Oracle
from advlab.attacks.result import AttackResult
from advlab.attacks.validation import as_model, check_eps, check_inputs, check_labels, check_positive_int
from advlab.models.model import Model
from advlab.progress import progress

# Slack for float rounding when testing ‖δ‖ ≤ ε.
EPS_TOL = 1e-6


class Attack(ABC):
    """Configured once, called on batches: ``attack(model, x, y, eps=…, target=None)``."""

    name: ClassVar[str] = "attack"
    #: minimisation attacks find the smallest adversarial and answer every ε from one run.
    minimization: ClassVar[bool] = False
    needs_gradient: ClassVar[bool] = True
    norm: Norm
    #: per-sample query budget, enforced by the ``Oracle`` the base hands to query attacks (None: no limit).
    max_queries: int | None = None

    def __init__(self, norm: str = "linf"):
        self.norm = get_norm(norm)

    @abstractmethod
    def run(
        self,
        model: Model,
        x: torch.Tensor,
        y: torch.Tensor,
        *,
        eps: torch.Tensor | None,
        target: torch.Tensor | None,
        generator: torch.Generator,
    ) -> torch.Tensor:
        """Candidate adversarials for one batch (``eps`` per sample; None for minimisation attacks).

        Untargeted: make the model not predict ``y``; targeted: make it predict ``target``.
        """

    def params(self) -> dict[str, Any]:
        return {}

    def config(self) -> dict[str, Any]:
        return {"attack": self.name, "norm": self.norm.name, **self.params()}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.config().items() if k != 'attack')})"

    # --- the template ----------------------------------------------------------------------------
    def __call__(
        self,
        model: Any,
        x: torch.Tensor,
        y: Any = None,
        *,
        eps: float | list[float] | None = None,
        target: Any = None,
        batch_size: int | None = None,
        seed: int | None = None,
        quiet: bool = True,
    ) -> AttackResult:
        model = as_model(model, x)
        if self.needs_gradient and not model.differentiable:
            raise ValueError(f"{self.name}: needs gradients, but the model is a black box; use a decision-based attack")
        x = check_inputs(model, x)
        eps_list = check_eps(eps, required=not self.minimization, name=self.name)
        batch_size = check_positive_int(batch_size, f"{self.name}: batch_size") or len(x)
        dev = model.device
        clean_pred = model.predict(x).cpu()
        labels = clean_pred.clone() if y is None else check_labels(model, y, len(x), "y")
        targets = None if target is None else check_labels(model, target, len(x), "target")
        if targets is not None and (targets == labels).any():
            raise ValueError(f"{self.name}: target equals the label for {int((targets == labels).sum())} input(s); pick another class")
        generator = torch.Generator().manual_seed(int(seed) if seed is not None else int(torch.randint(0, 2**62, (1,))))

        k = 1 if eps_list is None else len(eps_list)
        adv = torch.empty((k, *x.shape), dtype=x.dtype)
        queries = torch.zeros(k, len(x), dtype=torch.long)
        min_dist = torch.full((len(x),), float("inf")) if self.minimization else None
        t0 = time.perf_counter()
        with _attack_mode(model), progress(quiet) as bar:
            task = bar.add_task(self.name, total=len(x) * (1 if self.minimization else k), info="")
            for start in range(0, len(x), batch_size):
                sl = slice(start, start + batch_size)
                xb, yb = x[sl].to(dev), labels[sl].to(dev)
                tb = None if targets is None else targets[sl].to(dev)
                if self.minimization:
                    found, n_q = self._counted(model, xb, yb, None, tb, generator)
                    best, dist = self._verified_minimal(model, xb, yb, tb, found)
                    min_dist[sl] = dist.cpu()
                    for j in range(k):
                        adv[j, sl] = (best if eps_list is None else self._within(xb, best, dist, eps_list[j])).cpu()
                    queries[:, sl] = n_q
                    bar.advance(task, len(xb))
                else:
                    for j, e in enumerate(eps_list or []):
                        e_t = torch.full((len(xb),), e, device=dev)
                        cand, n_q = self._counted(model, xb, yb, e_t, tb, generator)
                        adv[j, sl] = self._project(model, xb, cand, e).cpu()
                        queries[j, sl] = n_q
                        bar.advance(task, len(xb))
        seconds = time.perf_counter() - t0
        return self._verify(model, x, labels, targets, clean_pred, eps_list, adv, queries, min_dist, seconds)

    # --- steps of the template -------------------------------------------------------------------
    def _counted(self, model: Model, x, y, eps, target, generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Run the attack; queries per sample: the oracle's own count plus, for any call that bypassed it
        (gradient attacks), that call's rows spread over the batch."""
        oracle = Oracle(model, len(x), self.max_queries)
        rows = [0]

        def hook(_module: Any, inputs: tuple[torch.Tensor, ...]) -> None:
            rows[0] += inputs[0].shape[0]

        handle = model.register_forward_pre_hook(hook)
        try:
            out = self._start(model, oracle, x, y, eps=eps, target=target, generator=generator)
        finally:
            handle.remove()
        if not isinstance(out, torch.Tensor) or out.shape != x.shape:
            raise RuntimeError(f"{self.name}.run returned {getattr(out, 'shape', type(out))}, expected {tuple(x.shape)}")
        outside = rows[0] - int(oracle.counts.sum())
        return out.detach(), oracle.counts + -(-outside // len(x))

    def _start(self, model: Model, oracle: Oracle, x, y, *, eps, target, generator) -> torch.Tensor:
        """Query attacks override this to work through ``oracle`` only; the others get the model."""
        return self.run(model, x, y, eps=eps, target=target, generator=generator)

    def _project(self, model: Model, x: torch.Tensor, adv: torch.Tensor, eps: float) -> torch.Tensor:
        adv = torch.nan_to_num(adv, nan=0.0)
        return model.bounds.clip(x + self.norm.project(adv - x, eps))

    def _is_adversarial(self, logits: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None) -> torch.Tensor:
        pred = logits.argmax(dim=1)
        return pred == target if target is not None else pred != y

    def _verified_minimal(self, model: Model, x, y, target, found) -> tuple[torch.Tensor, torch.Tensor]:
        found = model.bounds.clip(torch.nan_to_num(found, nan=0.0))
        # An input the model already gets wrong (or already puts in the target class) is its own
        # minimal adversarial, at distance 0.
        already = self._is_adversarial(model.logits(x), y, target)
        found = torch.where(already.reshape(-1, *([1] * (x.ndim - 1))), x, found)
        ok = self._is_adversarial(model.logits(found), y, target)
        dist = torch.where(ok, self.norm.distance(found - x), torch.full((len(x),), float("inf"), device=x.device))
        return found, dist

    def _within(self, x: torch.Tensor, best: torch.Tensor, dist: torch.Tensor, eps: float) -> torch.Tensor:
        """The minimal adversarial where it fits in the ε-ball, else the clean input."""
        keep = (dist <= eps + EPS_TOL).reshape(-1, *([1] * (x.ndim - 1)))
        return torch.where(keep, best, x)

    def _verify(self, model, x, labels, targets, clean_pred, eps_list, adv, queries, min_dist, seconds) -> AttackResult:
        k = adv.shape[0]
        preds = torch.empty(k, len(x), dtype=torch.long)
        conf = torch.empty(k, len(x))
        for j in range(k):
            probs = model.predict_proba(adv[j]).cpu()
            conf[j], preds[j] = probs.max(dim=1)
        success = preds == targets[None] if targets is not None else preds != labels[None]
        per_eps = [all_distances(adv[j] - x) for j in range(k)]
        dists = {name: torch.stack([d[name] for d in per_eps]) for name in DISTANCE_NAMES}
        if eps_list is not None and not self.minimization:
            limit = torch.tensor(eps_list)[:, None] * (1 + 1e-5) + EPS_TOL
            if (dists[self.norm.name] > limit).any():
                raise RuntimeError(f"{self.name}: internal error, a result left the ε-ball")
        return AttackResult(
            attack=self.name,
            norm=self.norm.name,
            config=self.config(),
            eps=eps_list,
            inputs=x.cpu(),
            labels=labels.cpu(),
            targets=None if targets is None else targets.cpu(),
            clean_predictions=clean_pred,
            adversarials=adv,
            success=success,
            distances=dists,
            predictions=preds,
            confidences=conf,
            queries=queries,
            min_distances=min_dist,
            seconds=seconds,
        )


@contextmanager
def _attack_mode(model: Model) -> Iterator[None]:
    """Eval mode and frozen weights while attacking (input gradients only), restored afterwards."""
    was_training = model.training
    flags = [(p, p.requires_grad) for p in model.parameters()]
    model.eval()
    for p, _ in flags:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in flags:
            p.requires_grad_(flag)
        model.train(was_training)
