"""Strategy names (what the CLI and experiments say) → configured strategy objects, with one budget knob.

``budget`` is the number of model evaluations allowed *per requested class*: a
gradient step counts one (forward + backward), an NES step 2·samples + 1, an
evolved child one (MAP-Elites shares its evaluations across all classes, so it
gets budget × classes children in all).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from advlab.fooling.ascent import GradientAscent, NESAscent
from advlab.fooling.base import FoolingStrategy, check_int
from advlab.fooling.cmaes import CMAES
from advlab.fooling.invert import HiddenInversion
from advlab.fooling.mapelites import evolve_cppn, evolve_direct

_FACTORIES: dict[str, tuple[Callable[..., FoolingStrategy], str]] = {
    "ascent": (GradientAscent, "white-box gradient ascent of log p(target) from noise (L2 / TV optional)"),
    "ascent-nes": (NESAscent, "black-box ascent: NES gradient estimates from probabilities only"),
    "evolve-direct": (evolve_direct, "MAP-Elites over pixels (polynomial mutation, uniform crossover)"),
    "evolve-cppn": (evolve_cppn, "MAP-Elites over CPPNs (sine/sigmoid/Gaussian/linear nodes over x, y, r, bias)"),
    "invert": (HiddenInversion, "map far points of the hidden space back to inputs (features → linear head)"),
    "cma": (CMAES, "separable CMA-ES over pixels, one per class in lockstep (needs the cma package)"),
}


def strategy_names() -> list[str]:
    return list(_FACTORIES)


def describe() -> dict[str, str]:
    return {name: text for name, (_, text) in _FACTORIES.items()}


def make_strategy(name: str, *, budget: int | None = None, classes: int = 10, **options: Any) -> FoolingStrategy:
    """The strategy called ``name``; ``budget`` (evaluations per class) sets its steps/generations unless given."""
    if name not in _FACTORIES:
        raise ValueError(f"unknown fooling strategy {name!r}; expected one of {strategy_names()}")
    factory = _FACTORIES[name][0]
    if budget is not None:
        check_int(budget, "budget")
        check_int(classes, "classes")
        options = {**_budget_options(name, budget, classes, options), **options}
    try:
        return factory(**options)
    except TypeError as exc:
        raise ValueError(f"fooling strategy {name!r}: bad options {options}: {exc}") from exc


def _budget_options(name: str, budget: int, classes: int, options: dict[str, Any]) -> dict[str, Any]:
    if name in ("ascent", "invert"):
        return {"steps": max(1, budget // max(1, int(options.get("starts", 1))) - 1)}
    if name == "ascent-nes":
        per_step = 2 * int(options.get("samples", 20)) + 1
        return {"steps": max(1, budget // (per_step * max(1, int(options.get("starts", 1)))) - 1)}
    if name.startswith("evolve-"):
        batch = int(options.get("batch", 100))
        return {"generations": max(0, budget * classes // batch - 1)}
    return {"evaluations": budget}
