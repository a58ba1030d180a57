"""Attacks on a shared, verifying base: ``result = attack(model, x, y, eps=[…], target=None)``."""

from advlab.attacks.apgd import APGD, APGDT
from advlab.attacks.base import Attack
from advlab.attacks.carlini_wagner import CarliniWagner
from advlab.attacks.ddn import DDN
from advlab.attacks.deepfool import DeepFool
from advlab.attacks.fgsm import FGSM
from advlab.attacks.fmn import FMN
from advlab.attacks.gradient_descent import GradientDescent
from advlab.attacks.norms import Norm, get_norm
from advlab.attacks.pgd import BIM, PGD
from advlab.attacks.registry import ATTACKS
from advlab.attacks.result import AttackResult

__all__ = ["APGD", "APGDT", "Attack", "AttackResult", "BIM", "DeepFool", "FGSM", "GradientDescent", "PGD", "CarliniWagner", "DDN", "FMN", "Norm", "ATTACKS", "get_norm"]
