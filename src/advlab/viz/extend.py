"""Move a minimal adversarial past the boundary it sits on, so a slice shows the adversarial region.

A minimisation attack (DeepFool, CW, FMN, DDN) returns b just past the decision boundary: in a
slice through a and b the adversarial class is a sliver at b, and the picture shows one colour.
``extend_adversarial(model, a, b, factor)`` returns a + f·(b − a) with f = ``factor`` (e.g. 1.5×
the minimal distance), clipped to the box H: pixels the attack already pushed to a bound stay
there (they cannot move further), every other pixel moves f times as far as the attack moved it.
Captions should state f.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from advlab.models.model import Model

DEFAULT_FACTOR = 1.5


def extend_adversarial(model: Model, a: Any, b: Any, factor: float = DEFAULT_FACTOR) -> tuple[torch.Tensor, float]:
    """(clip(a + f·(b − a)), f): b moved along its own direction to ``factor`` × its distance, clipped to H."""
    if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not math.isfinite(factor) or factor < 1:
        raise ValueError(f"extend_adversarial: factor must be a number ≥ 1 (1 leaves b where it is), got {factor!r}")
    shape = tuple(model.input_shape)
    a_t = torch.as_tensor(np.asarray(a.detach().cpu() if isinstance(a, torch.Tensor) else a), dtype=torch.float64).reshape(shape)
    b_t = torch.as_tensor(np.asarray(b.detach().cpu() if isinstance(b, torch.Tensor) else b), dtype=torch.float64).reshape(shape)
    delta = b_t - a_t
    if float(delta.abs().max()) == 0.0:
        raise ValueError("extend_adversarial: b equals a; there is no direction to extend")
    out = model.bounds.clip((a_t + float(factor) * delta).float()[None])[0]
    return out, float(factor)
