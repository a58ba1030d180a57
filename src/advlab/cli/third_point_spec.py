"""``--third`` strings → third-point objects (the CLI edge; viz takes only objects).

grey | random-image | random-perturbation (with --size, --perturbation-norm) |
attack:NAME | seed:K | model:RUN | image:INDEX
"""

from __future__ import annotations

from typing import Any

import torch

THIRD_POINT_HELP = "grey, random-image, random-perturbation, attack:NAME, seed:K, model:RUN or image:INDEX"


def parse_third_point(text: str, *, data: Any = None, size: float | None = None, norm: str = "l2",
                      eps: float | None = None) -> Any:
    """The strategy object (or explicit input tensor) that ``text`` names; ``ValueError`` when it names none."""
    from advlab.attacks import ATTACKS
    from advlab.viz.third_points import Grey, OtherAttack, OtherModel, OtherSeed, RandomImage, RandomPerturbation

    head, _, arg = text.partition(":")
    kind, arg = head.strip().lower(), arg.strip()
    if kind == "grey" and not arg:
        return Grey()
    if kind == "random-image" and not arg:
        return RandomImage()
    if kind == "random-perturbation" and not arg:
        if size is None:
            raise ValueError("--third random-perturbation needs --size (the perturbation's norm, e.g. --size 2)")
        return RandomPerturbation(size=size, norm=norm)
    if kind == "attack" and arg:
        return OtherAttack(ATTACKS.get(arg)(), eps)
    if kind == "seed" and arg:
        return OtherSeed(_int(arg, text))
    if kind == "model" and arg:
        from advlab.runs import open_run

        return OtherModel(open_run(arg).load_model())
    if kind == "image" and arg:
        return _test_image(data, _int(arg, text))
    raise ValueError(f"--third: unknown third point {text!r}; expected {THIRD_POINT_HELP}")


def _int(text: str, whole: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"--third {whole!r} needs an integer after the colon") from None


def _test_image(data: Any, index: int) -> torch.Tensor:
    x = getattr(data, "x_test", None)
    if not isinstance(x, torch.Tensor):
        raise ValueError("--third image:INDEX needs the run's dataset (its run.json names none)")
    if not 0 <= index < len(x):
        raise ValueError(f"--third image:{index}: index out of range for {len(x)} test images")
    return x[index]
