"""advlab: a PyTorch laboratory for adversarial examples."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def save(model: Any, path: Any) -> Any:
    """Save a model to one ``.safetensors`` file (see ``advlab.models.save``)."""
    from advlab.models import save as _save

    return _save(model, path)


def load(path: Any, map_location: Any = "cpu", *, factory: Any = None) -> Any:
    """Load a model saved by ``advlab.save``: a ``.safetensors`` file or a run folder (``runs/NAME``).
    ``factory`` rebuilds a custom network when its spec's factory cannot be imported here."""
    from advlab.models import load as _load

    return _load(path, map_location, factory=factory)


__all__ = ["__version__", "load", "save"]
