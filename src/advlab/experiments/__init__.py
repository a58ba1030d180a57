"""Reproduced results, one module each. Register new ones in ``catalog.py``."""

from advlab.experiments import catalog as _catalog  # noqa: F401
from advlab.experiments.registry import (
    Comparison,
    Experiment,
    ExperimentContext,
    ExperimentResult,
    experiments,
    get_experiment,
    register_experiment,
)
from advlab.experiments.runner import run_experiment

__all__ = [
    "Comparison",
    "Experiment",
    "ExperimentContext",
    "ExperimentResult",
    "experiments",
    "get_experiment",
    "register_experiment",
    "run_experiment",
]
