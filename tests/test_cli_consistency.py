"""One CLI: `dns check` takes audit's --format/--fail-on and a DNS server option that cannot be
taken for the WinRM host; zones list says AD-integrated; `rules explain` keeps PowerShell
verbatim; a TLS client on a plain HTTP port is told to use --no-ssl."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from toolkit.catalogue import lookup
from toolkit.cli import main
from toolkit.findings import EXIT_CONFIG, EXIT_INCOMPLETE, EXIT_USAGE


def _command(*path: str) -> click.Command:
    cmd: click.Command = main
    for name in path:
        assert isinstance(cmd, click.Group)
        sub = cmd.get_command(click.Context(cmd), name)
        assert sub is not None, path
        cmd = sub
    return cmd


def _option(cmd: click.Command, name: str) -> click.Option:
    found = [p for p in cmd.params if isinstance(p, click.Option) and name in p.opts]
    assert found, f"{cmd.name} has no {name}"
    return found[0]


def test_dns_check_options_are_audits(runner: CliRunner) -> None:
    check, audit = _command("dns", "check"), _command("audit")
    for name in ("--fail-on", "--policy", "--profile"):
        assert _option(check, name).help == _option(audit, name).help
        assert _option(check, name).default == _option(audit, name).default
    assert "-f" in _option(check, "--format").opts
    assert not any("--server" in p.opts for p in check.params if isinstance(p, click.Option))
    _option(check, "--dns-server")
    # a bad severity is refused with audit's words
    r = runner.invoke(main, ["dns", "check", "corp.example", "--dns-server", "127.0.0.1", "--fail-on", "hgh"])
    a = runner.invoke(main, ["--transport", "fake", "-s", "dns1", "audit", "--fail-on", "hgh"])
    assert r.exit_code == a.exit_code == EXIT_USAGE
    assert r.stderr.splitlines()[-1] == a.stderr.splitlines()[-1]


def test_dns_check_without_a_dns_server_says_which_option(runner: CliRunner) -> None:
    r = runner.invoke(main, ["--server", "dns1", "dns", "check", "corp.example"])
    assert r.exit_code == EXIT_USAGE and "Traceback" not in r.output
    assert "give --dns-server ADDR[:PORT]" in r.stderr and "--server names the WinRM host" in r.stderr


def test_zones_list_says_ad_integrated(runner: CliRunner) -> None:
    r = runner.invoke(main, ["--transport", "fake", "-s", "dns5", "zones", "list"])
    assert r.exit_code == 0
    header = r.stdout.splitlines()[0].split()
    assert "ad_integrated" in header and "ds_integrated" not in header
    r = runner.invoke(main, ["--transport", "fake", "-s", "dns5", "zones", "list", "-f", "json"])
    rows = {z["zone"]: z for z in json.loads(r.stdout)}
    assert rows["adkeys.lab.example"]["ad_integrated"] is True
    assert rows["lab.example"]["ad_integrated"] is False


def test_rules_explain_prints_the_catalogue_powershell_verbatim(runner: CliRunner) -> None:
    r = runner.invoke(main, ["rules", "explain", "KEY001"])
    assert r.exit_code == 0
    printed = [line.strip() for line in r.stdout.splitlines()]
    commands = [
        line
        for line in (lookup("9104").resolve or "").splitlines()
        if line.startswith(("Add-", "Invoke-", "Export-"))
    ]
    assert len(commands) >= 3
    for line in commands:
        assert line in printed, line


class _Quiet(http.server.BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        """Not on the test's stderr."""


@pytest.fixture
def plain_http_port() -> Iterator[int]:
    """A plain HTTP server on 127.0.0.1 (a WinRM HTTP listener, as a TLS client meets it)."""
    server = http.server.HTTPServer(("127.0.0.1", 0), _Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("transport", ["psrp", "winrm"])
def test_tls_to_a_plain_http_port_says_use_no_ssl(
    runner: CliRunner, plain_http_port: int, transport: str
) -> None:
    r = runner.invoke(
        main,
        ["--server", "127.0.0.1", "--port", str(plain_http_port), "--auth", "ntlm", "-u", "x"]
        + ["--transport", transport, "--connect-timeout", "5", "zones", "list"],
        env={"WINDNS_PASSWORD": "not-a-secret"},
    )
    assert r.exit_code == EXIT_INCOMPLETE, r.output
    assert r.stderr.count("\n") == 1 and "--no-ssl" in r.stderr and "5985" in r.stderr, r.stderr


def test_explain_an_unknown_code_is_one_line(runner: CliRunner) -> None:
    r = runner.invoke(main, ["explain", "no-such-code"])
    assert r.exit_code == EXIT_CONFIG and r.stderr.count("\n") == 1


def test_report_format_choices_are_the_renderers() -> None:
    from toolkit.cli.output import CHECKLIST_FORMATS, REPORT_FORMATS
    from toolkit.render import CHECKLIST_FORMATS as RENDERED_CHECKLISTS
    from toolkit.render import FORMATS

    assert REPORT_FORMATS == tuple(FORMATS)
    assert frozenset(CHECKLIST_FORMATS) == RENDERED_CHECKLISTS
    for path in (("audit",), ("scan",), ("history", "show")):
        fmt = _option(_command(*path), "--format")
        assert isinstance(fmt.type, click.Choice) and tuple(fmt.type.choices) == REPORT_FORMATS, path
