"""JEA endpoints: NoLanguage sessions refuse scripts, so the audit reads them with cmdlet commands.

The loopback endpoint's ``windns.JEA`` configuration behaves as a real NoLanguage JEA endpoint
(pypsrp's recording ``test_psrp_with_jea_configuration.yml``): a script fails the pipeline with
ScriptsNotAllowed, only the role's cmdlets are visible. Through it, the audit must find what the
script path finds, cost a handful of pipelines, and keep the self-check."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pypsrp.powershell import PowerShell, RunspacePool
from pypsrp.wsman import WSMan

from toolkit.cli import main
from toolkit.errors import CmdletError, ConfigError, ProtocolError
from toolkit.normalise import clixml
from toolkit.remote import connect
from toolkit.remote.jea import JeaRefusal
from toolkit.remote.psrp import PsrpRemote
from toolkit.services import jea as jea_service
from toolkit.services.audit import audit_server, collect
from toolkit.testing.fakeserver import FakeWinrmServer
from toolkit.testing.fakeserver.replay import ReplayServer, load_recorded

JEA = "windns.JEA"
RECORDINGS = Path(__file__).parent / "data" / "wsman-recordings"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeWinrmServer]:
    with FakeWinrmServer() as server:
        yield server


def _findings(report: Any) -> list[tuple[Any, ...]]:
    assert report.error is None, report.error
    return sorted((f.rule_id, f.target, f.message, f.severity) for f in report.findings)


@pytest.mark.parametrize("host", ["dns1", "dns2", "dns3", "dns5"])
def test_the_jea_audit_finds_what_the_script_audit_finds(fake: FakeWinrmServer, host: str) -> None:
    ep = fake.endpoint(host)
    with PsrpRemote(fake.connection_options(host)) as remote:
        by_script = audit_server(remote)
    ep.stats.reset()
    with PsrpRemote(fake.connection_options(host, configuration_name=JEA, jea=True)) as remote:
        by_cmdlets = audit_server(remote)
    if by_script.error is not None:  # dns3 cannot list its zones: the same failure either way
        assert by_cmdlets.error is not None and by_cmdlets.error.code == by_script.error.code
        return
    assert _findings(by_cmdlets) == _findings(by_script)
    assert by_cmdlets.inventory is not None and by_script.inventory is not None
    assert by_cmdlets.inventory.zones == by_script.inventory.zones
    assert by_cmdlets.inventory.trust_anchors == by_script.inventory.trust_anchors
    assert ep.stats.scripts == []  # not one script was sent
    # so no key export either: a finding naming a key says its tag was not read, and why
    named = [f for f in by_cmdlets.findings if f.target.key_id]
    assert named or host != "dns1"
    for f in named:
        assert f.evidence["key_tag"] is None and f.evidence["key_tag_note"] == "not read over a JEA endpoint"
        assert f.evidence["key_algorithm"]
    assert set(ep.stats.cmdlets) <= set(jea_service_role())
    # a handful of pipelines: os, zones+server, trust points, anchors, one per 10 DNSSEC zones
    dnssec = sum(
        1 for z in by_script.inventory.zones if z.zone_type.value == "Primary" and not z.is_auto_created
    )
    assert ep.stats.operations["Command"] <= 4 + math.ceil(dnssec / jea_service.ZONE_BATCH)


def jea_service_role() -> list[str]:
    from toolkit.testing.fakeserver.jea import ROLE_CMDLETS

    return list(ROLE_CMDLETS)


def test_a_refused_script_switches_the_audit_to_cmdlets_with_one_warning(
    fake: FakeWinrmServer, caplog: pytest.LogCaptureFixture
) -> None:
    with PsrpRemote(fake.connection_options("dns1", configuration_name=JEA)) as remote:
        report = audit_server(remote)
        assert remote.jea  # found so; later calls skip the attempt
    assert report.error is None and report.findings
    hints = [r.getMessage() for r in caplog.records if "JEA" in r.getMessage()]
    assert len(hints) == 1 and "--jea" in hints[0] and "\n" not in hints[0]


def test_a_script_sent_to_the_jea_endpoint_is_one_line_naming_jea_and_the_fix(fake: FakeWinrmServer) -> None:
    with PsrpRemote(fake.connection_options("dns1", configuration_name=JEA)) as remote:
        with pytest.raises(JeaRefusal) as info:
            remote.run("zone_export_keys", {"ZoneName": "corp.example"})
    text = str(info.value)
    assert "\n" not in text and "JEA" in text and "NoLanguage" in text and "ScriptsNotAllowed" in text
    assert "--jea" in text and "--configuration-name Microsoft.PowerShell" in text
    assert not isinstance(info.value, CmdletError)


def test_the_loopback_refusal_has_the_recorded_shape(fake: FakeWinrmServer) -> None:
    """Our endpoint's ScriptsNotAllowed against the one Windows sent (recording message 7)."""

    def refusal(wsman: WSMan, configuration: str) -> Any:
        with RunspacePool(wsman, configuration_name=configuration) as pool:
            ps = PowerShell(pool)
            ps.add_script("Set-Item -Path WSMan:\\localhost\\Service\\AllowUnencrypted -Value $false")
            ps.invoke()
            assert ps.had_errors
            return ps.streams.error[-1]

    opts = fake.connection_options("dns1")
    ours = refusal(
        WSMan(
            "127.0.0.1",
            port=opts.port,
            username=opts.username,
            password=opts.password,
            ssl=False,
            auth="ntlm",
        ),
        JEA,
    )
    steps = [
        load_recorded(RECORDINGS / f"test_psrp_with_jea_configuration.{i}.xml") for i in (0, 1, 2, 3, 6, 7)
    ]
    with ReplayServer(
        steps, {"Delete": load_recorded(RECORDINGS / "test_psrp_with_jea_configuration.8.xml")}
    ) as r:
        wsman = WSMan(
            "127.0.0.1", port=r.port, username="u", password="p", ssl=False, auth="basic", encryption="never"
        )
        windows = refusal(wsman, "JEARole")
    for attr in ("fq_error", "reason", "category"):
        assert getattr(ours, attr) == getattr(windows, attr), attr
    assert str(ours) == str(windows)


