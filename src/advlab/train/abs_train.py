"""Training the ABS model: each class's VAE on that class's images only.

Objective per VAE (the paper's, β = 1): Σ‖x − x̂‖² + β·KL(q(z|x) ‖ N(0, I)), Adam
(lr 3e-3), batch 128, with light augmentation: random translations of up to
``shift`` pixels (zero padding). The authors published no training code; their
released weights come from 29,000 iterations per VAE (``AEs[i].iters`` in
``abs_models/models.py``). Each finished (class, epoch) is checkpointed atomically,
so a killed run resumes where it stopped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from advlab.data.dataset import Dataset
from advlab.models.abs import abs_net
from advlab.models.model import Model
from advlab.progress import progress
from advlab.train.checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint


@dataclass
class ABSHistory:
    """Per class: mean loss per epoch; seconds (wall and CPU) spent."""

    losses: dict[int, list[float]] = field(default_factory=dict)
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    epochs: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"losses": {str(k): v for k, v in self.losses.items()},
                "epochs_per_class": {str(k): len(v) for k, v in self.losses.items()}, "seconds": self.seconds,
                "cpu_seconds": self.cpu_seconds, "epochs": self.epochs}


def _shift(x: torch.Tensor, shift: int, g: torch.Generator) -> torch.Tensor:
    if shift <= 0:
        return x
    n, _, h, w = x.shape
    pad = F.pad(x, (shift, shift, shift, shift))
    dy = torch.randint(0, 2 * shift + 1, (n,), generator=g)
    dx = torch.randint(0, 2 * shift + 1, (n,), generator=g)
    rows = (dy[:, None] + torch.arange(h)[None]).to(x.device)  # (n, h)
    cols = (dx[:, None] + torch.arange(w)[None]).to(x.device)  # (n, w)
    idx = torch.arange(n, device=x.device)[:, None, None]
    return pad[:, :, :, :].permute(0, 2, 3, 1)[idx, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)


def train_abs(
    model: Model,
    data: Dataset,
    *,
    epochs: int = 10,
    batch_size: int = 128,
    lr: float = 3e-3,
    beta: float = 1.0,
    shift: int = 1,
    seed: int = 0,
    device: str | torch.device | None = None,
    checkpoint_dir: str | Path | None = None,
    resume: bool = False,
    quiet: bool = False,
) -> ABSHistory:
    """Train every class's VAE of an ABS ``model`` for ``epochs`` epochs on its own class of ``data``."""
    net = abs_net(model)
    if epochs < 1 or batch_size < 1 or lr <= 0:
        raise ValueError(f"train_abs: expected epochs ≥ 1, batch_size ≥ 1, lr > 0, got {epochs}, {batch_size}, {lr}")
    dev = torch.device(device) if device is not None else model.device
    model.to(dev)
    ckpt = Path(checkpoint_dir) / CHECKPOINT_NAME if checkpoint_dir is not None else None
    hist, start_class, start_epoch, opt_state = ABSHistory(epochs=epochs), 0, 0, None
    if resume and ckpt is not None and ckpt.exists():
        state, opt_state, rng, meta, _ = load_checkpoint(ckpt)
        net.load_state_dict(state)
        torch.set_rng_state(rng)
        h = meta["history"]
        hist = ABSHistory({int(k): v for k, v in h["losses"].items()}, h["seconds"], h["cpu_seconds"], epochs)
        start_class, start_epoch = int(meta["abs_class"]), int(meta["epoch"])
        if start_epoch >= epochs:
            start_class, start_epoch, opt_state = start_class + 1, 0, None
    x_all, y_all = data.x_train, data.y_train
    t0, c0 = time.perf_counter(), time.process_time()
    base_s, base_c = hist.seconds, hist.cpu_seconds
    with progress(quiet) as bar:
        task = bar.add_task("abs VAEs", total=net.num_classes * epochs, info="")
        bar.advance(task, start_class * epochs + start_epoch)
        for c in range(start_class, net.num_classes):
            vae = net.vae(c)
            xc = x_all[y_all == c]
            if len(xc) == 0:
                raise ValueError(f"train_abs: no training images of class {c} ({model.classes[c]!r})")
            opt = torch.optim.Adam(vae.parameters(), lr=lr)
            first = start_epoch if c == start_class else 0
            if c == start_class and opt_state is not None:
                opt.load_state_dict(opt_state)
            for epoch in range(first, epochs):
                g = torch.Generator().manual_seed(seed * 1_000_003 + c * 1009 + epoch)
                net.train()
                order = torch.randperm(len(xc), generator=g)
                total, count = 0.0, 0
                for i in range(0, len(xc), batch_size):
                    xb = _shift(xc[order[i : i + batch_size]], shift, g).to(dev)
                    loss = vae.loss(xb, generator=g if dev.type == "cpu" else None, beta=beta)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    total, count = total + loss.item() * len(xb), count + len(xb)
                hist.losses.setdefault(c, []).append(total / count)
                hist.seconds = base_s + time.perf_counter() - t0
                hist.cpu_seconds = base_c + time.process_time() - c0
                bar.update(task, advance=1, info=f"class {c} epoch {epoch + 1}: loss {total / count:.2f}")
                if ckpt is not None:
                    save_checkpoint(ckpt, net, opt, epoch + 1, {"abs_class": c, "history": hist.to_json()})
    net.eval()
    net.clear_cache()
    return hist
