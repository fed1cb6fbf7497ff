"""`windns fake-server` as a user runs it: a separate process serving the demo fleet over WinRM
(and, with --dns, over DNS), then `windns` audits through the real transports against it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner

from toolkit.cli import main

PASSWORD = "Demo-pa55word"


def _start(*args: str) -> tuple[subprocess.Popen[str], list[str]]:
    env = {**os.environ, "WINDNS_PASSWORD": PASSWORD}
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "toolkit", "fake-server", "--port-base", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith("try: "):
            if "--dns" not in args:
                return proc, lines
        if line.startswith("DNS side (BIND) on "):
            return proc, lines
    proc.kill()
    proc.communicate()
    raise AssertionError("fake-server did not come up:\n" + "\n".join(lines))


@pytest.fixture(scope="module")
def served() -> Iterator[list[str]]:
    # a server configured for 150 KB (Windows' smaller default): the audits below go through it
    proc, lines = _start("--for", "120", "--dns", "--max-envelope-kb", "150")
    try:
        yield lines
    finally:
        proc.terminate()
        proc.communicate(timeout=30)  # drains and closes the pipe


def _port(lines: list[str], server: str) -> int:
    for line in lines:
        m = re.match(rf"\s+{re.escape(server)}\s+port (\d+)\s", line)
        if m:
            return int(m.group(1))
    raise AssertionError(f"{server} not announced: {lines}")


def _findings(runner: CliRunner, argv: list[str]) -> set[tuple[Any, ...]]:
    res = runner.invoke(main, [*argv, "audit", "-f", "json"], env={"WINDNS_PASSWORD": PASSWORD})
    assert res.exit_code == 1, res.output  # the demo server has findings at --fail-on high
    doc = json.loads(res.stdout)
    found = {(f["rule_id"], f["zone"], f["key_id"], f["message"]) for f in doc["findings"]}
    assert found
    return found


def test_announces_address_credentials_and_servers(served: list[str]) -> None:
    text = "\n".join(served)
    assert "windns fake WinRM endpoint on 127.0.0.1" in text and "credentials file: " in text
    announced = set(re.findall(r"DNS\d\.\S+", text))
    assert {"DNS1.corp.example", "DNS2.corp.example", "DNS4.branch.example"} <= announced
    assert PASSWORD not in text  # the password is referenced, never printed
    assert "envelopes: up to 150 KiB (MaxEnvelopeSizekb)" in served


@pytest.mark.parametrize("transport", ["psrp", "winrm"])
def test_audit_through_each_transport_equals_the_fake_transport(
    runner: CliRunner, served: list[str], transport: str
) -> None:
    port = _port(served, "DNS1.corp.example")
    wire = ["--transport", transport, "--server", "127.0.0.1", "--port", str(port), "--no-ssl"]
    wire += ["--auth", "ntlm", "--username", "windns"]
    assert _findings(runner, wire) == _findings(runner, ["--transport", "fake", "--server", "dns1"])


def test_dns_side_serves_the_same_fleet(runner: CliRunner, served: list[str]) -> None:
    (line,) = [x for x in served if x.startswith("DNS side (BIND) on ")]
    address = line.split()[4].rstrip(":")
    res = runner.invoke(
        main, ["--transport", "fake", "--server", "dns2", "audit", "--dns-server", address, "-f", "json"]
    )
    rules = {f["rule_id"] for f in json.loads(res.stdout)["findings"]}
    assert "DNS001" not in rules, res.output  # the resolver answered
    assert any(r.startswith("DNS") for r in rules)


def test_replayed_reads_give_the_same_audit(runner: CliRunner) -> None:
    proc, lines = _start("--for", "60", "--only", "DNS1.corp.example", "--replay-reads")
    try:
        assert any(x.startswith("reads replayed: ") for x in lines), lines
        port = _port(lines, "DNS1.corp.example")
        wire = ["--transport", "psrp", "--server", "127.0.0.1", "--port", str(port), "--no-ssl"]
        wire += ["--auth", "ntlm", "--username", "windns"]
        expected = _findings(runner, ["--transport", "fake", "--server", "dns1"])
        assert _findings(runner, wire) == expected
        assert _findings(runner, wire) == expected  # the second audit's reads are replayed
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def test_wrong_password_is_one_line_and_non_zero(runner: CliRunner, served: list[str]) -> None:
    port = _port(served, "DNS1.corp.example")
    argv = ["--server", "127.0.0.1", "--port", str(port), "--no-ssl", "--auth", "ntlm", "-u", "windns"]
    res = runner.invoke(main, [*argv, "keys", "list"], env={"WINDNS_PASSWORD": "wrong"})
    assert res.exit_code != 0 and "Traceback" not in res.output
    assert len(res.stderr.strip().splitlines()) == 1 and "wrong" not in res.stderr


@pytest.mark.parametrize(
    ("argv", "code", "text"),
    [
        (["--fault", "nocolon"], 3, "HOST:KIND"),
        (["--fault", "dns1:explode"], 3, "explode"),
        (["--only", "dns9"], 4, "dns9"),
        (["--max-envelope-kb", "8"], 3, "--max-envelope-kb"),  # MS-WSMV 2.2.4.10: at least 32
        (["--call-time", "-1"], 3, "--call-time"),
        (["--zone-time", "x"], 3, "--zone-time"),
    ],
)
def test_bad_options_are_one_line_errors(runner: CliRunner, argv: list[str], code: int, text: str) -> None:
    res = runner.invoke(main, ["fake-server", "--port-base", "0", "--for", "0", *argv])
    assert res.exit_code == code, res.output
    assert text in res.output and "Traceback" not in res.output


def test_dns_serve_demo_serves_signed_zones_until_its_lifetime(runner: CliRunner) -> None:
    start = time.monotonic()
    res = runner.invoke(main, ["dns", "serve-demo", "--lifetime", "5"])
    assert res.exit_code == 0, res.output
    first, *zones = res.stdout.splitlines()
    assert re.match(r"demo DNS side on 127\.0\.0\.1:\d+ \(trust anchor: ", first)
    # while it signs and starts named, stderr says so
    assert re.match(r"windns: signing \d+ demo zones and starting named on 127\.0\.0\.1", res.stderr)
    assert any(line.strip().startswith("corp.example") for line in zones)
    assert "--dns-server 127.0.0.1:" in res.output
    assert time.monotonic() - start < 60  # named stopped by itself at its lifetime
