"""`windns --help`, `--version` and `explain CODE`, answered without click (toolkit/console.py):
the click CLI's output and exit code to the byte, and the click CLI for everything else.

Each case runs twice, each time in a process of its own: through the console script's entry
(``toolkit.console.main``) and through the click CLI alone (``toolkit.cli.main``, the entry of
old). A probe writes the modules loaded at exit to a file, which tells the two paths apart: the
console answered if click was never imported. What the console must not import at all is
tests/test_import_boundaries.py's.
"""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from dataclasses import dataclass
from pathlib import Path

import click
import pytest

from toolkit import console, help_text
from toolkit.cli import config, help_snapshot, main
from toolkit.cli.explain_cmd import explain_cmd

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import atexit, os, sys

def _dump():
    names = sorted(sys.modules)
    with open(os.environ["FAST_START_MODULES"], "w") as out:
        out.write("\\n".join(names))

atexit.register(_dump)
from {module} import main
main()
"""

CONSOLE = "toolkit.console"
CLICK = "toolkit.cli"

HELP = [["--help"], ["-h"]]
EXPLAIN = [
    ["explain", "9104"],
    ["explain", "0x2399"],
    ["explain", "dns_error_too_many_skds"],
    ["explain", "WIN32 9114,Add-DnsServerSigningKey"],
    ["explain", "5"],  # no advice: name and message only
]
FAST = [*HELP, ["--version"], *EXPLAIN]


@dataclass(frozen=True)
class Run:
    stdout: bytes
    stderr: bytes
    code: int
    modules: frozenset[str]

    @property
    def without_click(self) -> bool:
        return "click" not in self.modules

    @property
    def seen(self) -> tuple[bytes, bytes, int]:
        return self.stdout, self.stderr, self.code


def _env(tmp_path: Path, env: dict[str, str | None]) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "_WINDNS_COMPLETE")}
    out.update(PYTHONPATH=str(ROOT), FAST_START_MODULES=str(tmp_path / "modules.txt"))
    for name, value in env.items():
        if value is None:
            out.pop(name, None)
        else:
            out[name] = value
    return out


def _modules(tmp_path: Path) -> frozenset[str]:
    path = tmp_path / "modules.txt"
    names = frozenset(path.read_text().split("\n"))
    path.unlink()
    return names


def _run(module: str, args: list[str], tmp_path: Path, env: dict[str, str | None], stdout: int | None) -> Run:
    r = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module), *args],
        stdout=subprocess.PIPE if stdout is None else stdout,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=_env(tmp_path, env),
        timeout=60,
        check=False,
    )
    return Run(r.stdout or b"", r.stderr, r.returncode, _modules(tmp_path))


def _both(
    args: list[str], tmp_path: Path, env: dict[str, str | None] | None = None, stdout: int | None = None
) -> tuple[Run, Run]:
    """The console's run of ``args`` and the click CLI's; their output and exit code equal."""
    fast = _run(CONSOLE, args, tmp_path, env or {}, stdout)
    slow = _run(CLICK, args, tmp_path, env or {}, stdout)
    assert not slow.without_click
    assert fast.seen == slow.seen
    return fast, slow


@pytest.mark.parametrize("columns", [None, "80", "100", "240"])
@pytest.mark.parametrize("args", HELP, ids=" ".join)
def test_help_is_clicks_at_the_stored_widths(args: list[str], columns: str | None, tmp_path: Path) -> None:
    # no COLUMNS and not a terminal: click's fallback of 80 columns
    fast, _ = _both(args, tmp_path, {"COLUMNS": columns})
    assert fast.without_click
    assert fast.code == 0 and fast.stderr == b"" and fast.stdout.startswith(b"Usage: windns [OPTIONS]")


@pytest.mark.parametrize("args", [["--version"], *EXPLAIN], ids=" ".join)
def test_version_and_explain_are_clicks(args: list[str], tmp_path: Path) -> None:
    fast, _ = _both(args, tmp_path)
    assert fast.without_click
    assert fast.code == 0 and fast.stderr == b"" and fast.stdout


@pytest.mark.parametrize("columns", ["60", "99", "30", "81"])
def test_help_at_another_width_is_clicks_own(columns: str, tmp_path: Path) -> None:
    fast, _ = _both(["--help"], tmp_path, {"COLUMNS": columns})
    assert not fast.without_click


def _on_terminal(module: str, args: list[str], columns: int, tmp_path: Path) -> Run:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-c", PROBE.format(module=module), *args],
        stdout=slave,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=_env(tmp_path, {}),
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the process has closed its side
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    _, stderr = proc.communicate(timeout=60)
    return Run(b"".join(chunks), stderr, proc.returncode, _modules(tmp_path))


@pytest.mark.parametrize("columns", [80, 132, 70])
def test_help_on_a_terminal_is_clicks(columns: int, tmp_path: Path) -> None:
    # the width from the terminal itself (no COLUMNS): 80 and 132 columns are stored, 70 is not
    fast = _on_terminal(CONSOLE, ["--help"], columns, tmp_path)
    slow = _on_terminal(CLICK, ["--help"], columns, tmp_path)
    assert fast.seen == slow.seen
    assert fast.without_click == (columns != 70)
    assert fast.stdout.startswith(b"Usage: windns")


def _config_home(tmp_path: Path, text: str) -> str:
    home = tmp_path / "xdg-config"
    (home / "windns").mkdir(parents=True)
    (home / "windns" / "config.toml").write_text(text)
    return str(home)


@pytest.mark.parametrize("args", FAST, ids=" ".join)
def test_a_config_file_sends_every_case_to_click(args: list[str], tmp_path: Path) -> None:
    # its defaults show in the help ([default: winrm]); explain's root options take them too
    fast, _ = _both(args, tmp_path, {"XDG_CONFIG_HOME": _config_home(tmp_path, 'transport = "winrm"\n')})
    assert not fast.without_click
    assert fast.code == 0
    if args in HELP:
        assert fast.stdout.decode() != help_text.HELP[78] + "\n"


@pytest.mark.parametrize(
    "env",
    [
        {"XDG_CONFIG_HOME": "broken"},  # replaced below by a config file that is not TOML
        {"WINDNS_CONFIG": "named"},  # replaced below by a config file of that name
        {"WINDNS_CONFIG": "no-such-file.toml"},
        {"WINDNS_CONFIG": ""},
    ],
    ids=["broken-config", "named-config", "missing-config", "empty-config-variable"],
)
@pytest.mark.parametrize("args", [["--version"], ["--help"], ["explain", "9104"]], ids=" ".join)
def test_config_cases_are_clicks(args: list[str], env: dict[str, str | None], tmp_path: Path) -> None:
    if env.get("XDG_CONFIG_HOME") == "broken":
        env = {"XDG_CONFIG_HOME": _config_home(tmp_path, "transport = \n")}
    elif env.get("WINDNS_CONFIG") == "named":
        (tmp_path / "named.toml").write_text('server = "dns1"\n')
        env = {"WINDNS_CONFIG": str(tmp_path / "named.toml")}
    fast, _ = _both(args, tmp_path, env)
    assert not fast.without_click


def test_a_config_directory_with_no_file_keeps_the_fast_path(tmp_path: Path) -> None:
    home = tmp_path / "xdg-config"
    (home / "windns").mkdir(parents=True)
    fast, _ = _both(["--help"], tmp_path, {"XDG_CONFIG_HOME": str(home)})
    assert fast.without_click


@pytest.mark.parametrize(
    "args",
    [
        ["explain", "KEY001"],
        ["explain", "key001"],
        ["explain", "NOPE001"],  # a rule id's shape, no such rule: the catalogue's error, from click
        ["explain", "4242"],
        ["explain", "9100"],
        ["explain", "no-such-code"],
        ["explain", ""],
        ["explain", "--help"],
        ["explain", "-5"],
        ["explain", "--", "9104"],
        ["explain", "9104", "9105"],
        ["explain", "9104", "-v"],
        ["explain"],
        ["-v", "explain", "9104"],
        ["--help", "--version"],
        ["--version", "--help"],
        ["--versio"],
        ["demo", "--help"],
        [],
    ],
    ids=lambda a: " ".join(a) or "(none)",
)
def test_everything_else_is_clicks(args: list[str], tmp_path: Path) -> None:
    fast, _ = _both(args, tmp_path)
    assert not fast.without_click


def _hostile(param: click.Parameter, tmp_path: Path) -> str:
    """A value click rejects for ``param`` if it checks it: a directory for a file path."""
    return str(tmp_path) if isinstance(param.type, click.Path) else "bogus"


def _root_env() -> dict[str, click.Parameter]:
    return {p.envvar: p for p in main.params if isinstance(p.envvar, str)}


def test_the_console_knows_every_root_environment_variable() -> None:
    assert set(console.ROOT_ENV) == set(_root_env())
    for name in console.PLAIN_ENV:
        param = _root_env()[name]
        # taken as it is: no check that could fail, nothing run on it
        assert param.type is click.STRING and param.callback is None and not param.multiple, name
    # explain's own parameters: the code, nothing read from the environment
    assert [(p.name, p.envvar, p.type) for p in explain_cmd.params] == [("code", None, click.STRING)]


@pytest.mark.parametrize("args", [["--help"], ["--version"]], ids=" ".join)
def test_help_and_version_ignore_the_root_environment(args: list[str], tmp_path: Path) -> None:
    # click answers them before it reads any other option (they are eager)
    env: dict[str, str | None] = {
        name: _hostile(param, tmp_path) for name, param in _root_env().items() if name != "WINDNS_CONFIG"
    }
    fast, _ = _both(args, tmp_path, env)
    assert fast.without_click


@pytest.mark.parametrize("name", sorted(console.ROOT_ENV))
def test_explain_and_the_root_environment(name: str, tmp_path: Path) -> None:
    # what click would check goes to click (it fails there); plain text stays fast
    param = _root_env()[name]
    fast, slow = _both(["explain", "9104"], tmp_path, {name: _hostile(param, tmp_path)})
    assert fast.without_click == (name in console.PLAIN_ENV)
    if name in ("WINDNS_TRANSPORT", "WINDNS_KEYTAB", "WINDNS_CCACHE"):
        assert slow.code != 0 and b"Invalid value" in slow.stderr


def test_shell_completion_is_clicks(tmp_path: Path) -> None:
    fast, _ = _both(["--help"], tmp_path, {"_WINDNS_COMPLETE": "bash_source"})
    assert not fast.without_click
    assert b"complete" in fast.stdout


def test_an_ascii_stdout_is_clicks(tmp_path: Path) -> None:
    # click writes through a stream of its own then
    fast, _ = _both(["--version"], tmp_path, {"PYTHONIOENCODING": "ascii"})
    assert not fast.without_click


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
@pytest.mark.parametrize("unbuffered", ["1", None])
@pytest.mark.parametrize("args", [["--help"], ["--version"], ["explain", "9104"]], ids=" ".join)
def test_a_failed_write_is_reported_as_click_reports_it(
    args: list[str], unbuffered: str | None, tmp_path: Path
) -> None:
    with open("/dev/full", "wb") as full:
        fast, _ = _both(args, tmp_path, {"PYTHONUNBUFFERED": unbuffered}, stdout=full.fileno())
    assert fast.code != 0 and b"windns: error: No space left on device" in fast.stderr


def test_the_stored_help_is_current(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib.metadata import version

    if version("click") != help_text.CLICK_VERSION:
        # rendered by another click: never answered from the store (so never wrong), only slower
        # until `python -m toolkit.cli.help_snapshot` renders it again with this click
        monkeypatch.setenv("COLUMNS", "80")
        assert console.answer(["--help"]) is None
        return
    stored = (ROOT / "toolkit" / "help_text.py").read_text(encoding="utf-8")
    assert stored == help_snapshot.module_source(), (
        "toolkit/help_text.py is stale: run `python -m toolkit.cli.help_snapshot`"
    )


def test_another_click_sends_help_to_click(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    assert console.answer(["--help"]) == 0
    assert capsys.readouterr().out == help_text.HELP[78] + "\n"
    monkeypatch.setattr(help_text, "CLICK_VERSION", "7.0")
    assert console.answer(["--help"]) is None
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("xdg", [None, "", "relative/dir", "/abs/dir"])
def test_the_default_config_path_is_the_clis(xdg: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    if xdg is None:
        monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CONFIG_HOME", xdg)
    assert console.default_config_path() == str(config.default_config_path())
