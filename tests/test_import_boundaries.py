"""What importing the CLI costs: no test double and no heavy library until a command needs it."""

from __future__ import annotations

import json
import subprocess
import sys

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


def test_help_imports_no_transport_library_and_no_test_double() -> None:
    modules = _modules("--help")
    assert _loaded(modules, "toolkit.testing") == []
    for name in HEAVY:
        assert _loaded(modules, name) == [], name


def test_the_fake_transport_does_load_the_simulator() -> None:
    # The probe itself can see an import: the demo fleet's keys list needs the simulator.
    modules = _modules("--transport", "fake", "--server", "dns1", "keys", "list", "--format", "json")
    assert _loaded(modules, "toolkit.testing.simulator")
