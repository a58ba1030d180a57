"""The models of abs-mnist: the paper's baselines (CNN, binarised CNN, nearest neighbour, a PGD-trained
CNN for Madry et al.) and ABS / binary ABS (VAEs trained once and cached)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

from advlab.data.dataset import Dataset
from advlab.experiments.registry import ExperimentContext
from advlab.models import Model, build, load, save
from advlab.models.abs import BINARY_SCALINGS, abs_net
from advlab.progress import echo
from advlab.train import METHODS, fit
from advlab.train.abs_train import train_abs

DEFAULT_ABS = Path("runs/abs-mnist/model.safetensors")


class Binarized(nn.Module):
    """A network applied to its input binarised at 0.5 (the authors' ``BinaryCNN``)."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.inner = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner((x > 0.5).to(x.dtype))


class NearestNeighbour(nn.Module):
    """Logits −min_i ‖x − x_i‖₂ over each class's training images (differentiable in x)."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    train_sq: torch.Tensor

    def __init__(self, x: torch.Tensor, y: torch.Tensor, num_classes: int):
        super().__init__()
        self.register_buffer("train_x", x.reshape(len(x), -1).clone())
        self.register_buffer("train_y", y.clone())
        self.register_buffer("train_sq", (x.reshape(len(x), -1) ** 2).sum(1))
        self.num_classes = num_classes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xf = x.reshape(len(x), -1)
        d2 = ((xf**2).sum(1, keepdim=True) - 2 * xf @ self.train_x.T + self.train_sq).clamp_min(1e-12)
        out = torch.full((len(x), self.num_classes), float("inf"), device=x.device)
        out = out.scatter_reduce(1, self.train_y.expand(len(x), -1), d2, reduce="amin")
        return -out.sqrt()


def _timed(fn: Any) -> tuple[Any, float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t0, time.process_time() - c0


def baselines(ds: Dataset, s: dict[str, Any], ctx: ExperimentContext) -> tuple[dict[str, Model], dict[str, Any]]:
    info: dict[str, Any] = {}
    torch.manual_seed(ctx.seed)
    cnn = build("cnn-small", input_shape=ds.input_shape, classes=ds.class_names)
    _, w, c = _timed(lambda: fit(cnn, ds, epochs=s["cnn_epochs"], batch_size=128, lr=1e-3, seed=ctx.seed, quiet=ctx.quiet))
    info["cnn"] = {"epochs": s["cnn_epochs"], "seconds": w, "cpu_seconds": c}
    torch.manual_seed(ctx.seed)
    madry = build("cnn-small", input_shape=ds.input_shape, classes=ds.class_names)
    method = METHODS.create("pgd", eps=0.3, steps=s["pgd_steps"], stepsize=s["pgd_stepsize"], stop_when_fooled=True)
    _, w, c = _timed(lambda: fit(madry, ds, method=method, epochs=s["madry_epochs"], batch_size=100, lr=5e-3,
                                 schedule="cyclic", seed=ctx.seed, quiet=ctx.quiet))
    info["madry"] = {"epochs": s["madry_epochs"], "method": method.config(), "seconds": w, "cpu_seconds": c}
    binary = Model(Binarized(cnn.net), bounds=cnn.bounds, classes=cnn.classes, input_shape=cnn.input_shape,
                   spec={"family": "custom", "options": {"binarized": "cnn-small"}})
    n_nn = s["nn_train"] or len(ds.x_train)
    nn_model = Model(NearestNeighbour(ds.x_train[:n_nn], ds.y_train[:n_nn], ds.num_classes), bounds=cnn.bounds,
                     classes=cnn.classes, input_shape=cnn.input_shape, spec={"family": "custom", "options": {}})
    info["nn"] = {"train_images": n_nn}
    return {"cnn": cnn.eval(), "binary_cnn": binary.eval(), "nn": nn_model.eval(), "madry": madry.eval()}, info


def abs_models(ds: Dataset, s: dict[str, Any], ctx: ExperimentContext) -> tuple[dict[str, Model], dict[str, Any]]:
    """ABS from the cache (``options['abs_model']`` or runs/abs-mnist), else trained here and cached; binary ABS
    shares its VAEs."""
    path = Path(ctx.options.get("abs_model", DEFAULT_ABS))
    info: dict[str, Any]
    if path.is_file():
        model = load(path)
        info = {"source": str(path), "training": model.spec.get("training", {})}
    else:
        torch.manual_seed(ctx.seed)
        model = build("abs", input_shape=ds.input_shape, classes=ds.class_names)
        echo(f"abs-mnist: training the ABS VAEs ({s['abs_epochs']} epochs per class; cached in {path})", ctx.quiet)
        hist = train_abs(model, ds, epochs=s["abs_epochs"], seed=ctx.seed, checkpoint_dir=path.parent, quiet=ctx.quiet)
        model.spec["training"] = {"method": "abs-vae", **hist.to_json()}
        save(model, path)
        info = {"source": f"trained here, cached at {path}", "training": model.spec["training"]}
    return {"abs": model.eval(), "binary_abs": as_binary(model).eval()}, info


def as_binary(model: Model) -> Model:
    """Binary ABS from an ABS model: same VAEs and bank, input binarised at 0.5, the authors' class scalings."""
    net = abs_net(model)
    options = {**model.spec.get("options", {}), "binary": True, "scalings": list(BINARY_SCALINGS)}
    out = build("abs", input_shape=model.input_shape, classes=list(model.classes), bounds=tuple(model.bounds.to_json()), **options)
    state = {k: v for k, v in net.state_dict().items() if k != "scalings"}
    out.net.load_state_dict(state, strict=False)
    abs_net(out)._cache = net._decoded_bank()  # same decoders and bank: share the decoded bank
    return out
