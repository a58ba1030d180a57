"""Training: one ``fit`` loop and pluggable training methods."""

from advlab.train.fit import EpochRecord, FitState, History, evaluate_accuracy, fit
from advlab.train.methods import (
    BatchLoss,
    StandardTraining,
    TrainingMethod,
    make_method,
    method_names,
    register_method,
)

__all__ = [
    "BatchLoss",
    "EpochRecord",
    "FitState",
    "History",
    "StandardTraining",
    "TrainingMethod",
    "evaluate_accuracy",
    "fit",
    "make_method",
    "method_names",
    "register_method",
]
