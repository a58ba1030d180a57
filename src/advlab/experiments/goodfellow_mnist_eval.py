"""Measurements of goodfellow-mnist: FGSM error and confidence, transfer, ensembles, Gaussian rubbish.

Two FGSM protocols. The paper's FGSM is x + ε·sign(∇ₓJ) with no clipping
(nothing in the paper clips to [0, 1]); advlab's attacks keep images valid by
clipping into the model's bounds. On MNIST, where most pixels are 0, clipping
drops the negative half of the perturbation on the background, so the two
differ. "unclipped" runs the same net under bounds widened by ε (so the
attack's projection never bites); "clipped" is the ordinary advlab attack.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from advlab.attacks import ATTACKS, AttackResult
from advlab.evaluate.confidence import confidence
from advlab.models import Model, ensemble_members
from advlab.models.layers import classifier
from advlab.models.rbf import rbf_head

VARIANTS = ("unclipped", "clipped")
#: the FGSM-trained model whose training perturbations were made like each attack variant (like for like).
ADV_TRAINED = {"unclipped": "maxout-fgsm-unclipped", "clipped": "maxout-fgsm"}
CONFIDENT = 0.5  # the paper's appendix: "assigning a probability greater than 0.5 to any class" is an error


def attack_view(model: Model, variant: str, eps: float) -> Model:
    """The model itself ("clipped"), or the same net with bounds widened by ``eps`` ("unclipped")."""
    if variant == "clipped":
        return model
    if variant != "unclipped":
        raise ValueError(f"goodfellow-mnist: FGSM variant must be one of {VARIANTS}, got {variant!r}")
    bounds = (model.bounds.lower - eps, model.bounds.upper + eps)
    return Model(model.net, bounds=bounds, classes=model.classes, input_shape=model.input_shape, spec=model.spec)


def fgsm(model: Model, x: torch.Tensor, y: torch.Tensor, eps: float, variant: str, seed: int) -> AttackResult:
    view = attack_view(model, variant, eps)
    return ATTACKS.create("fgsm", norm="linf")(view, x, y, eps=[eps], batch_size=1000, seed=seed, quiet=True)


@dataclass
class Errors:
    """Error rate on a set of inputs and the mean confidence of the wrong answers."""

    error: float
    confidence_wrong: float
    confidence_all: float

    def as_dict(self) -> dict[str, float]:
        return {"error": self.error, "confidence_wrong": self.confidence_wrong, "confidence_all": self.confidence_all}


def errors_of(model: Model, x: torch.Tensor, y: torch.Tensor) -> Errors:
    probs = model.predict_proba(x).cpu()
    conf, pred = probs.max(dim=1)
    wrong = pred != y
    return Errors(wrong.float().mean().item(), conf[wrong].mean().item() if wrong.any() else float("nan"),
                  conf.mean().item())


def fgsm_errors(result: AttackResult) -> Errors:
    wrong = result.predictions[0] != result.labels
    conf = result.confidences[0]
    return Errors(wrong.float().mean().item(), conf[wrong].mean().item() if wrong.any() else float("nan"),
                  conf.mean().item())


@torch.no_grad()
def rbf_class_probability(model: Model, x: torch.Tensor, batch_size: int = 2048) -> torch.Tensor:
    """max_i e^{cᵢ} / (Σⱼ e^{cⱼ} + 1): the RBF's class probability *before* the reject mass is spread.

    advlab's RBF spreads its "none" mass evenly over the classes, so its
    ``predict_proba`` never falls below 1/K. The paper's RBF outputs unnormalised
    exp(−β‖x − μ‖²), which can be near 0 for every class; this quantity is the
    closest analogue in our model.
    """
    head = rbf_head(model)
    out = []
    for xb in x.split(batch_size):
        h = classifier(model).features(xb.to(model.device))
        s = head.unit_scores(h)
        c = torch.logsumexp(s.view(len(h), head.num_classes, head.per_class), dim=2)
        denominator = torch.logaddexp(torch.logsumexp(c, dim=1), torch.zeros_like(c[:, 0]))
        out.append((c.max(dim=1).values - denominator).exp().cpu())
    return torch.cat(out)


def transfer_errors(target: Model, source_result: AttackResult) -> Errors:
    """The target's errors on adversarials crafted against another model."""
    return errors_of(target, source_result.adversarials[0], source_result.labels)


def ensemble_scores(ensemble: Model, x: torch.Tensor, y: torch.Tensor, eps: float, variant: str,
                    seed: int) -> dict[str, Any]:
    """FGSM against the whole ensemble, and against each member alone (then classified by the ensemble)."""
    whole = fgsm_errors(fgsm(ensemble, x, y, eps, variant, seed))
    per_member = []
    for member in ensemble_members(ensemble):
        result = fgsm(member, x, y, eps, variant, seed)
        per_member.append({"on_ensemble": transfer_errors(ensemble, result).as_dict(),
                           "on_member": fgsm_errors(result).as_dict()})
    mean_on_ensemble = sum(m["on_ensemble"]["error"] for m in per_member) / len(per_member)
    return {"whole": whole.as_dict(), "one_member_mean_error": mean_on_ensemble, "members": per_member}


def gaussian_rubbish(n: int, shape: tuple[int, ...], seed: int) -> torch.Tensor:
    """n samples of N(0, I) shaped like one input (the paper's 10 000 draws of N(0, I₇₈₄))."""
    return torch.randn(n, *shape, generator=torch.Generator().manual_seed(seed))


def rubbish_scores(model: Model, x: torch.Tensor) -> dict[str, Any]:
    """Fraction of rubbish inputs given some class with probability > 0.5, their mean confidence, class shares
    (``advlab.evaluate.confidence``)."""
    res = confidence(model, x, "rubbish", threshold=CONFIDENT)
    return {
        "fraction_confident": res.fraction_confident,
        "mean_confidence_confident": res.mean_confidence_confident,
        "mean_confidence": res.mean_confidence,
        "confident_class_shares": res.class_shares(),
        "confidences": res.confidences,  # dropped before JSON; drawn as histograms
    }
