"""Gradient ascent from noise: push p(target | x) up until it reaches the required confidence.

Each (class, start) pair is one row of a single batch. Images are parametrised
as x = lower + (upper − lower)·sigmoid(z), so every iterate lies in the model's
bounds, and z follows Adam on the objective

    log p(target | x) − l2 · mean((x − x₀)²) − tv · TV(x)

(x₀: the noise the row started from; TV: mean absolute difference between
neighbouring pixels). A row stops as soon as p(target) ≥ the required
confidence. ``GradientAscent`` differentiates the model (one forward + backward
per step: one query); ``NESAscent`` only reads probabilities and estimates the
model's part of the gradient from antithetic Gaussian samples (Ilyas et al.'s
NES: 2·``samples`` + 1 queries per step), for models without useful gradients;
with ``tile`` > 1 it searches a coarse image (each value covers a tile × tile
block), which needs far fewer samples per useful step (Ilyas et al.'s tiling prior).
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from advlab.fooling.base import FoolingStrategy, Found, box, check_float, check_int, log_probs

STARTS = ("uniform", "gaussian", "grey")


class GradientAscent(FoolingStrategy):
    """White-box ascent of log p(target) from noise, batched over classes × ``starts``."""

    name: ClassVar[str] = "ascent"
    needs_gradient: ClassVar[bool] = True

    def __init__(self, steps: int = 200, lr: float = 0.1, *, starts: int = 1, l2: float = 0.0, tv: float = 0.0,
                 start: str = "uniform"):  # fmt: skip
        self.steps = check_int(steps, f"{self.name}: steps")
        self.lr = check_float(lr, f"{self.name}: lr", strict=True)
        self.starts = check_int(starts, f"{self.name}: starts")
        self.l2 = check_float(l2, f"{self.name}: l2")
        self.tv = check_float(tv, f"{self.name}: tv")
        if start not in STARTS:
            raise ValueError(f"{self.name}: start must be one of {STARTS}, got {start!r}")
        self.start = start

    def params(self) -> dict[str, Any]:
        return {"steps": self.steps, "lr": self.lr, "starts": self.starts, "l2": self.l2, "tv": self.tv, "start": self.start}

    #: model evaluations per step and row
    def queries_per_step(self) -> int:
        return 1

    def to_input(self, z: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
        """The images a batch of search variables z stands for (always inside the box)."""
        return lo + (hi - lo) * torch.sigmoid(z)

    def from_input(self, x: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
        return torch.logit(((x - lo) / (hi - lo)).clamp(1e-3, 1 - 1e-3))

    def model_gradient(self, model: Any, z: torch.Tensor, rows: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor,
                       generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
        """(log p(target | x(z)) per row, its gradient with respect to z)."""
        z = z.detach().requires_grad_(True)
        logp = torch.log_softmax(model(self.to_input(z, lo, hi)).float(), dim=1).gather(1, rows[:, None])[:, 0]
        (grad,) = torch.autograd.grad(logp.sum(), z)
        return logp.detach(), grad

    def _penalty_gradient(self, z: torch.Tensor, x0: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
        if self.l2 == 0 and self.tv == 0:
            return torch.zeros_like(z)
        z = z.detach().requires_grad_(True)
        x = self.to_input(z, lo, hi)
        penalty = self.l2 * ((x - x0) ** 2).flatten(1).mean(1) + self.tv * total_variation(x)
        (grad,) = torch.autograd.grad(penalty.sum(), z)
        return grad

    def search(self, model: Any, targets: torch.Tensor, *, required: float, generator: torch.Generator,
               reference: torch.Tensor | None, quiet: bool) -> Found:  # fmt: skip
        if self.tv > 0 and len(model.input_shape) != 3:
            raise ValueError(f"{self.name}: tv regularisation needs image inputs (C, H, W), got shape {model.input_shape}")
        lo, hi = box(model)
        dev = model.device
        n, s = len(targets), self.starts
        rows = targets.repeat_interleave(s).to(dev)
        x0 = start_noise(self.start, len(rows), lo, hi, generator)
        z = self.from_input(x0, lo, hi)
        m, v = torch.zeros_like(z), torch.zeros_like(z)
        done_at = torch.full((n,), -1, dtype=torch.long)
        log_threshold = torch.log(torch.tensor(required))
        for step in range(self.steps + 1):
            logp, grad = self.model_gradient(model, z, rows, lo, hi, generator)
            reached = (logp.cpu() >= log_threshold).view(n, s).any(dim=1) & (done_at < 0)
            done_at[reached] = step
            if step == self.steps or bool((done_at >= 0).all()):
                break
            active = (done_at < 0).to(dev).repeat_interleave(s)
            g = grad - self._penalty_gradient(z, x0, lo, hi)  # ascent on logp − penalties
            m = torch.where(active.view(-1, *[1] * (z.ndim - 1)), 0.9 * m + 0.1 * g, m)
            v = torch.where(active.view(-1, *[1] * (z.ndim - 1)), 0.999 * v + 0.001 * g * g, v)
            t = step + 1
            update = self.lr * (m / (1 - 0.9**t)) / ((v / (1 - 0.999**t)).sqrt() + 1e-8)
            z = torch.where(active.view(-1, *[1] * (z.ndim - 1)), z + update, z)
        steps = torch.where(done_at >= 0, done_at, torch.full_like(done_at, self.steps))
        final = log_probs(model, self.to_input(z, lo, hi)).gather(1, rows[:, None])[:, 0].cpu().view(n, s)
        best = final.argmax(dim=1)
        images = self.to_input(z, lo, hi).view(n, s, *model.input_shape)[torch.arange(n), best.to(dev)]
        queries = (steps + 1) * self.queries_per_step() * s
        return Found(images.detach(), queries, steps, {"queries_per_step": self.queries_per_step() * s})


class NESAscent(GradientAscent):
    """Score-based (black-box) ascent: the model's gradient estimated by NES from ``samples`` antithetic pairs."""

    name: ClassVar[str] = "ascent-nes"
    needs_gradient: ClassVar[bool] = False

    def __init__(self, steps: int = 100, lr: float = 0.1, *, samples: int = 20, sigma: float = 0.5, tile: int = 1,
                 starts: int = 1, l2: float = 0.0, tv: float = 0.0, start: str = "uniform"):  # fmt: skip
        super().__init__(steps, lr, starts=starts, l2=l2, tv=tv, start=start)
        self.samples = check_int(samples, f"{self.name}: samples")
        self.sigma = check_float(sigma, f"{self.name}: sigma", strict=True)
        self.tile = check_int(tile, f"{self.name}: tile")

    def params(self) -> dict[str, Any]:
        return {**super().params(), "samples": self.samples, "sigma": self.sigma, "tile": self.tile}

    def search(self, model: Any, targets: torch.Tensor, **kwargs: Any) -> Found:
        if self.tile > 1 and len(model.input_shape) != 3:
            raise ValueError(f"{self.name}: tile > 1 needs image inputs (C, H, W), got shape {model.input_shape}")
        return super().search(model, targets, **kwargs)

    def queries_per_step(self) -> int:
        return 2 * self.samples + 1

    @torch.no_grad()
    def model_gradient(self, model: Any, z: torch.Tensor, rows: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor,
                       generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
        def score(zz: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
            return log_probs(model, self.to_input(zz, lo, hi)).gather(1, r[:, None])[:, 0]

        return nes_gradient(score, z, rows, self.samples, self.sigma, generator)

    def to_input(self, z: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
        if self.tile > 1:  # a coarse image, each value repeated over a tile × tile block (then cut to size)
            h, w = lo.shape[-2:]
            z = z.repeat_interleave(self.tile, dim=-2).repeat_interleave(self.tile, dim=-1)[..., :h, :w]
        return lo + (hi - lo) * torch.sigmoid(z)

    def from_input(self, x: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
        z = super().from_input(x, lo, hi)
        if self.tile > 1:
            z = torch.nn.functional.avg_pool2d(z, self.tile, ceil_mode=True)
        return z


def nes_gradient(fn: Any, z: torch.Tensor, rows: torch.Tensor, samples: int, sigma: float,
                 generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """f(z) and the NES estimate (1 / (2σ·samples)) Σᵢ (f(z + σuᵢ) − f(z − σuᵢ)) uᵢ, uᵢ ~ N(0, I), per row.

    ``fn(z_batch, rows_batch)`` returns one score per row; all 2·samples + 1 points go in one batch.
    """
    n = len(z)
    u = torch.randn(n, samples, *z.shape[1:], generator=generator).to(z.device)
    pts = torch.cat([z[:, None] + sigma * u, z[:, None] - sigma * u], dim=1).flatten(0, 1)
    vals = fn(torch.cat([z, pts]), torch.cat([rows, rows.repeat_interleave(2 * samples)]))
    f0, rest = vals[:n], vals[n:].view(n, 2, samples)
    diff = (rest[:, 0] - rest[:, 1]).view(n, samples, *[1] * (z.ndim - 1))
    return f0, (diff * u).sum(dim=1) / (2 * sigma * samples)



def start_noise(kind: str, n: int, lo: torch.Tensor, hi: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """n noise inputs in the box: uniform over it, Gaussian around its centre (σ = range/4, clipped), or near-grey."""
    shape = (n, *lo.shape)
    if kind == "uniform":
        u = torch.rand(shape, generator=generator)
    elif kind == "gaussian":
        u = (0.5 + 0.25 * torch.randn(shape, generator=generator)).clamp(0.0, 1.0)
    elif kind == "grey":
        u = 0.5 + 0.01 * torch.randn(shape, generator=generator)
    else:
        raise ValueError(f"start noise must be one of {STARTS}, got {kind!r}")
    return lo + (hi - lo) * u.to(lo.device)


def total_variation(x: torch.Tensor) -> torch.Tensor:
    """Anisotropic total variation per image: mean |x[i+1, j] − x[i, j]| + mean |x[i, j+1] − x[i, j]|."""
    if x.ndim != 4:
        raise ValueError(f"total_variation: expected images (N, C, H, W), got shape {tuple(x.shape)}")
    dh = (x[:, :, 1:] - x[:, :, :-1]).abs().flatten(1).mean(1) if x.shape[2] > 1 else x.new_zeros(len(x))
    dw = (x[:, :, :, 1:] - x[:, :, :, :-1]).abs().flatten(1).mean(1) if x.shape[3] > 1 else x.new_zeros(len(x))
    return dh + dw
