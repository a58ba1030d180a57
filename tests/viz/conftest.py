"""Fixtures shared by the viz tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest
import torch

from advlab.models import Model, build


@pytest.fixture(scope="session")
def seeded_mlp() -> Callable[..., Model]:
    """``seeded_mlp(input_shape, classes, widths)``: an untrained MLP in eval mode whose weights come from
    ``torch.manual_seed(0)``, so every test module sees the same model for the same arguments."""

    def make(input_shape: tuple[int, ...], classes: int, widths: Sequence[int]) -> Model:
        torch.manual_seed(0)
        return build("mlp", input_shape=input_shape, classes=classes, widths=list(widths)).eval()

    return make
