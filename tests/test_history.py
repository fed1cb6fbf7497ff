"""Scan history: schema, host-by-host writes, round trip, recovery, prune, lock."""

from __future__ import annotations

import json
import sqlite3
import zlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rules_fixtures import NOW, inventory

from toolkit.drift import diff_scans
from toolkit.errors import HistoryError
from toolkit.findings import Finding, HostError, HostReport, Severity, Target
from toolkit.history import (
    MIGRATIONS,
    SCHEMA_VERSION,
    History,
    ScanLocked,
    default_db_path,
    prepare_db_path,
    scan_lock,
)
from toolkit.history.store import _json_default
from toolkit.normalise import dump_inventory


def _host(name: str = "dns1") -> HostReport:
    f1 = Finding(
        "KEY001",
        Severity.CRITICAL,
        Target("DNS1.corp.example", "corp.example"),
        "no ZSK",
        {"since": NOW, "period": timedelta(days=7), "codes": (9104,)},
    )
    f2 = Finding(
        "NSEC001",
        Severity.LOW,
        Target("DNS1.corp.example", "corp.example"),
        "salt",
        suppressed_reason="accepted risk",
    )
    return HostReport(name, inventory=inventory(), findings=(f1,), suppressed=(f2,), duration=0.25)


def test_default_path_follows_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_db_path() == tmp_path / "windns" / "history.sqlite3"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert default_db_path() == Path.home() / ".local" / "share" / "windns" / "history.sqlite3"


