"""The simulated answers of the doctor's scripts (doctor_probe, raw_sample) and the 5.1 shapes of
the raw sample, checked against the captured-style files of fixtures/raw/."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from toolkit.normalise import normalise_document
from toolkit.testing.simulator import Fleet, doctor, ps51, runspace
from toolkit.testing.simulator.powershell import NotSimulated

RAW = Path(__file__).resolve().parent.parent / "fixtures" / "raw"
REFERENCE = RAW.parent / "reference"


def _raw_text(name: str) -> str:
    return (RAW / name).read_bytes().decode("utf-16").lstrip("\ufeff")


def _state(record: dict[str, Any]) -> dict[str, Any]:
    """A raw cmdlet record's data members in the simulator's state form (seconds, ISO times)."""
    out: dict[str, Any] = {}
    for k, v in record.items():
        if k in ("PSComputerName", "CimClass", "CimInstanceProperties", "CimSystemProperties"):
            continue
        if isinstance(v, dict) and "TotalSeconds" in v:
            v = v["TotalSeconds"]
        elif isinstance(v, dict) and "value" in v:
            v = v["value"]
        elif isinstance(v, str) and (m := re.fullmatch(r"/Date\((-?\d+)\)/", v)):
            v = (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(m.group(1)))).isoformat()
        out[k] = v
    return out


@pytest.mark.parametrize(
    "name",
    ["ps51-signing-keys.json", "ps51-zone-settings.json", "ps51-zones.json", "ps51-trust-anchors.json"],
)
def test_the_printer_reprints_each_51_file_byte_for_byte(name: str) -> None:
    text = _raw_text(name)
    assert ps51.to_json(json.loads(text)) == text.rstrip("\r\n")


def test_the_printer_escapes_as_javascriptserializer_and_keeps_dates() -> None:
    out = ps51.to_json({"a": 'it\'s <b> & "c"\n', "d": "/Date(1700000000000)/", "e": 2.0, "f": 0.5})
    assert '"it\\u0027s \\u003cb\\u003e \\u0026 \\"c\\"\\n"' in out
    assert '"\\/Date(1700000000000)\\/"' in out and '"e":  2,' in out and '"f":  0.5' in out
    assert json.loads(out)["d"] == "/Date(1700000000000)/"


def test_key_objects_rebuilt_from_their_data_members_equal_the_51_file() -> None:
    records = json.loads(_raw_text("ps51-signing-keys.json"))
    rebuilt = [ps51.key_object(_state(r), "DNS1") for r in records]
    assert ps51.to_json(rebuilt) == ps51.to_json(records)


def test_the_zone_setting_rebuilt_from_its_data_members_equals_the_51_file() -> None:
    record = json.loads(_raw_text("ps51-zone-settings.json"))
    state = _state(record)
    state.pop("IsNSec3SaltConfigured")  # derived, not held by the simulator's state
    assert ps51.to_json(ps51.setting_object(state, "DNS1")) == ps51.to_json(record)


def test_zone_objects_rebuilt_from_their_data_members_equal_the_51_file() -> None:
    records = json.loads(_raw_text("ps51-zones.json"))
    rebuilt = [ps51.zone_object(_state(r), "DNS1.contoso.com") for r in records]
    assert ps51.to_json(rebuilt) == ps51.to_json(records)


def test_timespans_carry_the_dotnet_framework_totals() -> None:
    span = ps51.timespan_object(3600 + 0.25)
    assert span["Ticks"] == 36_002_500_000 and span["Hours"] == 1 and span["Milliseconds"] == 250
    assert span["TotalSeconds"] == pytest.approx(3600.25)
    assert span["TotalDays"] == pytest.approx(3600.25 / 86400)


# -- the handlers -----------------------------------------------------------------------------------
def test_probe_reports_powershell_and_the_module(fleet: Fleet) -> None:
    server = fleet.get("dns2")
    probe = server.run("doctor_probe", {})
    assert probe["Schema"] == "windns.doctor.probe" and probe["PSEdition"] == "Desktop"
    assert probe["PSVersion"].startswith("5.1.17763.")  # dns2 is Windows Server 2019 (10.0.17763)
    assert probe["ComputerName"] == "DNS2" and probe["ConfigurationName"] == "Microsoft.PowerShell"
    assert [m["Name"] for m in probe["Modules"]] == ["DnsServer"]
    assert [c["Name"] for c in probe["Commands"]] == list(doctor.DEFAULT_COMMANDS)
    assert all(c["Found"] for c in probe["Commands"])


def test_probe_in_a_session_without_dnsserver_finds_neither_module_nor_cmdlets(fleet: Fleet) -> None:
    server = fleet.get("dns1")
    with doctor.session(doctor.Session(configuration_name="windns.JEA.NoDnsServer", dnsserver=False)):
        probe = server.run("doctor_probe", {"CommandName": ["Get-DnsServerZone"]})
    assert probe["Modules"] == [] and probe["ConfigurationName"] == "windns.JEA.NoDnsServer"
    (command,) = probe["Commands"]
    assert command == {"Name": "Get-DnsServerZone", "Found": False, "CommandType": None, "ModuleName": None}


def test_raw_sample_prints_zones_keys_and_setting_that_normalise(fleet: Fleet) -> None:
    server = fleet.get("dns1")
    doc = server.run("raw_sample", {"ZoneName": "corp.example", "MaxZones": 3})
    zones, keys, setting = doc["Samples"]
    assert [s["Command"] for s in doc["Samples"]] == [
        "Get-DnsServerZone",
        "Get-DnsServerSigningKey",
        "Get-DnsServerDnsSecZoneSetting",
    ]
    assert zones["Count"] == 3 and keys["Count"] == len(server.find_zone("corp.example")["SigningKeys"])  # type: ignore[index]
    read = normalise_document(json.loads(zones["Json"]), source="zones")
    assert [z.name for z in read.zones] == [z["ZoneName"] for z in server.state["Zones"][:3]]
    by_keys = normalise_document(json.loads(keys["Json"]), source="keys").zone("corp.example")
    assert by_keys is not None and {k.key_type.name for k in by_keys.keys} == {"KSK", "ZSK"}
    by_setting = normalise_document(json.loads(setting["Json"]), source="setting").zone("corp.example")
    assert by_setting is not None and by_setting.dnssec is not None
    assert "\r\n" in keys["Json"] and '"CimClass":  {' in keys["Json"]  # the 5.1 layout, not ours


def test_raw_sample_records_a_failed_cmdlet_and_goes_on(fleet: Fleet) -> None:
    server = fleet.get("dns3")  # every zone listing is refused (Access is denied)
    doc = server.run("raw_sample", {"ZoneName": "nowhere.example"})
    errors = [s["Error"] for s in doc["Samples"]]
    assert [e["Code"] for e in errors] == [5, 9601, 9601]
    assert errors[1]["FullyQualifiedErrorId"] == "WIN32 9601,Get-DnsServerSigningKey"


def test_raw_sample_refuses_a_depth_it_cannot_print(fleet: Fleet) -> None:
    # The fake of ConvertTo-Json (raw_sample.ps1 L56) cannot print another depth; that is no
    # PowerShell error, so it is not recorded by the script's catch (L67) but ends the run.
    with pytest.raises(NotSimulated, match="Depth 4 only"):
        fleet.get("dns1").run("raw_sample", {"Depth": 2})


def test_the_zone_listing_sample_names_the_empty_string_as_its_zone(fleet: Fleet) -> None:
    # raw_sample.ps1 L61 passes $null to New-WindnsSample's [string]$Zone (L48): PowerShell makes
    # it '' (PowerShell/PowerShell#4616); the document's own ZoneName (L72, untyped) stays $null.
    doc = fleet.get("dns1").run("raw_sample", {})
    (zones,) = doc["Samples"]
    assert zones["ZoneName"] == "" and doc["ZoneName"] is None


def test_raw_sample_records_a_negative_max_zones_as_the_listing_error(fleet: Fleet) -> None:
    # L64 Select-Object -First $MaxZones runs inside the try (L62-L66): the binding error is caught.
    doc = fleet.get("dns1").run("raw_sample", {"MaxZones": -1})
    (zones,) = doc["Samples"]
    assert zones["Count"] is None and zones["Json"] is None
    assert zones["Error"]["Stage"] == "Get-DnsServerZone" and zones["Error"]["Code"] is None
    assert zones["Error"]["Message"].startswith("Cannot validate argument on parameter 'First'.")
    assert fleet.get("dns1").run("raw_sample", {"MaxZones": 0})["Samples"][0]["Count"] == 0


def test_raw_sample_in_a_session_without_dnsserver_records_each_missing_cmdlet(fleet: Fleet) -> None:
    server = fleet.get("dns1")
    with doctor.session(doctor.Session(configuration_name="windns.JEA.NoDnsServer", dnsserver=False)):
        doc = server.run("raw_sample", {"ZoneName": "corp.example"})
    errors = [s["Error"] for s in doc["Samples"]]
    assert [e["FullyQualifiedErrorId"] for e in errors] == ["CommandNotFoundException"] * 3
    assert [e["Message"].split("'")[1] for e in errors] == [
        "Get-DnsServerZone",
        "Get-DnsServerSigningKey",
        "Get-DnsServerDnsSecZoneSetting",
    ]


def test_probe_asks_get_command_and_get_module_by_pattern(fleet: Fleet) -> None:
    server = fleet.get("dns1")
    names = ["Get-DnsServerSigning*", "Get-NoSuchCommand", "ConvertTo-Json", "  "]
    probe = server.run("doctor_probe", {"CommandName": names, "ModuleName": ["dns*", "NoSuchModule", ""]})
    # L70 skips the blank name; L78 keeps the name as given, L73 takes the first match.
    assert [(c["Name"], c["Found"], c["ModuleName"]) for c in probe["Commands"]] == [
        ("Get-DnsServerSigning*", True, "DnsServer"),
        ("Get-NoSuchCommand", False, None),
        ("ConvertTo-Json", True, "Microsoft.PowerShell.Utility"),
    ]
    assert probe["Commands"][2]["CommandType"] == "Cmdlet"
    assert probe["Modules"] == [{"Name": "DnsServer", "Version": "2.0.0.0", "ModuleType": "Manifest"}]


def test_probe_outside_a_remoting_session_has_no_configuration_name(fleet: Fleet) -> None:
    # doctor_probe.ps1 L50-L53: $PSSenderInfo is $null outside a PSSession.
    with doctor.session(doctor.Session(configuration_name=None)):
        probe = fleet.get("dns1").run("doctor_probe", {})
    assert probe["ConfigurationName"] is None and probe["LanguageMode"] == "FullLanguage"


def test_the_sessions_command_lists_follow_the_reference_tables() -> None:
    dnsserver = json.loads((REFERENCE / "dnsserver-cmdlets.json").read_text(encoding="utf-8"))
    assert sorted(runspace.DNSSERVER_COMMANDS) == sorted(dnsserver["cmdlets"])
    core = json.loads((REFERENCE / "core-cmdlets-5.1.json").read_text(encoding="utf-8"))
    # reference/5.1/<Module>/<Cmdlet>.md: the page's folder is the cmdlet's module
    modules = {name: entry["page"].split("/")[2] for name, entry in core["cmdlets"].items()}
    assert runspace.CORE_COMMANDS == modules


def test_first_dnsserver_command_of_each_read_script() -> None:
    assert doctor.first_dnsserver_command("inventory") == "Get-DnsServerSetting"
    assert doctor.first_dnsserver_command("raw_sample") == "Get-DnsServerZone"
    # a write script: read from its text, comments left out
    assert re.fullmatch(r"[A-Z][a-z]+-DnsServer\w+", doctor.first_dnsserver_command("key_add"))
