"""Certificate authentication end to end: the loopback endpoint over HTTPS asks for a client
certificate and maps it to an account as WinRM's certificate mapping does (a UPN in the
subject alternative name, the signer's thumbprint, ``toolkit.testing.fakeserver.certmap``); the
real psrp and winrm transports present one from a throw-away CA made here."""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner, Result

from tests.client_certs import ClientCert, TestCA
from toolkit.cli import main
from toolkit.errors import AuthError, ConnectError
from toolkit.remote import _errors
from toolkit.testing.fakeserver import FakeWinrmServer
from toolkit.testing.fakeserver.certmap import CertificateMapping

TRANSPORTS = ("psrp", "winrm")


@dataclass
class Lab:
    fake: FakeWinrmServer
    ca: TestCA
    mapped: ClientCert
    robot: ClientCert  # mapped by a wildcard subject
    unmapped: ClientCert
    server_only: ClientCert  # a mapped UPN, but no Client Authentication usage
    stranger: ClientCert  # a mapped UPN, from a CA the endpoint does not trust
    directory: Path

    def argv(self, transport: str, cert: ClientCert | None = None, *, key: Path | None = None) -> list[str]:
        assert self.fake.cert is not None
        port = self.fake.endpoint("dns1").port
        argv = ["--transport", transport, "--server", "localhost", "--port", str(port)]
        argv += ["--ca-bundle", str(self.fake.cert.cert_file), "--auth", "certificate"]
        if cert is not None:
            argv += ["--certificate-pem", str(cert.cert), "--certificate-key-pem", str(key or cert.key)]
        return argv


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    directory = tmp_path_factory.mktemp("client-certs")
    try:
        ca = TestCA(directory)
        mappings = [
            CertificateMapping(subject="dnsaudit@windns.test", issuer=ca.thumbprint, username="dnsaudit"),
            CertificateMapping(subject="*@robots.windns.test", issuer=ca.thumbprint, username="robot"),
        ]
        fake = FakeWinrmServer(servers=["dns1"], tls=True, client_ca=ca.pem, certificate_mappings=mappings)
        with fake:
            yield Lab(
                fake,
                ca,
                mapped=ca.issue("mapped", "dnsaudit@windns.test"),
                robot=ca.issue("robot", "scanner7@robots.windns.test"),
                unmapped=ca.issue("unmapped", "intruder@windns.test"),
                server_only=ca.issue("server-only", "dnsaudit@windns.test", client_auth=False),
                stranger=TestCA(directory, "another CA").issue("stranger", "dnsaudit@windns.test"),
                directory=directory,
            )
    finally:
        shutil.rmtree(directory, ignore_errors=True)  # the private keys leave with it


@pytest.fixture(scope="module")
def demo_zones() -> list[str]:
    res = CliRunner().invoke(main, ["--transport", "fake", "--server", "dns1", "zones", "list", "-f", "json"])
    assert res.exit_code == 0, res.output
    return sorted(z["zone"] for z in json.loads(res.stdout))


def _one_line_error(res: Result, code: int) -> str:
    assert res.exit_code == code, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    return lines[0]


# -- it works -------------------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["mapped", "robot"])
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_mapped_certificate_lists_zones(
    lab: Lab, demo_zones: list[str], runner: CliRunner, transport: str, who: str
) -> None:
    ep = lab.fake.endpoint("dns1")
    ep.stats.reset()
    cert = lab.mapped if who == "mapped" else lab.robot
    res = runner.invoke(main, [*lab.argv(transport, cert), "zones", "list", "-f", "json"])
    assert res.exit_code == 0, res.output
    assert sorted(z["zone"] for z in json.loads(res.stdout)) == demo_zones
    account = "dnsaudit" if who == "mapped" else "robot"
    assert set(ep.stats.accounts) == {account} and set(ep.stats.mechanisms) == {"certificate"}
    assert "Delete" in ep.stats.operations  # the session was closed, authenticated to the end


