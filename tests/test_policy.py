"""Policy files and profiles: parsing, line-accurate errors, selection, severities, suppressions."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

from tests.rules_fixtures import NOW, inventory, with_settings, zone
from toolkit.errors import ConfigError
from toolkit.findings import Severity
from toolkit.policy import (
    PROFILES,
    Policy,
    load_policy,
    parse_duration,
    parse_policy,
    policy_to_dict,
    policy_to_toml,
)
from toolkit.rules import RULES, evaluate


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "policy.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_profiles_load_and_differ() -> None:
    pols = {p: load_policy(profile=p) for p in PROFILES}
    assert pols["baseline"].thresholds.zsk_min_rsa_bits == 1024
    assert pols["rfc"].thresholds.zsk_min_rsa_bits == 2048
    assert not pols["baseline"].is_selected("ZONE001") and pols["stig"].is_selected("ZONE001")
    assert pols["stig"].severity_for("ZONE001", Severity.MEDIUM) is Severity.HIGH


def test_unknown_profile_is_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown profile"):
        load_policy(profile="pci")


# -- selection ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("select", "ignore", "rule", "expected"),
    [
        (("",), (), "KEY001", True),
        (("",), ("KEY",), "KEY001", False),
        (("KEY001",), ("KEY",), "KEY001", True),  # longer select wins
        (("KEY",), ("KEY001",), "KEY001", False),  # longer ignore wins
        (("KEY",), ("KEY001",), "KEY002", True),
        (("KEY",), ("KEY",), "KEY001", False),  # tie goes to ignore
        (("ALG",), (), "KEY001", False),  # not selected at all
        (("NSEC",), ("NSEC00",), "NSEC001", False),
    ],
)
def test_longest_prefix_wins(
    select: tuple[str, ...], ignore: tuple[str, ...], rule: str, expected: bool
) -> None:
    assert Policy(select=select, ignore=ignore).is_selected(rule) is expected


def test_file_select_ignore_extend_select(tmp_path: Path) -> None:
    p = load_policy(
        write(tmp_path, 'select = ["KEY", "ALG"]\nignore = ["KEY005"]\nextend-select = ["ZONE001"]\n')
    )
    assert p.is_selected("KEY001") and not p.is_selected("KEY005") and not p.is_selected("NSEC001")
    assert p.is_selected("ZONE001")  # extend-select of a profile's ignore turns it on
    assert p.extends == "baseline" and p.source == str(tmp_path / "policy.toml")


def test_tie_in_one_file_goes_to_ignore(tmp_path: Path) -> None:
    p = load_policy(write(tmp_path, 'extend-select = ["ZONE001"]\nignore = ["ZONE001"]\n'))
    assert not p.is_selected("ZONE001")
    q = load_policy(write(tmp_path, 'extend-select = ["ZONE001"]\n'))
    assert q.is_selected("ZONE001") and "ZONE001" not in q.ignore


def test_ignore_removes_findings(tmp_path: Path) -> None:
    inv = inventory(with_settings(zone(), nsec3_iterations=10))
    assert "NSEC001" in {f.rule_id for f in evaluate(inv, load_policy(), now=NOW)[0]}
    p = load_policy(write(tmp_path, 'ignore = ["NSEC001"]\n'))
    active, suppressed = evaluate(inv, p, now=NOW)
    assert "NSEC001" not in {f.rule_id for f in active + suppressed}


def test_severity_override_longest_prefix(tmp_path: Path) -> None:
    p = load_policy(write(tmp_path, '[severity]\nNSEC = "high"\nNSEC002 = "low"\n'))
    assert p.severity_for("NSEC001", Severity.INFO) is Severity.HIGH
    assert p.severity_for("NSEC002", Severity.INFO) is Severity.LOW
    inv = inventory(with_settings(zone(), nsec3_iterations=10))
    (f,) = [f for f in evaluate(inv, p, now=NOW)[0] if f.rule_id == "NSEC001"]
    assert f.severity is Severity.HIGH


def test_thresholds_and_durations(tmp_path: Path) -> None:
    p = load_policy(
        write(tmp_path, 'extends = "rfc"\n[thresholds]\nzsk-min-rsa-bits = 3072\nksk-ds-wait-max = "3d"\n')
    )
    assert p.thresholds.zsk_min_rsa_bits == 3072 and p.thresholds.ksk_ds_wait_max == timedelta(days=3)
    assert p.thresholds.ksk_rollover_max == timedelta(days=730)  # from rfc
    assert p.fail_on is Severity.MEDIUM and p.name == "policy"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("48h", timedelta(hours=48)),
        ("7d", timedelta(days=7)),
        ("30m", timedelta(minutes=30)),
        (90, timedelta(seconds=90)),
    ],
)
def test_parse_duration(value: object, expected: timedelta) -> None:
    assert parse_duration(value) == expected


@pytest.mark.parametrize("value", ["99999999999d", float("inf"), 1e300, "nan", -1, True])
def test_parse_duration_rejects_out_of_range(value: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(value)


def test_policy_duration_too_large_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"^<policy>:2: thresholds\.dnskey-validity-max: duration"):
        parse_policy('[thresholds]\ndnskey-validity-max = "99999999999d"\n')


def test_suppression_keeps_finding_visible(tmp_path: Path) -> None:
    text = (
        'fail-on = "info"\n[[suppress]]\nrule = "NSEC001"\nserver = "dns1*"\nzone = "corp.*"\n'
        'reason = "legacy resolver fleet; CHG-42"\n'
    )
    p = load_policy(write(tmp_path, text))
    inv = inventory(with_settings(zone(), nsec3_iterations=10))
    active, suppressed = evaluate(inv, p, now=NOW)
    assert "NSEC001" not in {f.rule_id for f in active}
    (s,) = suppressed
    assert s.rule_id == "NSEC001" and s.suppressed and s.suppressed_reason == "legacy resolver fleet; CHG-42"


def test_suppression_globs_must_match(tmp_path: Path) -> None:
    text = '[[suppress]]\nrule = "NSEC"\nserver = "dns2*"\nreason = "x"\n'
    inv = inventory(with_settings(zone(), nsec3_iterations=10))
    active, suppressed = evaluate(inv, load_policy(write(tmp_path, text)), now=NOW)
    assert suppressed == [] and "NSEC001" in {f.rule_id for f in active}


# -- bad files: one-line errors with the line ---------------------------------------------------
@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ('fail-on = "high"\nignroe = ["KEY"]\n', 2, "unknown key 'ignroe' (did you mean 'ignore'?)"),
        ('name = "x"\n\n[thresholds]\nzsk-min-rsa-bit = 2048\n', 4, "unknown threshold 'zsk-min-rsa-bit'"),
        ('fail-on = "severe"\n', 1, "unknown severity"),
        ('select = ["KEY", 3]\n', 1, "list of strings"),
        ('select = ["key-001"]\n', 1, "not a rule id"),
        ('[thresholds]\nksk-ds-wait-max = "soon"\n', 2, "duration"),
        ("[thresholds]\nzsk-min-rsa-bits = -1\n", 2, "non-negative"),
        ('\n[severity]\nKEY001 = "urgent"\n', 3, "unknown severity"),
        (
            '[[suppress]]\nrule = "KEY001"\nreason = "a"\n[[suppress]]\nrule = "KEY002"\nzone = "x"\n',
            4,
            "reason",
        ),
        ('[[suppress]]\nrule = "KEY001"\nreason = "ok"\nzones = "x"\n', 4, "unknown key 'zones'"),
        ('select = ["KEY"\nignore = []\n', 2, "invalid TOML"),  # where tomllib notices
        ('extends = "nist"\n', 1, "extends must be one of"),
        ('[thresholds]\nksk-rollover-min = "2000d"\n', 2, "above"),
        ('name = "x"\nname = "y"\n', 2, "invalid TOML"),
        # ids and prefixes must match a registered rule: a typo is an error, not a silent no-op
        ('ignore = ["ALG01"]\n', 1, "ignore: 'ALG01' matches no registered rule (did you mean 'ALG001'?)"),
        ('extends = "rfc"\nignore = [\n  "ZONE001",\n  "ALG01",  # typo\n]\n', 4, "'ALG01' matches no"),
        ('select = [\n  "KEY",\n  "NOPE",\n]\nignore = ["KEY005"]\n', 3, "select: 'NOPE' matches no"),
        ('extend-select = ["ZONE001", "ZONE9"]\n', 1, "extend-select: 'ZONE9' matches no"),
        ('\n[severity]\nNSEC = "high"\nNSEC9 = "low"\n', 4, "severity: 'NSEC9' matches no registered rule"),
        ('[[suppress]]\nreason = "typo"\nrule = "NOPE9"\n', 3, "suppress #1: rule 'NOPE9' matches no"),
        (
            '[[suppress]]\nrule = "KEY"\nreason = "a"\n\n[[suppress]]\nrule = "KEY01"\nreason = "b"\n',
            6,
            "suppress #2: rule 'KEY01' matches no",
        ),
    ],
)
def test_bad_policy_file_names_line(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_policy(path)
    err = info.value
    assert err.line == line, str(err)
    assert fragment in str(err)
    assert str(err).startswith(f"{path}:{line}: ") and "\n" not in str(err)


def test_all_and_prefixes_that_match_rules_are_valid(tmp_path: Path) -> None:
    text = (
        'select = ["all"]\nextend-select = ["K", "dns"]\nignore = ["NSEC00", "TA005"]\n'
        '[severity]\nROLL = "low"\n[[suppress]]\nrule = "sig"\nreason = "lab zone"\n'
    )
    p = load_policy(write(tmp_path, text))
    assert p.select == ("", "K", "DNS") and {"NSEC00", "TA005"} <= set(p.ignore)
    assert p.suppressions[0].rule == "SIG" and p.severity_for("ROLL001", Severity.HIGH) is Severity.LOW


@pytest.mark.parametrize("profile", PROFILES)
def test_profiles_name_only_registered_rules(profile: str) -> None:
    p = load_policy(profile=profile)  # loading validates every id and prefix it names
    for prefix in (*p.select, *p.ignore, *p.severity):
        assert any(r.id.startswith(prefix) for r in RULES), prefix


def test_missing_policy_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read policy file"):
        load_policy(tmp_path / "nope.toml")


@pytest.mark.parametrize("profile", PROFILES)
def test_policy_to_toml_round_trips(profile: str, tmp_path: Path) -> None:
    original = load_policy(write(tmp_path, '[[suppress]]\nrule = "KEY"\nreason = "why not"\n'), profile)
    again = parse_policy(policy_to_toml(original), "shown.toml")
    for f in ("select", "fail_on", "thresholds", "suppressions"):
        assert getattr(again, f) == getattr(original, f), f
    assert dict(again.severity) == dict(original.severity)
    assert set(again.ignore) == set(original.ignore)
    assert policy_to_dict(again)["thresholds"] == policy_to_dict(original)["thresholds"]


def test_policy_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        load_policy().name = "x"  # type: ignore[misc]
