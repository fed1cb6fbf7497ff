"""Drift between two stored scans: findings, keys, settings, host health."""

from __future__ import annotations

import copy
import io
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from toolkit.drift import diff_scans, render_drift
from toolkit.errors import ConnectError
from toolkit.fleet import HostSpec
from toolkit.history import History
from toolkit.services.scan import Scanner, ScanOptions
from toolkit.testing.fake_remote import FakeRemote
from toolkit.testing.simulator import Fleet

HOSTS = {"dns1": "dns1", "dns2": "dns2", "dns4": "dns4", "flappy": "dns4"}


def _scan(history: History, fleet: Fleet, failing: frozenset[str] = frozenset()) -> int:
    scan_id = history.begin_scan(policy="baseline", fail_on="high", hosts_total=len(HOSTS))

    def connector(spec: HostSpec) -> FakeRemote:
        fail = ConnectError("connection refused") if spec.name in failing else None
        return FakeRemote(fleet.get(HOSTS[spec.name]), host=spec.name, fail_with=fail)

    specs = [HostSpec(name=n, address=n, transport="fake") for n in HOSTS]
    out = Scanner(
        specs, connector, options=ScanOptions(retries=0), on_host=lambda h: history.record_host(scan_id, h)
    ).run()
    history.finish_scan(scan_id, duration=out.report.duration)
    return scan_id


def _zone(fleet: Fleet, server: str, name: str) -> dict[str, Any]:
    z = fleet.get(server).find_zone(name)
    assert z is not None
    return z


def test_diff_reports_findings_keys_settings_and_hosts(fleet: Fleet, tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite3") as h:
        a = _scan(h, fleet, failing=frozenset({"flappy"}))
        # -- change the estate --
        nozsk = _zone(fleet, "dns1", "nozsk.corp.example")
        new_zsk = copy.deepcopy(_zone(fleet, "dns1", "corp.example")["SigningKeys"][1])
        new_zsk.update(ZoneName="nozsk.corp.example", KeyId=str(uuid.uuid4()))
        nozsk["SigningKeys"].append(new_zsk)  # KEY001 resolved, a key added
        corp = _zone(fleet, "dns1", "corp.example")
        rolled_id = corp["SigningKeys"][1]["KeyId"]
        rolled_at = fleet.get("dns1").now + timedelta(hours=1)  # after scan a was collected
        corp["SigningKeys"][1]["LastRolloverTime"] = rolled_at.isoformat()  # rolled
        legacy = _zone(fleet, "dns1", "legacy.corp.example")
        removed_id = legacy["SigningKeys"][0]["KeyId"]
        del legacy["SigningKeys"][0]  # removed (and a finding about it resolved)
        _zone(fleet, "dns1", "nsec3.corp.example")["DnsSecSetting"]["NSec3Iterations"] = 5
        b = _scan(h, fleet, failing=frozenset({"dns2"}))
        d = diff_scans(h, a, b)
    assert (d.a.id, d.b.id) == (a, b)
    resolved = {(f.rule_id, f.target.zone) for f in d.resolved}
    assert ("KEY001", "nozsk.corp.example") in resolved
    assert not any(
        f.target.server.startswith("DNS2") for f in d.resolved
    )  # dns2 failed: unknown, not resolved
    assert d.unchanged and not set(map(id, d.unchanged)) & set(map(id, d.new))
    changes = {(k.change, k.key_id) for k in d.keys}
    assert ("rolled", rolled_id) in changes and ("removed", removed_id) in changes
    assert ("added", new_zsk["KeyId"]) in changes
    rolled = next(k for k in d.keys if k.change == "rolled")
    assert "last rollover" in rolled.detail and rolled.host == "dns1"
    assert [(s.zone, s.setting, s.old, s.new) for s in d.settings] == [
        ("nsec3.corp.example", "nsec3_iterations", 50, 5)
    ]
    assert [e.server for e in d.newly_failing] == ["dns2"] and d.newly_failing[0].kind == "connect"
    assert d.recovered == ("flappy",)
    assert d.hosts_added == () == d.hosts_removed
    text = io.StringIO()
    render_drift(d, text)
    out = text.getvalue()
    assert (
        "failing  dns2: connect" in out and "recovered flappy" in out and "nsec3_iterations: 50 -> 5" in out
    )
    js = d.as_dict()
    assert js["hosts"]["recovered"] == ["flappy"] and len(js["keys"]["rolled"]) == 1
    # a key is named with its algorithm (and its tag, where the scan read it) beside its GUID
    lines = out.splitlines()
    removed_line = next(line for line in lines if line.startswith("  removed") and removed_id in line)
    assert f"tag not read, RsaSha1, id {removed_id}" in removed_line
    about_removed = [line for line in out.splitlines() if "resolved" in line and removed_id in line]
    assert about_removed and all(f"RsaSha1, id {removed_id}" in line for line in about_removed)
    resolved_json = js["findings"]["resolved"]
    (gone,) = [x for x in resolved_json if x["key_id"] == removed_id and x["rule_id"] == "ALG001"]
    # the removed key is the zone's one KSK: scan a read its tag from the zone's DNSKEY export
    assert gone["key_algorithm"] == "RsaSha1" and isinstance(gone["key_tag"], int)
    assert any(f"KSK tag {gone['key_tag']}, RsaSha1, id {removed_id}" in line for line in about_removed)


def test_identical_scans_have_no_drift(fleet: Fleet, tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite3") as h:
        a, b = _scan(h, fleet), _scan(h, fleet)
        d = diff_scans(h, a, b)
    assert not d.changed and not d.new and not d.resolved and len(d.unchanged) > 5


def test_a_clock_that_moves_is_not_a_rollover() -> None:
    """The same simulated server read a day apart (its fixture times are relative to its start)
    shows no rolled key; a rollover made between the two reads does."""
    from toolkit.drift import diff_inventories
    from toolkit.resources import demo_fixtures_dir
    from toolkit.services.audit import collect
    from toolkit.testing.fake_remote import FakeRemote

    t1 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    first = collect(FakeRemote(Fleet.load(demo_fixtures_dir(), now=t1).get("dns1")))
    later = Fleet.load(demo_fixtures_dir(), now=t1 + timedelta(days=1))
    assert not [k for k in diff_inventories("dns1", first, collect(FakeRemote(later.get("dns1"))))[0]]
    corp = later.get("dns1").find_zone("corp.example")
    assert corp is not None
    corp["SigningKeys"][1]["LastRolloverTime"] = (t1 + timedelta(hours=3)).isoformat()
    keys, _ = diff_inventories("dns1", first, collect(FakeRemote(later.get("dns1"))))
    assert [(k.change, k.key_id) for k in keys] == [("rolled", corp["SigningKeys"][1]["KeyId"])]
