"""The per-class variational autoencoder of the analysis-by-synthesis (ABS) model.

Schott, Rauber, Bethge & Brendel, "Towards the first adversarially robust neural
network model on MNIST" (ICLR 2019). Architecture facts from the authors' code
(bethgelab/AnalysisBySynthesis, ``abs_models/models.py``, ``get_VAE``):
encoder kernels [5, 4, 3, 5], feature maps [32, 32, 64, 2·8], strides [1, 2, 2, 1];
decoder kernels [4, 5, 5, 4], feature maps [32, 16, 16, 1], strides [1, 2, 2, 1];
batch normalisation and ELU between layers, a linear latent (8 means and 8
log-variances) and a sigmoid on the decoder's output. About 85k parameters.

``stacked_decoder`` folds the ten decoders (in eval mode) into one grouped
network, so all classes decode in a single call per layer during inference.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

ENCODER_KERNELS = (5, 4, 3, 5)
ENCODER_MAPS = (32, 32, 64)
DECODER_KERNELS = (4, 5, 5, 4)
DECODER_MAPS = (32, 16, 16, 1)
STRIDES = (1, 2, 2, 1)


class ClassVAE(nn.Module):
    """One class's VAE: ``encode(x) -> (mu, logvar)``, ``decode(z) -> image`` in [0, 1]."""

    def __init__(self, latent_dim: int = 8, channels: int = 1):
        super().__init__()
        if latent_dim < 1:
            raise ValueError(f"ClassVAE: latent_dim must be a positive integer, got {latent_dim}")
        self.latent_dim = latent_dim
        enc: list[nn.Module] = []
        c_in = channels
        for c_out, k, s in zip(ENCODER_MAPS, ENCODER_KERNELS, STRIDES, strict=False):
            enc += [nn.Conv2d(c_in, c_out, k, stride=s), nn.BatchNorm2d(c_out), nn.ELU()]
            c_in = c_out
        enc.append(nn.Conv2d(c_in, 2 * latent_dim, ENCODER_KERNELS[-1], stride=STRIDES[-1]))
        self.encoder = nn.Sequential(*enc)
        dec: list[nn.Module] = []
        c_in = latent_dim
        maps = (*DECODER_MAPS[:-1], channels)
        for i, (c_out, k, s) in enumerate(zip(maps, DECODER_KERNELS, STRIDES, strict=True)):
            dec.append(nn.ConvTranspose2d(c_in, c_out, k, stride=s))
            if i < len(maps) - 1:
                dec += [nn.BatchNorm2d(c_out), nn.ELU()]
            c_in = c_out
        self.decoder = nn.Sequential(*dec)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(x).flatten(1)
        return h[:, : self.latent_dim], h[:, self.latent_dim :]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Images (N, C, 28, 28) in [0, 1] for latents (N, latent_dim)."""
        return torch.sigmoid(self.decoder(z.reshape(len(z), self.latent_dim, 1, 1)))

    def loss(self, x: torch.Tensor, generator: torch.Generator | None = None, beta: float = 1.0) -> torch.Tensor:
        """Mean over the batch of Σ‖x − x̂‖² + β·KL(q(z|x) ‖ N(0, I)) (the authors' objective, β = 1)."""
        mu, logvar = self.encode(x)
        eps = torch.randn(mu.shape, generator=generator, device=mu.device) if generator is not None else torch.randn_like(mu)
        z = mu + eps * torch.exp(0.5 * logvar)
        rec = self.decode(z)
        sq = ((rec - x) ** 2).flatten(1).sum(1)
        kl = 0.5 * (mu**2 + logvar.exp() - logvar - 1).sum(1)
        return (sq + beta * kl).mean()


def gaussian_bank(size: int, latent_dim: int, dismiss: float = 0.1, seed: int = 7) -> torch.Tensor:
    """The ``size`` most probable of ``int(size / (1 - dismiss))`` draws from N(0, I).

    As the authors' ``sampling.get_gaussian_samples`` (8,000 of 8,888 draws for the
    defaults); their seed is 7 for torch, 22 for NumPy's generator: ours is a torch
    generator seeded with ``seed``, so the draws differ but follow the same rule.
    """
    if size < 1 or not 0.0 <= dismiss < 1.0:
        raise ValueError(f"gaussian_bank: expected size ≥ 1 and 0 ≤ dismiss < 1, got size={size} dismiss={dismiss}")
    n = max(size, int(size / (1.0 - dismiss)))
    g = torch.Generator().manual_seed(int(seed))
    draws = torch.randn(n, latent_dim, generator=g)
    # the density of N(0, I) decreases with ‖z‖: the most probable draws are the shortest.
    order = (draws**2).sum(1).argsort()
    return draws[order[:size]].contiguous()


@dataclass
class _Layer:
    weight: torch.Tensor  # grouped conv-transpose weight (G·C_in, C_out, k, k)
    bias: torch.Tensor
    stride: int
    act: bool


class StackedDecoder:
    """The decoders of all classes as one grouped network (eval mode; batch norm folded in).

    ``__call__(z)`` takes latents (N, G, latent_dim) and returns images (N, G, C, H, W):
    row ``n``, group ``g`` is ``vaes[g].decode(z[n, g])``.
    """

    def __init__(self, vaes: list[ClassVAE]):
        self.groups = len(vaes)
        self.latent_dim = vaes[0].latent_dim
        per_class = [_fold(v.decoder) for v in vaes]
        self.layers = [
            _Layer(torch.cat([pc[i][0] for pc in per_class]), torch.cat([pc[i][1] for pc in per_class]),
                   per_class[0][i][2], per_class[0][i][3])
            for i in range(len(per_class[0]))
        ]

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        n = z.shape[0]
        h = z.reshape(n, self.groups * self.latent_dim, 1, 1)
        for layer in self.layers:
            h = F.conv_transpose2d(h, layer.weight, layer.bias, stride=layer.stride, groups=self.groups)
            if layer.act:
                h = F.elu(h)
        h = torch.sigmoid(h)
        return h.reshape(n, self.groups, -1, *h.shape[-2:])


def _fold(decoder: nn.Sequential) -> list[tuple[torch.Tensor, torch.Tensor, int, bool]]:
    """(weight, bias, stride, ELU after?) per conv-transpose layer, with eval-mode batch norm folded in."""
    out: list[tuple[torch.Tensor, torch.Tensor, int, bool]] = []
    mods = list(decoder)
    for i, m in enumerate(mods):
        if not isinstance(m, nn.ConvTranspose2d):
            continue
        w = m.weight.detach()
        b = m.bias.detach() if m.bias is not None else torch.zeros(w.shape[1], device=w.device)
        bn = mods[i + 1] if i + 1 < len(mods) and isinstance(mods[i + 1], nn.BatchNorm2d) else None
        if bn is not None:
            assert isinstance(bn, nn.BatchNorm2d) and bn.running_var is not None and bn.running_mean is not None
            scale = (bn.weight.detach() if bn.weight is not None else 1.0) / torch.sqrt(bn.running_var + bn.eps)
            shift = bn.bias.detach() if bn.bias is not None else 0.0
            w = w * scale.reshape(1, -1, 1, 1)
            b = (b - bn.running_mean) * scale + shift
        stride = m.stride[0]
        out.append((w.contiguous(), b.contiguous(), int(stride), bn is not None))
    return out
