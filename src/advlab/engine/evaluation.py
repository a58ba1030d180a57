"""Evaluation shards: robust accuracy of a model against a worst case over attacks, per ε, on an index range.

A shard is one model × one attack list × one ε × one range of test indices. Per
point it runs the attacks as a cascade (AutoAttack's rule: each attack only on
the points still robust) and records whether the point survived all of them.
Merging the shards gives robust accuracy per model and ε over the whole range.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from advlab.engine.shards import Shard, ShardContext, derive_seed, index_ranges, register_shard_kind

KIND = "robustness"
SPLITS = ("test", "train")


@dataclass(frozen=True)
class AttackSpec:
    """An attack by registry name with its options: ``AttackSpec("pgd", "linf", {"steps": 40})``."""

    name: str
    norm: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def make(self) -> Any:
        from advlab.attacks import ATTACKS

        return ATTACKS.create(self.name, **({"norm": self.norm} if self.norm is not None else {}), **self.options)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "norm": self.norm, "options": dict(self.options)}

    @classmethod
    def of(cls, value: AttackSpec | str | dict[str, Any]) -> AttackSpec:
        if isinstance(value, AttackSpec):
            return value
        if isinstance(value, str):
            return cls(value)
        if isinstance(value, dict) and "name" in value:
            return cls(value["name"], value.get("norm"), dict(value.get("options") or {}))
        raise TypeError(f"attack: expected a name, an AttackSpec or {{'name': …, 'norm': …, 'options': …}}, got {value!r}")


# --- per-process caches: a worker loads each model and dataset once, whatever number of shards it runs ---
@functools.lru_cache(maxsize=8)
def _load_model(path: str, mtime: float) -> Any:
    from advlab.runs import open_run

    return open_run(path).load_model().eval()


@functools.lru_cache(maxsize=4)
def _load_data(spec_json: str, data_dir: str | None) -> Any:
    import json

    from advlab import data as data_mod

    spec = json.loads(spec_json)
    return data_mod.load(spec.pop("name"), data_dir=data_dir, quiet=True, **spec)


def load_model(path: str) -> Any:
    file = model_file(path)
    return _load_model(str(path), os.path.getmtime(file) if file.exists() else 0.0)


def load_split(data: dict[str, Any], data_dir: str | None, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    from advlab.engine.shards import canonical_json

    ds = _load_data(canonical_json(data), data_dir)
    return (ds.x_test, ds.y_test) if split == "test" else (ds.x_train, ds.y_train)


def model_file(path: str | Path) -> Path:
    from advlab.runs import MODEL_FILE

    p = Path(path)
    return p if p.suffix == ".safetensors" else p / MODEL_FILE


@functools.lru_cache(maxsize=64)
def _digest(path: str, mtime: float, size: int) -> str:
    import hashlib

    from safetensors import safe_open

    from advlab.engine.shards import canonical_json

    h = hashlib.sha256()
    with safe_open(path, framework="pt") as f:
        # The file's bytes are not canonical (safetensors writes its metadata in hash order): hash the
        # metadata as canonical JSON, then every tensor by name, dtype, shape and bytes.
        h.update(canonical_json(f.metadata() or {}).encode())
        for name in sorted(f.keys()):
            t = f.get_tensor(name).contiguous()
            h.update(canonical_json([name, str(t.dtype), list(t.shape)]).encode())
            h.update(t.view(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def model_digest(path: str | Path) -> str:
    """SHA-256 of a model's content (spec and weights), what identifies it in a shard (its folder may move)."""
    f = model_file(path)
    if not f.is_file():
        raise ValueError(f"{path}: no model file {f.name} (expected a run folder or a .safetensors file)")
    st = f.stat()
    try:
        return _digest(str(f), st.st_mtime, st.st_size)
    except Exception as exc:  # safetensors raises its own error types on a damaged file
        raise ValueError(f"{f}: not a readable .safetensors model ({exc})") from exc


def run_data_spec(path: str | Path) -> dict[str, Any]:
    from advlab.runs import open_run

    spec = open_run(path).info.get("data")
    if not isinstance(spec, dict) or "name" not in spec:
        raise ValueError(f"{path}: the run does not record its dataset (run.json 'data'); pass data={{'name': …}}")
    return dict(spec)


