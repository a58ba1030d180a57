"""The model zoo, ``wrap`` for anything else, and save/load."""

from advlab.models import cifar as _cifar  # noqa: F401  (registers preact-resnet18, wrn, wrn-28-10)
from advlab.models import zoo as _zoo  # noqa: F401  (registers the families)
from advlab.models.abs import abs_mode, abs_net  # noqa: F401  (registers "abs")
from advlab.models.blackbox import BlackBoxModel
from advlab.models.ensemble import ensemble_member, ensemble_members, make_ensemble  # noqa: F401  (registers "ensemble")
from advlab.models.io import load, save
from advlab.models.layers import Classifier, Normalize
from advlab.models.maxout import Maxout  # noqa: F401  (registers "maxout")
from advlab.models.model import Model
from advlab.models.rbf import init_rbf_from_data  # noqa: F401  (registers "rbf")
from advlab.models.registry import MODELS, build, families, family
from advlab.models.wrap import wrap

__all__ = [
    "MODELS",
    "BlackBoxModel",
    "Classifier",
    "Model",
    "Normalize",
    "build",
    "families",
    "family",
    "load",
    "save",
    "wrap",
]
