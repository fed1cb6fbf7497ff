"""What importing the CLI costs: no test double and no heavy library until a command needs it."""

from __future__ import annotations

import json
import os
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

# The console script's entry, as the console script runs it; the modules loaded, on stderr at exit.
CONSOLE_PROBE = """
import atexit, sys
atexit.register(lambda: sys.stderr.write("\\n".join(sorted(sys.modules))))
from toolkit.console import main
main()
"""

#: What the console script answers without click (toolkit/console.py) must not load: click,
#: any other library of a command, the test doubles, the rules, the click CLI itself.
NOT_FOR_QUICK_ANSWERS = (
    "click",
    *(name.split(".")[0] for name in HEAVY),
    "rich",
    "toolkit.testing",
    "toolkit.rules",
    "toolkit.cli",
    "toolkit.catalogue",  # the entries: toolkit.catalogue_lookup reads the data
)
QUICK = [["--help"], ["-h"], ["--version"], ["explain", "9104"], ["explain", "0x2390"]]


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


def _console_modules(*args: str, module: str | None = None) -> list[str]:
    env = {**os.environ, "COLUMNS": "80"}  # a width the help is stored for
    env.pop("_WINDNS_COMPLETE", None)
    if module is None:
        argv = [sys.executable, "-c", CONSOLE_PROBE, *args]
    else:  # -X importtime: every import on stderr
        argv = [sys.executable, "-X", "importtime", "-m", module, *args]
    out = subprocess.run(argv, capture_output=True, text=True, check=True, env=env)
    if module is None:
        return out.stderr.splitlines()
    return [
        line.split("|")[-1].strip() for line in out.stderr.splitlines() if line.startswith("import time:")
    ]


@pytest.mark.parametrize("args", QUICK, ids=" ".join)
def test_the_console_script_answers_quick_commands_without_click(args: list[str]) -> None:
    modules = _console_modules(*args)
    assert "toolkit.console" in modules
    for name in NOT_FOR_QUICK_ANSWERS:
        assert _loaded(modules, name) == [], name
    if args[0] != "explain":  # the catalogue's data is for explain only
        assert _loaded(modules, "toolkit.catalogue_lookup") == []


@pytest.mark.parametrize("args", [["--version"], ["explain", "9104"]], ids=" ".join)
def test_python_m_toolkit_answers_them_without_click_too(args: list[str]) -> None:
    modules = _console_modules(*args, module="toolkit")
    assert "toolkit.console" in modules and _loaded(modules, "click") == []
