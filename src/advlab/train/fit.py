"""``fit``: the one training loop. What the loss is belongs to the training method."""

from __future__ import annotations

import hashlib
import inspect
import json
import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from advlab.data.dataset import Dataset
from advlab.device import resolve_device
from advlab.models.model import Model
from advlab.progress import echo, progress
from advlab.train.checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from advlab.train.loader import MixedPrecision, to_device
from advlab.train.methods import StandardTraining, TrainingMethod
from advlab.train.probe import MIN_TRAIN_PER_PROBE, BestCheckpoint, RobustProbe
from advlab.train.schedule import check_schedule, lr_at


@dataclass
class EpochRecord:
    epoch: int
    loss: float
    train_accuracy: float
    test_accuracy: float | None
    lr: float
    seconds: float
    #: accuracy under the robustness probe (held-out training images), when fit runs one.
    probe_accuracy: float | None = None


@dataclass
class History:
    epochs: list[EpochRecord] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    #: the robustness probe's verdict: probe settings, best epoch and its accuracy, whether it was restored,
    #: FGSM vs probe accuracy at the end (``None`` without a probe).
    robust_checkpoint: dict[str, Any] | None = None

    @property
    def last(self) -> EpochRecord | None:
        return self.epochs[-1] if self.epochs else None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"config": self.config, "epochs": [asdict(e) for e in self.epochs]}
        if self.robust_checkpoint is not None:
            out["robust_checkpoint"] = self.robust_checkpoint
        return out

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> History:
        return cls([EpochRecord(**e) for e in obj["epochs"]], obj.get("config", {}), obj.get("robust_checkpoint"))


@dataclass
class FitState:
    """What a callback sees: ``epoch`` is 0 before training and k after epoch k."""

    epoch: int
    model: Model
    history: History


Callback = Callable[[FitState], None]


OPTIMIZERS = ("adam", "sgd")
#: settings a resumed run must share with its checkpoint (else it would not continue the same run).
RESUME_MUST_MATCH = ("method", "batch_size", "optimizer", "lr", "momentum", "weight_decay", "schedule", "seed")


def _as_arrays(data: Dataset | Sequence[Any]) -> tuple[torch.Tensor, ...]:
    if isinstance(data, Dataset):
        return data.x_train, data.y_train, data.x_test, data.y_test
    if isinstance(data, (tuple, list)) and len(data) in (2, 4):
        return tuple(_as_tensor(a, i % 2 == 1) for i, a in enumerate(data))
    raise TypeError(
        f"fit: data must be an advlab Dataset or (x_train, y_train[, x_test, y_test]), got {type(data).__name__}"
        + (f" of length {len(data)}" if isinstance(data, (tuple, list)) else "")
    )


def _as_tensor(a: Any, labels: bool) -> torch.Tensor:
    if isinstance(a, torch.Tensor):
        return a
    if isinstance(a, np.ndarray):
        t = torch.from_numpy(a)
        return t.long() if labels and not t.is_floating_point() else t.float() if not labels else t
    raise TypeError(f"fit: expected torch tensors (or NumPy arrays) for the data, got {type(a).__name__}")


def _validate(model: Model, x: torch.Tensor, y: torch.Tensor, what: str) -> None:
    if not x.is_floating_point():
        raise TypeError(f"fit: {what} inputs must be floating point, got dtype {x.dtype}")
    if y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
        raise TypeError(f"fit: {what} labels must be integer class indices, got dtype {y.dtype}")
    if y.ndim != 1:
        raise ValueError(f"fit: {what} labels must be one class index per input (shape (N,)), got {tuple(y.shape)}")
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"fit: {what} has {x.shape[0]} inputs but {y.shape[0]} labels")
    if tuple(x.shape[1:]) != model.input_shape:
        raise ValueError(f"fit: {what} inputs have shape {tuple(x.shape[1:])}, the model expects {model.input_shape}")
    if y.numel() and (y.min() < 0 or y.max() >= model.num_classes):
        raise ValueError(f"fit: {what} labels must be in 0..{model.num_classes - 1}, got {y.min().item()}..{y.max().item()}")
    if not torch.isfinite(x).all():
        raise ValueError(f"fit: {what} inputs contain NaN or inf")
    if x.numel() and not model.bounds.contains(x).all():
        raise ValueError(
            f"fit: {what} inputs must lie inside the model's bounds {model.bounds!r} (normalisation belongs inside "
            f"the model); got values in [{x.min().item():.4g}, {x.max().item():.4g}]"
        )


