"""Training: one ``fit`` loop and pluggable training methods."""

from advlab.train.adversarial import Adversarial, FastFGSM, FGSMAdversarial, PGDAdversarial
from advlab.train.fit import EpochRecord, FitState, History, evaluate_accuracy, fit
from advlab.train.methods import METHODS, BatchLoss, StandardTraining, TrainingMethod
from advlab.train.probe import RobustProbe
from advlab.train.regularizers import L1WeightDecay, Mixup, SignNoise, UniformNoise

__all__ = [
    "METHODS",
    "Adversarial",
    "BatchLoss",
    "EpochRecord",
    "FGSMAdversarial",
    "FastFGSM",
    "FitState",
    "History",
    "L1WeightDecay",
    "Mixup",
    "PGDAdversarial",
    "RobustProbe",
    "SignNoise",
    "StandardTraining",
    "TrainingMethod",
    "UniformNoise",
    "evaluate_accuracy",
    "fit",
]