def test_only_the_role_cmdlets_are_visible(fake: FakeWinrmServer) -> None:
    with PsrpRemote(fake.connection_options("dns1", configuration_name=JEA, jea=True)) as remote:
        with pytest.raises(CmdletError) as info:
            remote.invoke_cmdlets([("Remove-DnsServerSigningKey", {"ZoneName": "corp.example"})], label="t")
        assert info.value.fully_qualified_error_id == "CommandNotFoundException"
        answer = remote.invoke_cmdlets([("Get-DnsServerZone", {"Name": "no-such.example"})], label="t")
        assert answer.output == [] and answer.errors[0].code == 9601  # a cmdlet's error does not end it


def test_the_objects_are_cim_instances_read_by_type(fake: FakeWinrmServer) -> None:
    with PsrpRemote(fake.connection_options("dns1", configuration_name=JEA, jea=True)) as remote:
        answer = remote.invoke_cmdlets([("Get-DnsServerSigningKey", {"ZoneName": "corp.example"})], label="t")
    assert answer.output and {clixml.cim_class(k) for k in answer.output} == {"DnsServerSigningKey"}
    row = clixml.key_row(answer.output[0])
    assert row["ZoneName"] == "corp.example" and isinstance(row["RolloverPeriod"], float)
    assert row["KeyId"] == row["KeyId"].lower() and "{" not in row["KeyId"]


def test_the_self_check_applies_to_the_cmdlet_path(
    fake: FakeWinrmServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = clixml.InventoryBuilder.add_zone

    def drops_a_key(self: Any, entry: dict[str, Any], *, keys: Any = None, **kw: Any) -> None:
        real(self, entry, keys=keys, **kw)
        if keys:  # a projection that loses the zone's last key row but counted what the cmdlet gave
            for column in clixml.KEY_COLUMNS:
                self.keys[column].pop()

    monkeypatch.setattr(clixml.InventoryBuilder, "add_zone", drops_a_key)
    with PsrpRemote(fake.connection_options("dns1", configuration_name=JEA, jea=True)) as remote:
        with pytest.raises(ProtocolError, match="self-check failed"):
            collect(remote)


def test_named_zones_through_jea_missing_one_is_an_answer(fake: FakeWinrmServer) -> None:
    with PsrpRemote(fake.connection_options("dns1", configuration_name=JEA, jea=True)) as remote:
        inv = collect(remote, ["corp.example", "missing.example"])
    by_name = {z.name: z for z in inv.zones}
    assert by_name["corp.example"].keys and set(by_name) == {"corp.example", "missing.example"}


def test_cli_audit_with_the_jea_configuration(fake: FakeWinrmServer) -> None:
    runner = CliRunner()
    opts = fake.connection_options("dns2")
    wire = ["--server", "127.0.0.1", "--port", str(opts.port), "--no-ssl", "--auth", "ntlm", "-u", "windns"]
    env = {"WINDNS_PASSWORD": str(opts.password)}
    jea = runner.invoke(main, [*wire, "--configuration-name", JEA, "audit", "-f", "json"], env=env)
    plain = runner.invoke(main, [*wire, "audit", "-f", "json"], env=env)
    assert jea.exit_code == plain.exit_code, jea.output

    def found(res: Any) -> list[Any]:
        return sorted((f["rule_id"], f["zone"], f["message"]) for f in json.loads(res.stdout)["findings"])

    assert found(jea) == found(plain)
    # and a change (a script) there: one line, JEA and the fix named, no traceback
    wire[3] = str(fake.connection_options("dns1").port)
    res = runner.invoke(
        main,
        [*wire, "--configuration-name", JEA, "--jea", "zone", "export-keys", "corp.example"],
        env=env,
    )
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "JEA" in res.stderr and "Microsoft.PowerShell" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_jea_needs_the_psrp_transport() -> None:
    from toolkit.remote import ConnectionOptions

    with pytest.raises(ConfigError, match="--jea needs --transport psrp"):
        connect(ConnectionOptions(host="x", jea=True), "winrm")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("P7D", 604800.0), ("PT1H30M", 5400.0), ("P1DT0.5S", 86400.5), ("-PT10S", -10.0), ("PT0S", 0.0)],
)
def test_timespans_as_clixml_durations(text: str, expected: float) -> None:
    assert clixml.seconds(text) == expected
    assert clixml.seconds(timedelta(seconds=expected)) == expected


def test_dates_and_class_names() -> None:
    assert clixml.iso_time("2026-03-01T10:00:00.1234567+01:00") == "2026-03-01T09:00:00.1234560Z"
    assert clixml.iso_time("0001-01-01T00:00:00") is None  # DateTime.MinValue
    obj = type(
        "O",
        (),
        {
            "types": [
                "Deserialized.Microsoft.Management.Infrastructure.CimInstance#root/Microsoft/Windows/DNS/DnsServerSigningKey"
            ]
        },
    )()
    assert clixml.cim_class(obj) == "DnsServerSigningKey"
    with pytest.raises(ValueError):
        clixml.seconds("seven days")
