"""The analysis-by-synthesis (ABS) classifier: one VAE per class, classification by best synthesis.

Schott, Rauber, Bethge & Brendel (ICLR 2019). Inference as in the authors' code
(bethgelab/AnalysisBySynthesis, ``abs_models/inference.py``, ``models.py``):

1. A fixed bank of latents — the 8,000 most probable of 8,888 draws from N(0, I)
   — is decoded once per class (cached here until the weights change).
2. Per input and class the bank latent with the lowest ELBO is picked; the
   squared distances come from one matrix product, ‖x‖² − 2x·G + ‖G‖².
3. From there, ``steps`` iterations of Adam (lr 0.05) on the latent minimise
   Σ ELBO, each latent projected onto the ball ‖z‖₂ ≤ 5 after every update; as
   in the authors' loop the last of the 50 iterations only evaluates (49 updates).
   All inputs and classes are optimised together (Adam is element-wise, so this
   equals the per-image procedure), the ten decoders run as one grouped network.
4. ELBO_c = (‖x − G_c(z*)‖² + ½‖z*‖²)/784 (the KL to N(0, I) of a unit-variance
   posterior, ``loss_functions.KLD``), optionally times a per-class scaling;
   p_c = (exp(−α·ELBO_c) + η) / Σ_k (exp(−α·ELBO_k) + η) with α = 440 and
   η = 3.9e-5 (``ELBOVAE.logit_scale``, ``confidence_level``). The model's logits
   are log(exp(−α·ELBO_c) + η), so a softmax gives exactly p_c.

Binary ABS (``binary=True``, the authors' ``ELBOVAE_binary``) binarises the input
at 0.5 and multiplies the ELBOs by [1, 0.96, 1.001, 1.06, 0.98, 0.96, 1.03, 1, 1, 1].

The logits are differentiable in x with the latents z* held fixed: by the
envelope theorem this is the gradient of the optimal ELBO (zero for binary ABS).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import nn

from advlab.models.abs_vae import ClassVAE, StackedDecoder, gaussian_bank
from advlab.models.model import Model
from advlab.models.registry import MODELS

BINARY_SCALINGS = (1.0, 0.96, 1.001, 1.06, 0.98, 0.96, 1.03, 1.0, 1.0, 1.0)


@dataclass(frozen=True)
class InferenceSettings:
    """How hard the inner optimisation works: iterations (the last only evaluates), Adam lr, and
    ``top_k``: optimise only the k classes with the best bank ELBO (None: all, as the authors)."""

    steps: int = 50
    lr: float = 0.05
    top_k: int | None = None


MODES = {"faithful": InferenceSettings(), "fast": InferenceSettings(steps=50, lr=0.05, top_k=3)}


@dataclass
class Inference:
    """Per input and class: the (scaled) ELBOs, best latents and, if asked, reconstructions."""

    elbos: torch.Tensor  # (N, K)
    latents: torch.Tensor  # (N, K, d)
    reconstructions: torch.Tensor | None  # (N, K, C, H, W)


class ABSNet(nn.Module):
    """The ten VAEs, the latent bank and the inference; ``forward`` returns log(exp(−α·ELBO) + η)."""

    bank: torch.Tensor
    scalings: torch.Tensor

    def __init__(
        self,
        input_shape: tuple[int, ...],
        num_classes: int,
        latent_dim: int = 8,
        bank_size: int = 8000,
        bank_dismiss: float = 0.1,
        bank_seed: int = 7,
        radius: float = 5.0,
        alpha: float = 440.0,
        eta: float = 3.9e-5,
        binary: bool = False,
        scalings: Sequence[float] | None = None,
        mode: str = "faithful",
    ):
        super().__init__()
        if len(input_shape) != 3 or tuple(input_shape[1:]) != (28, 28):
            raise ValueError(f"abs: expected 28×28 images (C, 28, 28), got input shape {tuple(input_shape)}")
        if mode not in MODES:
            raise ValueError(f"abs: unknown mode {mode!r}; expected one of {sorted(MODES)}")
        if radius <= 0 or alpha <= 0 or eta < 0:
            raise ValueError(f"abs: expected radius > 0, alpha > 0, eta ≥ 0, got {radius}, {alpha}, {eta}")
        self.input_shape = tuple(input_shape)
        self.num_classes = num_classes
        self.latent_dim = latent_dim
        self.radius, self.alpha, self.eta, self.binary = float(radius), float(alpha), float(eta), bool(binary)
        self.settings = MODES[mode]
        self.vaes = nn.ModuleList(ClassVAE(latent_dim, input_shape[0]) for _ in range(num_classes))
        self.register_buffer("bank", gaussian_bank(bank_size, latent_dim, bank_dismiss, bank_seed))
        if scalings is None:
            scalings = BINARY_SCALINGS if binary and num_classes == len(BINARY_SCALINGS) else [1.0] * num_classes
        if len(scalings) != num_classes:
            raise ValueError(f"abs: expected {num_classes} scalings, got {len(scalings)}")
        self.register_buffer("scalings", torch.tensor([float(s) for s in scalings]))
        self._cache: tuple[StackedDecoder, torch.Tensor, torch.Tensor] | None = None
        self._register_load_state_dict_pre_hook(lambda *args, **kwargs: self.clear_cache())

    def vae(self, c: int) -> ClassVAE:
        v = self.vaes[c]
        assert isinstance(v, ClassVAE)
        return v

    # --- cache of the bank's decodings -------------------------------------------------------------
    def clear_cache(self) -> None:
        self._cache = None

    def train(self, mode: bool = True) -> ABSNet:
        if mode:
            self.clear_cache()  # the weights may change
        return super().train(mode)

    @torch.no_grad()
    def _decoded_bank(self) -> tuple[StackedDecoder, torch.Tensor, torch.Tensor]:
        """(stacked decoder, bank images flattened (K·B, D), their squared norms + ½‖z‖²), cached."""
        dev = self.bank.device
        if self._cache is None or self._cache[1].device != dev:
            was = self.training
            self.eval()
            dec = StackedDecoder(list(self.vaes))  # type: ignore[arg-type]
            imgs = torch.cat([dec(self.bank[i : i + 1000, None].expand(-1, self.num_classes, -1))
                              for i in range(0, len(self.bank), 1000)])  # (B, K, C, H, W)
            flat = imgs.transpose(0, 1).reshape(self.num_classes * len(self.bank), -1).contiguous()
            prior = 0.5 * (self.bank**2).sum(1).repeat(self.num_classes)
            self._cache = (dec, flat, (flat**2).sum(1) + prior)
            super().train(was)
        return self._cache

    # --- inference ---------------------------------------------------------------------------------
    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        return (x > 0.5).to(x.dtype) if self.binary else x

    def infer(self, x: torch.Tensor, reconstructions: bool = False, settings: InferenceSettings | None = None,
              chunk: int = 256) -> Inference:
        """ELBOs (scaled), latents and optionally reconstructions for a batch; grad flows to x only."""
        s = settings or self.settings
        dec, flat, g2 = self._decoded_bank()
        x = self.prepare(x)
        n, k, d = len(x), self.num_classes, x[0].numel()
        xf = x.reshape(n, -1)
        with torch.no_grad():
            best = []
            for i in range(0, n, chunk):
                xc = xf[i : i + chunk].detach()
                scores = g2[None] - 2.0 * xc @ flat.T  # ‖x‖² is the same for every bank entry
                best.append(scores.reshape(len(xc), k, -1).argmin(2))
            idx = torch.cat(best) if best else torch.empty(0, k, dtype=torch.long, device=x.device)
            z0 = self.bank[idx]  # (N, K, d)
        z = self._descend(dec, xf.detach(), z0, s)
        with torch.no_grad():
            rec = dec(z)  # (N, K, C, H, W)
        sq = ((xf[:, None, :] - rec.reshape(n, k, -1)) ** 2).sum(2)
        elbos = (sq + 0.5 * (z**2).sum(2)) / d * self.scalings
        return Inference(elbos, z, rec if reconstructions else None)

    def _descend(self, dec: StackedDecoder, xf: torch.Tensor, z0: torch.Tensor, s: InferenceSettings) -> torch.Tensor:
        updates = max(0, s.steps - 1)  # the authors' last iteration only evaluates
        if updates == 0 or len(xf) == 0:
            return z0
        n, k, _ = z0.shape
        if s.top_k is not None and s.top_k < k:
            return self._descend_top(dec, xf, z0, s, updates)
        with torch.enable_grad():
            z = z0.clone().requires_grad_(True)
            opt = torch.optim.Adam([z], lr=s.lr)
            for _ in range(updates):
                rec = dec(z).reshape(n, k, -1)
                loss = ((xf[:, None, :] - rec) ** 2).sum() + 0.5 * (z**2).sum()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                with torch.no_grad():
                    z.copy_(_clip_to_ball(z, self.radius))
        return z.detach()

    def _descend_top(self, dec: StackedDecoder, xf: torch.Tensor, z0: torch.Tensor, s: InferenceSettings,
                     updates: int) -> torch.Tensor:
        """Descend only on each input's ``top_k`` classes by bank ELBO (per-class decoders on the rows that need them)."""
        assert s.top_k is not None
        n, k, d = z0.shape
        with torch.no_grad():
            rec0 = dec(z0).reshape(n, k, -1)
            e0 = ((xf[:, None, :] - rec0) ** 2).sum(2) + 0.5 * (z0**2).sum(2)
            top = e0.topk(s.top_k, dim=1, largest=False).indices  # (N, top_k)
        rows = [(c, (top == c).any(1).nonzero().flatten()) for c in range(k)]
        rows = [(c, r) for c, r in rows if len(r)]
        z = z0.clone()
        with torch.enable_grad():
            params = [z0[r, c].clone().requires_grad_(True) for c, r in rows]
            opt = torch.optim.Adam(params, lr=s.lr)
            for _ in range(updates):
                loss = z0.new_zeros(())
                for (c, r), p in zip(rows, params, strict=True):
                    rec = self.vae(c).decode(p).reshape(len(r), -1)
                    loss = loss + ((xf[r] - rec) ** 2).sum() + 0.5 * (p**2).sum()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                with torch.no_grad():
                    for p in params:
                        p.copy_(_clip_to_ball(p, self.radius))
        for (c, r), p in zip(rows, params, strict=True):
            z[r, c] = p.detach()
        return z

    def logits_from_elbos(self, elbos: torch.Tensor) -> torch.Tensor:
        """log(exp(−α·ELBO) + η): a softmax of these is the authors' confidence softmax."""
        if self.eta == 0:
            return -self.alpha * elbos
        return torch.logaddexp(-self.alpha * elbos, torch.full_like(elbos, math.log(self.eta)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits_from_elbos(self.infer(x).elbos)


def _clip_to_ball(z: torch.Tensor, radius: float) -> torch.Tensor:
    norm = z.norm(dim=-1, keepdim=True)
    return z * torch.clamp(radius / norm.clamp_min(1e-12), max=1.0)


@MODELS.register("abs")
def abs_model(
    input_shape: tuple[int, ...],
    num_classes: int,
    latent_dim: int = 8,
    bank_size: int = 8000,
    bank_dismiss: float = 0.1,
    bank_seed: int = 7,
    radius: float = 5.0,
    alpha: float = 440.0,
    eta: float = 3.9e-5,
    binary: bool = False,
    scalings: Sequence[float] | None = None,
    mode: str = "faithful",
) -> nn.Module:
    """analysis by synthesis (Schott et al. 2019): one 8-d VAE per class, ELBO inference; binary=true for binary ABS"""
    return ABSNet(tuple(input_shape), num_classes, latent_dim, bank_size, bank_dismiss, bank_seed, radius, alpha,
                  eta, binary, scalings, mode)


def abs_net(model: Any) -> ABSNet:
    """The ``ABSNet`` inside an advlab ABS model; TypeError for any other model."""
    net = getattr(model, "net", model)
    if not isinstance(net, ABSNet):
        raise TypeError(f"expected an ABS model (advlab.models.build('abs', …)), got {type(net).__name__}")
    return net


@contextmanager
def abs_mode(model: Model | ABSNet, mode: str | InferenceSettings) -> Iterator[None]:
    """Temporarily run an ABS model's inference in another mode ('faithful', 'fast' or settings)."""
    net = abs_net(model)
    if isinstance(mode, str):
        if mode not in MODES:
            raise ValueError(f"abs_mode: unknown mode {mode!r}; expected one of {sorted(MODES)}")
        mode = MODES[mode]
    old = net.settings
    net.settings = replace(mode)
    try:
        yield
    finally:
        net.settings = old
