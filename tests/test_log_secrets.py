"""No authentication token, challenge, response or password in any log output, at any verbosity.

As a user runs it: `windns -vv fake-server` in one process, `windns -vv ...` in another, over
both transports, NTLM, Negotiate and Basic, HTTP and HTTPS; stdout and stderr of both are searched
for NTLMSSP messages (base64 at any alignment), SPNEGO/Kerberos tokens, Authorization header
credentials and the password. The libraries do log those records at -vv: the redaction marker in
their place proves the filter saw them.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from toolkit.findings import EXIT_INCOMPLETE
from toolkit.remote.redact import MARK, SecretFilter, redact, remember_secret

PASSWORD = "Log-pa55word-16"
USER = "windns"

#: "NTLMSSP\0" base64-encoded at byte offsets 0, 1 and 2 (the last two: inside a SPNEGO wrapper)
NTLMSSP = ("TlRMTVNTUA", "5UTE1TU1A", "OVExNU1NQ")
SPNEGO = re.compile(r"(?<![A-Za-z0-9+/])(?:YII|YE|YG|oY|oR|oS)[A-Za-z0-9+/]{20,}")
HEADER_VALUE = re.compile(
    r"(?i)\b(?:negotiate|ntlm|kerberos|basic|credssp|bearer)[ \t]+(?=[A-Za-z0-9+/]*[0-9+/])[A-Za-z0-9+/]{8,}"
)


def leaks(text: str) -> list[str]:
    """What in ``text`` is authentication material."""
    found = [sig for sig in NTLMSSP if sig in text]
    found += [m.group(0)[:40] for m in SPNEGO.finditer(text)]
    found += [m.group(0)[:40] for m in HEADER_VALUE.finditer(text)]
    basic = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    found += [s for s in (PASSWORD, basic, basic.rstrip("=")) if s in text]
    return found


@dataclass
class Served:
    proc: subprocess.Popen[str]
    lines: list[str]
    log: Path

    def port(self, name: str) -> int:
        for line in self.lines:
            m = re.match(rf"\s+{re.escape(name)}\s+port (\d+)\s", line)
            if m:
                return int(m.group(1))
        raise AssertionError(f"{name} not announced: {self.lines}")

    @property
    def ca_bundle(self) -> str:
        (line,) = [x for x in self.lines if x.startswith("certificate (use as --ca-bundle): ")]
        return line.split(": ", 1)[1]

    def log_size(self) -> int:
        return self.log.stat().st_size

    def log_since(self, offset: int) -> str:
        with self.log.open(encoding="utf-8", errors="replace") as fh:
            fh.seek(offset)
            return fh.read()


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "WINDNS_PASSWORD": PASSWORD, **extra}


def _serve(log: Path, *args: str) -> Served:
    """`windns -vv fake-server ...`: stdout read for the announcement, stderr (the log) to a file."""
    with log.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-u", "-m", "toolkit", "-vv", "fake-server", "--port-base", "0", "--for", "300"]
            + list(args),
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=_env(),
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
            return Served(proc, lines, log)
    proc.kill()
    proc.communicate()
    raise AssertionError("fake-server did not come up:\n" + "\n".join(lines) + log.read_text())


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Served]]:
    logs = tmp_path_factory.mktemp("server-logs")
    started: dict[str, Served] = {}
    try:
        started["http"] = _serve(
            logs / "http.log", "--only", "dns1", "--only", "dns2", "--fault", "dns2:http401"
        )
        started["https"] = _serve(logs / "https.log", "--only", "dns1", "--tls")
        yield started
    finally:
        for s in started.values():
            s.proc.terminate()
            s.proc.communicate(timeout=30)


def _client(
    served: Served, transport: str, auth: str, *, host: str = "DNS1.corp.example", password: str = PASSWORD
) -> subprocess.CompletedProcess[str]:
    argv = ["--transport", transport, "--server", "127.0.0.1", "--port", str(served.port(host))]
    if any(x.startswith("certificate (use as") for x in served.lines):
        argv += ["--ssl", "--ca-bundle", served.ca_bundle]
    else:
        argv += ["--no-ssl", "--allow-basic-over-http"]
    argv += ["--auth", auth, "--username", USER]
    return subprocess.run(
        [sys.executable, "-m", "toolkit", "-vv", *argv, "keys", "list"],
        capture_output=True,
        text=True,
        env=_env(WINDNS_PASSWORD=password),
        timeout=120,
        check=False,
    )


CASES = [
    (transport, auth, scheme)
    for transport in ("psrp", "winrm")
    for auth, scheme in (("ntlm", "http"), ("negotiate", "http"), ("basic", "http"), ("ntlm", "https"))
] + [("psrp", "negotiate", "https"), ("winrm", "basic", "https"), ("psrp", "basic", "https")]


@pytest.mark.parametrize(("transport", "auth", "scheme"), CASES, ids=["-".join(c) for c in CASES])
def test_no_token_or_password_in_any_output_at_vv(
    servers: dict[str, Served], transport: str, auth: str, scheme: str
) -> None:
    served = servers[scheme]
    offset = served.log_size()
    res = _client(served, transport, auth)
    assert res.returncode == 0, res.stderr[-2000:]
    server_log = served.log_since(offset)
    for name, text in (
        ("client stderr", res.stderr),
        ("client stdout", res.stdout),
        ("server log", server_log),
    ):
        assert not leaks(text), f"{name} over {transport}/{auth}/{scheme}: {leaks(text)}"
    assert "DEBUG" in res.stderr  # -vv did log the exchange
    if auth != "basic":
        # the handshake records were there, with the token redacted: the client's own steps ...
        assert re.search(rf"(?:NTLM|SPNEGO) step output: {re.escape(MARK)}", res.stderr), res.stderr[-3000:]
        # ... and the fake server's acceptor, which logs the client's Type 3 as its step input
        assert re.search(rf"(?:NTLM|SPNEGO) step input: {re.escape(MARK)}", server_log), server_log[-3000:]


@pytest.mark.parametrize("auth", ["negotiate", "ntlm", "basic"])
@pytest.mark.parametrize("why", ["wrong-password", "no-challenge"])
def test_a_401_reads_the_same_over_both_transports(servers: dict[str, Served], auth: str, why: str) -> None:
    """The same refusal is one sentence whichever transport met it: a wrong password, or a server
    answering 401 to every request (no NTLM challenge at all)."""
    served = servers["http"]
    host = "DNS2.corp.example" if why == "no-challenge" else "DNS1.corp.example"
    password = "Wrong-pa55word" if why == "wrong-password" else PASSWORD
    messages = {}
    for transport in ("psrp", "winrm"):
        res = _client(served, transport, auth, host=host, password=password)
        assert res.returncode == EXIT_INCOMPLETE, res.stderr[-2000:]
        assert not leaks(res.stderr) and "Wrong-pa55word" not in res.stderr
        messages[transport] = res.stderr.strip().splitlines()[-1]
    endpoint = f"http://127.0.0.1:{served.port(host)}/wsman"
    expected = (
        f"windns: error: 127.0.0.1: {endpoint} rejected the credentials of user {USER} "
        f"({auth} authentication, HTTP 401)"
    )
    assert messages == {"psrp": expected, "winrm": expected}


# -- the filter itself ------------------------------------------------------------------------------
TYPE3 = "TlRMTVNTUAADAAAAGAAYAFgAAACSAJIAcAAAAAAAAAACAQAADAAMAAIBAAAEAAQADgEAABAAEAASAQAANYKK4gAMBAAA"
SPNEGO_TYPE1 = (
    "YEgGBisGAQUFAqA+MDygDjAMBgorBgEEAYI3AgIKoioEKE5UTE1TU1AAAQAAADeCCOIAAAAAKAAAAAAAAAAoAAAAAAwEAAAAAA8="
)
SPNEGO_TYPE2 = (
    "oYGQMIGNoAMKAQOhDAYKKwYBBAGCNwICCqJ4BHZOVExNU1NQAAIAAAAEAAQAOAAAADWCiuIXf0+3uGUXxwAAAAAAAAAAOgA6"
)


@pytest.mark.parametrize(
    "text",
    [
        f"NTLM step output: {TYPE3}",
        f"SPNEGO step output: {SPNEGO_TYPE1}",
        f"SPNEGO step input: {SPNEGO_TYPE2}",
        f"GSSAPI step output: {SPNEGO_TYPE1[:30]}",
        "CredSSP TSRequest output: MIIBqqADAgEGoYIBoTCCAZ0wggGZoIIBlQSCAZFOVExNU1NQAAMAAAA",
        f"authenticate_user(): Authorization header: Negotiate {SPNEGO_TYPE1}",
        "{'Authorization': 'Basic " + base64.b64encode(b"a:b").decode() + "', 'Content-Length': '0'}",
        "authenticate_server(): Authenticate header: Kerberos oRQwEqADCgEAoQsGCSqGSIb3EgECAg==",
        f"an exception mentioning {TYPE3[:24]} in the middle",
    ],
)
def test_the_filter_redacts_each_kind_of_token(text: str) -> None:
    out = redact(text)
    assert MARK in out and not leaks(out) and "YTpi" not in out
    # the record keeps its other words
    assert out.split()[0] == text.split()[0]


@pytest.mark.parametrize(
    "text",
    [
        "Basic authentication is disabled on the server",
        "http://h:5985/wsman rejected the credentials of user windns (negotiate authentication, HTTP 401)",
        'WWW-Authenticate: Negotiate, Basic realm="WSMAN"',
        "NTLM step input: ",
        "<rsp:Stream>AAAAAAAAAAEAAAAAAAAAAAMAAAC7AgAAAAIAAQDUr0gKZhg4RLc</rsp:Stream>",
    ],
)
def test_the_filter_leaves_other_text_alone(text: str) -> None:
    assert redact(text) == text


def test_a_record_is_redacted_not_dropped_with_its_arguments_and_traceback() -> None:
    remember_secret("S3cret-of-this-test")
    try:
        raise ValueError("bad token " + TYPE3 + " for S3cret-of-this-test")
    except ValueError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "spnego._ntlm", logging.DEBUG, __file__, 1, "NTLM step output: %s (user %s)", (TYPE3, USER), exc_info
    )
    assert SecretFilter().filter(record) is True
    text = record.getMessage() + "\n" + (record.exc_text or "")
    assert record.getMessage() == f"NTLM step output: {MARK} (user {USER})"
    assert "ValueError: bad token" in text and not leaks(text) and "S3cret-of-this-test" not in text


@pytest.mark.parametrize("transport", ["psrp", "winrm"])
def test_a_transport_teaches_the_filter_its_password(transport: str) -> None:
    """A password from a fleet inventory (keyring, env) never passes the CLI's prompt: the
    transport holding it makes the filter redact it all the same."""
    from toolkit.remote import ConnectionOptions, connect

    secret = f"Inventory-{transport}-pa55"
    assert redact(f"left {secret} here") == f"left {secret} here"
    connect(ConnectionOptions(host="dns1", username="u", password=secret), transport)
    assert redact(f"left {secret} here") == f"left {MARK} here"