def _check_settings(epochs: Any, batch_size: Any, optimizer: Any, lr: Any, momentum: Any, weight_decay: Any) -> None:
    for name, value in {"epochs": epochs, "batch_size": batch_size}.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"fit: {name} must be a positive integer, got {value!r}")
    for name, value in {"lr": lr, "momentum": momentum, "weight_decay": weight_decay}.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise ValueError(f"fit: {name} must be a finite number, got {value!r}")
    if lr <= 0:
        raise ValueError(f"fit: lr must be positive, got {lr}")
    if not 0 <= momentum < 1:
        raise ValueError(f"fit: momentum must be in [0, 1), got {momentum}")
    if weight_decay < 0:
        raise ValueError(f"fit: weight_decay must be >= 0, got {weight_decay}")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"fit: unknown optimizer {optimizer!r}; expected one of {list(OPTIMIZERS)}")


def _make_optimizer(name: str, params: Any, lr: float, momentum: float, weight_decay: float) -> torch.optim.Optimizer:
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    raise ValueError(f"fit: unknown optimizer {name!r}; expected one of {list(OPTIMIZERS)}")


def evaluate_accuracy(model: Model, x: torch.Tensor, y: torch.Tensor, batch_size: int = 2048) -> float:
    if len(x) == 0:
        return float("nan")
    return (model.predict(x, batch_size).cpu() == y.cpu()).float().mean().item()


def _resolve_probe(probe: RobustProbe | bool | None, method: TrainingMethod, n_train: int) -> RobustProbe | None:
    if probe is None or probe is True:
        found = method.probe_attack()
        if found is None:
            if probe is True:
                raise ValueError(f"fit: probe=True, but method {method.name!r} has no robustness probe; pass a RobustProbe")
            return None
        default = RobustProbe(*found)
        return default if probe is True or n_train >= MIN_TRAIN_PER_PROBE * default.size else None
    if probe is False:
        return None
    if not isinstance(probe, RobustProbe):
        raise TypeError(f"fit: probe must be a RobustProbe, True, False or None, got {type(probe).__name__}")
    return probe


