"""``AttackResult``: what every attack returns, fixed-ε or minimisation alike."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from advlab._io import atomic_path


@dataclass(eq=False)
class AttackResult:
    """Adversarials for K ε values (or K = 1 minimal adversarials when ``eps`` is None) and N inputs.

    ``success``, ``distances``, ``predictions`` and ``confidences`` are recomputed by
    running the model on ``adversarials``: they are verified, never the attack's claim.
    """

    attack: str
    norm: str
    config: dict[str, Any]
    eps: list[float] | None
    inputs: torch.Tensor  # N×…
    labels: torch.Tensor  # N
    targets: torch.Tensor | None  # N, for targeted attacks
    clean_predictions: torch.Tensor  # N
    adversarials: torch.Tensor  # K×N×…
    success: torch.Tensor  # K×N bool
    distances: dict[str, torch.Tensor]  # norm → K×N
    predictions: torch.Tensor  # K×N
    confidences: torch.Tensor  # K×N, probability of the predicted class
    queries: torch.Tensor  # K×N, model rows evaluated per input during the attack (per input via the Oracle; calls that bypass it: batch average)
    min_distances: torch.Tensor | None = None  # N, minimisation attacks: ‖minimal adversarial‖ (inf: none found)
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def num_eps(self) -> int:
        return int(self.success.shape[0])

    @property
    def targeted(self) -> bool:
        return self.targets is not None

    @property
    def clean_accuracy(self) -> float:
        return (self.clean_predictions == self.labels).float().mean().item()

    @property
    def robust_accuracy(self) -> torch.Tensor:
        """Per ε: the fraction of inputs the model still classifies correctly after the attack."""
        return (self.predictions == self.labels[None]).float().mean(dim=1)

    @property
    def success_rate(self) -> torch.Tensor:
        return self.success.float().mean(dim=1)

    def perturbations(self) -> torch.Tensor:
        return self.adversarials - self.inputs[None]

    def median_distance(self, norm: str | None = None) -> torch.Tensor:
        """Per ε: the median distance over successful adversarials (NaN where none succeeded)."""
        d = self.distances[norm or self.norm]
        out = []
        for k in range(self.num_eps):
            ok = d[k][self.success[k]]
            out.append(ok.median().item() if ok.numel() else math.nan)
        return torch.tensor(out)

    def table(self) -> list[dict[str, Any]]:
        """One row per ε: robust accuracy, success rate, median distances, mean confidence on successes."""
        rows = []
        medians = {n: self.median_distance(n) for n in self.distances}
        for k in range(self.num_eps):
            ok = self.success[k]
            rows.append(
                {
                    "eps": None if self.eps is None else self.eps[k],
                    "robust_accuracy": self.robust_accuracy[k].item(),
                    "success_rate": self.success_rate[k].item(),
                    **{f"median_{n}": medians[n][k].item() for n in medians},
                    "mean_confidence_adv": self.confidences[k][ok].mean().item() if ok.any() else math.nan,
                    "mean_queries": self.queries[k].float().mean().item(),
                }
            )
        return rows

    def __str__(self) -> str:
        head = f"{self.attack} ({self.norm}{', targeted' if self.targeted else ''}) on {len(self.labels)} inputs, clean accuracy {self.clean_accuracy:.4f}"
        lines = [head, f"{'eps':>10} {'robust acc':>11} {'success':>8} {'median ' + self.norm:>12} {'median l2':>10}"]
        for row in self.table():
            eps = "minimal" if row["eps"] is None else f"{row['eps']:g}"
            lines.append(
                f"{eps:>10} {row['robust_accuracy']:>11.4f} {row['success_rate']:>8.4f} "
                f"{row['median_' + self.norm]:>12.4f} {row['median_l2']:>10.4f}"
            )
        return "\n".join(lines)

    # --- persistence -------------------------------------------------------------------------
    _TENSORS = ("inputs", "labels", "clean_predictions", "adversarials", "success", "predictions", "confidences", "queries")

    def save(self, path: str | Path) -> Path:
        tensors = {name: getattr(self, name).detach().cpu().contiguous().clone() for name in self._TENSORS}
        tensors["success"] = tensors["success"].to(torch.uint8)
        tensors.update({f"distance.{k}": v.detach().cpu().contiguous() for k, v in self.distances.items()})
        if self.targets is not None:
            tensors["targets"] = self.targets.cpu().contiguous()
        if self.min_distances is not None:
            tensors["min_distances"] = self.min_distances.cpu().contiguous()
        meta = {"attack": self.attack, "norm": self.norm, "config": self.config, "eps": self.eps, "seconds": self.seconds, "extra": self.extra}
        with atomic_path(path) as tmp:
            save_file(tensors, str(tmp), metadata={"advlab_attack_result": json.dumps(meta, default=str)})
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> AttackResult:
        try:
            with safe_open(str(path), framework="pt") as f:
                raw = (f.metadata() or {}).get("advlab_attack_result")
                t = {k: f.get_tensor(k) for k in f.keys()}
        except (SafetensorError, OSError) as exc:
            raise ValueError(f"AttackResult.load: {path} is unreadable (truncated or corrupt?): {exc}") from exc
        if raw is None:
            raise ValueError(f"AttackResult.load: {path} is not a saved attack result")
        meta = json.loads(raw)
        return cls(
            attack=meta["attack"],
            norm=meta["norm"],
            config=meta["config"],
            eps=meta["eps"],
            inputs=t["inputs"],
            labels=t["labels"],
            targets=t.get("targets"),
            clean_predictions=t["clean_predictions"],
            adversarials=t["adversarials"],
            success=t["success"].bool(),
            distances={k.split(".", 1)[1]: v for k, v in t.items() if k.startswith("distance.")},
            predictions=t["predictions"],
            confidences=t["confidences"],
            queries=t["queries"],
            min_distances=t.get("min_distances"),
            seconds=meta.get("seconds", 0.0),
            extra=meta.get("extra", {}),
        )
