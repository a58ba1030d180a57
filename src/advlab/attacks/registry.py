"""Attack names for the CLI and experiments: ``make_attack("pgd", norm="l2", steps=100)``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from advlab.attacks.base import Attack

_ATTACKS: dict[str, Callable[..., Attack]] = {}


def register_attack(name: str) -> Callable[[type[Attack]], type[Attack]]:
    def deco(cls: type[Attack]) -> type[Attack]:
        _ATTACKS[name] = cls
        return cls

    return deco


def attack_names() -> list[str]:
    return sorted(_ATTACKS)


def make_attack(name: str, **options: Any) -> Attack:
    key = name.lower()
    if key not in _ATTACKS:
        raise ValueError(f"unknown attack {name!r}; expected one of {attack_names()}")
    options = {k: v for k, v in options.items() if v is not None}
    try:
        return _ATTACKS[key](**options)
    except TypeError as exc:
        raise ValueError(f"attack {name!r}: {exc}") from exc
