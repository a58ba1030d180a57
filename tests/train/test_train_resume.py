"""Checkpoints: written atomically each epoch; a resumed run ends with the same weights as an
uninterrupted one; mismatched settings and corrupt files are refused."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import save_file

from advlab import data
from advlab.data.dataset import Dataset
from advlab.models import Model, build
from advlab.train import BatchLoss, FitState, TrainingMethod, fit
from advlab.train import checkpoint as checkpoint_mod
from advlab.train.checkpoint import CHECKPOINT_NAME


class Interrupted(Exception):
    pass


class NoisyTraining(TrainingMethod):
    """Draws from the global RNG every step, so resuming must restore the RNG state too."""

    name = "noisy-test"

    def batch_loss(self, model: Model, x: torch.Tensor, y: torch.Tensor) -> BatchLoss:
        noisy = (x + 0.05 * torch.randn_like(x)).clamp(0, 1)
        logits = model(noisy)
        return BatchLoss(F.cross_entropy(logits, y), logits)


@pytest.fixture(scope="module")
def small() -> Dataset:
    return data.load("digits", quiet=True, limit_train=400, limit_test=100)


def _model(ds: Dataset) -> Model:
    torch.manual_seed(0)
    return build("mlp", input_shape=ds.input_shape, classes=ds.class_names, widths=[16])


def _same_weights(a: Model, b: Model) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def _interrupt_after(k: int) -> Any:
    def callback(state: FitState) -> None:
        if state.epoch == k:
            raise Interrupted(f"killed after epoch {k}")

    return callback


def _meta(path: Path) -> dict[str, Any]:
    with safe_open(str(path), framework="pt") as f:
        return json.loads(f.metadata()["advlab_checkpoint"])


SETTINGS = [
    {"optimizer": "adam", "schedule": None},
    {"optimizer": "sgd", "momentum": 0.9, "lr": 0.05, "schedule": "cyclic"},
]


@pytest.mark.parametrize("settings", SETTINGS, ids=["adam-constant", "sgd-cyclic"])
def test_resume_after_interruption_gives_identical_weights(small: Dataset, tmp_path: Path, settings: dict) -> None:
    common = {"epochs": 3, "batch_size": 64, "seed": 7, "quiet": True, **settings}
    reference = _model(small)
    ref_history = fit(reference, small, method=NoisyTraining(), **common)

    interrupted = _model(small)
    with pytest.raises(Interrupted):
        fit(interrupted, small, method=NoisyTraining(), checkpoint_dir=tmp_path,
            callbacks=[_interrupt_after(1)], **common)
    assert _meta(tmp_path / CHECKPOINT_NAME)["epoch"] == 1
    torch.manual_seed(12345)  # the resumed process's RNG starts elsewhere; the checkpoint restores it

    seen: list[int] = []
    resumed = _model(small)
    history = fit(resumed, small, method=NoisyTraining(), checkpoint_dir=tmp_path, resume=True,
                  callbacks=[lambda s: seen.append(s.epoch)], **common)
    assert _same_weights(reference, resumed)
    assert seen == [2, 3]  # no epoch-0 call on resume
    assert [e.epoch for e in history.epochs] == [1, 2, 3]
    strip = [{k: v for k, v in vars(e).items() if k != "seconds"} for e in history.epochs]
    assert strip == [{k: v for k, v in vars(e).items() if k != "seconds"} for e in ref_history.epochs]
    assert resumed.spec["training"] == reference.spec["training"]


def test_a_checkpoint_is_written_atomically_after_every_epoch(small: Dataset, tmp_path: Path) -> None:
    observed: list[tuple[int, int, list[str]]] = []

    def look(state: FitState) -> None:
        if state.epoch:
            observed.append((state.epoch, _meta(tmp_path / CHECKPOINT_NAME)["epoch"], sorted(os.listdir(tmp_path))))

    fit(_model(small), small, epochs=3, batch_size=128, checkpoint_dir=tmp_path, callbacks=[look], quiet=True)
    assert observed == [(k, k, [CHECKPOINT_NAME]) for k in (1, 2, 3)]


def test_a_crash_while_checkpointing_keeps_the_previous_checkpoint(
    small: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = checkpoint_mod.save_file
    calls = {"n": 0}

    def crash_on_second(tensors: dict, filename: str, metadata: dict) -> None:
        calls["n"] += 1
        real(tensors, filename, metadata=metadata)
        if calls["n"] == 2:
            Path(filename).write_bytes(Path(filename).read_bytes()[:100])
            raise OSError("killed mid-write")

    monkeypatch.setattr(checkpoint_mod, "save_file", crash_on_second)
    with pytest.raises(OSError, match="killed mid-write"):
        fit(_model(small), small, epochs=3, batch_size=128, checkpoint_dir=tmp_path, quiet=True)
    assert os.listdir(tmp_path) == [CHECKPOINT_NAME]
    assert _meta(tmp_path / CHECKPOINT_NAME)["epoch"] == 1
    monkeypatch.setattr(checkpoint_mod, "save_file", real)
    resumed = _model(small)
    history = fit(resumed, small, epochs=3, batch_size=128, checkpoint_dir=tmp_path, resume=True, quiet=True)
    reference = _model(small)
    fit(reference, small, epochs=3, batch_size=128, quiet=True)
    assert [e.epoch for e in history.epochs] == [1, 2, 3] and _same_weights(reference, resumed)


def test_resume_without_a_checkpoint_starts_fresh(small: Dataset, tmp_path: Path) -> None:
    a, b = _model(small), _model(small)
    fit(a, small, epochs=1, checkpoint_dir=tmp_path / "new", resume=True, quiet=True)
    fit(b, small, epochs=1, quiet=True)
    assert _same_weights(a, b)


def test_more_epochs_under_a_constant_schedule_continues_the_run(small: Dataset, tmp_path: Path) -> None:
    first = _model(small)
    fit(first, small, epochs=1, checkpoint_dir=tmp_path, quiet=True)
    continued = _model(small)
    history = fit(continued, small, epochs=2, checkpoint_dir=tmp_path, resume=True, quiet=True)
    reference = _model(small)
    fit(reference, small, epochs=2, quiet=True)
    assert [e.epoch for e in history.epochs] == [1, 2] and _same_weights(reference, continued)
    # asking again for what is already done trains nothing and keeps the weights
    again = _model(small)
    fit(again, small, epochs=2, checkpoint_dir=tmp_path, resume=True, quiet=True)
    assert _same_weights(reference, again)
    with pytest.raises(ValueError, match="already at epoch 2"):
        fit(_model(small), small, epochs=1, checkpoint_dir=tmp_path, resume=True, quiet=True)


@pytest.mark.parametrize(
    "change",
    [
        {"lr": 2e-3},
        {"batch_size": 32},
        {"seed": 1},
        {"optimizer": "sgd"},
        {"weight_decay": 1e-3},
        {"schedule": "cosine"},
        {"method": NoisyTraining()},
    ],
    ids=lambda c: next(iter(c)),
)
def test_resume_with_different_settings_is_refused(small: Dataset, tmp_path: Path, change: dict) -> None:
    base = {"epochs": 2, "batch_size": 64, "lr": 1e-3, "seed": 0, "quiet": True}
    fit(_model(small), small, checkpoint_dir=tmp_path, **base)
    with pytest.raises(ValueError, match=f"different settings.*{next(iter(change))}"):
        fit(_model(small), small, checkpoint_dir=tmp_path, resume=True, **{**base, **change})


def test_resume_with_other_epochs_under_a_schedule_or_other_data_is_refused(small: Dataset, tmp_path: Path) -> None:
    fit(_model(small), small, epochs=1, schedule="cosine", checkpoint_dir=tmp_path, quiet=True)
    with pytest.raises(ValueError, match="different settings.*epochs"):
        fit(_model(small), small, epochs=2, schedule="cosine", checkpoint_dir=tmp_path, resume=True, quiet=True)
    fewer = (small.x_train[:200], small.y_train[:200])
    with pytest.raises(ValueError, match="different settings.*data"):
        fit(_model(small), fewer, epochs=1, schedule="cosine", checkpoint_dir=tmp_path, resume=True, quiet=True)


def test_resume_into_another_architecture_is_refused(small: Dataset, tmp_path: Path) -> None:
    fit(_model(small), small, epochs=1, checkpoint_dir=tmp_path, quiet=True)
    torch.manual_seed(0)
    other = build("mlp", input_shape=small.input_shape, classes=small.class_names, widths=[8])
    with pytest.raises(ValueError, match="does not fit this model"):
        fit(other, small, epochs=2, checkpoint_dir=tmp_path, resume=True, quiet=True)


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _random(path: Path) -> None:
    path.write_bytes(os.urandom(2048))


def _foreign(path: Path) -> None:
    save_file({"w": torch.zeros(2)}, str(path))


def _bad_json(path: Path) -> None:
    save_file({"w": torch.zeros(2)}, str(path), metadata={"advlab_checkpoint": "{oops"})


def _no_rng(path: Path) -> None:
    with safe_open(str(path), framework="pt") as f:
        tensors = {k: f.get_tensor(k) for k in f.keys() if k != "rng.cpu"}
        meta = f.metadata()
    save_file(tensors, str(path), metadata=meta)


@pytest.mark.parametrize(
    ("damage", "match"),
    [
        (_truncate, "unreadable"),
        (_random, "unreadable"),
        (_foreign, "not an advlab training checkpoint"),
        (_bad_json, "incomplete or corrupt"),
        (_no_rng, "incomplete or corrupt"),
    ],
)
def test_corrupt_checkpoint_is_refused(small: Dataset, tmp_path: Path, damage: Any, match: str) -> None:
    fit(_model(small), small, epochs=1, checkpoint_dir=tmp_path, quiet=True)
    damage(tmp_path / CHECKPOINT_NAME)
    with pytest.raises(ValueError, match=match):
        fit(_model(small), small, epochs=2, checkpoint_dir=tmp_path, resume=True, quiet=True)
