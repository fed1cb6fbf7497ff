"""`windns rules list|explain`, `windns policy show`, and `windns explain RULE`."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
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


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ('fail-on = "medium"\nignore = ["ALG01"]\n', 2, "ignore: 'ALG01' matches no registered rule"),
        ('extends = "stig"\nselect = [\n  "ALL",\n  "SRVV",\n]\n', 4, "select: 'SRVV' matches no"),
        ('extend-select = ["TA005", "TA05"]\n', 1, "extend-select: 'TA05' matches no"),
        ('[severity]\nKEY001 = "high"\nKEY01 = "low"\n', 3, "severity: 'KEY01' matches no"),
        ('[[suppress]]\nrule = "NOPE9"\nreason = "typo"\n', 2, "suppress #1: rule 'NOPE9' matches no"),
    ],
)
def test_audit_policy_naming_no_rule_is_one_line_error(
    runner: CliRunner, tmp_path: Path, text: str, line: int, fragment: str
) -> None:
    pol = tmp_path / "typo.toml"
    pol.write_text(text, encoding="utf-8")
    res = runner.invoke(main, ["--transport", "fake", "--server", "dns1", "audit", "--policy", str(pol)])
    assert res.exit_code == 4, res.output
    assert f"{pol}:{line}: " in res.output and fragment in res.output, res.output
    assert len(res.output.strip().splitlines()) == 1 and "Traceback" not in res.output


def test_audit_policy_with_all_and_matching_prefixes_runs(runner: CliRunner, tmp_path: Path) -> None:
    pol = tmp_path / "ok.toml"
    pol.write_text(
        'select = ["ALL"]\nignore = ["ALG", "DS001"]\n[[suppress]]\nrule = "KEY"\nreason = "rebuild"\n',
        encoding="utf-8",
    )
    args = ["--transport", "fake", "--server", "dns1", "audit", "--policy", str(pol), "-f", "json"]
    res = runner.invoke(main, args)
    assert res.exit_code in (0, 1), res.output
    doc = json.loads(res.output)
    ids = {f["rule_id"] for f in doc["findings"]}
    assert not {i for i in ids if i.startswith(("ALG", "KEY")) or i == "DS001"}
    assert {f["rule_id"] for f in doc["suppressed"]} == {"KEY001"}