# -- what goes wrong ------------------------------------------------------------------------------
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_certificate_no_mapping_takes_is_one_line_exit_2(
    lab: Lab, runner: CliRunner, transport: str
) -> None:
    ep = lab.fake.endpoint("dns1")
    ep.stats.reset()
    res = runner.invoke(main, [*lab.argv(transport, lab.unmapped), "zones", "list"])
    line = _one_line_error(res, 2)
    assert "rejected the client certificate" in line and "WSMan:\\localhost\\ClientCertificate" in line
    assert ep.stats.exchanges and not ep.stats.accounts and not ep.stats.operations  # asked, nothing ran


@pytest.mark.parametrize("who", ["server_only", "stranger"])
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_certificate_the_tls_handshake_refuses_is_one_line_exit_2(
    lab: Lab, runner: CliRunner, transport: str, who: str
) -> None:
    """No Client Authentication usage, or a CA the listener does not trust: refused before HTTP."""
    ep = lab.fake.endpoint("dns1")
    ep.stats.reset()
    res = runner.invoke(main, [*lab.argv(transport, getattr(lab, who)), "zones", "list"])
    line = _one_line_error(res, 2)
    assert "refused the client certificate in the TLS handshake" in line and "--ca-bundle" not in line
    assert ep.stats.exchanges == 0


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_missing_key_file_is_one_line(lab: Lab, runner: CliRunner, transport: str) -> None:
    ep = lab.fake.endpoint("dns1")
    ep.stats.reset()
    missing = lab.directory / "no-such.key"
    res = runner.invoke(main, [*lab.argv(transport, lab.mapped, key=missing), "zones", "list"])
    line = _one_line_error(res, 4)
    assert f"client certificate key file {missing} does not exist" in line
    assert ep.stats.exchanges == 0  # refused before any connection


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_the_key_of_another_certificate_is_one_line(lab: Lab, runner: CliRunner, transport: str) -> None:
    res = runner.invoke(main, [*lab.argv(transport, lab.mapped, key=lab.unmapped.key), "zones", "list"])
    line = _one_line_error(res, 4)
    assert f"the private key in {lab.unmapped.key} is not the key of the client certificate" in line


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_file_that_is_not_pem_is_one_line(lab: Lab, runner: CliRunner, transport: str) -> None:
    res = runner.invoke(main, [*lab.argv(transport, lab.mapped, key=lab.ca.pem), "zones", "list"])
    line = _one_line_error(res, 4)
    assert "cannot use the client certificate" in line and "PEM" in line


def test_an_encrypted_key_is_one_line_and_no_prompt(lab: Lab, runner: CliRunner) -> None:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(lab.mapped.key.read_bytes(), password=None)
    encrypted = lab.directory / "encrypted.key"
    encrypted.touch(mode=0o600)
    encrypted.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"passphrase-1"),
        )
    )
    res = runner.invoke(main, [*lab.argv("psrp", lab.mapped, key=encrypted), "zones", "list"], input="")
    line = _one_line_error(res, 4)
    assert f"the client certificate key {encrypted} is encrypted" in line


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_certificate_over_plain_http_is_refused(lab: Lab, runner: CliRunner, transport: str) -> None:
    res = runner.invoke(main, [*lab.argv(transport, lab.mapped), "--no-ssl", "zones", "list"])
    line = _one_line_error(res, 4)
    assert "certificate authentication needs HTTPS" in line


def test_certificate_auth_without_the_files_says_which_options(lab: Lab, runner: CliRunner) -> None:
    line = _one_line_error(runner.invoke(main, [*lab.argv("psrp"), "zones", "list"]), 4)
    assert "--certificate-pem FILE --certificate-key-pem FILE" in line


def test_a_certificate_with_another_auth_is_refused(lab: Lab, runner: CliRunner) -> None:
    argv = [*lab.argv("psrp", lab.mapped), "--auth", "ntlm", "zones", "list"]
    line = _one_line_error(runner.invoke(main, argv), 4)
    assert "goes with auth certificate, not ntlm" in line


