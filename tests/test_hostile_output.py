"""Odd server output: numbers too long to read, nesting too deep, lone surrogates, terminal controls.

Each is a typed one-line error for that host, or text escaped where it is shown; once stored in
the history, no later command is broken by it.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import toolkit.services.scan as scan_mod
from toolkit.cli import main
from toolkit.errors import NormaliseError, ProtocolError, RemoteError
from toolkit.findings import EXIT_INCOMPLETE, EXIT_INTERNAL
from toolkit.fleet import HostSpec
from toolkit.normalise import load_file
from toolkit.remote.base import ClosingRemote, RemoteResult, parse_script_output
from toolkit.safetext import for_terminal
from toolkit.services.scan import Scanner, ScanOptions
from toolkit.testing.fake_remote import load_fleet

HUGE = "9" * 5000  # beyond Python's 4,300-digit limit for int("...")
DEEP = "[" * 50_000 + "]" * 50_000

#: names a server may print: a lone surrogate (JSON escape), ESC sequences and a bidi override,
#: a literal lone surrogate (what a CLIXML decoder can produce), rich markup
SURROGATE = "bad\\ud800.example"
CONTROLS = "evil\\u001b[2J\\u001b]0;pwned\\u0007\\u202egro.example"
LITERAL = "lit\udc80.example"
MARKUP = "[bold red]markup[/].example"
RENAMES = {
    "nozsk.corp.example": SURROGATE,
    "noksk.corp.example": CONTROLS,
    "ecdsa.corp.example": LITERAL,
    "legacy.corp.example": MARKUP,
}
BAD_ERROR = "the answer was \x1b[31mred\x1b[0m \ud800 and \u202eexe.txt"


class TextRemote(ClosingRemote):
    """A transport's view of a server: the demo server's answer as text, edited, then parsed
    by ``parse_script_output`` as the real transports parse it."""

    def __init__(self, host: str, edit: Callable[[str], str] = lambda t: t, fail: Exception | None = None):
        self.host = host
        self.edit = edit
        self.fail = fail
        self.server = load_fleet().get("dns1")

    def run(self, script: str, params: Mapping[str, Any] | None = None) -> RemoteResult:
        if self.fail is not None:
            raise self.fail
        raw = self.edit(self.server.run_text(script, params))
        return RemoteResult(script, parse_script_output(script, raw, host=self.host), raw)

    def close(self) -> None:
        pass


def _renamed(text: str) -> str:
    for old, new in RENAMES.items():
        text = text.replace(f'"{old}"', f'"{new}"')
    return text


def _hostile_connector(spec: HostSpec) -> TextRemote:
    if spec.name == "dns2":
        return TextRemote(spec.name, fail=ProtocolError(BAD_ERROR))
    if spec.name == "dns3":
        return TextRemote(spec.name, lambda t: t.replace('"KeyLength":[2048', f'"KeyLength":[{HUGE}', 1))
    if spec.name == "dns4":
        return TextRemote(spec.name, lambda t: t.replace('"Errors":[]', f'"Errors":{DEEP}', 1))
    return TextRemote(spec.name, _renamed)


# -- parsing ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (f'{{"Schema": "windns.inventory", "KeyLength": {HUGE}}}', "digits"),
        (f'{{"KeyLength": -{HUGE}}}', "digits"),
        (f'{{"Zones": {DEEP}}}', "nested too deeply"),
        ('{"a": "\\ud800', "not JSON"),
    ],
)
def test_unreadable_answers_are_one_line_protocol_errors(text: str, needle: str) -> None:
    with pytest.raises(ProtocolError) as err:
        parse_script_output("inventory", text, host="dns1")
    message = str(err.value)
    assert message.startswith("dns1: script inventory printed") and needle in message, message
    assert message.isprintable() and len(message) < 200


def test_a_saved_file_with_an_unreadable_number_is_a_normalise_error(tmp_path: Path) -> None:
    path = tmp_path / "inv.json"
    path.write_text(f'{{"Schema": "windns.inventory", "n": {HUGE}}}', encoding="utf-8")
    with pytest.raises(NormaliseError, match="digits"):
        load_file(path)
    r = CliRunner().invoke(main, ["audit", "--offline", str(path)])
    assert r.exit_code == 4 and "Traceback" not in r.output + r.stderr
    assert r.stderr.count("\n") == 1 and "digits" in r.stderr


def test_lone_surrogates_are_read_as_their_escape() -> None:
    remote = TextRemote("dns1", _renamed)
    data = remote.run("inventory").data
    names = [z["ZoneName"] for z in data["Zones"]]
    assert "bad\\ud800.example" in names and "lit\\udc80.example" in names
    assert all(n.encode("utf-8") for n in names)  # every one encodable
    # a pair of surrogates is the character it encodes
    pair = parse_script_output("x", '{"a": "\\ud83d\\ude00", "b": "\ud83d\ude00"}')
    assert pair == {"a": "\U0001f600", "b": "\U0001f600"}


def test_a_fleet_scan_records_each_bad_answer_as_that_hosts_error() -> None:
    hosts = [HostSpec(name=n, address=n) for n in ("dns1", "dns2", "dns3", "dns4")]
    stored: list[str] = []
    report = (
        Scanner(
            hosts,
            _hostile_connector,
            options=ScanOptions(concurrency=2, retries=0),
            on_host=lambda h: stored.append(h.server),
        )
        .run()
        .report
    )
    by = {h.server: h for h in report.hosts}
    assert by["dns1"].ok and sorted(stored) == ["dns1", "dns2", "dns3", "dns4"]
    for name, needle in (("dns2", "the answer was"), ("dns3", "digits"), ("dns4", "nested too deeply")):
        error = by[name].error
        assert error is not None and error.kind == "protocol" and needle in error.message, (name, error)
    assert by["dns2"].error is not None and "\ud800" not in by["dns2"].error.message


# -- a stored scan holding such text -------------------------------------------------------------------
def _run(runner: CliRunner, *args: str) -> tuple[int, str, str]:
    r = runner.invoke(main, list(args))
    text = r.output + r.stderr
    assert "Traceback" not in text and "internal error" not in text, (args, text[-500:])
    assert r.exit_code != EXIT_INTERNAL, args
    return r.exit_code, r.stdout, r.stderr


def _no_terminal_controls(text: str) -> None:
    assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text
    assert all(c.isprintable() or c == "\n" for c in text), [c for c in text if not c.isprintable()][:5]


def test_a_stored_scan_with_hostile_names_breaks_no_later_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inventory = tmp_path / "hosts.txt"
    inventory.write_text("dns1\ndns2\n", encoding="utf-8")
    db = str(tmp_path / "h.sqlite3")
    runner = CliRunner()
    # first a scan without them, so the drift report has them to show
    monkeypatch.setattr(scan_mod, "default_connector", lambda *a, **k: lambda spec: TextRemote(spec.name))
    assert _run(runner, "scan", str(inventory), "--db", db, "-f", "json")[0] == 1
    monkeypatch.setattr(scan_mod, "default_connector", lambda *a, **k: _hostile_connector)
    code, out, err = _run(runner, "scan", str(inventory), "--db", db)
    assert code == EXIT_INCOMPLETE  # dns2 failed; dns1, with every odd name, was audited
    _no_terminal_controls(out + err)
    assert "evil\\x1b[2J" in out and "\\u202egro.example" in out and "bad\\ud800.example" in out
    assert "dns2  ERROR protocol: the answer was \\x1b[31mred" in out
    assert MARKUP in out
    code, out, _ = _run(runner, "history", "show", "--db", db, "--format", "json")
    stored = json.loads(out)
    zones = {f["zone"] for f in stored["findings"]}
    assert {"bad\\ud800.example", "evil\x1b[2J\x1b]0;pwned\x07\u202egro.example"} <= zones
    # every history-reading command, every format
    for fmt in ("table", "json", "csv"):
        code, out, err = _run(runner, "history", "list", "--db", db, "--format", fmt)
        assert code == 0
    for fmt in ("table", "json", "csv", "sarif", "junit", "html", "prometheus"):
        code, out, err = _run(runner, "history", "show", "--db", db, "--format", fmt)
        assert code == 0 and out, fmt
        if fmt == "table":
            _no_terminal_controls(out + err)
        if fmt == "junit":
            ET.fromstring(out)  # well-formed: no character XML forbids
    for extra in ((), ("--all",)):
        for fmt in ("table", "json", "csv"):
            code, out, err = _run(runner, "rollovers", "--db", db, "--format", fmt, *extra)
            assert code == 0 and out, fmt
            if fmt == "table":
                _no_terminal_controls(out + err)
                assert "bad\\ud800.example" in out
    scan_formats = ("table", "json", "csv", "sarif", "github", "gitlab", "junit", "html", "prometheus")
    for fmt in scan_formats:
        code, out, err = _run(runner, "scan", str(inventory), "--db", db, "--format", fmt)
        assert code == EXIT_INCOMPLETE and out, fmt
        _no_terminal_controls(err)
        if fmt == "junit":
            ET.fromstring(out)
        if fmt in ("json", "gitlab", "sarif"):
            json.loads(out)
        if fmt == "github":  # a job log: one workflow command per line, nothing a terminal acts on
            _no_terminal_controls(out)
            assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in out.splitlines())
    for fmt in ("ckl", "cklb"):
        code, _, err = _run(runner, "scan", str(inventory), "--db", db, "-f", fmt, "-o", str(tmp_path / fmt))
        assert code == EXIT_INCOMPLETE
        files = sorted((tmp_path / fmt).iterdir())
        assert len(files) == 2
        for f in files:
            text = f.read_text(encoding="utf-8")
            ET.fromstring(text) if fmt == "ckl" else json.loads(text)
    prom = tmp_path / "windns.prom"
    code, _, _ = _run(runner, "scan", str(inventory), "--db", db, "-f", "prometheus", "-o", str(prom))
    assert code == EXIT_INCOMPLETE and "bad\\\\ud800.example" in prom.read_text(encoding="utf-8")
    for fmt in ("table", "json"):
        code, out, err = _run(runner, "diff", "1", "--db", db, "--format", fmt)
        assert code == 0
        if fmt == "table":
            _no_terminal_controls(out + err)
            assert "evil\\x1b[2J" in out and "failing  dns2: protocol: the answer was \\x1b[31m" in out
    code, out, _ = _run(runner, "history", "list", "--db", db, "--format", "json")
    scans = 2 + len(scan_formats) + 2 + 1  # the first two, one per format, ckl/cklb, the textfile
    assert len(json.loads(out)) == scans and {r["status"] for r in json.loads(out)} == {"complete"}


def test_error_lines_on_the_terminal_are_escaped(monkeypatch: pytest.MonkeyPatch) -> None:
    import toolkit.cli.app as app_mod

    class Hostile(ClosingRemote):
        host = "dns1"

        def run(self, script: str, params: Mapping[str, Any] | None = None) -> RemoteResult:
            raise RemoteError(BAD_ERROR, host="dns1")

        def close(self) -> None:
            pass

    monkeypatch.setattr(app_mod, "connect", lambda *a, **k: Hostile())
    r = CliRunner().invoke(main, ["--server", "dns1", "keys", "list"])
    assert r.exit_code == EXIT_INCOMPLETE and "Traceback" not in r.output + r.stderr
    assert r.stderr == f"windns: error: dns1: {for_terminal(' '.join(BAD_ERROR.split()))}\n"
    assert "\\x1b[31mred" in r.stderr and "\\u202eexe.txt" in r.stderr and "\\ud800" in r.stderr


def test_for_terminal_escapes_exactly_what_a_terminal_acts_on() -> None:
    kept = "dns1.corp.example CORP\\dnsaudit zone é ü 中文 \U0001f600 [bold] 100%"
    assert for_terminal(kept) == kept
    assert for_terminal("a\nb\rc\td") == "a\\nb\\rc\\td"
    assert for_terminal("\x1b[2J\x07\x7f\x9b") == "\\x1b[2J\\x07\\x7f\\x9b"
    for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C, 0x2028, 0x2029):
        assert for_terminal(f"x{chr(code)}y") == f"x\\u{code:04x}y"
    assert for_terminal("x\ud800y") == "x\\ud800y"
    assert for_terminal("x\ud800y").encode("utf-8")


def test_log_lines_on_the_terminal_are_escaped() -> None:
    import logging

    from toolkit.cli.app import _TerminalFormatter

    formatter = _TerminalFormatter("windns: %(levelname)s: %(message)s")
    record = logging.LogRecord(
        "windns.scan", logging.WARNING, __file__, 1, "%s: %s", ("dns2", BAD_ERROR), None
    )
    line = formatter.format(record)
    assert line == f"windns: WARNING: dns2: {for_terminal(BAD_ERROR)}" and line.isprintable()
