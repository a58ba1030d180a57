"""The attack template: ``__call__`` validates, batches, projects and verifies; subclasses ``run``.

A subclass implements one method, ``run(model, x, y, eps, target, generator)``,
returning candidate adversarials for a batch. Everything users rely on —
inputs checked, results inside the bounds and the ε-ball, success re-measured
on the model — happens here once, so no attack can claim a success it did not
achieve.
"""

from __future__ import annotations

import functools
import inspect
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import torch

from advlab.attacks.margins import is_adversarial
from advlab.attacks.norms import DISTANCE_NAMES, Norm, all_distances, get_norm
from advlab.attacks.result import AttackResult
from advlab.attacks.validation import (
    as_input_tensor,
    as_model,
    check_eps,
    check_inputs,
    check_labels,
    check_positive_int,
    checked_logits,
)
from advlab.models.model import Model
from advlab.progress import progress

# Slack for float rounding when testing ‖δ‖ ≤ ε.
EPS_TOL = 1e-6


class Attack(ABC):
    """Configured once, called on batches: ``attack(model, x, y, eps=…, target=None)``."""

    name: ClassVar[str] = "attack"
    #: minimisation attacks find the smallest adversarial and answer every ε from one run.
    minimization: ClassVar[bool] = False
    #: ``run`` already returns points of the ε-ball inside the bounds (``perturb`` skips the projection).
    feasible_output: ClassVar[bool] = False
    needs_gradient: ClassVar[bool] = True
    norm: Norm

    #: ε used when a call gives none: ``PGD(eps=0.3)`` (None: every fixed-size call must give ``eps``).
    default_eps: list[float] | None = None

    def __init__(self, norm: str = "linf"):
        if not isinstance(norm, str):
            raise TypeError(f"{self.name}: norm must be a name such as 'linf', 'l2', 'l1', got {norm!r}")
        self.norm = get_norm(norm)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Every attack accepts eps= in its constructor (a default for calls that give none), without
        # each subclass having to forward it.
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None or getattr(init, "_accepts_eps", False) or "eps" in inspect.signature(init).parameters:
            return

        @functools.wraps(init)
        def __init__(self: Attack, *args: Any, eps: Any = None, **kw: Any) -> None:
            init(self, *args, **kw)
            if eps is not None:
                self.default_eps = check_eps(eps, required=True, name=self.name)

        __init__._accepts_eps = True  # type: ignore[attr-defined]
        # The signature registries and help read: the subclass's own options plus eps.
        sig = inspect.signature(init)
        params = [p for p in sig.parameters.values() if p.kind is not p.VAR_KEYWORD]
        params.append(inspect.Parameter("eps", inspect.Parameter.KEYWORD_ONLY, default=None))
        params += [p for p in sig.parameters.values() if p.kind is p.VAR_KEYWORD]
        __init__.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
        setattr(cls, "__init__", __init__)  # noqa: B010 - mypy refuses assigning a method

    def step_done(self, n: int = 1) -> None:
        """Attacks call this once per optimisation step (e.g. minimisation attacks): the progress bar
        then moves inside a batch instead of waiting for the whole batch."""
        hook = self.__dict__.get("_on_step")
        if hook is not None:
            hook(n)

    def planned_steps(self) -> int:
        """Steps one batch takes, for the progress bar (0: unknown, advance per batch only)."""
        steps = getattr(self, "steps", 0)
        rounds = getattr(self, "binary_search_steps", 1)
        return int(steps) * int(rounds) if isinstance(steps, int) and isinstance(rounds, int) else 0

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
        extra = {} if self.default_eps is None else {"eps": self.default_eps}
        return {"attack": self.name, "norm": self.norm.name, **self.params(), **extra}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.config().items() if k != 'attack')})"

    # --- the low-level entry ----------------------------------------------------------------------
    def perturb(
        self,
        model: Model,
        x: torch.Tensor,
        y: torch.Tensor,
        *,
        eps: float | torch.Tensor | None,
        target: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """The raw adversarial batch, for inner loops such as adversarial training.

        ``run`` on one batch, then (unless the attack's iterates are feasible by construction)
        projected into the ε-ball and the bounds. Unlike ``__call__`` nothing is validated,
        batched, counted or verified, the model stays in the mode it is in (train mode while
        training; weights keep ``requires_grad``, only the input's gradient is taken) and
        randomness comes from ``generator`` (a fresh ``torch.Generator()`` when None).
        ``x`` and ``y`` must be on the model's device; ``eps`` is a float or a per-sample (N,)
        tensor (ignored by minimisation attacks). Returns a detached tensor shaped like ``x``.
        """
        gen = generator if generator is not None else torch.Generator()
        if self.minimization:
            return model.bounds.clip(self.run(model, x, y, eps=None, target=target, generator=gen)).detach()
        if eps is None:
            raise ValueError(f"{self.name}: eps is required")
        e = torch.as_tensor(eps, dtype=x.dtype, device=x.device).expand(len(x))
        out = self.run(model, x, y, eps=e, target=target, generator=gen)
        return (out if self.feasible_output else self._project(model, x, out, e)).detach()

    # --- the template ----------------------------------------------------------------------------
    def __call__(
        self,
        model: Any,
        x: torch.Tensor,
        y: Any = None,
        *,
        eps: float | list[float] | torch.Tensor | None = None,
        target: Any = None,
        batch_size: int | None = None,
        seed: int | None = None,
        quiet: bool = True,
    ) -> AttackResult:
        x = as_input_tensor(x)
        model = as_model(model, x)
        if self.needs_gradient and not model.differentiable:
            raise ValueError(f"{self.name}: needs gradients, but the model is a black box; use a decision-based attack")
        x = check_inputs(model, x)
        eps_list = check_eps(self.default_eps if eps is None else eps, required=not self.minimization, name=self.name)
        batch_size = check_positive_int(batch_size, f"{self.name}: batch_size") or len(x)
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise TypeError(f"{self.name}: seed must be an integer or None, got {seed!r}")
        dev = model.device
        clean_pred = checked_logits(model, x, f"{self.name}: the clean inputs").argmax(dim=1).cpu()
        labels = clean_pred.clone() if y is None else check_labels(model, y, len(x), "y")
        targets = None if target is None else check_labels(model, target, len(x), "target")
        if targets is not None and (targets == labels).any():
            raise ValueError(f"{self.name}: target equals the label for {int((targets == labels).sum())} input(s); pick another class")
        generator = torch.Generator().manual_seed(int(seed) if seed is not None else int(torch.randint(0, 2**62, (1,))))

        k = 1 if eps_list is None else len(eps_list)
        adv = torch.empty((k, *x.shape), dtype=x.dtype)
        queries = torch.zeros(k, len(x), dtype=torch.long)
        best_dist = torch.full((len(x),), float("inf"))  # minimisation attacks: ‖minimal adversarial‖ per input
        t0 = time.perf_counter()
        with _attack_mode(model), progress(quiet) as bar:
            task = bar.add_task(self.name, total=len(x) * (1 if self.minimization else k), info="")
            for start in range(0, len(x), batch_size):
                sl = slice(start, start + batch_size)
                xb, yb = x[sl].to(dev), labels[sl].to(dev)
                tb = None if targets is None else targets[sl].to(dev)
                if self.minimization:
                    moved = self._track_steps(bar, task, len(xb))
                    try:
                        found, n_q = self._counted(model, xb, yb, None, tb, generator)
                    finally:
                        self.__dict__.pop("_on_step", None)
                    best, dist = self._verified_minimal(model, xb, yb, tb, found)
                    best_dist[sl] = dist.cpu()
                    for j in range(k):
                        adv[j, sl] = (best if eps_list is None else self._within(xb, best, dist, eps_list[j])).cpu()
                    queries[:, sl] = n_q
                    bar.advance(task, len(xb) - moved[0])
                else:
                    for j, e in enumerate(eps_list or []):
                        e_t = torch.full((len(xb),), e, device=dev)
                        cand, n_q = self._counted(model, xb, yb, e_t, tb, generator)
                        adv[j, sl] = self._project(model, xb, cand, e).cpu()
                        queries[j, sl] = n_q
                        bar.advance(task, len(xb))
        seconds = time.perf_counter() - t0
        min_dist = best_dist if self.minimization else None
        return self._verify(model, x, labels, targets, clean_pred, eps_list, adv, queries, min_dist, seconds)

    # --- steps of the template -------------------------------------------------------------------
    def _track_steps(self, bar: Any, task: Any, batch: int) -> list[float]:
        """Move the bar by batch/planned_steps() per ``step_done``; returns the (live) amount moved."""
        moved = [0.0]
        planned = self.planned_steps()
        if planned > 0:
            share = batch / planned

            def on_step(n: int) -> None:
                step = min(share * n, batch - moved[0])
                if step > 0:
                    moved[0] += step
                    bar.advance(task, step)

            self.__dict__["_on_step"] = on_step
        return moved

    def _counted(self, model: Model, x, y, eps, target, generator) -> tuple[torch.Tensor, int]:
        rows = [0]

        def hook(_module: Any, inputs: tuple[torch.Tensor, ...]) -> None:
            rows[0] += inputs[0].shape[0]

        handle = model.register_forward_pre_hook(hook)
        try:
            out = self.run(model, x, y, eps=eps, target=target, generator=generator)
        finally:
            handle.remove()
        if not isinstance(out, torch.Tensor) or out.shape != x.shape:
            raise RuntimeError(f"{self.name}.run returned {getattr(out, 'shape', type(out))}, expected {tuple(x.shape)}")
        return out.detach(), -(-rows[0] // len(x))

    def _project(self, model: Model, x: torch.Tensor, adv: torch.Tensor, eps: float | torch.Tensor) -> torch.Tensor:
        adv = torch.nan_to_num(adv, nan=0.0)
        return model.bounds.clip(x + self.norm.project(adv - x, eps))

    def _verified_minimal(self, model: Model, x, y, target, found) -> tuple[torch.Tensor, torch.Tensor]:
        found = model.bounds.clip(torch.nan_to_num(found, nan=0.0))
        # An input the model already gets wrong (or already puts in the target class) is its own
        # minimal adversarial, at distance 0.
        already = is_adversarial(checked_logits(model, x, f"{self.name}: the clean inputs"), y, target)
        found = torch.where(already.reshape(-1, *([1] * (x.ndim - 1))), x, found)
        ok = is_adversarial(checked_logits(model, found, f"{self.name}: its adversarials"), y, target)
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
            # success is decided on the logits in the network's own dtype: probabilities rounded to
            # float32 can tie (or saturate at 1.0) while the logits still differ.
            logits = checked_logits(model, adv[j], f"{self.name}: its adversarials")
            preds[j] = logits.argmax(dim=1).cpu()
            conf[j] = torch.softmax(logits, dim=1).max(dim=1).values.float().cpu()
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
