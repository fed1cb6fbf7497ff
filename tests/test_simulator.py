from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.inventory_docs import nested
from toolkit.errors import CmdletError, ConfigError
from toolkit.testing.simulator import Fleet, SimulatedServer

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _doc(**zone_extra: object) -> dict[str, object]:
    return {
        "FixtureVersion": 1,
        "Server": {"ComputerName": "SIM1", "Settings": {"MaximumSignatureScanPeriod": "2d"}},
        "Zones": [
            {
                "ZoneName": "a.example",
                "ZoneType": "Primary",
                "IsSigned": True,
                "DnsSecSetting": {"ZoneName": "a.example", "PropagationTime": "2d"},
                "SigningKeys": [
                    {
                        "KeyType": "KeySigningKey",
                        "CryptoAlgorithm": "RsaSha256",
                        "RolloverPeriod": "755d",
                        "NextRolloverTime": "now+30d",
                        "LastRolloverTime": "now-1h",
                    }
                ],
                **zone_extra,
            },
            {"ZoneName": "sec.example", "ZoneType": "Secondary", "IsSigned": False},
        ],
    }


def test_relative_times_and_timespans_resolve_against_the_clock() -> None:
    s = SimulatedServer(_doc(), now=NOW)
    doc = nested(s.run("inventory", {}))
    key = doc["Zones"][0]["SigningKeys"][0]
    assert key["RolloverPeriod"] == 755 * 86400
    assert key["NextRolloverTime"] == "2026-07-01T12:00:00.0000000Z"
    assert key["LastRolloverTime"] == "2026-06-01T11:00:00.0000000Z"
    assert doc["Server"]["Settings"]["MaximumSignatureScanPeriod"] == 2 * 86400
    assert doc["Zones"][0]["DnsSecSetting"]["PropagationTime"] == 2 * 86400
    assert doc["CollectedAt"] == "2026-06-01T12:00:00.0000000Z"


def test_keys_get_stable_ids_and_zone_names() -> None:
    a = nested(SimulatedServer(_doc(), now=NOW).run("inventory", {}))
    b = nested(SimulatedServer(_doc(), now=NOW + timedelta(days=1)).run("inventory", {}))
    ka, kb = a["Zones"][0]["SigningKeys"][0], b["Zones"][0]["SigningKeys"][0]
    assert ka["KeyId"] == kb["KeyId"] and len(ka["KeyId"]) == 36
    assert ka["ZoneName"] == "a.example"


def test_secondary_zone_has_no_is_signed_and_no_dnssec() -> None:
    doc = nested(SimulatedServer(_doc(), now=NOW).run("inventory", {}))
    sec = doc["Zones"][1]
    assert "IsSigned" not in sec
    assert sec["DnsSecSetting"] is None and sec["SigningKeys"] == []


def test_zone_fault_is_recorded_and_other_sections_survive() -> None:
    faults = {"Get-DnsServerSigningKey": {"Code": 9107, "Message": "not accessible"}}
    doc = nested(SimulatedServer(_doc(Faults=faults), now=NOW).run("inventory", {}))
    z = doc["Zones"][0]
    assert z["SigningKeys"] == []
    assert z["DnsSecSetting"]["ZoneName"] == "a.example"
    assert z["Errors"] == [
        {
            "Stage": "Get-DnsServerSigningKey",
            "Code": 9107,
            "Message": "not accessible",
            "FullyQualifiedErrorId": "WIN32 9107,Get-DnsServerSigningKey",
        }
    ]
    assert "Faults" not in z and "Illustrates" not in z


def test_requested_unknown_zone_is_a_9601_entry_not_a_failure() -> None:
    doc = SimulatedServer(_doc(), now=NOW).run("inventory", {"ZoneName": ["a.example", "nope.example"]})
    assert [z["ZoneName"] for z in doc["Zones"]] == ["a.example", "nope.example"]
    assert doc["Zones"][1]["Errors"][0]["Code"] == 9601


def test_server_fault_raises_cmdlet_error_with_code() -> None:
    d = _doc()
    d["Faults"] = {"Inventory": {"Code": 5, "Cmdlet": "Get-DnsServerZone", "Message": "Access is denied."}}
    with pytest.raises(CmdletError) as ei:
        SimulatedServer(d, now=NOW).run("inventory", {})
    assert ei.value.code == 5 and ei.value.cmdlet == "Get-DnsServerZone"
    assert "Access is denied." in str(ei.value)


