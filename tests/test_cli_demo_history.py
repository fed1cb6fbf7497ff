"""`scan --demo` keeps its own history: the user's database is never written by a demo, and
history, trends and diffs are kept per inventory."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit.cli import main
from toolkit.findings import EXIT_FINDINGS


def _env(tmp_path: Path) -> dict[str, str]:
    return {"XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CACHE_HOME": str(tmp_path / "cache")}


def test_demo_scan_leaves_no_history_in_the_data_home(
    runner: CliRunner, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    env = _env(tmp_path)
    r = runner.invoke(main, ["scan", "--demo"], env=env)
    assert r.exit_code == EXIT_FINDINGS, r.output
    data = tmp_path / "data"
    assert not data.exists() or not any(data.rglob("*")), sorted(data.rglob("*"))
    demo_db = tmp_path / "cache" / "windns" / "demo-history.sqlite3"
    assert demo_db.is_file()
    assert r.stderr == ""  # stderr stays empty (cron mail); where the demo history is, at -v (below)
    # the user's history is not there; the demo's is, with --demo
    r = runner.invoke(main, ["history", "list", "--format", "json"], env=env)
    assert r.exit_code == 4 and "no scan history" in r.stderr
    r = runner.invoke(main, ["history", "list", "--demo", "--format", "json"], env=env)
    assert r.exit_code == 0 and len(json.loads(r.stdout)) == 1
    with caplog.at_level(logging.INFO, logger="windns"):
        r = runner.invoke(main, ["scan", "--demo", "-v"], env=env)
    assert f"recorded in {demo_db}" in caplog.text and "history list --demo" in caplog.text


def test_windns_db_in_the_environment_is_not_written_by_a_demo(runner: CliRunner, tmp_path: Path) -> None:
    mine = tmp_path / "mine.sqlite3"
    env = {**_env(tmp_path), "WINDNS_DB": str(mine)}
    r = runner.invoke(main, ["-q", "scan", "--demo"], env=env)
    assert r.exit_code == EXIT_FINDINGS and not mine.exists() and r.stderr == ""
    # an explicit --db is obeyed
    r = runner.invoke(main, ["-q", "scan", "--demo", "--db", str(mine)], env=env)
    assert r.exit_code == EXIT_FINDINGS and mine.is_file()
    r = runner.invoke(main, ["history", "list", "--demo", "--db", str(mine)], env=env)
    assert r.exit_code == 3 and "--db or --demo" in r.stderr


def test_diff_compares_scans_of_the_same_inventory(runner: CliRunner, tmp_path: Path) -> None:
    db = str(tmp_path / "h.sqlite3")
    hosts = tmp_path / "hosts.txt"
    hosts.write_text("dns1\n", encoding="utf-8")
    assert runner.invoke(main, ["-q", "scan", "--demo", "--db", db]).exit_code == EXIT_FINDINGS
    r = runner.invoke(main, ["-q", "--transport", "fake", "scan", str(hosts), "--db", db])
    assert r.exit_code == EXIT_FINDINGS, r.output
    # one scan of hosts.txt: nothing to compare, exit 0 (the demo scan before it is another inventory)
    r = runner.invoke(main, ["diff", "--db", db])
    assert r.exit_code == 0 and "scan 2 is the only scan of" in r.stdout and "hosts.txt" in r.stdout
    assert runner.invoke(main, ["-q", "scan", "--demo", "--db", db]).exit_code == EXIT_FINDINGS
    r = runner.invoke(main, ["diff", "--db", db, "--format", "json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert (doc["a"]["id"], doc["b"]["id"]) == (1, 3), doc["a"]
