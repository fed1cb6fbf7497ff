"""The loopback WinRM endpoint, driven by the real pypsrp and pywinrm clients (no toolkit transport).

These show that pypsrp 0.9.1 and pywinrm 0.5.0 talk cleanly to the endpoint's WS-Management
and to psrpcore's server messages: NTLM with message encryption, Negotiate, Basic, TLS, error
records, fragmentation, the WinRS cmd shell and the bootstrap, one port per host.
"""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import winrm
from pypsrp.exceptions import AuthenticationError, WSManFaultError
from pypsrp.powershell import PowerShell, RunspacePool
from pypsrp.wsman import WSMan
from winrm.protocol import Protocol

from toolkit.resources import demo_fixtures_dir, ps_scripts_dir, script_text
from toolkit.testing.fakeserver import FakeWinrmServer, Fault
from toolkit.testing.fakeserver.scripts import ScriptCatalogue
from toolkit.testing.fakeserver.winrs_shell import parse_encoded_command
from toolkit.testing.simulator import Fleet

BOOTSTRAP_TEXT = "$ErrorActionPreference = 'Stop'\n$payload = [Console]::In.ReadToEnd() | ConvertFrom-Json\n"


@pytest.fixture(scope="module")
def scripts_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ps_scripts plus a bootstrap (the real one when it exists)."""
    d = tmp_path_factory.mktemp("ps_scripts")
    for p in ps_scripts_dir().glob("*.ps1"):
        shutil.copy(p, d / p.name)
    if not (d / "_winrm_bootstrap.ps1").exists():
        (d / "_winrm_bootstrap.ps1").write_text(BOOTSTRAP_TEXT, encoding="utf-8")
    return d


@pytest.fixture(scope="module")
def fleet() -> Fleet:
    return Fleet.load(demo_fixtures_dir())


@pytest.fixture(scope="module")
def fake(fleet: Fleet, scripts_dir: Path) -> Iterator[FakeWinrmServer]:
    with FakeWinrmServer(fleet, scripts_dir=scripts_dir) as server:
        yield server


@pytest.fixture(autouse=True)
def _clean(fake: FakeWinrmServer) -> Iterator[None]:
    for ep in fake:
        ep.faults.clear()
        ep.stats.reset()
    yield
    for ep in fake:
        ep.faults.clear()


def wsman(
    fake: FakeWinrmServer, name: str, auth: str = "ntlm", password: str | None = None, **kw: object
) -> WSMan:
    ep = fake.endpoint(name)
    return WSMan(
        "127.0.0.1",
        port=ep.port,
        ssl=False,
        auth=auth,
        username=fake.credentials.username,
        password=password if password is not None else fake.credentials.password,
        encryption="never" if auth == "basic" else "auto",
        connection_timeout=5,
        read_timeout=30,
        **kw,
    )


def run_script(pool: RunspacePool, name: str, params: dict[str, object] | None = None) -> PowerShell:
    ps = PowerShell(pool)
    ps.add_script(script_text(name)).add_parameters(params or {})
    ps.invoke()
    return ps


FIRST = "DNS1.corp.example"


@pytest.mark.parametrize("auth", ["ntlm", "negotiate", "basic"])
def test_pypsrp_runs_inventory_through_psrpcore(fake: FakeWinrmServer, fleet: Fleet, auth: str) -> None:
    with RunspacePool(wsman(fake, FIRST, auth)) as pool:
        ps = run_script(pool, "inventory")
    assert not ps.had_errors and not ps.streams.error
    assert len(ps.output) == 1 and isinstance(ps.output[0], str)
    assert json.loads(ps.output[0]) == json.loads(json.dumps(fleet.get(FIRST).run("inventory", {})))
    ops = fake.endpoint(FIRST).stats.operations
    assert ops["Create"] == 1 and ops["Command"] == 1 and ops["Delete"] == 1


def test_the_endpoint_takes_its_accounts_hashes_from_the_file(
    fake: FakeWinrmServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import spnego._ntlm

    derived: list[str] = []
    real = spnego._ntlm.lmowfv1
    monkeypatch.setattr(spnego._ntlm, "lmowfv1", lambda password: derived.append("lm") or real(password))
    for _ in range(3):  # pypsrp's own client, given the password: it derives the hashes itself
        with RunspacePool(wsman(fake, FIRST, "ntlm")) as pool:
            assert not run_script(pool, "inventory").had_errors
    assert len(derived) == 3  # the client's three logons; the acceptor derived nothing
    with pytest.raises(AuthenticationError):
        with RunspacePool(wsman(fake, FIRST, "ntlm", password="not-the-password")):
            pass
    # a user still reads the password from the file (the DOMAIN:USER:PASSWORD lines)
    assert fake.credentials_file is not None
    lines = fake.credentials_file.read_text(encoding="utf-8").splitlines()
    assert f"{fake.credentials.domain}:{fake.credentials.username}:{fake.credentials.password}" in lines


def test_ntlm_over_http_encrypts_every_message(fake: FakeWinrmServer) -> None:
    ep = fake.endpoint(FIRST)
    with RunspacePool(wsman(fake, FIRST, "ntlm")) as pool:
        run_script(pool, "inventory")
    assert ep.stats.requests, "captured the decrypted envelopes"
    # what travelled: every non-empty body was multipart/encrypted (the handler refuses to decrypt
    # otherwise); the plaintext of the script only exists after unwrap on the server side
    assert b"Schema" not in b"".join(r for r in ep.stats.requests if b"creationXml" in r)


def test_wrong_password_is_a_real_401(fake: FakeWinrmServer) -> None:
    for auth in ("ntlm", "basic"):
        with pytest.raises(AuthenticationError):
            RunspacePool(wsman(fake, FIRST, auth, password="wrong")).open()
    assert fake.endpoint(FIRST).stats.operations["Create"] == 0
    p = Protocol(
        fake.endpoint(FIRST).url,
        transport="ntlm",
        username="windns",
        password="wrong",
        server_cert_validation="ignore",
    )
    with pytest.raises(winrm.exceptions.InvalidCredentialsError):
        p.open_shell()


def test_cmdlet_failure_is_an_error_record_with_win32_code_and_cim_data(fake: FakeWinrmServer) -> None:
    with RunspacePool(wsman(fake, FIRST)) as pool:
        ps = run_script(pool, "zone_sign", {"ZoneName": "no-such.corp.example"})
    assert ps.had_errors and ps.output == []
    err = ps.streams.error[0]
    assert err.fq_error == "WIN32 9601,Invoke-DnsServerZoneSign"
    assert "no-such.corp.example" in err.exception.adapted_properties["Message"]
    data = err.exception.extended_properties["ErrorData"]
    assert data.extended_properties["error_Code"] == 9601
    assert "CimException" in err.exception.types[0]


def test_error_record_on_the_error_stream_mode(fleet: Fleet, scripts_dir: Path) -> None:
    with FakeWinrmServer(fleet, servers=[FIRST], scripts_dir=scripts_dir, error_mode="stream") as fake:
        with RunspacePool(wsman(fake, FIRST)) as pool:
            ps = run_script(pool, "zone_sign", {"ZoneName": "no-such.corp.example"})
    assert ps.streams.error[0].fq_error == "WIN32 9601,Invoke-DnsServerZoneSign"


def test_unknown_or_forged_script_gets_a_clear_error_record(fake: FakeWinrmServer) -> None:
    forged = script_text("inventory") + "\nRemove-Item C:\\ -Recurse  # windns:inventory"
    with RunspacePool(wsman(fake, FIRST)) as pool:
        for text in ("Get-Process", forged):
            ps = PowerShell(pool)
            ps.add_script(text)
            ps.invoke()
            assert ps.had_errors and ps.output == []
            assert ps.streams.error[0].fq_error.startswith("ScriptNotRecognized")


def test_configuration_names_jea_and_unknown(fake: FakeWinrmServer) -> None:
    with RunspacePool(wsman(fake, FIRST), configuration_name="windns.JEA") as pool:
        refused = run_script(pool, "inventory")  # NoLanguage: scripts are refused (test_jea.py)
        assert refused.had_errors and refused.streams.error[-1].fq_error == "ScriptsNotAllowed"
    with pytest.raises(WSManFaultError) as info:
        RunspacePool(wsman(fake, FIRST), configuration_name="Nope").open()
    assert "Nope" in str(info.value)


def test_get_config_max_envelope_size(fake: FakeWinrmServer) -> None:
    w = wsman(fake, FIRST)
    w.update_max_payload_size()
    assert w.max_envelope_size == fake.max_envelope_kb * 1024


def test_each_port_serves_its_own_server(fake: FakeWinrmServer) -> None:
    seen = {}
    for ep in fake:
        with RunspacePool(wsman(fake, ep.name, "basic")) as pool:
            ps = run_script(pool, "inventory")
        expected = json.loads(json.dumps(ep.simulated.run("inventory", {}))) if not ps.had_errors else None
        if ps.output:
            seen[ep.port] = json.loads(ps.output[0])["Server"]["ComputerName"]
            assert json.loads(ps.output[0]) == expected
        else:  # a fixture whose whole inventory fails: the failure is that server's own
            seen[ep.port] = ep.name
            assert ep.simulated.faults.get("Inventory")
    assert sorted(seen.values()) == sorted(ep.name for ep in fake)
    assert len(set(seen)) == len(fake.endpoints)


def test_large_output_is_fragmented_and_reassembled(fake: FakeWinrmServer, fleet: Fleet) -> None:
    ep = fake.endpoint(FIRST)
    ep.faults.set([Fault("large_output", size_mb=6)])
    with RunspacePool(wsman(fake, FIRST)) as pool:
        ps = run_script(pool, "inventory")
    assert len(ps.output[0]) >= 6 * 1024 * 1024
    assert json.loads(ps.output[0]) == json.loads(json.dumps(fleet.get(FIRST).run("inventory", {})))
    assert ep.stats.operations["Receive"] > 5  # the output came in many envelopes


def test_tls_with_certificate_validation_on_and_off(fleet: Fleet, scripts_dir: Path) -> None:
    with FakeWinrmServer(fleet, servers=[FIRST], scripts_dir=scripts_dir, tls=True) as fake:
        assert fake.cert is not None
        ep = fake.endpoint(FIRST)
        common = dict(
            port=ep.port,
            ssl=True,
            username="windns",
            password=fake.credentials.password,
            connection_timeout=5,
        )
        for auth, verify in (("ntlm", str(fake.cert.cert_file)), ("basic", False)):
            with RunspacePool(WSMan("127.0.0.1", auth=auth, cert_validation=verify, **common)) as pool:
                assert not run_script(pool, "inventory").had_errors
        with pytest.raises(requests.exceptions.SSLError):
            RunspacePool(WSMan("127.0.0.1", auth="ntlm", cert_validation=True, **common)).open()


# -- WinRS (pywinrm) --------------------------------------------------------------------------


def _bootstrap_command(scripts_dir: Path) -> list[str]:
    text = (scripts_dir / "_winrm_bootstrap.ps1").read_text(encoding="utf-8-sig")
    enc = base64.b64encode(text.encode("utf-16-le")).decode()
    return ["-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-EncodedCommand", enc]


def _payload(name: str, params: dict[str, object]) -> bytes:
    return json.dumps(
        {
            "script": base64.b64encode(script_text(name).encode()).decode(),
            "params": base64.b64encode(json.dumps(params).encode()).decode(),
        }
    ).encode()


@pytest.mark.parametrize("auth", ["ntlm", "basic"])
def test_pywinrm_bootstrap_with_stdin_payload(
    fake: FakeWinrmServer, fleet: Fleet, scripts_dir: Path, auth: str
) -> None:
    p = Protocol(
        fake.endpoint(FIRST).url,
        transport=auth,
        username="windns",
        password=fake.credentials.password,
        server_cert_validation="ignore",
    )
    shell = p.open_shell()
    cid = p.run_command(shell, "powershell.exe", _bootstrap_command(scripts_dir))
    p.send_command_input(shell, cid, _payload("inventory", {}), end=True)
    out, err, rc = p.get_command_output(shell, cid)
    p.cleanup_command(shell, cid)
    p.close_shell(shell)
    assert rc == 0 and err == b""
    assert json.loads(out) == json.loads(json.dumps(fleet.get(FIRST).run("inventory", {})))

    shell = p.open_shell()
    cid = p.run_command(shell, "powershell.exe", _bootstrap_command(scripts_dir))
    p.send_command_input(shell, cid, _payload("zone_sign", {"ZoneName": "no-such.corp.example"}), end=True)
    out, err, rc = p.get_command_output(shell, cid)
    p.close_shell(shell)
    assert rc == 1 and out == b""
    assert err.startswith(b"#< CLIXML")
    assert b"FullyQualifiedErrorId : WIN32 9601,Invoke-DnsServerZoneSign" in err


def test_pywinrm_run_ps_and_unknown_commands(fake: FakeWinrmServer) -> None:
    s = winrm.Session(
        fake.endpoint(FIRST).url,
        auth=("windns", fake.credentials.password),
        transport="ntlm",
        server_cert_validation="ignore",
    )
    r = s.run_ps(script_text("inventory"))
    assert r.status_code == 0 and json.loads(r.std_out)["Server"]["ComputerName"] == FIRST
    r = s.run_ps("Get-DnsServerZone | ConvertTo-Json")
    assert r.status_code == 1 and b"ScriptNotRecognized" in r.std_err
    r = s.run_cmd("ipconfig", ["/all"])
    assert r.status_code == 1 and b"not recognized" in r.std_err


def test_pywinrm_large_output_in_many_receives(fake: FakeWinrmServer, scripts_dir: Path) -> None:
    ep = fake.endpoint(FIRST)
    ep.faults.set([Fault("large_output", size_mb=3)])
    p = Protocol(
        ep.url,
        transport="ntlm",
        username="windns",
        password=fake.credentials.password,
        server_cert_validation="ignore",
    )
    shell = p.open_shell()
    cid = p.run_command(shell, "powershell.exe", _bootstrap_command(scripts_dir))
    p.send_command_input(shell, cid, _payload("inventory", {}), end=True)
    out, _err, rc = p.get_command_output(shell, cid)
    p.close_shell(shell)
    assert rc == 0 and len(out) >= 3 * 1024 * 1024
    assert json.loads(out)["Server"]["ComputerName"] == FIRST
    assert ep.stats.operations["Receive"] > 10


def test_encoded_command_parsing() -> None:
    enc = base64.b64encode("Write-Output 'x'".encode("utf-16-le")).decode()
    assert parse_encoded_command(f"powershell.exe -NoProfile -EncodedCommand {enc}") == "Write-Output 'x'"
    assert parse_encoded_command(f"powershell -encodedcommand {enc}") == "Write-Output 'x'"
    assert parse_encoded_command(f"PowerShell -enc {enc}") == "Write-Output 'x'"
    assert parse_encoded_command(f"cmd.exe /c {enc}") is None
    assert parse_encoded_command("powershell -EncodedCommand not-base64!") is None


def test_catalogue_recognises_every_script_by_content_only(scripts_dir: Path) -> None:
    cat = ScriptCatalogue(scripts_dir)
    for p in ps_scripts_dir().glob("*.ps1"):
        if p.stem.startswith("_"):
            continue
        text = script_text(p.stem)  # what a client sends, shared parts included
        assert cat.identify(text) == p.stem
        assert cat.identify(text.replace("\n", "\r\n")) == p.stem  # line endings do not matter
        assert cat.identify(text + "\nWrite-Output 'more'") is None
    assert cat.identify(f"# {p.stem}.ps1") is None
    assert cat.is_bootstrap((scripts_dir / "_winrm_bootstrap.ps1").read_text(encoding="utf-8-sig"))


def test_wire_faults_declared_in_a_fixture_apply_to_that_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fixture's Faults.Wire (here latency and a reset) is that endpoint's fault plan."""
    from toolkit.errors import ConnectError
    from toolkit.remote import connect

    for src in demo_fixtures_dir().glob("dns[14].json"):
        doc = json.loads(src.read_text(encoding="utf-8"))
        if doc["Server"]["ComputerName"] == FIRST:
            doc.setdefault("Faults", {})["Wire"] = [{"Kind": "latency", "Seconds": 0.3}]
        else:
            doc.setdefault("Faults", {})["Wire"] = {"Kind": "reset"}
        (tmp_path / src.name).write_text(json.dumps(doc), encoding="utf-8")
    fleet = Fleet.load(tmp_path)
    with FakeWinrmServer(fleet) as fake:
        slow, broken = fake.endpoint(FIRST), next(ep for ep in fake if ep.name != FIRST)
        assert slow.faults.latency() == pytest.approx(0.3) and broken.faults.latency() == 0
        delays: list[float] = []
        plan_latency = slow.faults.latency

        def latency() -> float:
            delays.append(plan_latency())
            return delays[-1]

        monkeypatch.setattr(slow.faults, "latency", latency)
        with connect(fake.connection_options(FIRST), "psrp") as remote:
            assert remote.run("inventory", {}).data["Server"]["ComputerName"] == FIRST
        # every HTTP exchange waited: at least the auth, create, command and receive round trips
        assert slow.stats.exchanges >= 4
        assert delays == pytest.approx([0.3] * slow.stats.exchanges)
        with pytest.raises(ConnectError), connect(fake.connection_options(broken.name), "psrp") as remote:
            remote.run("inventory", {})


def test_max_envelope_kb_is_enforced(fake: FakeWinrmServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fake, "max_envelope_kb", 150)
    ep = fake.endpoint(FIRST)
    with pytest.raises(WSManFaultError) as info:  # asks for 500 KiB answers from a 150 KiB server
        wsman(fake, FIRST, max_envelope_size=512000).get_server_config()
    assert int(info.value.code) == 2150859025
    with pytest.raises(WSManFaultError) as info:  # a request larger than 150 KiB
        wsman(fake, FIRST).get("http://schemas.microsoft.com/wbem/wsman/1/config/" + "x" * 160_000)
    assert int(info.value.code) == 2150859025
    assert ep.stats.envelope_refusals == 2
    w = wsman(fake, FIRST)
    w.update_max_payload_size()  # the server's own answer is within its limit
    assert w.max_envelope_size == 150 * 1024
