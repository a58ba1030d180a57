"""The models of madry-mnist: which training each gets, a per-epoch PGD probe, checkpoints.

All models are cnn-small with the same initial weights per seed, optimiser,
schedule and batch size; only the training step differs. Fast FGSM training is
run twice (the start clipped first, ``FastFGSM(clip_start=True)``, and Wong et
al.'s exact MNIST step, the default ``clip_start=False``) over several seeds
because its outcome at ε = 0.3 depends on both.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import torch

from advlab.attacks import ATTACKS
from advlab.data.dataset import Dataset
from advlab.experiments.registry import ExperimentContext
from advlab.models import Model, build
from advlab.progress import echo
from advlab.runs import save_run
from advlab.train import METHODS, FitState, TrainingMethod, fit


@dataclass(frozen=True)
class Plan:
    """One model to train: ``name`` (run folder ``models/cnn-<name>``), a label, its method kind, seed and epochs."""

    name: str
    label: str
    kind: str  # standard | fast | fast-wong | pgd | pgd-wong
    seed: int
    epochs: int


def plans(s: dict[str, Any], seed: int) -> list[Plan]:
    e = s["epochs"]
    out = [Plan("standard", "standard", "standard", seed, e)]
    for k in s["fast_seeds"]:
        out.append(Plan(f"fast-s{k}", f"fast FGSM, advlab FastFGSM, seed {k}", "fast", seed + k, e))
        out.append(Plan(f"fast-wong-s{k}", f"fast FGSM, Wong et al.'s step, seed {k}", "fast-wong", seed + k, e))
    out.append(Plan("pgd-wong", "PGD-trained, Wong et al.'s loop", "pgd-wong", seed, e))
    out.append(Plan("pgd", f"PGD-trained, advlab PGDAdversarial ({s['pgd_plain_epochs']} ep.)", "pgd", seed,
                    s["pgd_plain_epochs"]))
    return out


def method_for(kind: str, s: dict[str, Any]) -> TrainingMethod | None:
    eps = s["eps"]
    if kind == "standard":
        return None
    if kind == "fast":
        return METHODS.create("fast", eps=eps, step=s["fast_step"], clip_start=True)
    if kind == "fast-wong":
        return METHODS.create("fast", eps=eps, step=s["fast_step"], clip_start=False)
    if kind == "pgd":
        return METHODS.create("pgd", eps=eps, steps=s["pgd_train_steps"], stepsize=s["pgd_train_stepsize"],
                           stop_when_fooled=False)
    if kind == "pgd-wong":
        return METHODS.create("pgd", eps=eps, steps=s["pgd_train_steps"], stepsize=s["pgd_train_stepsize"], stop_when_fooled=True)
    raise ValueError(f"madry-mnist: unknown training kind {kind!r}")


class PGDProbe:
    """Callback: robust accuracy under a short PGD on a few test images after every epoch (its time is kept apart).

    A probe that rises and then falls to ~0 shows catastrophic overfitting; one that never rises, a model that
    never became robust.
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, eps: float, steps: int, seed: int):
        self.x, self.y, self.eps, self.seed = x, y, eps, seed
        self.attack = ATTACKS.create("pgd", norm="linf", steps=steps, stepsize=2.5 * eps / steps)
        self.records: list[dict[str, float]] = []
        self.seconds = self.cpu_seconds = 0.0

    def __call__(self, state: FitState) -> None:
        if state.epoch == 0:
            return
        t0, c0 = time.perf_counter(), time.process_time()
        result = self.attack(state.model, self.x.to(state.model.device), self.y.to(state.model.device),
                             eps=[self.eps], seed=self.seed)
        self.records.append({"epoch": state.epoch, "robust_accuracy": result.robust_accuracy[0].item()})
        self.seconds += time.perf_counter() - t0
        self.cpu_seconds += time.process_time() - c0


def train(plan: Plan, ds: Dataset, s: dict[str, Any], ctx: ExperimentContext) -> tuple[Model, dict[str, Any]]:
    echo(f"madry-mnist: training {plan.label}", ctx.quiet)
    # initial weights: the same for every model of one seed
    model = build("cnn-small", input_shape=ds.input_shape, classes=ds.class_names, bounds=ds.bounds, seed=plan.seed)
    probe = PGDProbe(ds.x_test[: s["probe_n"]], ds.y_test[: s["probe_n"]], s["eps"], s["probe_steps"], ctx.seed)
    wall, cpu = time.perf_counter(), time.process_time()
    history = fit(model, ds, method=method_for(plan.kind, s), epochs=plan.epochs, batch_size=s["batch_size"],
                  optimizer="adam", lr=s["lr_max"], schedule="cyclic", seed=plan.seed, device=ctx.device,
                  callbacks=[probe], probe=False, quiet=ctx.quiet)  # probe=False: its own PGDProbe shows the overfitting
    train_s = time.perf_counter() - wall - probe.seconds  # the probe's attacks are not training time
    cpu_s = time.process_time() - cpu - probe.cpu_seconds
    model.cpu().eval()
    path = ctx.out_dir / "models" / f"cnn-{plan.name}"
    save_run(path, model, {"name": "mnist", "limit_train": s["limit_train"], "limit_test": s["limit_test"]},
             history.to_json(), experiment="madry-mnist", train_seconds=train_s, train_cpu_seconds=cpu_s)
    info = {"label": plan.label, "kind": plan.kind, "seed": plan.seed, "epochs": plan.epochs, "path": str(path),
            "train_seconds": train_s, "train_cpu_seconds": cpu_s, "threads": torch.get_num_threads(),
            "history": history.to_json(), "probe": probe.records}
    return model, info


def diagnose(probe: list[dict[str, float]], clean: float, fgsm: float, pgd: float) -> str:
    """A plain reading of a robust-training outcome from the probe and the final accuracies."""
    values = [p["robust_accuracy"] for p in probe]
    peak = max(values, default=0.0)
    notes = []
    if clean < 0.2:
        notes.append("stuck at the constant-prediction plateau (clean accuracy at chance)")
    elif peak >= 0.3 and values and values[-1] < 0.5 * peak:
        at = values.index(peak) + 1
        notes.append(f"catastrophic overfitting: the PGD probe reached {100 * peak:.0f}% after epoch {at}, "
                     f"then fell to {100 * values[-1]:.0f}%")
    elif peak < 0.3:
        notes.append(f"never became robust: the PGD probe stayed at or below {100 * peak:.0f}%")
    if fgsm > clean + 0.005 and pgd < 0.5 * fgsm:
        notes.append(f"FGSM accuracy ({100 * fgsm:.1f}%) above clean accuracy ({100 * clean:.1f}%): masked gradients")
    return "; ".join(notes) if notes else "robust training worked"
