"""Attacks on a shared, verifying base: ``result = attack(model, x, y, eps=[…], target=None)``."""

from advlab.attacks.base import Attack
from advlab.attacks.carlini_wagner import CarliniWagner
from advlab.attacks.ddn import DDN
from advlab.attacks.deepfool import DeepFool
from advlab.attacks.fgsm import FGSM
from advlab.attacks.fmn import FMN
from advlab.attacks.gradient_descent import GradientDescent
from advlab.attacks.latent_descent import LatentDescent
from advlab.attacks.norms import Norm, get_norm
from advlab.attacks.pgd import BIM, PGD
from advlab.attacks.registry import attack_names, make_attack, register_attack
from advlab.attacks.result import AttackResult
from advlab.attacks.transfer_line import TransferLine

__all__ = ["Attack", "AttackResult", "BIM", "DeepFool", "FGSM", "GradientDescent", "LatentDescent", "TransferLine", "PGD", "CarliniWagner", "DDN", "FMN", "Norm", "attack_names", "get_norm", "make_attack", "register_attack"]
