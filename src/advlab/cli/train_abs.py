"""The ``advlab train abs`` branch: per-class VAE training, then the usual run folder."""

from __future__ import annotations

from typing import Any

import click

from advlab.data.dataset import Dataset
from advlab.models.model import Model


def train_abs_cli(model: Model, ds: Dataset, data_spec: dict[str, Any], out_dir: str, *, epochs: int,
                  batch_size: int, lr: float, seed: int, device: str | None, resume: bool, quiet: bool) -> None:
    from advlab.runs import save_run
    from advlab.train.abs_train import train_abs

    hist = train_abs(model, ds, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, device=device,
                     checkpoint_dir=out_dir, resume=resume, quiet=quiet)
    training = {"method": "abs-vae", "epochs": epochs, "batch_size": batch_size, "lr": lr, "beta": 1.0, "shift": 1,
                "seconds": hist.seconds, "cpu_seconds": hist.cpu_seconds}
    model.spec["training"] = training
    run = save_run(out_dir, model.cpu(), data_spec, hist.to_json(), training=training)
    n = min(200, len(ds.x_test))
    acc = (model.predict(ds.x_test[:n], batch_size=100) == ds.y_test[:n]).float().mean().item() if n else float("nan")
    click.echo(f"abs on {ds.name if hasattr(ds, 'name') else data_spec['name']}: {epochs} epochs per class in "
               f"{hist.seconds / 60:.1f} min (CPU {hist.cpu_seconds / 60:.1f} min); test acc {acc:.4f} "
               f"on the first {n} test images")
    click.echo(f"saved {run.model_path}")
