"""Reproduced results, one module each. Register new ones in ``catalog.py``."""

from advlab.experiments import catalog as _catalog  # noqa: F401
from advlab.experiments.registry import (
    EXPERIMENTS,
    Comparison,
    Experiment,
    ExperimentContext,
    ExperimentResult,
)
from advlab.experiments.runner import run_experiment

__all__ = [
    "Comparison",
    "Experiment",
    "ExperimentContext",
    "ExperimentResult",
    "EXPERIMENTS",
    "run_experiment",
]
