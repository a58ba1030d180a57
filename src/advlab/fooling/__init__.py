"""Fooling inputs: images far from the data that a model still labels confidently.

Strategies (each ``strategy(model, classes, required=0.99, seed=0, reference=x_train)``
→ ``FoolingResult``): gradient ascent from noise (white-box, or NES from
probabilities only), MAP-Elites evolution with a direct (pixel) or CPPN
encoding (Nguyen et al.), separable CMA-ES, and hidden-space inversion.
``make_strategy(name, budget=…)`` builds one by name.
"""

from advlab.fooling.ascent import GradientAscent, NESAscent, total_variation
from advlab.fooling.base import FoolingStrategy, Found
from advlab.fooling.cmaes import CMAES
from advlab.fooling.cppn import CPPN, CPPNEncoding
from advlab.fooling.encoding import DirectEncoding, Encoding, polynomial_mutation
from advlab.fooling.invert import HiddenInversion, far_targets, invert_features
from advlab.fooling.mapelites import MapElites, evolve_cppn, evolve_direct
from advlab.fooling.nearest import nearest_distances
from advlab.fooling.result import FoolingResult
from advlab.fooling.strategies import describe, make_strategy, strategy_names

__all__ = [
    "CMAES",
    "CPPN",
    "CPPNEncoding",
    "DirectEncoding",
    "Encoding",
    "FoolingResult",
    "FoolingStrategy",
    "Found",
    "GradientAscent",
    "HiddenInversion",
    "MapElites",
    "NESAscent",
    "describe",
    "evolve_cppn",
    "evolve_direct",
    "far_targets",
    "invert_features",
    "make_strategy",
    "nearest_distances",
    "polynomial_mutation",
    "strategy_names",
    "total_variation",
]
