"""The toolkit's real transports (PsrpRemote, WinrmRemote) against the loopback WinRM endpoint.

Differential: a full audit of every demo server through each transport equals the audit
through FakeRemote on the same simulator. Then every fault class, credentials, Basic over
HTTP, runspace pool reuse, and user values that must never become script text.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from click.testing import CliRunner

from toolkit.errors import AuthError, ConfigError, ConnectError, ProtocolError, RemoteError, RemoteTimeout
from toolkit.remote import connect
from toolkit.resources import demo_fixtures_dir, script_text
from toolkit.services.audit import audit_server
from toolkit.testing.fake_remote import FakeRemote
from toolkit.testing.fakeserver import FakeWinrmServer, Fault
from toolkit.testing.simulator import Fleet

pytest.importorskip("toolkit.remote.psrp", reason="PsrpRemote not in the tree yet")
pytest.importorskip("toolkit.remote.winrm", reason="WinrmRemote not in the tree yet")

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
TRANSPORTS = ("psrp", "winrm")
FIRST = "DNS1.corp.example"


@pytest.fixture(scope="module")
def fleet() -> Fleet:
    return Fleet.load(demo_fixtures_dir())


@pytest.fixture(scope="module")
def fake(fleet: Fleet) -> Iterator[FakeWinrmServer]:
    with FakeWinrmServer(fleet, receive_wait=2.0) as server:
        yield server


@pytest.fixture(autouse=True)
def _clean(fake: FakeWinrmServer) -> Iterator[None]:
    for ep in fake:
        ep.set_faults([])
        ep.stats.reset()
    yield
    for ep in fake:
        ep.set_faults([])


def opts(fake: FakeWinrmServer, name: str = FIRST, **kw: Any) -> Any:
    return fake.connection_options(name, **kw)


def _shape(report: Any) -> Any:
    findings = sorted((f.rule_id, str(f.target), f.severity, f.message) for f in report.findings)
    error = (report.error.kind, report.error.code) if report.error else None
    return report.inventory, findings, error


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_differential_audit_of_every_demo_server(fake: FakeWinrmServer, fleet: Fleet, transport: str) -> None:
    for sim in fleet:
        expected = audit_server(FakeRemote(sim), now=NOW)
        with connect(opts(fake, sim.name), transport) as remote:
            got = audit_server(remote, now=NOW)
        assert _shape(got) == _shape(expected), f"{transport} differs from fake on {sim.name}"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_cmdlet_error_arrives_typed_with_win32_code(fake: FakeWinrmServer, transport: str) -> None:
    from toolkit.errors import CmdletError

    with connect(opts(fake), transport) as remote, pytest.raises(CmdletError) as info:
        remote.run("zone_sign", {"ZoneName": "no-such.corp.example"})
    assert info.value.code == 9601 and info.value.cmdlet == "Invoke-DnsServerZoneSign"
    assert "\n" not in str(info.value)


def test_one_runspace_pool_per_host_reused(fake: FakeWinrmServer) -> None:
    ep = fake.endpoint(FIRST)
    with connect(opts(fake), "psrp") as remote:
        for _ in range(4):
            remote.run("inventory", {})
    assert ep.stats.operations["Create"] == 1
    assert ep.stats.operations["Command"] == 4
    assert ep.stats.operations["Delete"] == 1


EVIL = "a'b\"c;$(Remove-Item C:\\ -Recurse)`n`$x; '); Stop-Computer #.corp.example"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_hostile_zone_name_reaches_simulator_intact_and_never_as_script(
    fake: FakeWinrmServer, transport: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ep = fake.endpoint(FIRST)
    seen: list[dict[str, Any]] = []
    real_run = ep.simulated.run

    def recording(script: str, params: Any = None) -> Any:
        seen.append({"script": script, "params": dict(params or {})})
        return real_run(script, params)

    monkeypatch.setattr(ep.simulated, "run", recording)
    with connect(opts(fake), transport) as remote:
        remote.run("inventory", {"ZoneName": [EVIL]})
    assert seen and seen[-1]["params"]["ZoneName"] == [EVIL]
    assert ep.stats.scripts == [script_text("inventory")]
    for text in ep.stats.scripts:
        assert EVIL not in text and "Stop-Computer" not in text
    # on the wire the value only travels as data (a typed CLIXML string or the base64 payload)
    wire = b"\n".join(ep.stats.requests).decode("utf-8", "replace")
    assert "Stop-Computer" not in wire.replace("&#39;", "'") or transport == "psrp"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_wrong_password_is_a_one_line_auth_error(fake: FakeWinrmServer, transport: str) -> None:
    with pytest.raises(AuthError) as info:
        with connect(opts(fake, password="not-the-password"), transport) as remote:
            remote.run("inventory", {})
    assert "\n" not in str(info.value) and "not-the-password" not in str(info.value)


def test_basic_over_http_refused_by_our_client_unless_allowed(fake: FakeWinrmServer) -> None:
    with pytest.raises(ConfigError):
        opts(fake, auth="basic")
    before = fake.endpoint(FIRST).stats.exchanges
    assert before == 0  # refused before anything was sent
    for transport in TRANSPORTS:
        with connect(opts(fake, auth="basic", allow_basic_over_http=True), transport) as remote:
            assert remote.run("inventory", {}).data["Server"]["ComputerName"] == FIRST


def test_tls_endpoint_with_ca_bundle_and_validation(fleet: Fleet) -> None:
    with FakeWinrmServer(fleet, servers=[FIRST], tls=True) as tls_fake:
        for transport in TRANSPORTS:
            with connect(tls_fake.connection_options(FIRST), transport) as remote:
                assert remote.run("inventory", {}).data["Server"]["ComputerName"] == FIRST
            with pytest.raises(ConnectError):
                with connect(tls_fake.connection_options(FIRST, ca_bundle=None), transport) as remote:
                    remote.run("inventory", {})


FAULTS: list[tuple[Fault, type[RemoteError]]] = [
    (Fault("refuse"), ConnectError),
    (Fault("reset"), ConnectError),
    (Fault("http401"), AuthError),
    (Fault("access_denied"), AuthError),
    (Fault("operation_timeout"), RemoteTimeout),
    (Fault("quota_exceeded"), ProtocolError),
    (Fault("hang", seconds=10), RemoteTimeout),
    (Fault("truncate"), ProtocolError),
    (Fault("non_json"), ProtocolError),
]


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(("fault", "expected"), FAULTS, ids=[f.kind for f, _ in FAULTS])
def test_each_fault_reaches_the_user_as_a_typed_one_line_error(
    fake: FakeWinrmServer, transport: str, fault: Fault, expected: type[RemoteError]
) -> None:
    fault = Fault(fault.kind, operation=fault.operation, seconds=fault.seconds)
    ep = fake.endpoint(FIRST)
    ep.set_faults([fault])
    with pytest.raises(RemoteError) as info:
        with connect(opts(fake, read_timeout=3.0, operation_timeout=1.0), transport) as remote:
            remote.run("inventory", {})
    assert isinstance(info.value, expected), f"{fault.kind}: got {type(info.value).__name__}: {info.value}"
    assert "\n" not in str(info.value) and fake.credentials.password not in str(info.value)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_transient_receive_timeout_and_large_output_still_give_the_data(
    fake: FakeWinrmServer, fleet: Fleet, transport: str
) -> None:
    expected = json.loads(json.dumps(fleet.get(FIRST).run("inventory", {})))
    ep = fake.endpoint(FIRST)
    ep.set_faults(
        [Fault("operation_timeout", operation="Receive", times=1), Fault("large_output", size_mb=12)]
    )
    with connect(opts(fake), transport) as remote:
        result = remote.run("inventory", {})
    assert result.data == expected
    assert ep.stats.operations["Receive"] > 10


def test_scan_goes_on_with_the_other_hosts(fake: FakeWinrmServer, fleet: Fleet) -> None:
    from toolkit.fleet import HostSpec
    from toolkit.services.scan import ScanOptions, scan_hosts

    broken = "DNS3.corp.example"
    fake.endpoint(broken).set_faults([Fault("reset")])
    specs = [HostSpec(name=ep.name, address=ep.name) for ep in fake]
    outcome = scan_hosts(
        specs,
        lambda spec: connect(opts(fake, spec.name), "psrp"),
        options=ScanOptions(concurrency=4, retries=0),
    )
    by_name = {h.server.lower(): h for h in outcome.report.hosts}
    assert by_name[broken.lower()].error is not None
    assert by_name[broken.lower()].error.kind == "connect"
    for ep in fake:
        if ep.name != broken and not ep.simulated.faults.get("Inventory"):
            assert by_name[ep.name.lower()].inventory is not None


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_cli_audit_over_the_endpoint_matches_fake(fake: FakeWinrmServer, transport: str) -> None:
    from toolkit.cli import main

    ep = fake.endpoint(FIRST)
    runner = CliRunner()
    env = {"WINDNS_PASSWORD": fake.credentials.password}
    real = runner.invoke(
        main,
        [
            "--transport",
            transport,
            "--server",
            "127.0.0.1",
            "--port",
            str(ep.port),
            "--no-ssl",
            "--auth",
            "ntlm",
            "--username",
            "windns",
            "audit",
            "-f",
            "json",
        ],
        env=env,
    )
    ref = runner.invoke(main, ["--transport", "fake", "--server", FIRST, "audit", "-f", "json"])
    assert real.exit_code == ref.exit_code, real.output

    def findings(text: str) -> Any:
        doc = json.loads(text)
        listed = doc.get("findings")
        if not isinstance(listed, list):  # a report shape with the findings listed per host
            hosts = doc.get("hosts") or doc.get("Hosts") or [doc]
            listed = [f for h in hosts for f in h.get("findings", [])]
        return sorted(json.dumps(f, sort_keys=True) for f in listed)

    assert findings(ref.stdout), "the reference audit has findings to compare"
    assert findings(real.stdout) == findings(ref.stdout)
    bad = runner.invoke(
        main,
        [
            "--transport",
            transport,
            "--server",
            "127.0.0.1",
            "--port",
            str(ep.port),
            "--no-ssl",
            "--auth",
            "ntlm",
            "--username",
            "windns",
            "audit",
        ],
        env={"WINDNS_PASSWORD": "wrong"},
    )
    assert bad.exit_code != 0 and "Traceback" not in bad.output and "wrong" not in bad.output
    # `audit` reports a server it could not audit inside the report (stdout, exit 2), not on stderr:
    # the failure is one line there, and stderr carries at most one line.
    assert len([line for line in bad.stdout.splitlines() if " auth: " in line]) == 1, bad.output
    assert len([line for line in bad.stderr.splitlines() if line.strip()]) <= 1
