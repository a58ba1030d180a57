"""Attacks on a shared, verifying base: ``result = attack(model, x, y, eps=[…], target=None)``."""

from advlab.attacks.base import Attack
from advlab.attacks.norms import Norm, get_norm
from advlab.attacks.registry import attack_names, make_attack, register_attack
from advlab.attacks.result import AttackResult

__all__ = ["Attack", "AttackResult", "Norm", "attack_names", "get_norm", "make_attack", "register_attack"]
