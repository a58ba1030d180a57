"""Attacks on a shared, verifying base: ``result = attack(model, x, y, eps=[…], target=None)``."""

from advlab.attacks.apgd import APGD, APGDT
from advlab.attacks.base import Attack
from advlab.attacks.blended import BlendedNoise, ContrastReduction
from advlab.attacks.boundary import Boundary
from advlab.attacks.carlini_wagner import CarliniWagner
from advlab.attacks.ddn import DDN
from advlab.attacks.deepfool import DeepFool
from advlab.attacks.fgsm import FGSM
from advlab.attacks.fmn import FMN
from advlab.attacks.gradient_descent import GradientDescent
from advlab.attacks.hsj import HopSkipJump
from advlab.attacks.latent_descent import LatentDescent
from advlab.attacks.noise import AdditiveNoise, SaltAndPepper
from advlab.attacks.norms import Norm, get_norm
from advlab.attacks.onepixel import OnePixel
from advlab.attacks.oracle import Oracle
from advlab.attacks.pgd import BIM, PGD
from advlab.attacks.pointwise import Pointwise
from advlab.attacks.query import QueryAttack
from advlab.attacks.registry import ATTACKS
from advlab.attacks.result import AttackResult
from advlab.attacks.spatial import Spatial
from advlab.attacks.square import Square
from advlab.attacks.transfer import Substitute, SubstituteAttack, TransferAttack, train_substitute
from advlab.attacks.transfer_line import TransferLine

__all__ = ["APGD", "APGDT", "ATTACKS", "Attack", "AttackResult", "BIM", "DeepFool", "FGSM", "GradientDescent", "PGD", "CarliniWagner", "DDN", "FMN", "LatentDescent", "TransferLine", "Norm", "get_norm",
           "Square", "AdditiveNoise", "BlendedNoise", "Boundary", "ContrastReduction", "HopSkipJump", "OnePixel", "Oracle", "Pointwise",
           "QueryAttack", "SaltAndPepper", "Spatial", "Substitute", "SubstituteAttack", "TransferAttack", "train_substitute"]
