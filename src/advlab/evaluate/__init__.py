"""Evaluation as measures: worst case over an attack suite, curves, minimal perturbations, confidence, checks, transfer."""

from advlab.evaluate.noise_confidence import NoiseConfidence, NoiseConfidenceResult, noise_confidence
from advlab.evaluate.robustness import Contribution, RobustAccuracy, RobustnessResult, concatenate, derive_seed, robust_accuracy
from advlab.evaluate.suite import PRESETS, Suite, SuiteMember
from advlab.evaluate.transfer import TransferResult, transfer
from advlab.evaluate.worst_case import WorstCase, worst_case

__all__ = [
    "PRESETS", "Contribution", "NoiseConfidence", "NoiseConfidenceResult", "RobustAccuracy", "RobustnessResult", "Suite",
    "SuiteMember", "TransferResult", "WorstCase", "concatenate", "derive_seed", "noise_confidence", "robust_accuracy", "transfer",
    "worst_case",
]