def test_schema_wal_and_version(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    with History(path) as h:
        assert h.schema_version == SCHEMA_VERSION
        assert h.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db = sqlite3.connect(path)
    db.execute("UPDATE schema_version SET version = 99")
    db.commit()
    db.close()
    with pytest.raises(HistoryError, match="schema version 99"):
        History(path)
    (tmp_path / "junk.sqlite3").write_bytes(b"not a database at all" * 100)
    with pytest.raises(HistoryError, match="cannot use history database"):
        History(tmp_path / "junk.sqlite3")


def test_round_trip_host_by_host(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    h = History(path)
    scan = h.begin_scan(policy="baseline", fail_on="high", source="fleet.toml", hosts_total=3)
    h.record_host(scan, _host("dns1"))
    # a second connection sees the committed host while the scan is still running
    with History(path) as other:
        rec = other.get(scan)
        assert rec.status == "running" and rec.hosts_ok == 1 and rec.findings == 1 and rec.suppressed == 1
        assert rec.by_severity["critical"] == 1
    h.record_host(scan, HostReport("dns3", error=HostError("dns3", "cmdlet", "Access is denied.", 5)))
    h.finish_scan(scan, duration=4.5)
    report = h.load_report(scan)
    by = {x.server: x for x in report.hosts}
    assert not report.interrupted and report.policy_name == "baseline" and report.duration == 4.5
    assert by["dns3"].error == HostError("dns3", "cmdlet", "Access is denied.", 5)
    got = by["dns1"]
    original = _host("dns1")
    assert got.inventory == original.inventory  # descriptors survive the JSON round trip
    assert [(f.rule_id, f.severity, f.target, f.message) for f in got.findings] == [
        (f.rule_id, f.severity, f.target, f.message) for f in original.findings
    ]
    assert got.findings[0].evidence == {"since": NOW.isoformat(), "period": 604800.0, "codes": [9104]}
    assert got.suppressed[0].suppressed_reason == "accepted risk"
    rec = h.get(scan)
    assert (rec.status, rec.hosts_total, rec.hosts_ok, rec.hosts_failed) == ("complete", 3, 1, 1)
    hosts = {"total": 3, "ok": 1, "failed": 1, "not_scanned": 0}
    assert rec.finished is not None and rec.as_dict()["hosts"] == hosts
    h.close()


def test_answers_stored_in_schema_1_read_back_and_diff_against_schema_2(tmp_path: Path) -> None:
    """Scans stored by an earlier release hold the server's answer in inventory schema 1 (keys
    nested in each zone); they still read, and a later scan in schema 2 of the same server is
    no change."""
    inv = inventory()
    assert sum(len(z.keys) for z in inv.zones) > 0
    one = json.dumps(dump_inventory(replace(inv, schema_version=1)), default=_json_default)
    two = json.dumps(dump_inventory(inv), default=_json_default)
    assert '"SigningKeys"' in one and '"Keys"' in two and '"SigningKeys"' not in two
    with History(tmp_path / "h.sqlite3") as h:
        scans = []
        for text, version in ((one, 1), (two, 2)):
            scan = h.begin_scan(policy="baseline", fail_on="high", hosts_total=1)
            stored = replace(inv, schema_version=version)
            h.record_host(scan, HostReport("dns1", inventory=stored, inventory_text=text))
            h.finish_scan(scan, duration=1.0)
            scans.append(scan)
        first, second = (h.load_report(scan).hosts[0].inventory for scan in scans)
        assert first == replace(inv, schema_version=1) and second == inv
        drift = diff_scans(h, scans[0], scans[1])
        assert drift.keys == () and drift.settings == () and drift.newly_failing == ()


def test_hosts_read_back_in_inventory_order_and_not_scanned_kept(tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite3") as h:
        scan = h.begin_scan(policy="baseline", fail_on="high", hosts_total=5)
        # recorded as they finished, not in inventory order; inventory order is not by name either
        for position, name in ((2, "alpha"), (0, "zulu"), (1, "mike")):
            h.record_host(scan, HostReport(name, duration=0.1), position=position)
        h.finish_scan(scan, interrupted=True, not_scanned=("yankee", "bravo"))
        report = h.load_report(scan)
        assert [x.server for x in report.hosts] == ["zulu", "mike", "alpha"]
        assert report.interrupted and report.not_scanned == ("yankee", "bravo")
        assert report.summary()["hosts_not_scanned"] == 2
        rec = h.get(scan)
        assert rec.not_scanned == ("yankee", "bravo") and rec.as_dict()["hosts"]["not_scanned"] == 2


def test_a_version_1_database_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[0])
    db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    db.execute("INSERT INTO schema_version VALUES (1)")
    db.execute(
        "INSERT INTO scans (started, status, policy, fail_on, hosts_total) "
        "VALUES ('2026-01-01T00:00:00+00:00', 'complete', 'baseline', 'high', 2)"
    )
    db.executemany("INSERT INTO hosts (scan, server, ok) VALUES (1, ?, 1)", [("b",), ("a",)])
    db.commit()
    db.close()
    with History(path) as h:
        assert h.schema_version == SCHEMA_VERSION == 4
        report = h.load_report(1)
        assert [x.server for x in report.hosts] == ["a", "b"]  # no positions stored: by name
        assert report.not_scanned == () and h.get(1).not_scanned == ()


def _version_2_database(path: Path, inventory_json: str) -> None:
    """A database as schema 2 wrote it: the inventory as uncompressed JSON text."""
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[0])
    db.executescript(MIGRATIONS[1])
    db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    db.execute("INSERT INTO schema_version VALUES (2)")
    db.execute(
        "INSERT INTO scans (started, status, policy, fail_on, hosts_total, hosts_ok) "
        "VALUES ('2026-01-01T00:00:00+00:00', 'complete', 'baseline', 'high', 1, 1)"
    )
    db.execute(
        "INSERT INTO hosts (scan, server, ok, inventory, position) VALUES (1, 'dns1', 1, ?, 0)",
        (inventory_json,),
    )
    db.commit()
    db.close()


def test_a_version_2_database_is_upgraded_in_place_and_its_inventories_still_read(tmp_path: Path) -> None:
    path = tmp_path / "v2.sqlite3"
    original = inventory()
    _version_2_database(path, json.dumps(dump_inventory(original), default=_json_default))
    with History(path) as h:
        assert h.schema_version == 4
        assert h.load_report(1).hosts[0].inventory == original
        # a scan written after the upgrade sits beside the old one; both read, and compare
        scan = h.begin_scan(policy="baseline", fail_on="high", hosts_total=1)
        h.record_host(scan, _host("dns1"), position=0)
        h.finish_scan(scan)
        assert h.inventories(scan) == h.inventories(1) == {"dns1": original}
        old_row, new_row = h.db.execute("SELECT inventory, inventory_z FROM hosts ORDER BY scan").fetchall()
        assert old_row[0] is not None and old_row[1] is None
        assert new_row[0] is None and isinstance(new_row[1], bytes)
        drift = diff_scans(h, 1, scan)
        assert drift.keys == () and drift.settings == ()


def test_the_servers_text_is_stored_as_it_came_compressed(tmp_path: Path) -> None:
    original = inventory()
    # what a server prints: indented, with a byte-order mark, not our compact dump
    text = "\ufeff" + json.dumps(dump_inventory(original), default=_json_default, indent=2) + "\r\n"
    with History(tmp_path / "h.sqlite3") as h:
        scan = h.begin_scan(policy="baseline", fail_on="high")
        h.record_host(scan, replace(_host("dns1"), inventory_text=text))
        (stored,) = h.hosts(scan)
        assert stored.inventory_text == text  # not serialised again from the descriptors
        assert stored.inventory() == original
        size = h.db.execute("SELECT length(inventory_z) FROM hosts").fetchone()[0]
        assert size < len(text.encode()) / 2


def test_a_damaged_stored_inventory_is_a_one_line_error(tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite3") as h:
        scan = h.begin_scan(policy="baseline", fail_on="high")
        h.record_host(scan, _host("dns1"))
        h.db.execute("UPDATE hosts SET inventory_z = ?", (b"\x78\x01garbage",))
        with pytest.raises(HistoryError, match="stored inventory of dns1 cannot be read") as info:
            h.load_report(scan)
        assert "\n" not in str(info.value)
        h.db.execute("UPDATE hosts SET inventory_z = ?", (zlib.compress(b"{not json"),))
        with pytest.raises(HistoryError, match="stored inventory of dns1 cannot be read"):
            h.load_report(scan)
        assert h.load_report(scan, with_inventory=False).hosts[0].findings  # the rest still reads


def test_an_explicit_path_needs_its_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "nope" / "h.sqlite3"
    for attempt in (lambda: History(missing), lambda: prepare_db_path(missing)):
        with pytest.raises(HistoryError, match=f"directory {tmp_path / 'nope'} does not exist"):
            attempt()
    with pytest.raises(HistoryError, match="does not exist"):
        with scan_lock(missing):
            pass  # pragma: no cover
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(HistoryError, match="is not a directory"):
        prepare_db_path(tmp_path / "file" / "h.sqlite3")
    assert not (tmp_path / "nope").exists()
    assert prepare_db_path(tmp_path / "h.sqlite3") == tmp_path / "h.sqlite3"
    # the default location is created on demand
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert prepare_db_path(None) == tmp_path / "xdg" / "windns" / "history.sqlite3"
    assert (tmp_path / "xdg" / "windns").is_dir()


def test_resolve_and_recover(tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite3") as h:
        with pytest.raises(HistoryError, match="0 scan"):
            h.resolve("latest")
        ids = [h.begin_scan(policy="p", fail_on="high") for _ in range(3)]
        h.finish_scan(ids[0])
        h.finish_scan(ids[1], interrupted=True)
        assert h.resolve(None) == h.resolve("latest") == ids[2]
        assert h.resolve("previous") == h.resolve("latest~1") == ids[1]
        assert h.resolve(str(ids[0])) == ids[0] == h.resolve(f"#{ids[0]}")
        with pytest.raises(HistoryError, match="bad scan reference"):
            h.resolve("yesterday")
        with pytest.raises(HistoryError, match="no scan 999"):
            h.resolve("999")
        assert h.recover_running() == 1  # scan 3 was left running by a "crashed" process
        assert [r.status for r in h.scans()] == ["interrupted", "interrupted", "complete"]
        assert h.load_report(ids[2]).interrupted


def test_a_scan_whose_process_died_tells_the_hosts_it_never_scanned(tmp_path: Path) -> None:
    names = [f"h{i}" for i in range(6)]
    with History(tmp_path / "h.sqlite3") as h:
        scan = h.begin_scan(policy="baseline", fail_on="high", hosts=names)
        for position in (3, 0):
            h.record_host(scan, _host(names[position]), position=position)
        # while it runs (or after its process died), the hosts not scanned so far
        rec = h.get(scan)
        assert rec.status == "running" and rec.hosts_total == 6
        assert rec.not_scanned == ("h1", "h2", "h4", "h5") and rec.as_dict()["hosts"]["not_scanned"] == 4
        assert h.load_report(scan).not_scanned == ("h1", "h2", "h4", "h5")
        assert h.recover_running() == 1
        rec = h.get(scan)
        assert rec.status == "interrupted" and rec.not_scanned == ("h1", "h2", "h4", "h5")
        # a finished scan keeps no host list: what it did not scan is recorded by finish_scan
        done = h.begin_scan(policy="baseline", fail_on="high", hosts=names)
        h.finish_scan(done, interrupted=True, not_scanned=names[2:])
        assert h.get(done).not_scanned == tuple(names[2:])
        assert h.db.execute("SELECT COUNT(*) FROM scans WHERE planned_z IS NOT NULL").fetchone()[0] == 0
        # a damaged host list costs only what it would have told
        damaged = h.begin_scan(policy="baseline", fail_on="high", hosts=names)
        h.db.execute("UPDATE scans SET planned_z = ? WHERE id = ?", (b"\x78\x01garbage", damaged))
        assert h.get(damaged).not_scanned == () and len(h.scans()) == 3
        assert h.recover_running() == 1 and h.get(damaged).status == "interrupted"
        # a scan begun without a host list (and those of earlier versions): nothing to tell
        legacy = h.begin_scan(policy="baseline", fail_on="high", hosts_total=3)
        assert h.get(legacy).not_scanned == () and h.recover_running() == 1
        assert h.get(legacy).status == "interrupted" and h.get(legacy).not_scanned == ()


def test_prune_keep_and_age(tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite3") as h:
        old = datetime(2020, 1, 1, tzinfo=UTC)
        ids = [h.begin_scan(policy="p", fail_on="high", started=old + timedelta(days=i)) for i in range(5)]
        for i in ids:
            h.record_host(i, _host())
        assert h.prune(keep=3) == ids[:2]
        assert [r.id for r in h.scans()] == ids[:1:-1]
        # findings and hosts go with their scan
        assert h.db.execute("SELECT COUNT(*) FROM findings WHERE scan IN (?, ?)", ids[:2]).fetchone()[0] == 0
        assert h.db.execute("SELECT COUNT(DISTINCT scan) FROM hosts").fetchone()[0] == 3
        now = old + timedelta(days=10)
        assert h.prune(older_than=timedelta(days=6), now=now) == [ids[2], ids[3]]
        assert [r.id for r in h.scans()] == [ids[4]]
        with pytest.raises(HistoryError):
            h.prune(keep=-1)


def test_trend_is_oldest_first_and_bounded(tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite3") as h:
        ids = [h.begin_scan(policy="p", fail_on="high") for _ in range(5)]
        assert [r.id for r in h.trend(3)] == ids[2:]
        assert [r.id for r in h.trend(2, upto=ids[2])] == ids[1:3]


def test_lock_contention(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    with scan_lock(db):
        with pytest.raises(ScanLocked, match="another scan is running") as err:
            with scan_lock(db):
                pass  # pragma: no cover
        assert err.value.kind == "locked"
        with scan_lock(tmp_path / "other.sqlite3"):
            pass  # another database is another lock
    with scan_lock(db):  # released
        pass
