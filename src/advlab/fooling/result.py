"""``FoolingResult``: one fooling image per target class, with what the model says about it.

Every number describing the images (the target class's probability, the top
class and its probability) is measured by running the model on the stored
images (``measure``), never taken from the search's own bookkeeping; a result
loaded from disk can be re-measured the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from advlab._io import atomic_path

_TENSORS = ("images", "targets", "target_confidences", "predictions", "confidences", "queries", "steps", "nearest_distances")


@dataclass(eq=False)
class FoolingResult:
    """N fooling images (one per requested class) made by one strategy against one model.

    ``queries``: model evaluations spent on that image (a gradient step counts one
    forward + backward); ``steps``: gradient steps or generations until the image
    reached ``required`` (or the whole budget when it never did);
    ``nearest_distances``: L2 distance to the nearest reference (training) image,
    NaN when no reference was given.
    """

    strategy: str
    config: dict[str, Any]
    required: float
    images: torch.Tensor  # N×…, inside the model's bounds
    targets: torch.Tensor  # N, class indices
    target_confidences: torch.Tensor  # N, p(target | image), measured
    predictions: torch.Tensor  # N, top class, measured
    confidences: torch.Tensor  # N, top-class probability, measured
    queries: torch.Tensor  # N
    steps: torch.Tensor  # N
    nearest_distances: torch.Tensor  # N
    class_names: tuple[str, ...] = ()
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.targets)

    @property
    def success(self) -> torch.Tensor:
        """The model's top class is the target, with probability ≥ ``required`` (measured)."""
        return (self.predictions == self.targets) & (self.target_confidences >= self.required)

    @property
    def success_rate(self) -> float:
        return self.success.float().mean().item() if len(self) else float("nan")

    def measure(self, model: Any) -> FoolingResult:
        """The same images with every probability re-measured by ``model`` (returns a new result)."""
        probs = model.predict_proba(self.images).cpu().double()
        conf, pred = probs.max(dim=1)
        return FoolingResult(
            self.strategy, dict(self.config), self.required, self.images, self.targets,
            probs.gather(1, self.targets[:, None].long())[:, 0], pred, conf, self.queries, self.steps,
            self.nearest_distances, self.class_names or tuple(getattr(model, "classes", ())), self.seconds, dict(self.extra),
        )  # fmt: skip

    def table(self) -> list[dict[str, Any]]:
        names = self.class_names or tuple(str(i) for i in range(int(self.targets.max()) + 1 if len(self) else 0))
        return [
            {
                "target": names[int(t)],
                "p(target)": float(pt),
                "predicted": names[int(p)],
                "confidence": float(c),
                "reached": bool(s),
                "queries": int(q),
                "steps": int(n),
                "nearest training distance": float(d),
            }
            for t, pt, p, c, s, q, n, d in zip(self.targets, self.target_confidences, self.predictions, self.confidences,
                                                self.success, self.queries, self.steps, self.nearest_distances, strict=True)
        ]  # fmt: skip

    def __str__(self) -> str:
        lines = [f"{self.strategy}: {int(self.success.sum())}/{len(self)} classes reached p ≥ {self.required:g} "
                 f"({self.seconds:.1f} s)", f"{'target':>8} {'p(target)':>10} {'queries':>8} {'nearest d':>10}"]  # fmt: skip
        for row in self.table():
            mark = "" if row["reached"] else "  (not reached)"
            lines.append(f"{row['target']:>8} {row['p(target)']:>10.5f} {row['queries']:>8d} "
                         f"{row['nearest training distance']:>10.3f}{mark}")  # fmt: skip
        return "\n".join(lines)

    def save(self, path: str | Path) -> Path:
        """Tensors in one ``.safetensors`` file; strategy, config and names in its metadata (atomic write)."""
        tensors = {name: getattr(self, name).detach().cpu().contiguous() for name in _TENSORS}
        meta = {"strategy": self.strategy, "config": self.config, "required": self.required,
                "class_names": list(self.class_names), "seconds": self.seconds, "extra": self.extra}  # fmt: skip
        with atomic_path(path) as tmp:
            save_file(tensors, str(tmp), metadata={"advlab_fooling": json.dumps(meta, default=str)})
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> FoolingResult:
        p = Path(path)
        try:
            with safe_open(str(p), framework="pt") as f:
                meta_text = (f.metadata() or {}).get("advlab_fooling")
                tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open is not a dict)
        except (SafetensorError, OSError) as exc:
            raise ValueError(f"{p}: not a readable fooling result ({exc})") from exc
        missing = [k for k in _TENSORS if k not in tensors]
        if meta_text is None or missing:
            raise ValueError(f"{p}: not an advlab fooling result (missing {missing or 'metadata'})")
        meta = json.loads(meta_text)
        return cls(meta["strategy"], meta["config"], float(meta["required"]), **{k: tensors[k] for k in _TENSORS},
                   class_names=tuple(meta.get("class_names", ())), seconds=float(meta.get("seconds", 0.0)),
                   extra=meta.get("extra", {}))  # fmt: skip