def test_unknown_script_is_a_clear_error() -> None:
    with pytest.raises(CmdletError, match="not recognized"):
        SimulatedServer(_doc(), now=NOW).run("Remove-Item", {})


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(FixtureVersion=9), "unsupported FixtureVersion"),
        (lambda d: d.update(Server={}), "Server.ComputerName"),
        (lambda d: d["Zones"][0]["SigningKeys"][0].update(RolloverPeriod="soon"), "bad TimeSpan"),
        (lambda d: d["Zones"][0]["SigningKeys"][0].update(NextRolloverTime="tomorrow"), "bad time"),
        (lambda d: d.update(Zones=[{"ZoneType": "Primary"}]), "ZoneName"),
    ],
)
def test_bad_fixture_is_a_config_error(mutate: object, message: str) -> None:
    d = _doc()
    mutate(d)  # type: ignore[operator]
    with pytest.raises(ConfigError, match=message):
        SimulatedServer(d, now=NOW)


def test_fleet_loads_demo_and_finds_hosts_by_short_name(fleet: Fleet) -> None:
    assert len(fleet) >= 3
    assert fleet.get("dns1").name == "DNS1.corp.example"
    assert fleet.get("DNS1.CORP.EXAMPLE") is fleet.get("dns1")
    with pytest.raises(ConfigError, match="unknown simulated server 'nosuch'"):
        fleet.get("nosuch")


def test_demo_fleet_has_enough_zones_and_every_zone_says_what_it_illustrates(fleet: Fleet) -> None:
    zones = [z for s in fleet for z in s.state["Zones"]]
    assert len(zones) >= 12
    assert all(z.get("Illustrates") for z in zones)


def test_fleet_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        Fleet.load(tmp_path / "missing")
    with pytest.raises(ConfigError, match="no server fixtures"):
        Fleet.load(tmp_path)
    (tmp_path / "bad.json").write_text('{"Server": ')
    with pytest.raises(ConfigError, match=r"bad.json:1: invalid JSON"):
        Fleet.load(tmp_path)


def test_save_round_trips_state(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps(_doc()))
    s = SimulatedServer(json.loads(path.read_text()), path=path, now=NOW)
    s.state["Zones"][0]["SigningKeys"][0]["KeyLength"] = 4096
    s.save()
    again = SimulatedServer(json.loads(path.read_text()), path=path, now=NOW + timedelta(days=5))
    key = nested(again.run("inventory", {}))["Zones"][0]["SigningKeys"][0]
    assert key["KeyLength"] == 4096
    # Saved times are absolute: a later clock does not move them.
    assert key["NextRolloverTime"] == "2026-07-01T12:00:00.0000000Z"


@pytest.mark.parametrize("server_name", ["DNS1", "DNS2", "DNS3", "DNS4", "DNS5"])
def test_run_text_is_the_text_of_run_and_run_shares_nothing_with_the_state(
    fleet: Fleet, server_name: str
) -> None:
    server = fleet.get(server_name)
    try:
        expected = server.run("inventory", {})
    except CmdletError as exc:  # a server whose inventory fails fails alike either way
        with pytest.raises(CmdletError, match=str(exc.args[0])[:30]):
            server.run_text("inventory", {})
        return
    assert json.loads(server.run_text("inventory", {})) == expected
    assert json.loads(server.run_text("inventory", {"ZoneName": ["corp.example"]})) == server.run(
        "inventory", {"ZoneName": ["corp.example"]}
    )
    # run() hands out copies: changing its answer never reaches the state (run_text's sharing
    # ends with the text).
    answer = server.run("inventory", {})
    answer["Keys"]["KeyLength"][:] = [-1] * len(answer["Keys"]["KeyLength"])
    for zone in answer["Zones"]:
        if zone["DnsSecSetting"]:
            zone["DnsSecSetting"]["DSRecordGenerationAlgorithm"].append("Bogus")
    assert json.loads(server.run_text("inventory", {})) == expected
