"""`windns rules list|explain`, `windns policy show`, and `windns explain RULE`."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from click.testing import CliRunner

from toolkit.cli import main
from toolkit.rules import RULES


def test_rules_list_json(runner: CliRunner) -> None:
    res = runner.invoke(main, ["rules", "list", "--format", "json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert len(rows) == len(RULES) >= 25
    for row in rows:
        assert row["id"] and row["title"] and row["severity"] in {"info", "low", "medium", "high", "critical"}
        assert row["references"]
    assert next(r for r in rows if r["id"] == "KEY001")["win32"] == 9104


def test_rules_list_table_marks_profile_selection(runner: CliRunner) -> None:
    res = runner.invoke(main, ["rules", "list", "--profile", "baseline"])
    assert res.exit_code == 0, res.output
    line = next(x for x in res.output.splitlines() if x.startswith("ZONE001"))
    assert "(not selected)" in line
    nsec = next(x for x in res.output.splitlines() if x.startswith("NSEC001"))
    assert nsec.split()[1] == "info"  # baseline's severity override


def test_rules_explain(runner: CliRunner) -> None:
    res = runner.invoke(main, ["rules", "explain", "KEY001"])
    assert res.exit_code == 0 and "DNS_ERROR_NOT_ENOUGH_SIGNING_KEY_DESCRIPTORS" in res.output
    res = runner.invoke(main, ["rules", "explain", "NOPE001"])
    assert res.exit_code == 4 and "unknown rule" in res.output
    assert "Traceback" not in res.output


def test_windns_explain_reaches_rules(runner: CliRunner) -> None:
    res = runner.invoke(main, ["explain", "ROLL005"])
    assert res.exit_code == 0, res.output
    assert "KskWaitingForDSUpdate" in res.output


def test_policy_show_toml_and_json(runner: CliRunner) -> None:
    res = runner.invoke(main, ["policy", "show", "--profile", "stig"])
    assert res.exit_code == 0, res.output
    doc = tomllib.loads(res.output)
    assert doc["name"] == "stig" and doc["thresholds"]["denial-of-existence"] == "NSec3"
    res = runner.invoke(main, ["policy", "show", "--profile", "rfc", "--format", "json"])
    assert json.loads(res.output)["thresholds"]["zsk-min-rsa-bits"] == 2048


def test_policy_show_file_and_typo(runner: CliRunner, tmp_path: Path) -> None:
    good = tmp_path / "p.toml"
    good.write_text('extends = "rfc"\nignore = ["ALG002"]\n', encoding="utf-8")
    res = runner.invoke(main, ["policy", "show", "--policy", str(good), "-f", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["extends"] == "rfc" and "ALG002" in doc["ignore"]
    bad = tmp_path / "bad.toml"
    bad.write_text('extends = "rfc"\n[thresholds]\nzsk-min-bits = 2048\n', encoding="utf-8")
    res = runner.invoke(main, ["policy", "show", "--policy", str(bad)])
    assert res.exit_code == 4
    assert f"{bad}:3: unknown threshold 'zsk-min-bits'" in res.output
    assert len(res.output.strip().splitlines()) == 1
