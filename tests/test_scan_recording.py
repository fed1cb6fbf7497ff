"""A scan's life in the history (toolkit.services.history): lock, begin, hosts, finish, prune."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from toolkit.errors import HistoryError
from toolkit.findings import HostError, HostReport, Report
from toolkit.history import History, ScanLocked, scan_lock
from toolkit.services.history import ScanRecording, scan_db_path

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def _report(*hosts: HostReport, interrupted: bool = False, not_scanned: tuple[str, ...] = ()) -> Report:
    return Report(hosts, NOW, duration=1.5, interrupted=interrupted, not_scanned=not_scanned)


def _open(path: Path | None, hosts: list[str], source: str = "fleet.toml") -> ScanRecording:
    return ScanRecording.open(path, policy="baseline", fail_on="high", source=source, hosts=hosts)


def test_hosts_are_recorded_in_inventory_order_and_the_scan_is_closed(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    with _open(db, ["zulu", "mike", "alpha"]) as rec:
        assert rec.recorded and rec.scan_id > 0
        # finished out of inventory order
        done = [
            HostReport("alpha", duration=0.1),
            HostReport("zulu", error=HostError("zulu", "auth", "denied")),
        ]
        for host in done:
            rec.on_host(host)
        rec.finish(_report(*done, interrupted=True, not_scanned=("mike",)))
        scan_id = rec.scan_id
    with History(db) as h:
        record = h.get(scan_id)
        assert record.status == "interrupted" and record.source == "fleet.toml"
        assert (record.policy, record.fail_on, record.hosts_total) == ("baseline", "high", 3)
        assert record.not_scanned == ("mike",) and record.duration == 1.5
        assert [x.server for x in h.hosts(scan_id)] == ["zulu", "alpha"]
    with scan_lock(db):  # the recording let go of its lock
        pass


def test_the_lock_is_held_for_the_whole_scan(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    with _open(db, ["a"]):
        with pytest.raises(ScanLocked):
            _open(db, ["a"])
    with _open(db, ["a"]) as again:  # released at the end
        assert again.recorded


def test_a_scan_left_running_is_marked_interrupted_when_the_next_begins(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    with History(db) as h:
        stale = h.begin_scan(policy="baseline", fail_on="high")
    with _open(db, ["a"]) as rec:
        rec.finish(_report(HostReport("a")))
    with History(db) as h:
        assert h.get(stale).status == "interrupted"
        assert h.get(rec.scan_id).status == "complete"


def test_keep_prunes_the_oldest_scans(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    ids = []
    for _ in range(4):
        with _open(db, ["a"]) as rec:
            rec.on_host(HostReport("a"))
            rec.finish(_report(HostReport("a")), keep=2)
            ids.append(rec.scan_id)
    with History(db) as h:
        assert [r.id for r in h.scans()] == ids[:1:-1]


def test_no_database_records_nothing(tmp_path: Path) -> None:
    with _open(None, ["a"]) as rec:
        assert not rec.recorded and rec.scan_id == 0
        rec.on_host(HostReport("a"))
        rec.finish(_report(HostReport("a")), keep=1)
        assert rec.write_failed is None
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_stops_the_recording_not_the_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def failing(self: History, scan_id: int, host: HostReport, position: int | None = None) -> None:
        calls.append(host.server)
        raise HistoryError("disk full")

    monkeypatch.setattr(History, "record_host", failing)
    with _open(tmp_path / "h.sqlite3", ["a", "b"]) as rec:
        rec.on_host(HostReport("a"))
        rec.on_host(HostReport("b"))  # not tried again
        assert rec.write_failed == "disk full"
    assert calls == ["a"]


def test_scan_db_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert scan_db_path(tmp_path / "mine.sqlite3", record=False) is None
    assert scan_db_path(None) == tmp_path / "data" / "windns" / "history.sqlite3"
    assert scan_db_path(None, demo=True) == tmp_path / "cache" / "windns" / "demo-history.sqlite3"
    # an explicit database wins over the demo's own
    assert scan_db_path(tmp_path / "mine.sqlite3", demo=True) == tmp_path / "mine.sqlite3"
    with pytest.raises(HistoryError):
        scan_db_path(tmp_path / "missing" / "h.sqlite3")
