"""Attacking the abs-mnist models: minimal adversarials per norm (worst case over the attacks each model
allows), accuracy at the paper's ε, confidence on noise and distal images.

Attack suites (what exists in advlab now; ``suite_for`` is the one place to swap in
``advlab.evaluate``'s suites later):

* differentiable baselines (CNN, Madry, nearest neighbour): DDN-L2, FMN-L∞, FMN-L0;
* binarised CNN (zero gradients): transfer from the plain CNN (DDN / FMN-L∞ / FMN-L0)
  with a line search on the binarised model;
* ABS and binary ABS: the latent descent attack and the same transfer attacks from
  the CNN; queries run in ``QUERY_MODE`` (faithful: the top-k ``fast`` mode saves no CPU
  at small batches, see benchmarks/abs.py) and every adversarial is re-checked in the
  ``faithful`` mode (only re-checked ones count).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import torch

from advlab.attacks import DDN, FMN, Attack, LatentDescent, TransferLine
from advlab.models import Model
from advlab.models.abs import ABSNet, abs_mode

EPS = {"l2": 1.5, "linf": 0.3, "l0": 12.0}


def _is_abs(model: Model) -> bool:
    return isinstance(model.net, ABSNet)


def suite_for(name: str, model: Model, substitute: Model, s: dict[str, Any]) -> list[tuple[str, Attack]]:
    """(label, attack) pairs; each attack's adversarials are scored in every norm."""
    ddn, fmn_inf, fmn_l0 = DDN(steps=s["ddn_steps"]), FMN("linf", steps=s["fmn_steps"]), FMN("l0", steps=s["fmn_steps"])
    transfer: list[tuple[str, Attack]] = [(f"transfer[{a.name}-{a.norm.name}]", TransferLine(substitute, a, binary_steps=s["binary_steps"]))
                for a in (ddn, fmn_inf, fmn_l0)]
    if _is_abs(model):
        ld = LatentDescent(steps=s["ld_steps"], stepsize=s["ld_stepsize"], binary_steps=s["binary_steps"])
        return [("latent-descent", ld), *transfer]
    if name == "binary_cnn":
        return transfer
    return [("ddn-l2", ddn), ("fmn-linf", fmn_inf), ("fmn-l0", fmn_l0)]


QUERY_MODE = "faithful"  # benchmarks/abs.py: the top-k "fast" mode costs more CPU at small batches


@contextmanager
def _query_mode(model: Model) -> Iterator[None]:
    with abs_mode(model, QUERY_MODE) if _is_abs(model) else nullcontext():
        yield


def minimal_adversarials(name: str, model: Model, substitute: Model, x: torch.Tensor, y: torch.Tensor,
                         s: dict[str, Any], seed: int) -> dict[str, Any]:
    """Per norm: the smallest verified adversarial distance per input over the suite (0 if misclassified)."""
    clean = model.predict(x, batch_size=100) == y
    best = {n: torch.where(clean, torch.full((len(x),), math.inf), torch.zeros(len(x))) for n in EPS}
    best_adv = {n: x.clone() for n in EPS}
    used = []
    for label, attack in suite_for(name, model, substitute, s):
        with _query_mode(model):
            res = attack(model, x, y, seed=seed)
        adv = res.adversarials[0]
        ok = (model.predict(adv, batch_size=100) != y) & clean  # re-checked (faithful mode for ABS)
        used.append({"attack": label, "config": res.config, "seconds": res.seconds,
                     "verified": int(ok.sum()), "claimed": int((res.success[0] & clean).sum())})
        for n in EPS:
            d = torch.where(ok, res.distances[n][0], torch.full((len(x),), math.inf))
            better = d < best[n]
            best[n] = torch.where(better, d, best[n])
            best_adv[n][better] = adv[better]
    out: dict[str, Any] = {"n": len(x), "clean_accuracy": clean.float().mean().item(), "attacks": used, "norms": {}}
    for n, eps in EPS.items():
        d = best[n]
        out["norms"][n] = {"median": d.median().item(), "accuracy_at_eps": (d > eps).float().mean().item(),
                           "eps": eps, "distances": d.tolist()}
    out["adversarials_l2"] = best_adv["l2"]
    return out


def noise_confidence(model: Model, n: int, seed: int) -> dict[str, float]:
    """Mean top-class confidence on uniform noise U(0, 1) and Gaussian noise clip(0.5 + 0.5·N(0, 1), 0, 1)."""
    g = torch.Generator().manual_seed(seed)
    uniform = torch.rand(n, 1, 28, 28, generator=g)
    gauss = (0.5 + 0.5 * torch.randn(n, 1, 28, 28, generator=g)).clamp(0, 1)
    return {kind: model.predict_proba(v, batch_size=100).max(1).values.mean().item()
            for kind, v in (("uniform", uniform), ("gaussian", gauss))}


def distal(model: Model, classes: list[int], steps: int, lr: float, seed: int) -> dict[str, Any]:
    """From one uniform-noise image, Adam ascent on log p_c per class c until p_c ≥ 0.9 (the paper's distal images).

    Models without useful gradients (binarised) get none. Returns images, confidences and L2 from the noise.
    """
    g = torch.Generator().manual_seed(seed)
    start = torch.rand(1, 1, 28, 28, generator=g).expand(len(classes), -1, -1, -1).clone()
    x = start.clone().requires_grad_(True)
    target = torch.tensor(classes)
    opt = torch.optim.Adam([x], lr=lr)
    done = torch.zeros(len(classes), dtype=torch.bool)
    frozen = start.clone()
    with _query_mode(model):
        for _ in range(steps):
            logp = torch.log_softmax(model(x), 1)[torch.arange(len(classes)), target]
            with torch.no_grad():
                reached = (logp.exp() >= 0.9) & ~done
                frozen[reached] = x.detach()[reached]
                done |= reached
            if done.all():
                break
            opt.zero_grad()
            (-(logp * (~done).float()).sum()).backward()
            opt.step()
            with torch.no_grad():
                x.clamp_(0, 1)
        with torch.no_grad():
            frozen[~done] = x.detach()[~done]
    conf = model.predict_proba(frozen)[torch.arange(len(classes)), target]
    return {"images": frozen, "confidence": conf.tolist(), "reached": done.tolist(),
            "l2_from_noise": (frozen - start).flatten(1).norm(dim=1).tolist()}
