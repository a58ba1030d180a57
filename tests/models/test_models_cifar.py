"""CIFAR-10 networks: published sizes, shapes, options, save/load; the crop+flip augmentation wrapper."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

import advlab
from advlab.models import build
from advlab.train import StandardTraining
from advlab.train.augment import Augmented


def _count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_published_sizes() -> None:
    # WRN-28-10: 36.5M parameters (Zagoruyko & Komodakis, Table 1); PreAct ResNet-18 as in Wong et al.'s code:
    # He et al.'s 11.17M plus the final BatchNorm(512) (1024 parameters).
    assert round(_count(build("wrn-28-10", input_shape=(3, 32, 32), classes=10)) / 1e6, 1) == 36.5
    assert _count(build("preact-resnet18", input_shape=(3, 32, 32), classes=10)) == 11_171_146 + 1024
    # WRN-16-8: 11.0M in the same table
    assert round(_count(build("wrn", input_shape=(3, 32, 32), classes=10, depth=16, widen=8)) / 1e6, 1) == 11.0


@pytest.mark.parametrize(("name", "options"), [("preact-resnet18", {"width": 8}), ("wrn", {"depth": 10, "widen": 2, "dropout": 0.3})])
def test_small_variants_train_and_round_trip(name: str, options: dict[str, object], tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = build(name, input_shape=(3, 32, 32), classes=10, **options)
    x, y = torch.rand(8, 3, 32, 32), torch.randint(0, 10, (8,))
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    model.eval()
    advlab.save(model, tmp_path / "m.safetensors")
    back = advlab.load(tmp_path / "m.safetensors").eval()
    torch.testing.assert_close(back(x), model(x))
    # the normalisation lives inside the model: CIFAR statistics for 3 channels
    mean = model.net.features[0].mean.flatten().tolist()
    assert mean == pytest.approx([0.4914, 0.4822, 0.4465])


def test_options_are_checked() -> None:
    with pytest.raises(ValueError, match="6·n \\+ 4"):
        build("wrn", input_shape=(3, 32, 32), classes=10, depth=12)
    with pytest.raises(ValueError, match="image input shape"):
        build("preact-resnet18", input_shape=(64,), classes=10)
    with pytest.raises(ValueError, match="'cifar10'"):
        build("wrn", input_shape=(3, 32, 32), classes=10, depth=10, widen=1, mean="imagenet")
    gray = build("wrn", input_shape=(1, 8, 8), classes=10, depth=10, widen=1)
    assert gray(torch.rand(2, 1, 8, 8)).shape == (2, 10)


def test_augmentation_is_a_shift_and_flip_of_the_batch() -> None:
    x = torch.rand(16, 3, 8, 8)
    aug = Augmented(StandardTraining(), crop_padding=2, flip=True, seed=1)
    out = aug.transform(x)
    padded = F.pad(x, (2, 2, 2, 2))
    for i in range(len(x)):
        windows = [padded[i, :, dy : dy + 8, dx : dx + 8] for dy in range(5) for dx in range(5)]
        assert any(torch.equal(out[i], w) or torch.equal(out[i], w.flip(2)) for w in windows)
    assert not torch.equal(out, x)
    assert torch.equal(Augmented(StandardTraining(), crop_padding=0, flip=False).transform(x), x)
    again = Augmented(StandardTraining(), crop_padding=2, flip=True, seed=1).transform(x)
    assert torch.equal(again, out)  # seeded
    assert aug.config() == {"method": "standard", "augment": {"crop_padding": 2, "flip": True}}