# -- the logs -------------------------------------------------------------------------------------
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_the_private_key_is_never_logged(lab: Lab, transport: str) -> None:
    argv = [sys.executable, "-m", "toolkit", "-vv", *lab.argv(transport, lab.mapped), "zones", "list"]
    proc = subprocess.run(
        argv, capture_output=True, text=True, env=dict(os.environ), timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "authenticated with certificate" in proc.stderr  # -vv did log the connection
    key_lines = [ln for ln in lab.mapped.key.read_text().splitlines() if ln and not ln.startswith("-----")]
    log = proc.stdout + proc.stderr
    assert "PRIVATE KEY" not in log
    assert not [ln for ln in key_lines if ln[:24] in log]


# -- the mapping rules ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("subject", "upn", "matches"),
    [
        ("dnsaudit@windns.test", "DNSAudit@WINDNS.test", True),
        ("dnsaudit@windns.test", "dnsaudit@windns.test.evil", False),
        ("*@windns.test", "anyone@windns.test", True),
        ("*@windns.test", "anyone@windns.testing", False),
        ("dns*", "dnsaudit@windns.test", True),
        ("*", "whoever@anywhere", True),
    ],
)
def test_mapping_subject_patterns(subject: str, upn: str, matches: bool) -> None:
    issuer = "AB" * 20
    mapping = CertificateMapping(subject=subject, issuer=issuer, username="x")
    assert mapping.matches(upn, issuer.lower()) is matches
    assert not mapping.matches(upn, "CD" * 20)  # another signer: never


@pytest.mark.parametrize("subject", ["", "a*b", "**", "*a*"])
def test_mapping_subject_takes_one_star_first_or_last(subject: str) -> None:
    with pytest.raises(ValueError, match="subject"):
        CertificateMapping(subject=subject, issuer="AB" * 20, username="x")


# -- what the client makes of a TLS refusal ---------------------------------------------------------
def _ssl_error(cls: type[ssl.SSLError], reason: str | None, text: str) -> ssl.SSLError:
    err = cls(1, text)
    err.reason = reason  # type: ignore[misc] # as the errors OpenSSL raises carry it
    return err


_BAD_CERT = ("SSLV3_ALERT_BAD_CERTIFICATE", "[SSL: SSLV3_ALERT_BAD_CERTIFICATE] sslv3 alert bad certificate")
_UNKNOWN_CA = ("TLSV1_ALERT_UNKNOWN_CA", "[SSL: TLSV1_ALERT_UNKNOWN_CA] tlsv1 alert unknown ca")
_EOF = (None, "EOF occurred in violation of protocol")


@pytest.mark.parametrize(
    ("cls", "error", "certificate", "kind", "words"),
    [
        (ssl.SSLError, _BAD_CERT, True, AuthError, "refused the client certificate in the TLS handshake"),
        (ssl.SSLError, _UNKNOWN_CA, True, AuthError, "signed by a CA the server trusts"),
        (ssl.SSLEOFError, _EOF, True, AuthError, "closed the TLS connection after the client certificate"),
        (ssl.SSLError, _UNKNOWN_CA, False, ConnectError, "--ca-bundle"),
    ],
)
def test_tls_refusals_with_and_without_a_client_certificate(
    cls: type[ssl.SSLError],
    error: tuple[str | None, str],
    certificate: bool,
    kind: type[Exception],
    words: str,
) -> None:
    exc = requests.exceptions.SSLError(_ssl_error(cls, *error))
    err = _errors.requests_error(
        exc,
        endpoint="https://dns1:5986/wsman",
        connect_timeout=1,
        read_timeout=1,
        scrub=_errors.Scrubber(None),
        client_certificate=certificate,
    )
    assert type(err) is kind and words in str(err)