@register_shard_kind(KIND)
def robustness_shard(shard: Shard, ctx: ShardContext) -> dict[str, Any]:
    """Per point of ``start:stop``: clean correct, and robust at each ε against every attack of the list."""
    from advlab.device import resolve_device

    c, where = shard.config, shard.where
    model = load_model(where["model"]).to(resolve_device(ctx.device))
    if c.get("model_digest") not in (None, model_digest(where["model"])):
        raise ValueError(f"shard {shard.id}: {where['model']} is not the model the shard was planned for (its content changed)")
    x_all, y_all = load_split(c["data"], where.get("data_dir"), c.get("split", "test"))
    x, y = x_all[shard.start : shard.stop], y_all[shard.start : shard.stop]
    attacks = [AttackSpec.of(a).make() for a in c["attacks"]]
    clean = (model.predict(x).cpu() == y).cpu()
    robust_rows = []
    for i, eps in enumerate(c["eps"]):
        robust = clean.clone()
        for j, attack in enumerate(attacks):
            idx = robust.nonzero().squeeze(1)
            if idx.numel() == 0:
                break
            seed = derive_seed(shard.seed, i, j)
            result = attack(model, x[idx], y[idx], eps=[eps], batch_size=c.get("batch_size"), seed=seed, quiet=True)
            robust[idx] = ~result.success[0]
        robust_rows.append(robust.int().tolist())
    return {"clean": clean.int().tolist(), "robust": robust_rows}


def evaluation_shards(
    models: Sequence[str | Path],
    attacks: Sequence[AttackSpec | str | dict[str, Any]],
    eps: Sequence[float],
    n: int,
    *,
    shard_size: int = 100,
    seed: int = 0,
    data: dict[str, Any] | None = None,
    data_dir: str | Path | None = None,
    split: str = "test",
    batch_size: int | None = None,
    kind: str = KIND,
    per_eps: bool = True,
    extra: dict[str, Any] | None = None,
) -> list[Shard]:
    """Shards for ``models`` × one suite (``attacks``, worst case per point) × each ε × ranges of ``n`` points.

    ``data``: the dataset spec (``data.load`` arguments with ``name``); by default each run's own.
    ``kind`` lets another registered shard function with the same config do the work (``advlab.engine.suite``);
    ``per_eps=False`` puts every ε in one shard (for cascades that reuse work across ε); ``extra`` is added to
    each shard's config (e.g. ``{"suite": {...}}``).
    """
    if not models:
        raise ValueError("evaluation: expected at least one model (a run folder or .safetensors file)")
    if not attacks and kind == KIND:
        raise ValueError("evaluation: expected at least one attack")
    eps = [float(e) for e in eps]
    if not eps or any(not (e >= 0) for e in eps):
        raise ValueError(f"evaluation: eps must be a non-empty list of numbers >= 0, got {list(eps)}")
    if split not in SPLITS:
        raise ValueError(f"evaluation: split must be one of {SPLITS}, got {split!r}")
    suite = [AttackSpec.of(a).to_json() for a in attacks]
    for a in suite:
        AttackSpec.of(a).make()  # fail here, not in a worker, on an unknown attack or option
    eps_groups = [[e] for e in eps] if per_eps else [eps]
    shards = []
    for model in models:
        spec = dict(data) if data is not None else run_data_spec(model)
        available = len(load_split(spec, None if data_dir is None else str(data_dir), split)[1])
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"evaluation: n must be a positive integer, got {n!r}")
        total = min(n, available)
        digest = model_digest(model)
        for group in eps_groups:
            config = {"model_digest": digest, "data": spec, "split": split, "attacks": suite, "eps": group,
                      "batch_size": batch_size, **(extra or {})}  # fmt: skip
            where = {"model": str(model), "data_dir": None if data_dir is None else str(data_dir)}
            for start, stop in index_ranges(total, shard_size):
                shards.append(Shard.make(kind, config, start, stop, run_seed=seed, where=where))
    return shards


def summarize(shards: Sequence[Shard], results: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per model (as ``where["model"]`` names it) and ε: clean and robust accuracy over all its points."""
    rows: dict[tuple[str, float], dict[str, Any]] = {}
    for shard, res in zip(shards, results):
        c, model = shard.config, shard.where.get("model", shard.config.get("model_digest", "?"))
        for e, robust in zip(c["eps"], res["robust"]):
            row = rows.setdefault((model, e), {"model": model, "eps": e, "n": 0, "clean": 0, "robust": 0})
            row["n"] += len(res["clean"])
            row["clean"] += sum(res["clean"])
            row["robust"] += sum(robust)
    out = []
    for (_model, _eps), row in sorted(rows.items()):
        out.append({"model": row["model"], "eps": row["eps"], "n": row["n"],
                    "clean_accuracy": row["clean"] / row["n"], "robust_accuracy": row["robust"] / row["n"]})  # fmt: skip
    return out