def fit(
    model: Model,
    data: Dataset | Sequence[torch.Tensor],
    *,
    method: TrainingMethod | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    optimizer: str = "adam",
    lr: float | None = None,
    momentum: float = 0.9,
    weight_decay: float = 0.0,
    schedule: str | None = None,
    seed: int = 0,
    probe: RobustProbe | bool | None = None,
    device: str | torch.device | None = None,
    checkpoint_dir: str | Path | None = None,
    resume: bool = False,
    callbacks: Sequence[Callback] = (),
    quiet: bool = False,
    amp: bool = False,
) -> History:
    """Train ``model`` in place and return its history.

    ``epochs``, ``batch_size``, ``lr`` and ``schedule`` default to the method's
    ``recommended`` settings, else 5, 128, 1e-3 and the method's schedule (else constant).
    Each epoch ends with test accuracy and, with ``checkpoint_dir``, an atomic
    checkpoint; ``resume=True`` continues from it (same seed → same weights as
    an uninterrupted run). Randomness comes from ``seed``: the batch order, a
    ``torch.Generator`` handed to the method, and (inside ``torch.random.fork_rng``,
    so the caller's global RNG is left as it was) dropout.

    ``probe``: robust methods (those with ``probe_attack()``) get a ``RobustProbe`` by default
    when the training set is ≥ 10× its size: its images are held out of training, its
    accuracy is measured after every epoch, the best epoch's weights are restored at the end
    (``history.robust_checkpoint`` says which), and a warning is printed when FGSM accuracy
    exceeds it by more than ``fgsm_gap`` (gradient masking). ``False`` turns it off.
    The method's ``config()`` is recorded in ``model.spec["training"]``.
    A resumed run must use the same settings; ``epochs`` may grow under a constant schedule.
    ``amp=True``: mixed precision (float16 with loss scaling on CUDA, bfloat16 on the CPU).
    On CUDA, batches go through pinned memory with asynchronous copies.
    """
    if not isinstance(model, Model):
        raise TypeError(f"fit: expected an advlab Model (see advlab.models.build/wrap), got {type(model).__name__}")
    if not model.differentiable:
        raise ValueError("fit: a black-box model cannot be trained (it has no gradients)")
    if method is not None and not isinstance(method, TrainingMethod):
        raise TypeError(f"fit: method must be a TrainingMethod (see advlab.train.make_method), got {type(method).__name__}")
    method = method or StandardTraining()
    rec = method.recommended
    epochs = rec.get("epochs", 5) if epochs is None else epochs
    batch_size = rec.get("batch_size", 128) if batch_size is None else batch_size
    lr = rec.get("lr", 1e-3) if lr is None else lr
    _check_settings(epochs, batch_size, optimizer, lr, momentum, weight_decay)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"fit: seed must be a non-negative integer, got {seed!r}")
    schedule = check_schedule(schedule or rec.get("schedule") or method.default_schedule or "constant")
    x_train, y_train, *test = _as_arrays(data)
    x_test, y_test = test if test else (x_train[:0], y_train[:0])
    model.infer_shapes(x_train)  # wrap(net, bounds=…) alone: shape and classes from the data
    _validate(model, x_train, y_train, "training data")
    _validate(model, x_test, y_test, "test data")
    if len(x_train) == 0:
        raise ValueError("fit: the training data is empty")
    if resume and checkpoint_dir is None:
        raise ValueError("fit: resume=True needs checkpoint_dir")
    watch = _resolve_probe(probe, method, len(x_train))
    x_probe = y_probe = None
    if watch is not None:
        if watch.size >= len(x_train):
            raise ValueError(f"fit: the probe holds out {watch.size} images, but there are only {len(x_train)} to train on")
        held = torch.randperm(len(x_train), generator=torch.Generator().manual_seed(seed * 7_919 + 17))
        keep = held[watch.size :].sort().values
        x_probe, y_probe = x_train[held[: watch.size]], y_train[held[: watch.size]]
        x_train, y_train = x_train[keep], y_train[keep]

    dev = resolve_device(device)
    model.to(dev)
    precision = MixedPrecision(dev, amp)
    opt = _make_optimizer(optimizer, model.parameters(), lr, momentum, weight_decay)
    config = {
        "method": method.config(),
        "epochs": epochs,
        "batch_size": batch_size,
        "optimizer": optimizer,
        "lr": lr,
        "momentum": momentum,
        "schedule": schedule,
        "weight_decay": weight_decay,
        "seed": seed,
        **({"amp": True} if amp else {}),  # recorded only when used: float32 runs keep their old config
    }
    if watch is not None:
        config["probe"] = watch.describe()
    data_info = {"n_train": len(x_train), "input_shape": list(model.input_shape), **_data_identity(data, y_train)}
    history = History(config=config)
    generator = torch.Generator().manual_seed(seed)
    # A user's own method written before batch_loss took a generator still plugs in.
    takes_gen = "generator" in inspect.signature(method.batch_loss).parameters
    probe_gen = torch.Generator()
    best = BestCheckpoint()
    ckpt = Path(checkpoint_dir) / CHECKPOINT_NAME if checkpoint_dir is not None else None
    devices = [dev.index or 0] if dev.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)  # the forked global RNG: only layers that draw from it (dropout) see it
        start_epoch = 0
        if resume and ckpt is not None and ckpt.exists():
            start_epoch = _restore(ckpt, model, opt, history, config, data_info, dev, generator, best)
            echo(f"resuming from {ckpt} after epoch {start_epoch}", quiet)
        steps_per_epoch = -(-len(x_train) // batch_size)
        total_steps = steps_per_epoch * epochs
        if start_epoch == 0:
            for cb in callbacks:
                cb(FitState(0, model, history))
        with progress(quiet) as bar:
            for epoch in range(start_epoch + 1, epochs + 1):
                task = bar.add_task(f"epoch {epoch}/{epochs}", total=steps_per_epoch, info="")
                t0 = time.perf_counter()
                order = torch.randperm(len(x_train), generator=torch.Generator().manual_seed(seed * 100_003 + epoch))
                loss_sum, correct, seen = 0.0, 0, 0
                lr_now = lr
                for i in range(steps_per_epoch):
                    # every step: a method may have run an attack that switched the model to eval mode.
                    model.train()
                    step = (epoch - 1) * steps_per_epoch + i
                    lr_now = lr_at(schedule, lr, step / total_steps)
                    for group in opt.param_groups:
                        group["lr"] = lr_now
                    idx = order[i * batch_size : (i + 1) * batch_size]
                    xb, yb = to_device(x_train[idx], dev), to_device(y_train[idx], dev)
                    with precision.autocast():
                        out = method.batch_loss(model, xb, yb, generator=generator) if takes_gen else method.batch_loss(model, xb, yb)
                    if not torch.isfinite(out.loss):
                        raise FloatingPointError(f"fit: loss became {out.loss.item()} at epoch {epoch}, step {i}; lower the learning rate")
                    opt.zero_grad(set_to_none=True)
                    precision.backward_step(out.loss, opt)
                    loss_sum += out.loss.item() * len(idx)
                    correct += int((out.logits.argmax(1) == yb).sum())
                    seen += len(idx)
                    bar.update(task, advance=1, info=f"loss {loss_sum / seen:.4f} acc {correct / seen:.3f}")
                model.eval()
                test_acc = evaluate_accuracy(model, x_test, y_test) if len(x_test) else None
                probe_acc = None
                if watch is not None and x_probe is not None and y_probe is not None:
                    probe_acc = watch.accuracy(model, x_probe, y_probe, probe_gen.manual_seed(seed + epoch))
                    best.offer(epoch, probe_acc, model)
                record = EpochRecord(epoch, loss_sum / seen, correct / seen, test_acc, lr_now, time.perf_counter() - t0,
                                     probe_acc)
                history.epochs.append(record)
                test_txt = f", test acc {test_acc:.4f}" if test_acc is not None else ""
                probe_txt = "" if probe_acc is None else f", probe robust acc {probe_acc:.3f} (best {best.accuracy:.3f} @ {best.epoch})"
                bar.update(task, info=f"loss {record.loss:.4f} acc {record.train_accuracy:.3f}{test_txt}{probe_txt}")
                if ckpt is not None:
                    extra = {"generator": generator.get_state(), **{f"best.{k}": v for k, v in best.state.items()}}
                    meta = {"history": history.to_json(), "config": config, "data": data_info, "best": best.to_json()}
                    save_checkpoint(ckpt, model, opt, epoch, meta, extra)
                for cb in callbacks:
                    cb(FitState(epoch, model, history))
    model.eval()
    if watch is not None and x_probe is not None and y_probe is not None and best.state:
        history.robust_checkpoint = _finish_probe(model, watch, best, history, x_probe, y_probe, seed, quiet)
    model.spec["training"] = {**method.config(), **{k: v for k, v in config.items() if k != "method"}}
    return history


def _finish_probe(model: Model, watch: RobustProbe, best: BestCheckpoint, history: History, x_probe: torch.Tensor,
                  y_probe: torch.Tensor, seed: int, quiet: bool) -> dict[str, Any]:
    """Restore the best epoch's weights if a later one fell below, and compare FGSM with the probe."""
    last = history.epochs[-1]
    restored = best.epoch != last.epoch
    if restored:
        best.restore(model)
        echo(f"robust checkpoint: restored the weights of epoch {best.epoch} (probe robust accuracy "
             f"{best.accuracy:.3f}; the last epoch's was {last.probe_accuracy:.3f})", quiet)
    else:
        echo(f"robust checkpoint: the last epoch is the best (probe robust accuracy {best.accuracy:.3f})", quiet)
    gen = torch.Generator().manual_seed(seed)
    fgsm = watch.fgsm_accuracy(model, x_probe, y_probe, gen)
    masking = fgsm - best.accuracy > watch.fgsm_gap
    if masking:
        msg = (f"warning: FGSM accuracy {fgsm:.3f} exceeds PGD accuracy {best.accuracy:.3f} by more than "
               f"{watch.fgsm_gap:g} on the probe images: a sign of gradient masking (catastrophic overfitting); "
               "evaluate with stronger attacks before trusting this model")
        warnings.warn(msg, stacklevel=3)
        echo(msg, False)
    return {**best.to_json(), "restored": restored, "last_epoch": last.epoch, "probe": watch.describe(),
            "fgsm_accuracy": fgsm, "gradient_masking_warning": masking}


def _restore(
    ckpt: Path,
    model: Model,
    opt: torch.optim.Optimizer,
    history: History,
    config: dict[str, Any],
    data_info: dict[str, Any],
    dev: torch.device,
    generator: torch.Generator,
    best: BestCheckpoint,
) -> int:
    state, opt_state, rng, meta, extra = load_checkpoint(ckpt)
    saved = meta.get("config", {})
    config = json.loads(json.dumps(config))  # as the checkpoint stored it (tuples become lists)
    differs = {k for k in RESUME_MUST_MATCH if saved.get(k) != config.get(k)}
    if saved.get("epochs") != config["epochs"] and config["schedule"] != "constant":
        differs.add("epochs")  # the schedule's shape depends on the total number of epochs
    if meta.get("data", data_info) != data_info:
        differs.add("data")
    if differs:
        theirs = {k: (meta.get("data") if k == "data" else saved.get(k)) for k in sorted(differs)}
        ours = {k: (data_info if k == "data" else config.get(k)) for k in sorted(differs)}
        raise ValueError(
            f"resume: checkpoint {ckpt} was made with different settings: saved {json.dumps(theirs)}, "
            f"now {json.dumps(ours)}; use the same settings or start a new run (without resume)"
        )
    done = int(meta["epoch"])
    if done > config["epochs"]:
        raise ValueError(f"resume: checkpoint {ckpt} is already at epoch {done}, beyond epochs={config['epochs']}")
    try:
        model.net.load_state_dict({k.removeprefix("net."): v for k, v in state.items()})
        opt.load_state_dict(opt_state)
        torch.set_rng_state(rng)
        if "generator" in extra:
            generator.set_state(extra["generator"])
        best_state = {k[len("best.") :]: v for k, v in extra.items() if k.startswith("best.")}
        if best_state:
            info = meta.get("best", {})
            best.epoch, best.accuracy, best.state = int(info["epoch"]), float(info["probe_accuracy"]), best_state
        restored = History.from_json(meta["history"])
    except (RuntimeError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"resume: checkpoint {ckpt} does not fit this model or is corrupt: {exc}") from exc
    history.epochs[:] = restored.epochs
    model.to(dev)
    return done


def _data_identity(data: Any, y_train: torch.Tensor) -> dict[str, Any]:
    """What a resumed run must share with its checkpoint's data: dataset, classes and the training labels."""
    digest = hashlib.sha256(y_train.detach().cpu().to(torch.int64).numpy().tobytes()).hexdigest()[:16]
    out: dict[str, Any] = {"labels_sha256": digest}
    if isinstance(data, Dataset):
        out.update(dataset=data.name, classes=list(data.class_names))
    return out
