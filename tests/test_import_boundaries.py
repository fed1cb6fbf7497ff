"""What importing the CLI costs: no test double and no heavy library until a command needs it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PROBE = """
import json, sys
from click.testing import CliRunner
from toolkit.cli import main
result = CliRunner().invoke(main, sys.argv[1:])
assert result.exit_code == 0, result.output
print(json.dumps(sorted(sys.modules)))
"""

HEAVY = ("pypsrp", "winrm", "psrpcore", "spnego", "cryptography", "dns.dnssec")


def _modules(*args: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True)
    return list(json.loads(out.stdout))


def _loaded(modules: list[str], prefix: str) -> list[str]:
    return [m for m in modules if m == prefix or m.startswith(prefix + ".")]


def test_importing_the_cli_imports_nothing_from_the_test_doubles() -> None:
    out = subprocess.run(
        [sys.executable, "-c", "import json, sys, toolkit.cli; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert _loaded(json.loads(out.stdout), "toolkit.testing") == []


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["explain", "9104"]])
def test_quick_commands_import_no_transport_library_and_no_test_double(args: list[str]) -> None:
    modules = _modules(*args)
    assert _loaded(modules, "toolkit.testing") == []
    for name in HEAVY:
        assert _loaded(modules, name) == [], name


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["explain", "9104"]])
def test_quick_commands_load_no_other_command(args: list[str]) -> None:
    modules = _modules(*args)
    commands = {m for m in modules if m.startswith("toolkit.cli.") and m.endswith(("_cmd", "_cmds"))}
    assert commands == ({"toolkit.cli.explain_cmd"} if args[0] == "explain" else set())
    assert _loaded(modules, "toolkit.rules") == []  # an error code needs the catalogue only
    assert _loaded(modules, "dns") == []


def test_explaining_a_rule_id_does_load_the_rules() -> None:
    modules = _modules("explain", "KEY001")
    assert _loaded(modules, "toolkit.rules.registry")


def test_the_fake_transport_does_load_the_simulator() -> None:
    # The probe itself can see an import: the demo fleet's keys list needs the simulator.
    modules = _modules("--transport", "fake", "--server", "dns1", "keys", "list", "--format", "json")
    assert _loaded(modules, "toolkit.testing.simulator")
