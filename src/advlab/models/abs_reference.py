"""A straightforward per-image implementation of the authors' ABS inference (the benchmark's baseline).

It follows bethgelab/AnalysisBySynthesis (``abs_models/inference.py``) step by
step for one image at a time: the ELBO of every bank image of every class by
broadcasting (x − G)², the best bank latent per class, then Adam on the ten
latents with each class's own decoder called in turn, the latents projected onto
‖z‖₂ ≤ radius after each update; the last iteration only evaluates. advlab's
``ABSNet.infer`` must give the same ELBOs; it is the reference for the tests and
the per-image baseline of ``benchmarks/abs.py``.
"""

from __future__ import annotations

import torch

from advlab.models.abs import ABSNet, InferenceSettings


def reference_elbos(net: ABSNet, x: torch.Tensor, settings: InferenceSettings | None = None,
                    bank_images: list[torch.Tensor] | None = None) -> torch.Tensor:
    """ELBOs (N, K), scaled as the model's, one image at a time (no batching over images or classes).

    ``bank_images``: per class the decoded bank (B, C, H, W), if already decoded (the authors cache it too).
    """
    s = settings or net.settings
    if s.top_k is not None:
        raise ValueError("reference_elbos: implements the authors' procedure (all classes), got top_k")
    net.eval()
    x = net.prepare(x)
    k, d = net.num_classes, x[0].numel()
    with torch.no_grad():
        bank_imgs = bank_images or [torch.cat([net.vae(c).decode(net.bank[i : i + 1000]) for i in range(0, len(net.bank), 1000)])
                     for c in range(k)]
    prior = 0.5 * (net.bank**2).sum(1)
    out = []
    for xi in x:
        with torch.no_grad():
            z0 = torch.stack([net.bank[(((bank_imgs[c] - xi) ** 2).flatten(1).sum(1) + prior).argmin()] for c in range(k)])
        z = z0.clone().requires_grad_(True)
        opt = torch.optim.Adam([z], lr=s.lr)
        for it in range(s.steps):
            last = it == s.steps - 1
            with torch.set_grad_enabled(not last):
                elbos = torch.stack([((xi - net.vae(c).decode(z[c : c + 1])[0]) ** 2).sum() + 0.5 * (z[c] ** 2).sum()
                                     for c in range(k)])
            if last:
                break
            opt.zero_grad()
            elbos.sum().backward()
            opt.step()
            with torch.no_grad():
                norm = z.norm(dim=1, keepdim=True)
                z.mul_(torch.clamp(net.radius / norm.clamp_min(1e-12), max=1.0))
        out.append(elbos.detach() / d * net.scalings)
    return torch.stack(out) if out else torch.empty(0, k)
