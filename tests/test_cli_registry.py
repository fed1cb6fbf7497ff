"""The lazy command table of ``toolkit.cli`` against the commands its modules define.

``windns`` imports a command's modules only when the command is looked up, and lists
``--help`` from the table. These tests hold the table to the code: every command defined is
listed, its help in the list is the command's own, and the modules listed for a command are
enough to build all of it (a group's subcommands may come from several modules).
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

import toolkit.cli
from toolkit.cli import COMMANDS, main
from toolkit.cli.app import _short_help

TREE_PROBE = """
import json, sys
import click
from toolkit.cli import main

def tree(cmd):
    if isinstance(cmd, click.Group):
        ctx = click.Context(cmd)
        return {n: tree(cmd.get_command(ctx, n)) for n in cmd.list_commands(ctx)}
    return None

print(json.dumps(tree(main.get_command(click.Context(main), sys.argv[1]))))
"""

HELP_PROBE = """
import sys
from click.testing import CliRunner
from toolkit.cli import main
result = CliRunner().invoke(main, ["--help"], terminal_width=int(sys.argv[1]))
assert result.exit_code == 0, result.output
sys.stdout.write(result.output)
"""


def _tree(cmd: click.Command) -> object:
    if isinstance(cmd, click.Group):
        ctx = click.Context(cmd)
        return {n: _tree(c) for n in cmd.list_commands(ctx) if (c := cmd.get_command(ctx, n)) is not None}
    return None


@pytest.fixture(scope="module")
def loaded() -> dict[str, click.Command]:
    """Every command of the CLI, with every module of ``toolkit.cli`` imported."""
    for info in pkgutil.iter_modules(toolkit.cli.__path__):
        importlib.import_module(f"toolkit.cli.{info.name}")
    return dict(main.commands)


def test_every_command_defined_is_in_the_table(loaded: dict[str, click.Command]) -> None:
    assert sorted(loaded) == sorted(COMMANDS)


@pytest.mark.parametrize("limit", [20, 45, 70, 200])
def test_the_listed_help_is_the_commands_own(loaded: dict[str, click.Command], limit: int) -> None:
    for name, lazy in COMMANDS.items():
        assert _short_help(lazy, limit) == loaded[name].get_short_help_str(limit), name
        assert lazy.hidden == loaded[name].hidden, name


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_commands_modules_build_all_of_it(loaded: dict[str, click.Command], name: str) -> None:
    out = subprocess.run([sys.executable, "-c", TREE_PROBE, name], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == _tree(loaded[name])


@pytest.mark.parametrize("width", [80, 120])
def test_help_lists_the_same_before_and_after_the_commands_load(
    loaded: dict[str, click.Command], width: int
) -> None:
    lazy = subprocess.run(
        [sys.executable, "-c", HELP_PROBE, str(width)], capture_output=True, text=True, check=True
    ).stdout
    result = CliRunner().invoke(main, ["--help"], terminal_width=width)
    assert result.exit_code == 0, result.output
    assert "Commands:" in lazy and "explain" in lazy
    assert lazy == result.output
