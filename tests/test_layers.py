"""Data flows one way: no module imports a layer above its own (DESIGN.md, Architecture).

Every ``import``/``from … import`` in ``src/advlab`` (at any depth, lazy imports inside
functions included) is read with ``ast`` and checked against the layer order.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "advlab"

# Lower rank = lower layer. A module may import its own rank or below. Helpers shared by
# everything (I/O, bounds, device, progress, the registry kind) sit at the bottom.
RANK: dict[str, float] = {
    "_io": 0, "bounds": 0, "device": 0, "progress": 0, "registry": 0,
    "data": 1,
    "models": 2,
    "attacks": 3,
    "train": 4,
    "evaluate": 5,
    "fooling": 6,
    "viz": 7,
    "runs": 8, "report": 8,
    "engine": 8.5,  # runs evaluate/train work on run folders (runs); only experiments and cli use it
    "explore": 9,
    "experiments": 10,
    "cli": 11,
}  # fmt: skip


def _layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "advlab" or len(parts) < 2:
        return None
    return parts[1]


def _imports(path: Path, src: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    package = ".".join(("advlab", *path.relative_to(src).with_suffix("").parts[:-1]))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import: resolve against this file's package
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join([*base, *([node.module] if node.module else [])])
            else:
                mod = node.module or ""
            if mod == "advlab":  # `from advlab import data` names a layer (dunders are metadata)
                out += [(node.lineno, f"advlab.{a.name}") for a in node.names if not a.name.startswith("__")]
            else:
                out.append((node.lineno, mod))
    return out


def _violations(src: Path = SRC) -> list[str]:
    bad = []
    for path in sorted(src.rglob("*.py")):
        rel = path.relative_to(src)
        own = rel.parts[0].removesuffix(".py")
        if own == "__init__" or own == "__main__":
            continue  # the package's front door re-exports from above by design
        if own not in RANK:
            bad.append(f"{rel}: layer {own!r} has no rank in tests/test_layers.py")
            continue
        for line, module in _imports(path, src):
            layer = _layer(module)
            if layer is None or layer == own:
                continue
            if layer not in RANK:
                bad.append(f"{rel}:{line}: imports {module} (unranked layer {layer!r})")
            elif RANK[layer] > RANK[own]:
                bad.append(f"{rel}:{line}: {own} (rank {RANK[own]}) imports {module} from {layer} (rank {RANK[layer]})")
    return bad


def test_no_module_imports_a_higher_layer():
    bad = _violations()
    assert not bad, "upward imports:\n" + "\n".join(bad)


def test_the_checker_catches_an_upward_import(tmp_path):
    # The check itself must be able to fail: plant a viz module that imports the CLI.
    fake = tmp_path / "advlab"
    (fake / "viz").mkdir(parents=True)
    (fake / "viz" / "bad.py").write_text("from advlab.cli import main\nfrom ..experiments import catalog\n")
    (fake / "models").mkdir()
    (fake / "models" / "ok.py").write_text("from advlab.data import load\n")
    found = _violations(fake)
    assert len(found) == 2 and all("viz/bad.py" in f for f in found), found


@pytest.mark.parametrize("layer", sorted(RANK))
def test_every_rank_names_a_real_layer(layer):
    assert (SRC / layer).is_dir() or (SRC / f"{layer}.py").exists() or layer in {"explore", "engine", "fooling"}
