"""CIFAR-10 networks: the pre-activation ResNet-18 of Wong, Rice & Kolter's fast adversarial training, and the
Wide ResNet (Zagoruyko & Komodakis) of the decision-region paper (WRN-28-10), with width/depth options.

Both start with the per-channel CIFAR-10 normalisation (inside the model, as every zoo net) and end with global
average pooling, so they also accept other image sizes (the tests use 8×8 digits and small synthetic CIFAR).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from advlab.models.layers import Classifier, Normalize
from advlab.models.registry import MODELS

#: Wong et al.'s CIFAR-10 statistics (their ``utils.py``).
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2471, 0.2435, 0.2616)

Stats = float | Sequence[float]


def _require_image(name: str, input_shape: tuple[int, ...]) -> None:
    if len(input_shape) != 3:
        raise ValueError(f"{name}: expected an image input shape (C, H, W), got {input_shape}")


def _stats(value: Stats | str, channels: int, default: tuple[float, ...]) -> Stats:
    """``"cifar10"``: the CIFAR statistics for 3-channel inputs, 0/1 for others; else the value given."""
    if not isinstance(value, str):
        return value
    if value != "cifar10":
        raise ValueError(f"normalisation: expected a number, one per channel, or 'cifar10', got {value!r}")
    return default if channels == 3 else (0.0 if default is CIFAR10_MEAN else 1.0)


class PreActBlock(nn.Module):
    """BN → ReLU → conv3×3 → BN → ReLU → conv3×3, plus the (projected) input."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, stride=1, padding=1, bias=False)
        self.shortcut = nn.Conv2d(cin, cout, 1, stride=stride, bias=False) if stride != 1 or cin != cout else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(x))
        shortcut = self.shortcut(out) if self.shortcut is not None else x
        out = self.conv1(out)
        out = self.conv2(F.relu(self.bn2(out)))
        return out + shortcut


class WideBlock(nn.Module):
    """Zagoruyko & Komodakis' wide basic block: BN → ReLU → conv3×3 → (dropout) → BN → ReLU → conv3×3."""

    def __init__(self, cin: int, cout: int, stride: int, dropout: float):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, stride=1, padding=1, bias=False)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.shortcut = nn.Conv2d(cin, cout, 1, stride=stride, bias=False) if stride != 1 or cin != cout else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(x))
        shortcut = self.shortcut(out) if self.shortcut is not None else x
        out = self.dropout(self.conv1(out))
        out = self.conv2(F.relu(self.bn2(out)))
        return out + shortcut


def _stages(block: type[nn.Module], widths: Sequence[int], blocks: int, cin: int, **kw: float) -> tuple[nn.Sequential, int]:
    layers: list[nn.Module] = []
    for i, w in enumerate(widths):
        for j in range(blocks):
            layers.append(block(cin, w, 2 if (i > 0 and j == 0) else 1, **kw))
            cin = w
    return nn.Sequential(*layers), cin


@MODELS.register("preact-resnet18")
def preact_resnet18(input_shape: tuple[int, ...], num_classes: int, width: int = 64, mean: Stats | str = "cifar10",
                    std: Stats | str = "cifar10") -> nn.Module:  # fmt: skip
    """pre-activation ResNet-18 (Wong et al.'s fast-AT CIFAR-10 net); width=64 base channels"""
    _require_image("preact-resnet18", input_shape)
    if not isinstance(width, int) or width < 1:
        raise ValueError(f"preact-resnet18: width must be a positive integer, got {width!r}")
    c = input_shape[0]
    body, cout = _stages(PreActBlock, [width, 2 * width, 4 * width, 8 * width], 2, width)
    features = nn.Sequential(
        Normalize(_stats(mean, c, CIFAR10_MEAN), _stats(std, c, CIFAR10_STD), ndim=3),
        nn.Conv2d(c, width, 3, padding=1, bias=False),
        body,
        nn.BatchNorm2d(cout),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
    )
    return Classifier(features, nn.Linear(cout, num_classes))


@MODELS.register("wrn")
def wide_resnet(input_shape: tuple[int, ...], num_classes: int, depth: int = 28, widen: int = 10, dropout: float = 0.0,
                mean: Stats | str = "cifar10", std: Stats | str = "cifar10") -> nn.Module:  # fmt: skip
    """Wide ResNet (WRN-depth-widen, Zagoruyko & Komodakis); depth=28, widen=10 is WRN-28-10; dropout"""
    _require_image("wrn", input_shape)
    if not isinstance(depth, int) or depth < 10 or (depth - 4) % 6:
        raise ValueError(f"wrn: depth must be 6·n + 4 with n >= 1 (10, 16, 22, 28, 34, …), got {depth!r}")
    if not isinstance(widen, int) or widen < 1:
        raise ValueError(f"wrn: widen must be a positive integer, got {widen!r}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"wrn: dropout must be in [0, 1), got {dropout!r}")
    c = input_shape[0]
    body, cout = _stages(WideBlock, [16 * widen, 32 * widen, 64 * widen], (depth - 4) // 6, 16, dropout=dropout)
    features = nn.Sequential(
        Normalize(_stats(mean, c, CIFAR10_MEAN), _stats(std, c, CIFAR10_STD), ndim=3),
        nn.Conv2d(c, 16, 3, padding=1, bias=False),
        body,
        nn.BatchNorm2d(cout),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
    )
    return Classifier(features, nn.Linear(cout, num_classes))


@MODELS.register("wrn-28-10")
def wrn_28_10(input_shape: tuple[int, ...], num_classes: int, depth: int = 28, widen: int = 10, dropout: float = 0.0,
              mean: Stats | str = "cifar10", std: Stats | str = "cifar10") -> nn.Module:  # fmt: skip
    """WRN-28-10, the decision-region paper's CIFAR-10 model (36.5M parameters); options as wrn"""
    return wide_resnet(input_shape, num_classes, depth=depth, widen=widen, dropout=dropout, mean=mean, std=std)
