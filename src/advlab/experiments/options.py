"""Which ``--option KEY=VALUE`` an experiment understands, read from its module's source.

An experiment takes options as overrides of its settings dicts (``full = {...}``/``fast = {...}``,
``FULL``/``FAST``) or as ``ctx.options.get("key")``/``ctx.options["key"]``. Reading those keys from
the source (no import, no run) lets ``advlab reproduce`` refuse a mistyped option before a long run,
instead of silently ignoring it, and stays right when an experiment gains an option.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path
from typing import Any

_SETTINGS_NAMES = {"full", "fast", "FULL", "FAST", "settings", "defaults", "DEFAULTS"}


def accepted_options(module: str) -> set[str]:
    """Option keys the experiment module ``module`` reads (and those of the experiment modules it imports)."""
    seen: set[str] = set()
    return _keys(module, seen)


def _keys(module: str, seen: set[str]) -> set[str]:
    if module in seen:
        return set()
    seen.add(module)
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return set()
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    keys: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id in _SETTINGS_NAMES for t in node.targets):
            keys |= _dict_keys(node.value)
        elif isinstance(node, ast.Call) and _is_options(getattr(node.func, "value", None)) and getattr(node.func, "attr", "") == "get":
            keys |= {a.value for a in node.args[:1] if isinstance(a, ast.Constant) and isinstance(a.value, str)}
        elif isinstance(node, ast.Subscript) and _is_options(node.value):
            if isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
                keys.add(node.slice.value)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("advlab.experiments."):
            keys |= _keys(node.module, seen)
    return keys


def _dict_keys(node: Any) -> set[str]:
    if not isinstance(node, ast.Dict):
        return set()
    # {**full, "epochs": 2}: the spread dict's keys come from its own assignment
    return {k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}


def _is_options(node: Any) -> bool:
    """``ctx.options`` (any name for the context) or a bare ``options``."""
    return (isinstance(node, ast.Attribute) and node.attr == "options") or (isinstance(node, ast.Name) and node.id == "options")


def check_options(name: str, module: str, options: dict[str, Any]) -> None:
    """Refuse option keys experiment ``name`` does not read, naming the ones it does."""
    unknown = sorted(set(options) - accepted_options(module))
    if unknown:
        known = sorted(accepted_options(module))
        raise ValueError(
            f"reproduce {name}: unknown option(s) {', '.join(unknown)}; "
            + (f"it takes: {', '.join(known)}" if known else "it takes no --option")
        )
