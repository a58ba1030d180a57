"""The running state of a cascade, saved after every (ε, attack) step so a killed evaluation resumes.

One ``.safetensors`` file (atomic write) holds the tensors and, in its metadata, the
finished steps, their contributions and a fingerprint of what is evaluated (inputs,
labels, suite, ε, seed): a state file from another evaluation is refused, not mixed in.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from advlab._io import atomic_path
from advlab.models.model import Model

if TYPE_CHECKING:
    from advlab.evaluate.robustness import Contribution
    from advlab.evaluate.suite import Suite

CLEAN_WRONG, NOT_BROKEN = -1, -2


def fingerprint(x: torch.Tensor, labels: torch.Tensor, suite: Suite, eps: list[float], seed: int) -> str:
    h = hashlib.sha256()
    h.update(x.detach().cpu().contiguous().numpy().tobytes())
    h.update(labels.cpu().numpy().tobytes())
    h.update(json.dumps({"suite": suite.config(), "eps": eps, "seed": seed}, sort_keys=True, default=str).encode())
    return h.hexdigest()


class CascadeState:
    def __init__(self, path: Path | None, key: str, clean_predictions: torch.Tensor, labels: torch.Tensor,
                 x: torch.Tensor, k: int, members: int):
        self.path, self.key = path, key
        self.clean_predictions = clean_predictions
        correct = clean_predictions == labels
        self.robust = correct.repeat(k, 1)
        self.broken_by = torch.where(correct, NOT_BROKEN, CLEAN_WRONG).repeat(k, 1).long()
        self.adversarials = x.repeat(k, *([1] * x.ndim)).clone()
        self.min_dist: dict[int, torch.Tensor] = {}
        self.min_adv: dict[int, torch.Tensor] = {}
        self.min_ran: dict[int, torch.Tensor] = {}
        self.steps_done: set[tuple[int, int]] = set()
        self.contributions: list[Contribution] = []
        self.seconds_before = 0.0
        self._x, self._members, self._t0 = x, members, time.perf_counter()

    @classmethod
    def start(cls, path: str | Path | None, model: Model, x: torch.Tensor, labels: torch.Tensor, suite: Suite,
              eps: list[float], seed: int) -> CascadeState:
        key = fingerprint(x, labels, suite, eps, seed)
        p = None if path is None else Path(path)
        if p is not None and p.is_file():
            return cls._load(p, key, x, labels, len(eps), len(suite.members))
        st = cls(p, key, model.predict(x).cpu(), labels.cpu(), x.cpu(), len(eps), len(suite.members))
        return st

    # --- queries and updates used by the cascade ---------------------------------------------------
    def done(self, k: int, m: int) -> bool:
        return (k, m) in self.steps_done

    def inherit(self, k: int) -> None:
        """Points broken at ε_{k−1} are broken at ε_k by the same adversarial."""
        gone = ~self.robust[k - 1] & self.robust[k]
        self.robust[k] &= self.robust[k - 1]
        self.broken_by[k, gone] = self.broken_by[k - 1, gone]
        self.adversarials[k, gone] = self.adversarials[k - 1, gone]

    def mark_broken(self, k: int, idx: torch.Tensor, adv: torch.Tensor, m: int) -> None:
        self.robust[k, idx] = False
        self.broken_by[k, idx] = m
        self.adversarials[k, idx] = adv.cpu()

    def _min_init(self, m: int) -> None:
        if m not in self.min_dist:
            n = len(self._x)
            self.min_dist[m] = torch.full((n,), float("inf"))
            self.min_adv[m] = self._x.clone()
            self.min_ran[m] = torch.zeros(n, dtype=torch.bool)

    def min_done(self, m: int) -> torch.Tensor:
        self._min_init(m)
        return self.min_ran[m]

    def store_minimal(self, m: int, idx: torch.Tensor, adv: torch.Tensor, dist: torch.Tensor | None) -> None:
        self._min_init(m)
        if dist is None:
            raise RuntimeError("cascade: a minimisation attack returned no min_distances")
        self.min_dist[m][idx], self.min_adv[m][idx], self.min_ran[m][idx] = dist.cpu(), adv.cpu(), True

    def minimal(self, m: int) -> tuple[torch.Tensor, torch.Tensor]:
        self._min_init(m)
        return self.min_dist[m], self.min_adv[m]

    def finish(self, k: int, m: int, contribution: Contribution) -> None:
        self.steps_done.add((k, m))
        self.contributions.append(contribution)
        if self.path is not None:
            self._save()

    # --- persistence ---------------------------------------------------------------------------------
    def _save(self) -> None:
        if self.path is None:
            return
        tensors = {"clean_predictions": self.clean_predictions, "robust": self.robust.to(torch.uint8),
                   "broken_by": self.broken_by, "adversarials": self.adversarials}
        for m in self.min_dist:
            tensors.update({f"min_dist.{m}": self.min_dist[m], f"min_adv.{m}": self.min_adv[m],
                            f"min_ran.{m}": self.min_ran[m].to(torch.uint8)})
        meta = {"key": self.key, "steps_done": sorted(self.steps_done),
                "contributions": [c.to_json() for c in self.contributions],
                "seconds": self.seconds_before + time.perf_counter() - self._t0}
        with atomic_path(self.path) as tmp:
            save_file({k: v.contiguous() for k, v in tensors.items()}, str(tmp),
                      metadata={"advlab_cascade_state": json.dumps(meta)})

    @classmethod
    def _load(cls, path: Path, key: str, x: torch.Tensor, labels: torch.Tensor, k: int, members: int) -> CascadeState:
        from advlab.evaluate.robustness import Contribution

        try:
            with safe_open(str(path), framework="pt") as f:
                raw = (f.metadata() or {}).get("advlab_cascade_state")
                t = {name: f.get_tensor(name) for name in f.keys()}
        except (SafetensorError, OSError) as exc:
            raise ValueError(f"evaluation state {path} is unreadable (truncated or corrupt?): {exc}") from exc
        if raw is None:
            raise ValueError(f"{path} is not an evaluation state file")
        meta = json.loads(raw)
        if meta.get("key") != key:
            raise ValueError(f"evaluation state {path} belongs to another evaluation (other inputs, suite, ε or seed); "
                             "delete it or choose another state path")
        st = cls(path, key, t["clean_predictions"], labels.cpu(), x.cpu(), k, members)
        st.robust, st.broken_by, st.adversarials = t["robust"].bool(), t["broken_by"], t["adversarials"]
        for name in t:
            if name.startswith("min_dist."):
                m = int(name.split(".")[1])
                st.min_dist[m], st.min_adv[m], st.min_ran[m] = t[name], t[f"min_adv.{m}"], t[f"min_ran.{m}"].bool()
        st.steps_done = {(int(a), int(b)) for a, b in meta["steps_done"]}
        st.contributions = [Contribution(**c) for c in meta["contributions"]]
        st.seconds_before = float(meta["seconds"])
        return st
