"""The GPU path, checked on the CPU: device choice, mixed-precision training, and no host↔device copies
inside attack loops (every call that would copy or synchronise on a GPU is counted)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from advlab import data
from advlab.attacks import ATTACKS
from advlab.device import resolve_device
from advlab.models import build
from advlab.train import METHODS, fit
from advlab.train.loader import MixedPrecision, to_device


class _Syncs(TorchDispatchMode):
    """Counts the aten calls that read a value back to the host (``.item()``, ``bool(t)``, ``float(t)``)."""

    def __init__(self, counts: Counter[str]):
        super().__init__()
        self.counts = counts

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        if func is torch.ops.aten._local_scalar_dense.default:
            self.counts["sync"] += 1
        return func(*args, **(kwargs or {}))


@contextmanager
def count_transfers() -> Iterator[Counter[str]]:
    """Every Python-level call that moves data between host and device on a GPU — ``.to(device or tensor)``,
    ``.cpu()``, ``.cuda()``, ``.numpy()``, ``.tolist()``, ``.item()``, ``torch.tensor``/``as_tensor`` of Python
    data — and every aten-level scalar read."""
    counts: Counter[str] = Counter()
    originals: dict[tuple[Any, str], Any] = {}

    def patch(owner: Any, name: str, moves: Any) -> None:
        original = getattr(owner, name)
        originals[(owner, name)] = original

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if moves(*args, **kwargs):
                counts[name] += 1
            return original(*args, **kwargs)

        setattr(owner, name, wrapper)

    def to_moves(self: torch.Tensor, *args: Any, **kwargs: Any) -> bool:
        return "device" in kwargs or any(isinstance(a, (torch.device, torch.Tensor, str)) for a in args)

    patch(torch.Tensor, "to", to_moves)
    for name in ("cpu", "cuda", "numpy", "tolist", "item"):
        patch(torch.Tensor, name, lambda *a, **k: True)
    for name in ("tensor", "as_tensor"):
        patch(torch, name, lambda value, *a, **k: not isinstance(value, torch.Tensor))
    try:
        with _Syncs(counts):
            yield counts
    finally:
        for (owner, name), original in originals.items():
            setattr(owner, name, original)


@pytest.fixture(scope="module")
def model_and_data() -> tuple[Any, torch.Tensor, torch.Tensor]:
    ds = data.load("digits", quiet=True)
    torch.manual_seed(0)
    model = build("cnn-small", input_shape=ds.input_shape, classes=ds.class_names, bounds=ds.bounds)
    return model.eval(), ds.x_test[:16], ds.y_test[:16]


@pytest.mark.parametrize(
    ("name", "norm", "eps"), [("pgd", "linf", 0.1), ("pgd", "l2", 0.5), ("pgd", "l1", 2.0), ("bim", "linf", 0.1)]
)
def test_no_transfers_inside_the_attack_loop(model_and_data: Any, name: str, norm: str, eps: float) -> None:
    model, x, y = model_and_data
    counts = {}
    for steps in (2, 9):
        attack = ATTACKS.create(name, norm=norm, steps=steps)
        with count_transfers() as c:
            attack(model, x, y, eps=[eps], seed=0)
        counts[steps] = c
    # what the template does once per call (labels to the host, verification) is the same for any number of
    # steps; seven more steps add nothing.
    assert counts[9] == counts[2], (counts[2], counts[9])
    assert sum(counts[2].values()) > 0  # the counter does see the template's own copies


def test_the_counter_catches_a_copy_per_step(model_and_data: Any) -> None:
    """The same check fails for a loop that moves the bounds to the input's device at every step (as the L1
    step used to) — the counter is not blind."""
    model, x, _ = model_and_data
    counts = {}
    for steps in (2, 9):
        with count_transfers() as c:
            for _ in range(steps):
                model.bounds.lower.to(x)
        counts[steps] = c["to"]
    assert counts[9] - counts[2] == 7


def test_device_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ADVLAB_DEVICE", raising=False)
    assert resolve_device(None).type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu") == torch.device("cpu")
    monkeypatch.setenv("ADVLAB_DEVICE", "cpu")
    assert resolve_device(None) == torch.device("cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA device"):
            resolve_device("cuda")


def test_amp_training_on_cpu_uses_bfloat16_and_learns() -> None:
    ds = data.load("digits", quiet=True)
    seen: list[torch.dtype] = []
    results = {}
    for amp in (False, True):
        torch.manual_seed(0)
        model = build("cnn-small", input_shape=ds.input_shape, classes=ds.class_names, bounds=ds.bounds)
        handle = model.net.head.register_forward_hook(lambda m, i, o: seen.append(o.dtype))
        history = fit(model, ds, method=METHODS.create("fast", eps=0.1), epochs=3, lr=3e-3, seed=0, quiet=True, amp=amp)
        handle.remove()
        results[amp] = (history.last.test_accuracy, [p.detach().clone() for p in model.parameters()])  # type: ignore[union-attr]
        assert (model.spec["training"].get("amp") is True) == amp
    assert torch.bfloat16 in seen and torch.float32 in seen
    assert results[True][0] > 0.5 and abs(results[True][0] - results[False][0]) < 0.15
    assert any(not torch.equal(a, b) for a, b in zip(results[True][1], results[False][1]))  # really another precision
    assert all(p.dtype == torch.float32 for p in results[True][1])  # the weights stay float32
    with pytest.raises(TypeError, match="amp"):
        MixedPrecision(torch.device("cpu"), "yes")  # type: ignore[arg-type]


def test_to_device_on_cpu_is_the_tensor_itself() -> None:
    t = torch.arange(4.0)
    assert to_device(t, torch.device("cpu")) is t


def test_train_command_amp_flag(tmp_path: Any) -> None:
    from click.testing import CliRunner

    from advlab.cli import cli
    from advlab.runs import open_run

    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["train", "mlp", "--data", "digits", "--epochs", "1", "--amp", "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert open_run(out).load_model().spec["training"]["amp"] is True
