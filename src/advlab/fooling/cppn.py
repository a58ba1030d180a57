"""Compositional pattern-producing networks (CPPNs): small networks that draw an image.

A CPPN maps each pixel's coordinates (x, y, r = √(x² + y²), bias = 1), with x
and y in [−1, 1], through a feed-forward graph of sine, sigmoid, Gaussian and
linear nodes to one output per channel (a sigmoid, so values lie in [0, 1]).
Nodes carry an ``order`` in (0, 1) (inputs 0, outputs 1) and connections only go
from lower to higher order, so the graph stays acyclic under every mutation.
Mutations (NEAT-like, Nguyen et al.'s indirect encoding) perturb weights, change
a node's function, add a node by splitting a connection, remove a hidden node,
and add or remove a connection.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch

from advlab.fooling.encoding import Encoding

INPUTS = ("x", "y", "r", "bias")
ACTIVATIONS = ("sin", "sigmoid", "gaussian", "linear")
WEIGHT_LIMIT = 5.0


def _act(name: str, s: np.ndarray) -> np.ndarray:
    if name == "sin":
        return np.sin(s)
    if name == "sigmoid":
        return 0.5 * (1.0 + np.tanh(0.5 * s))  # = 1 / (1 + e^−s), without overflow
    if name == "gaussian":
        return np.exp(-0.5 * s * s)
    if name == "linear":
        return s
    raise ValueError(f"cppn: unknown activation {name!r}; expected one of {ACTIVATIONS}")


@dataclass
class CPPN:
    """Nodes ``id → (order, activation)`` (inputs are ids 0–3, outputs 4…) and connections ``(src, dst) → weight``."""

    nodes: dict[int, tuple[float, str]]
    connections: dict[tuple[int, int], float] = field(default_factory=dict)
    channels: int = 1

    @property
    def outputs(self) -> list[int]:
        return list(range(len(INPUTS), len(INPUTS) + self.channels))

    @property
    def hidden(self) -> list[int]:
        return [i for i in self.nodes if i >= len(INPUTS) + self.channels]

    def render(self, height: int, width: int) -> np.ndarray:
        """channels × height × width float32 array in [0, 1]."""
        xs, ys, rs, ones = _coordinates(height, width)
        values: dict[int, np.ndarray] = {0: xs, 1: ys, 2: rs, 3: ones}
        incoming: dict[int, list[tuple[int, float]]] = {}
        for (src, dst), w in self.connections.items():
            incoming.setdefault(dst, []).append((src, w))
        zero = np.zeros_like(xs)
        for node in sorted((i for i in self.nodes if i >= len(INPUTS)), key=lambda i: self.nodes[i][0]):
            total = zero.copy()
            for src, w in incoming.get(node, ()):
                total += w * values[src]
            values[node] = _act(self.nodes[node][1], total).astype(np.float32)
        return np.stack([values[o] for o in self.outputs]).astype(np.float32)

    def copy(self) -> CPPN:
        return CPPN(dict(self.nodes), dict(self.connections), self.channels)

    def to_json(self) -> dict[str, Any]:
        return {"nodes": {str(k): list(v) for k, v in self.nodes.items()},
                "connections": [[s, d, w] for (s, d), w in self.connections.items()], "channels": self.channels}  # fmt: skip


@functools.lru_cache(maxsize=8)
def _coordinates(height: int, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    xs, ys = np.meshgrid(np.linspace(-1, 1, width, dtype=np.float32), np.linspace(-1, 1, height, dtype=np.float32))
    for a in (xs, ys):
        a.setflags(write=False)
    rs = np.sqrt(xs * xs + ys * ys)
    ones = np.ones_like(xs)
    rs.setflags(write=False)
    ones.setflags(write=False)
    return xs, ys, rs, ones


class CPPNEncoding(Encoding):
    """Genomes are CPPNs; mutation only (Nguyen et al. evolved CPPNs with NEAT's operators, without crossover here).

    Each child gets its weights perturbed (each weight with probability
    ``weight_rate``, Gaussian of scale ``weight_scale``) and, each with its own
    probability, one structural mutation of every kind; networks keep at most
    ``max_hidden`` hidden nodes (so drawing stays cheap).
    """

    name: ClassVar[str] = "cppn"

    def __init__(self, *, weight_rate: float = 0.5, weight_scale: float = 0.5, add_node: float = 0.15,
                 remove_node: float = 0.05, add_connection: float = 0.2, remove_connection: float = 0.05,
                 change_activation: float = 0.1, initial_mutations: int = 3, max_hidden: int = 24):  # fmt: skip
        self.rates = {"weight_rate": weight_rate, "weight_scale": weight_scale, "add_node": add_node,
                      "remove_node": remove_node, "add_connection": add_connection,
                      "remove_connection": remove_connection, "change_activation": change_activation}  # fmt: skip
        for k, v in self.rates.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0 or (k != "weight_scale" and v > 1):
                raise ValueError(f"cppn encoding: {k} must be a number in [0, 1], got {v!r}")
        if isinstance(initial_mutations, bool) or not isinstance(initial_mutations, int) or initial_mutations < 0:
            raise ValueError(f"cppn encoding: initial_mutations must be an integer ≥ 0, got {initial_mutations!r}")
        self.initial_mutations = initial_mutations
        if isinstance(max_hidden, bool) or not isinstance(max_hidden, int) or max_hidden < 0:
            raise ValueError(f"cppn encoding: max_hidden must be an integer ≥ 0, got {max_hidden!r}")
        self.max_hidden = max_hidden

    def params(self) -> dict[str, Any]:
        return {**self.rates, "initial_mutations": self.initial_mutations, "max_hidden": self.max_hidden}

    def random(self, n: int, shape: tuple[int, ...], rng: np.random.Generator) -> list[Any]:
        channels = shape[0] if len(shape) == 3 else 1
        out = []
        for _ in range(n):
            nodes: dict[int, tuple[float, str]] = {i: (0.0, "input") for i in range(len(INPUTS))}
            nodes.update({len(INPUTS) + c: (1.0, "sigmoid") for c in range(channels)})
            g = CPPN(nodes, {(i, o): float(rng.normal(0, 1.5)) for i in range(len(INPUTS)) for o in nodes if o >= len(INPUTS)},
                     channels)  # fmt: skip
            for _ in range(self.initial_mutations):
                if len(g.hidden) < self.max_hidden:
                    add_node(g, rng)
                add_connection(g, rng)
            out.append(g)
        return out

    def mutate(self, genome: Any, rng: np.random.Generator) -> Any:
        g = genome.copy()
        r = self.rates
        keys = list(g.connections)
        hit = rng.random(len(keys)) < r["weight_rate"]
        noise = rng.normal(0, r["weight_scale"], len(keys))
        for key, h, e in zip(keys, hit, noise, strict=True):
            if h:
                g.connections[key] = min(WEIGHT_LIMIT, max(-WEIGHT_LIMIT, g.connections[key] + float(e)))
        if rng.random() < r["change_activation"] and g.hidden:
            node = int(rng.choice(g.hidden))
            g.nodes[node] = (g.nodes[node][0], str(rng.choice(ACTIVATIONS)))
        if rng.random() < r["add_node"] and len(g.hidden) < self.max_hidden:
            add_node(g, rng)
        if rng.random() < r["remove_node"]:
            remove_node(g, rng)
        if rng.random() < r["add_connection"]:
            add_connection(g, rng)
        if rng.random() < r["remove_connection"]:
            remove_connection(g, rng)
        return g

    def render(self, genomes: Sequence[Any], shape: tuple[int, ...]) -> torch.Tensor:
        h, w = (shape[1], shape[2]) if len(shape) == 3 else (shape[-2], shape[-1]) if len(shape) == 2 else (1, shape[0])
        images = np.stack([g.render(h, w) for g in genomes])
        return torch.from_numpy(images).reshape(len(genomes), *shape)


def add_node(g: CPPN, rng: np.random.Generator) -> None:
    """Split a random connection src → dst into src → new → dst (weights 1 and the old weight)."""
    if not g.connections:
        return
    keys = list(g.connections)
    src, dst = keys[int(rng.integers(len(keys)))]
    weight = g.connections.pop((src, dst))
    new = max(g.nodes) + 1
    lo, hi = g.nodes[src][0], g.nodes[dst][0]
    g.nodes[new] = (lo + (hi - lo) * float(rng.uniform(0.25, 0.75)), str(rng.choice(ACTIVATIONS)))
    g.connections[(src, new)] = 1.0
    g.connections[(new, dst)] = weight


def remove_node(g: CPPN, rng: np.random.Generator) -> None:
    """Remove a random hidden node and every connection touching it."""
    if not g.hidden:
        return
    node = int(rng.choice(g.hidden))
    del g.nodes[node]
    g.connections = {k: w for k, w in g.connections.items() if node not in k}


def add_connection(g: CPPN, rng: np.random.Generator) -> None:
    """Connect a random pair (lower order → higher order) that is not connected yet."""
    sources = [i for i in g.nodes if i not in g.outputs]
    for _ in range(20):
        a, b = int(rng.choice(sources)), int(rng.choice([i for i in g.nodes if i >= len(INPUTS)]))
        if g.nodes[a][0] < g.nodes[b][0] and (a, b) not in g.connections:
            g.connections[(a, b)] = float(rng.normal(0, 1.5))
            return


def remove_connection(g: CPPN, rng: np.random.Generator) -> None:
    if len(g.connections) > 1:
        keys = list(g.connections)
        del g.connections[keys[int(rng.integers(len(keys)))]]
