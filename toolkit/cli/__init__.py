"""The `windns` command line. ``main`` is the click group (and the console script).

Each command module registers its commands on ``main`` when imported; the list below is the
one place that says which modules make up the CLI.
"""

from toolkit.cli import read_cmds  # noqa: F401  (zones, keys, audit, explain, demo)
from toolkit.cli.app import AppContext, main, run

__all__ = ["AppContext", "main", "run"]
