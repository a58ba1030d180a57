"""``advlab evaluate RUN [RUN …] --norm linf --eps 0.1,0.2,0.3 --preset standard``: evaluation.json and report.html."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from advlab.cli.options import parse_list, run_options


@dataclass
class _Section:
    """What ``advlab.report.section_html`` reads."""

    name: str
    title: str
    summary: str = ""
    scale: str = ""
    comparisons: list[Any] = field(default_factory=list)
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    captions: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)


def _names(paths: tuple[str, ...]) -> list[str]:
    names = [Path(p).resolve().name.removesuffix(".safetensors") for p in paths]
    return [n if names.count(n) == 1 else f"{n}-{i}" for i, n in enumerate(names)]


@click.command("evaluate")
@click.argument("run_paths", metavar="RUN...", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--norm", default="linf", show_default=True, help="linf, l2, l1 or l0.")
@click.option("--eps", "eps_text", required=True, help="Comma-separated ε values, e.g. 0.1,0.2,0.3.")
@click.option("--preset", type=click.Choice(["standard", "quick"]), default="standard", show_default=True,
              help="The attack suite: standard (APGD-CE → APGD-T → FMN [→ Square]) or quick.")
@click.option("--n", "n", type=int, default=1000, show_default=True, help="Evaluate the first N test inputs.")
@click.option("--data", "data_name", default=None, help="Dataset, for a bare model file without run.json.")
@click.option("--medians", default=None, help="Norms for minimal perturbations (e.g. l0,l2,linf), or 'none' (default: --norm).")
@click.option("--check-n", type=int, default=200, show_default=True, help="Inputs for the sanity checks (0: skip them).")
@click.option("--noise-n", type=int, default=1000, show_default=True, help="Noise inputs for the confidence measure (0: skip).")
@click.option("--batch-size", type=int, default=None, help="Attack this many inputs at a time.")
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Output folder (default: runs/evaluation-NORM).")
@run_options
def evaluate(run_paths: tuple[str, ...], norm: str, eps_text: str, preset: str, n: int, data_name: str | None,
             medians: str | None, check_n: int, noise_n: int, batch_size: int | None, out: str | None, seed: int,
             device: str | None, data_dir: str | None, quiet: bool) -> None:
    """Evaluate each RUN's robustness with an attack suite, sanity checks and minimal perturbations.

    Writes OUT/evaluation.json (one run) or OUT/NAME/evaluation.json per run plus a comparison, and
    OUT/report.html. A killed evaluation resumes from its state file (OUT/[NAME/]state-….safetensors)
    when run again with the same settings.
    """
    from advlab import data as data_mod
    from advlab._io import write_json
    from advlab.device import resolve_device
    from advlab.evaluate.evaluation import evaluate_model
    from advlab.progress import echo
    from advlab.runs import open_run

    eps = parse_list(eps_text, float) or []
    if not eps:
        raise click.BadParameter("give at least one ε, e.g. --eps 0.1,0.3", param_hint="--eps")
    if n < 1:
        raise click.BadParameter(f"must be ≥ 1, got {n}", param_hint="--n")
    med = None if medians is None else ([] if medians == "none" else parse_list(medians) or [])
    out_dir = Path(out) if out else Path("runs") / f"evaluation-{norm}"
    dev = resolve_device(device)
    results = []
    for name, path in zip(_names(run_paths), run_paths):
        run = open_run(path)
        model = run.load_model().to(dev)
        if data_name is not None:
            ds = data_mod.load(data_name, data_dir=data_dir, quiet=quiet)
        elif "data" in run.info:
            ds = run.load_data(data_dir, quiet=quiet)
        else:
            raise ValueError(f"{path}: no run.json says which data the model was trained on; pass --data NAME")
        x, y = ds.x_test[:n], ds.y_test[:n]
        folder = out_dir / name if len(run_paths) > 1 else out_dir
        echo(f"evaluating {name} ({model.spec.get('family')}) on {len(x)} {ds.name} test inputs, {norm}, ε {eps}", quiet)
        ev = evaluate_model(model, x, y, eps=eps, norm=norm, preset=preset, seed=seed, medians=med, check_n=check_n,
                            noise_n=noise_n, batch_size=batch_size, state=folder / _state_name(norm, preset, len(x), seed, eps),
                            model_info={"name": name, "path": str(run.path), "spec": model.spec},
                            data_info={"name": ds.name, "split": "test", "first": len(x)}, quiet=quiet)
        write_json(folder / "evaluation.json", ev.to_json())
        click.echo(f"== {name}\n{ev}")
        results.append((name, ev))
    if len(results) > 1:
        write_json(out_dir / "evaluation.json", {"runs": [ev.to_json() for _, ev in results],
                                                 "comparison": comparison_rows(results)})
        click.echo(_text_table(comparison_rows(results)))
    report = write_evaluation_report(out_dir, results)
    click.echo(f"wrote {out_dir / 'evaluation.json'}, {report}")


def _state_name(norm: str, preset: str, n: int, seed: int, eps: list[float]) -> str:
    """One state file per evaluation setting, so another --eps or --seed in the same folder starts afresh."""
    return f"state-{norm}-{preset}-n{n}-seed{seed}-eps{'_'.join(f'{e:g}' for e in eps)}.safetensors"


def comparison_rows(results: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for name, ev in results:
        r = ev.robustness
        row: dict[str, Any] = {"run": name, "clean": r.clean_accuracy}
        row.update({f"ε {e:g}": a for e, a in zip(r.eps, r.robust_accuracy)})
        if ev.minimal is not None:
            row.update({f"median {k}": ev.minimal.median(k) for k in ev.minimal.distances})
        row["checks"] = "—" if ev.checks is None else ("pass" if ev.checks.passed else f"{len(ev.checks.warnings)} warning(s)")
        row["seconds"] = ev.seconds
        rows.append(row)
    return rows


def _text_table(rows: list[dict[str, Any]]) -> str:
    cols = list(rows[0])
    cell = lambda v: f"{v:.4g}" if isinstance(v, float) else str(v)  # noqa: E731
    widths = [max(len(c), *(len(cell(r.get(c))) for r in rows)) for c in cols]
    lines = ["  ".join(c.rjust(w) for c, w in zip(cols, widths))]
    lines += ["  ".join(cell(r.get(c)).rjust(w) for c, w in zip(cols, widths)) for r in rows]
    return "\n".join(lines)


def _curve_figure(results: list[tuple[str, Any]], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from advlab._io import atomic_path
    from advlab.evaluate.minimal import accuracy_curve

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, ev in results:
        r = ev.robustness
        line = ax.plot([0.0, *r.eps], [r.clean_accuracy, *r.robust_accuracy], marker="o", label=f"{name}: suite")[0]
        if ev.minimal is not None and r.norm in ev.minimal.distances:
            # One minimisation run answers the whole curve: accuracy where the minimal adversarial exceeds ε.
            grid = [max(r.eps) * i / 50 for i in range(51)]
            ax.plot(grid, accuracy_curve(ev.minimal, r.norm, grid), ls="--", color=line.get_color(),
                    label=f"{name}: minimal perturbations")
    ax.set_xlabel(f"ε ({results[0][1].robustness.norm})")
    ax.set_ylabel("robust accuracy (worst case over the suite)")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def write_evaluation_report(out_dir: Path, results: list[tuple[str, Any]]) -> Path:
    from advlab.report import write_report

    curve = _curve_figure(results, out_dir / "curve.png")
    sections = []
    if len(results) > 1:
        sections.append((_Section("comparison", "Comparison", tables={"robust accuracy per run": comparison_rows(results)},
                                  captions={"curve": "Robust accuracy over ε, one line per run."}), {"curve": curve}))
    for name, ev in results:
        r = ev.robustness
        tables: dict[str, list[dict[str, Any]]] = {
            "Cascade: robust accuracy after each attack": r.per_attack(),
            "Attacks: points run on, broken, seconds": [c.to_json() for c in r.contributions],
        }
        if ev.minimal is not None:
            tables["Minimal perturbations (median over all inputs; accuracy at the ABS paper's thresholds)"] = ev.minimal.table()
        if ev.noise:
            tables["Confidence on noise"] = [{k: v for k, v in c.to_json().items() if k != "confident_class_shares"} for c in ev.noise]
        if ev.checks is not None:
            tables["Sanity checks"] = [{"check": c.name, "status": c.status, "finding": c.message} for c in ev.checks.checks]
        summary = (f"{r.n} test inputs, clean accuracy {100 * r.clean_accuracy:.1f}%; robust accuracy "
                   + ", ".join(f"{100 * a:.1f}% at ε {e:g}" for e, a in zip(r.eps, r.robust_accuracy))
                   + f" ({r.norm}, worst case over {' → '.join(r.member_names)}; seed {r.seed}; {ev.seconds:.0f} s).")
        figs = {"curve": curve} if len(results) == 1 else {}
        sections.append((_Section(name, name, summary=summary, tables=tables, metrics={"seconds_per_attack": r.seconds_per_attack()},
                                  captions={"curve": "Robust accuracy over ε: worst case over the suite (points) and from the minimal perturbations (dashed)."}), figs))
    intro = ("Robustness evaluated as a cascade of complementary attacks (AutoAttack's design): each attack runs only on "
             "the inputs still classified correctly, and an input counts as robust only if every attack failed. These "
             "numbers are upper bounds on the true robust accuracy. The sanity checks (Carlini et al., 2019; Athalye et "
             "al., 2018) flag evaluations that gradient masking may have fooled.")
    return write_report(out_dir / "report.html", "advlab evaluation", intro, sections)
