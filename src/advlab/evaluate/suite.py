"""Attack suites: an ordered cascade of attack objects for one norm (AutoAttack's design).

Each member is any ``Attack`` (fixed-ε or minimisation, white- or black-box), so adding
one is one line: ``suite.with_member("square", Square(...))``. Presets per norm:

* L∞ / L2 ``standard``: APGD-CE (100 steps) → APGD-T (targeted DLR, 9 targets, 100 steps)
  → FMN (100 steps, standing in for FAB-T) → Square (5000 queries, p_init 0.8, when a ``square``
  attack is registered).
* L∞ / L2 ``quick``: APGD-CE (50 steps) → APGD-T (3 targets, 50 steps).
* L1: PGD-L1 (sparse steps, 100 steps, 5 restarts) → FMN-L1 (100 steps).
* L0: FMN-L0 (100 steps), plus Pointwise / salt-and-pepper when registered.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from advlab.attacks.apgd import APGD, APGDT
from advlab.attacks.base import Attack
from advlab.attacks.fmn import FMN
from advlab.attacks.norms import get_norm
from advlab.attacks.pgd import PGD
from advlab.attacks.registry import ATTACKS

PRESETS = ("standard", "quick")


@dataclass(frozen=True)
class SuiteMember:
    """One attack of a suite, under a display name."""

    name: str
    attack: Attack

    def config(self) -> dict[str, Any]:
        return {"name": self.name, **self.attack.config()}


@dataclass(frozen=True)
class Suite:
    """An ordered cascade of attacks for one norm; each runs only on the points still robust."""

    norm: str
    members: tuple[SuiteMember, ...]
    preset: str = "custom"

    def __post_init__(self) -> None:
        norm = get_norm(self.norm).name
        object.__setattr__(self, "norm", norm)
        if not self.members:
            raise ValueError("Suite: needs at least one attack")
        names = [m.name for m in self.members]
        if len(set(names)) != len(names):
            raise ValueError(f"Suite: member names must be unique, got {names}")
        for m in self.members:
            if not isinstance(m.attack, Attack):
                raise TypeError(f"Suite: member {m.name!r} must be an advlab Attack, got {type(m.attack).__name__}")
            if m.attack.norm.name != norm:
                raise ValueError(f"Suite: member {m.name!r} attacks in {m.attack.norm.name}, the suite is {norm}")

    @classmethod
    def of(cls, norm: str, attacks: Sequence[Attack | tuple[str, Attack]]) -> Suite:
        """A custom suite from attacks (named by ``attack.name``) or (name, attack) pairs."""
        members = tuple(SuiteMember(*a) if isinstance(a, tuple) else SuiteMember(a.name, a) for a in attacks)
        return cls(norm, members)

    @classmethod
    def preset_for(cls, norm: str, preset: str = "standard") -> Suite:
        """The ``standard`` or ``quick`` suite of a norm (see the module docstring)."""
        if preset not in PRESETS:
            raise ValueError(f"Suite: preset must be one of {PRESETS}, got {preset!r}")
        norm = get_norm(norm).name
        return cls(norm, tuple(_PRESETS[norm](preset)), preset)

    def with_member(self, name: str, attack: Attack, position: int | None = None) -> Suite:
        """A copy with one more attack (at the end, or at ``position``)."""
        members = list(self.members)
        members.insert(len(members) if position is None else position, SuiteMember(name, attack))
        return Suite(self.norm, tuple(members), self.preset)

    def without(self, name: str) -> Suite:
        if name not in self.names:
            raise ValueError(f"Suite: no member {name!r}; members are {self.names}")
        return Suite(self.norm, tuple(m for m in self.members if m.name != name), self.preset)

    @property
    def names(self) -> list[str]:
        return [m.name for m in self.members]

    def config(self) -> dict[str, Any]:
        return {"norm": self.norm, "preset": self.preset, "members": [m.config() for m in self.members]}


def _registered(name: str, **options: Any) -> list[SuiteMember]:
    """A member from the attack registry when that attack exists here (black-box attacks join this way);
    with ``options`` if it takes them, else with its defaults and the norm."""
    if name not in ATTACKS:
        return []
    try:
        return [SuiteMember(name, ATTACKS.create(name, **options))]
    except ValueError:
        return [SuiteMember(name, ATTACKS.create(name, **{k: v for k, v in options.items() if k == "norm"}))]


def _lp(norm: str) -> Callable[[str], list[SuiteMember]]:
    def build(preset: str) -> list[SuiteMember]:
        if preset == "quick":
            return [SuiteMember("apgd-ce", APGD(norm, steps=50)),
                    SuiteMember("apgd-t", APGDT(norm, steps=50, targets=3))]
        return [
            SuiteMember("apgd-ce", APGD(norm, steps=100)),
            SuiteMember("apgd-t", APGDT(norm, steps=100, targets=9)),
            SuiteMember("fmn", FMN(norm, steps=100)),
            *_registered("square", norm=norm, steps=5000, p_init=0.8),  # AutoAttack's standard Square
        ]

    return build


def _l1(preset: str) -> list[SuiteMember]:
    if preset == "quick":
        return [SuiteMember("pgd-l1", PGD("l1", steps=50)), SuiteMember("fmn", FMN("l1", steps=50))]
    return [SuiteMember("pgd-l1", PGD("l1", steps=100, restarts=5)), SuiteMember("fmn", FMN("l1", steps=100))]


def _l0(preset: str) -> list[SuiteMember]:
    steps = 50 if preset == "quick" else 100
    return [SuiteMember("fmn", FMN("l0", steps=steps)), *_registered("pointwise"), *_registered("salt-and-pepper")]


_PRESETS: dict[str, Callable[[str], list[SuiteMember]]] = {"linf": _lp("linf"), "l2": _lp("l2"), "l1": _l1, "l0": _l0}
