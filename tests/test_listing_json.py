"""docs/listing-json.md documents exactly the fields the listing commands print."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from toolkit.cli import main

DOC = (Path(__file__).parent.parent / "docs" / "listing-json.md").read_text(encoding="utf-8")


def documented(command: str) -> set[str]:
    section = DOC.split(f"## `windns {command} --format json`", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([^`]+)` \|", section, flags=re.M))


def paths(value: Any, prefix: str = "") -> set[str]:
    if isinstance(value, dict):
        out: set[str] = set()
        for k, v in value.items():
            out |= paths(v, f"{prefix}.{k}" if prefix else k)
        return out
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return set().union(*(paths(v, f"{prefix}[]") for v in value))
    return {prefix}


@pytest.mark.parametrize("command", ["keys list", "zones list"])
def test_documented_fields_are_the_printed_fields(runner: CliRunner, command: str) -> None:
    ds = ["--ds"] if command == "keys list" else []  # every documented field: the DS ones too
    argv = ["--transport", "fake", "--server", "dns1", *command.split(), *ds, "--format", "json"]
    res = runner.invoke(main, argv)
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert rows, "the demo server lists nothing"
    printed = set().union(*(paths(r) for r in rows))
    assert printed == documented(command)


def test_demo_fields_are_documented(runner: CliRunner) -> None:
    res = runner.invoke(main, ["demo", "--format", "json"])
    assert res.exit_code == 0, res.output
    assert paths(json.loads(res.output)) == documented("demo")
