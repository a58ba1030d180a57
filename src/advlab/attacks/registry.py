"""Attack names for the CLI and experiments: ``ATTACKS.create("pgd", norm="l2", steps=100)``.

Each attack class registers itself with ``@ATTACKS.register("name")``; the CLI
edge turns strings into options and asks the registry, which checks the options
against the class's signature.
"""

from __future__ import annotations

from advlab.attacks.base import Attack
from advlab.registry import Registry

ATTACKS: Registry[type[Attack]] = Registry("attack", hint=" (see `advlab attack --help`)")
