"""The ``advlab`` command. Each sub-command lives in its own module and is added here."""

from __future__ import annotations

import importlib
import sys

import click

from advlab import __version__
from advlab.cli.errors import AdvlabGroup

# module name → command attribute; modules import lazily-heavy pieces inside their commands.
_COMMANDS = [
    ("advlab.cli.demo_cmd", "demo"),
    ("advlab.cli.reproduce_cmd", "reproduce"),
    ("advlab.cli.train_cmd", "train"),
    ("advlab.cli.data_cmd", "data"),
    ("advlab.cli.models_cmd", "models"),
    ("advlab.cli.attack_cmd", "attack"),
    ("advlab.cli.attack_cmd", "transfer_cmd"),
    ("advlab.cli.fool_cmd", "fool"),
    ("advlab.cli.evaluate_cmd", "evaluate"),
    ("advlab.cli.slice_cmd", "slice_cmd"),
    ("advlab.cli.slice_cmd", "church"),
    ("advlab.cli.slice_cmd", "profile"),
    ("advlab.cli.slice_cmd", "animate"),
    ("advlab.cli.robustness_cmd", "robustness"),
    ("advlab.cli.sweep_cmd", "sweep_cmd"),
    ("advlab.cli.explore_cmd", "explore"),
]


@click.group(cls=AdvlabGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="advlab")
def cli() -> None:
    """advlab: train classic models, fool them with standard attacks, measure, harden, and see why."""


for _module, _attr in _COMMANDS:
    cli.add_command(getattr(importlib.import_module(_module), _attr))


def main() -> None:
    try:
        cli(standalone_mode=True)
    except KeyboardInterrupt:
        sys.exit(130)
