"""Training sweeps: a grid of ``advlab train`` configurations (model × method × ε × seed), one shard each,
then the robustness shards of every trained model, a summary table and a figure.

A training shard trains into ``<out>/runs/<shard id>/`` with per-epoch checkpoints there, so a worker killed
mid-training resumes from its last epoch when the shard runs again.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from advlab.engine.evaluation import AttackSpec, evaluation_shards, summarize
from advlab.engine.executors import Executor
from advlab.engine.run import run_shards
from advlab.engine.shards import Shard, ShardContext, register_shard_kind

KIND = "train"
#: methods that take no ε (the grid's ε axis does not multiply them).
NO_EPS_METHODS = ("standard",)


@dataclass(frozen=True)
class SweepGrid:
    """The grid and the settings every configuration shares (``advlab train``'s options)."""

    data: dict[str, Any]
    models: Sequence[str] = ("cnn-small",)
    methods: Sequence[str] = ("standard",)
    eps: Sequence[float] = ()
    seeds: Sequence[int] = (0,)
    epochs: int = 5
    batch_size: int = 128
    lr: float = 1e-3
    optimizer: str = "adam"
    schedule: str | None = None
    amp: bool = False
    model_options: dict[str, Any] = field(default_factory=dict)
    method_options: dict[str, Any] = field(default_factory=dict)

    def configurations(self) -> list[dict[str, Any]]:
        from advlab.models import family

        if "name" not in self.data:
            raise ValueError(f"sweep: data must name the dataset (a 'name' key), got {self.data!r}")
        out = []
        for model, method, seed in itertools.product(self.models, self.methods, self.seeds):
            family(model)
            eps_axis: list[float | None] = [None] if method in NO_EPS_METHODS else [float(e) for e in self.eps]
            if not eps_axis:
                raise ValueError(f"sweep: method {method!r} needs --eps values")
            for eps in eps_axis:
                method_for(method, eps, self.method_options)  # fail now on a bad method or option
                settings = {k: v for k, v in asdict(self).items() if k not in ("models", "methods", "eps", "seeds")}
                out.append({"model": model, "method": method, "eps": eps, "seed": int(seed), **settings})
        return out


def training_shards(grid: SweepGrid, data_dir: str | Path | None = None, run_seed: int = 0) -> list[Shard]:
    where = {"data_dir": None if data_dir is None else str(data_dir)}
    return [Shard.make(KIND, c, run_seed=run_seed, where=where) for c in grid.configurations()]


def method_for(name: str, eps: float | None, options: dict[str, Any]) -> Any:
    """A training method by name; ``eps`` only for the methods that take one."""
    from advlab.train import METHODS

    return METHODS.create(name, **({"eps": eps} if eps is not None else {}), **options)


@register_shard_kind(KIND)
def train_shard(shard: Shard, ctx: ShardContext) -> dict[str, Any]:
    """Train one configuration into ``<workspace>/runs/<shard id>`` (resuming from its checkpoint)."""
    from advlab import data as data_mod
    from advlab.models import build
    from advlab.runs import save_run
    from advlab.train import fit

    c = shard.config
    spec = dict(c["data"])
    ds = data_mod.load(spec.pop("name"), data_dir=shard.where.get("data_dir"), quiet=True, **spec)
    folder = ctx.workspace / "runs" / shard.id
    method = method_for(c["method"], c["eps"], c["method_options"])
    t0 = time.perf_counter()
    # weights from the configuration's seed (build draws them in a forked RNG)
    model = build(c["model"], input_shape=ds.input_shape, classes=ds.class_names, bounds=ds.bounds, seed=int(c["seed"]),
                  **c["model_options"])
    fit_options: dict[str, Any] = {"amp": True} if c.get("amp") else {}
    history = fit(model, ds, method=method, epochs=c["epochs"], batch_size=c["batch_size"], lr=c["lr"],
                  optimizer=c["optimizer"], schedule=c["schedule"], seed=c["seed"], device=ctx.device,
                  checkpoint_dir=folder, resume=True, quiet=True, **fit_options)  # fmt: skip
    save_run(folder, model.cpu(), c["data"], history.to_json(), training=method.config(), sweep=c)
    last = history.last
    return {"run": str(folder), "train_accuracy": None if last is None else last.train_accuracy,
            "test_accuracy": None if last is None else last.test_accuracy, "train_seconds": time.perf_counter() - t0}  # fmt: skip


@dataclass
class SweepResult:
    rows: list[dict[str, Any]]
    eps: list[float]
    files: list[Path] = field(default_factory=list)


def sweep(
    grid: SweepGrid,
    attacks: Sequence[AttackSpec | str | dict[str, Any]],
    eval_eps: Sequence[float],
    n: int,
    out: str | Path,
    *,
    engine: str | Executor | None = None,
    shard_size: int = 100,
    seed: int = 0,
    data_dir: str | Path | None = None,
    threads: int = 1,
    device: str | None = None,
    quiet: bool = True,
) -> SweepResult:
    """Train every configuration of ``grid``, evaluate each model, write summary.json/.md and sweep.png."""
    out = Path(out)
    train = run_shards(training_shards(grid, data_dir, seed), out, engine=engine, threads=threads, device=device,
                       quiet=quiet, description="train")  # fmt: skip
    # run folders are recorded relative to the output folder's location at training time; resolve here.
    runs = [str(out / "runs" / s.id) for s in train.shards]
    shards = evaluation_shards(runs, attacks, eval_eps, n, shard_size=shard_size, seed=seed, data_dir=data_dir)
    ev = run_shards(shards, out, engine=engine, threads=threads, device=device, quiet=quiet, description="evaluate")
    by_run: dict[str, dict[float, dict[str, Any]]] = {}
    for row in summarize(ev.shards, ev.results):
        by_run.setdefault(row["model"], {})[row["eps"]] = row
    rows = []
    eps_sorted = sorted(float(e) for e in eval_eps)
    for shard, res, run in zip(train.shards, train.results, runs):
        c, per_eps = shard.config, by_run[run]
        first = per_eps[eps_sorted[0]]
        rows.append({"model": c["model"], "method": c["method"], "train_eps": c["eps"], "seed": c["seed"],
                     "clean_accuracy": first["clean_accuracy"], "n": first["n"],
                     **{f"robust@{e:g}": per_eps[e]["robust_accuracy"] for e in eps_sorted},
                     "train_seconds": res["train_seconds"], "run": run})  # fmt: skip
    result = SweepResult(rows, eps_sorted)
    result.files = _write(result, out, attacks)
    return result


def _label(row: dict[str, Any]) -> str:
    eps = "" if row["train_eps"] is None else f" ε={row['train_eps']:g}"
    return f"{row['model']} {row['method']}{eps} seed {row['seed']}"


def _write(result: SweepResult, out: Path, attacks: Sequence[Any]) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from advlab._io import atomic_path, write_json, write_text

    names = ", ".join(AttackSpec.of(a).name for a in attacks)
    keys = ["configuration", "clean", *[f"robust@{e:g}" for e in result.eps], "train s"]
    lines = [f"# Sweep: robust accuracy (worst case over {names})", "", "| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for r in result.rows:
        cells = [_label(r), f"{r['clean_accuracy']:.4f}", *[f"{r[f'robust@{e:g}']:.4f}" for e in result.eps], f"{r['train_seconds']:.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
    files = [write_json(out / "summary.json", {"attacks": [AttackSpec.of(a).to_json() for a in attacks], "rows": result.rows}),
             write_text(out / "summary.md", "\n".join(lines) + "\n")]  # fmt: skip
    fig, ax = plt.subplots(figsize=(6, 4))
    for r in result.rows:
        ax.plot(result.eps, [r[f"robust@{e:g}"] for e in result.eps], marker="o", label=_label(r))
    ax.set_xlabel("ε")
    ax.set_ylabel(f"robust accuracy (worst of {names})")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    with atomic_path(out / "sweep.png") as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    files.append(out / "sweep.png")
    return files
