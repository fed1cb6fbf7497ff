"""A key the toolkit adds never raises a finding of the toolkit's own audit: `keys add` and `fix`
take their defaults (algorithm, length, validity periods, rollover period) from the policy."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit.cli import main
from toolkit.policy import PROFILES, load_policy
from toolkit.services import admin
from toolkit.services.audit import audit_server
from toolkit.services.fix import plan_server
from toolkit.testing.fake_remote import FakeRemote
from toolkit.testing.simulator import Fleet

#: (server, zone): RSA, ECDSA P-256, a signed zone missing its ZSK, an unsigned one, ECDSA P-384
#: (allowed, not recommended) and RSA/SHA-1 (forbidden)
ZONES = [
    ("dns1", "corp.example"),
    ("dns1", "ecdsa.corp.example"),
    ("dns1", "nozsk.corp.example"),
    ("dns1", "staging.corp.example"),
    ("dns2", "shop.corp.example"),
    ("dns1", "legacy.corp.example"),
]
AREAS = ("KEY", "ALG", "SIG", "ROLL")


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("key_type", ["KSK", "ZSK"])
@pytest.mark.parametrize(("host", "zone"), ZONES, ids=[z for _, z in ZONES])
def test_a_key_added_with_defaults_raises_no_finding_about_itself(
    fleet: Fleet, profile: str, key_type: str, host: str, zone: str
) -> None:
    policy = load_policy(None, profile)
    remote = FakeRemote(fleet.get(host))
    out = admin.add_key(remote, zone, key_type, options=admin.Options(policy=policy))
    key_id = str(out.data["KeyId"]).lower()
    about = [
        (f.rule_id, f.message)
        for f in audit_server(remote, policy).findings
        if (f.target.key_id or "").lower() == key_id and f.rule_id.startswith(AREAS)
    ]
    assert about == [], out.notes


def test_rfc_zsk_gets_2048_bits_and_says_why(fleet: Fleet) -> None:
    remote = FakeRemote(fleet.get("dns1"))
    out = admin.add_key(
        remote, "corp.example", "zsk", options=admin.Options(dry_run=True, policy=load_policy(None, "rfc"))
    )
    assert out.change.params["KeyLength"] == 2048
    assert "length 2048 from profile rfc (KEY005 minimum)" in out.notes


def test_baseline_keeps_windows_defaults(fleet: Fleet) -> None:
    remote = FakeRemote(fleet.get("dns1"))
    out = admin.add_key(remote, "corp.example", "zsk", options=admin.Options(dry_run=True))
    assert out.change.params["KeyLength"] == 1024  # Windows's default ZSK, the baseline minimum
    assert "RolloverPeriodSeconds" not in out.change.params  # Windows's 90 days fit the baseline
    assert any(n.startswith("length 1024: Windows default") for n in out.notes)


def test_rfc_ksk_rollover_period_is_brought_into_the_policy_range(fleet: Fleet) -> None:
    remote = FakeRemote(fleet.get("dns1"))
    out = admin.add_key(
        remote, "corp.example", "ksk", options=admin.Options(dry_run=True, policy=load_policy(None, "rfc"))
    )
    assert out.change.params["RolloverPeriodSeconds"] == 730 * 86400  # Windows's 755 d is above 730 d
    assert any("rollover period 730d from profile rfc (ROLL002" in n for n in out.notes)


def test_given_values_win_over_the_policy(fleet: Fleet) -> None:
    remote = FakeRemote(fleet.get("dns1"))
    out = admin.add_key(
        remote,
        "corp.example",
        "zsk",
        length=1536,
        options=admin.Options(dry_run=True, policy=load_policy(None, "rfc")),
    )
    assert out.change.params["KeyLength"] == 1536
    assert not any(n.startswith("length") for n in out.notes)


def test_a_forbidden_zone_algorithm_is_not_copied(fleet: Fleet) -> None:
    remote = FakeRemote(fleet.get("dns1"))
    out = admin.add_key(remote, "legacy.corp.example", "zsk", options=admin.Options(dry_run=True))
    assert out.change.params["CryptoAlgorithm"] == "RsaSha256"
    assert any("RsaSha1" in n and "ALG001" in n for n in out.notes)


def test_keys_add_cli_takes_the_profile_and_prints_where_defaults_come_from(
    runner: CliRunner, demo_dir: Path
) -> None:
    base = ["--transport", "fake", "--fixtures", str(demo_dir), "--server", "dns1"]
    res = runner.invoke(
        main,
        [*base, "keys", "add", "--zone", "corp.example", "--type", "zsk", "--profile", "rfc", "--dry-run"],
    )
    assert res.exit_code == 0, res.output
    assert "-KeyLength 2048" in res.stdout
    assert "length 2048 from profile rfc (KEY005 minimum)" in res.stdout
    res = runner.invoke(
        main, [*base, "keys", "add", "--zone", "corp.example", "--type", "zsk", "--profile", "rfc"]
    )
    assert res.exit_code == 0, res.output
    assert "length 2048 from profile rfc (KEY005 minimum)" in res.stdout
    help_text = " ".join(runner.invoke(main, ["keys", "add", "--help"]).output.split())
    assert "--profile" in help_text and "--policy" in help_text and "policy" in help_text.lower()


def test_fix_adds_missing_keys_with_the_policys_defaults(fleet: Fleet) -> None:
    policy = load_policy(None, "rfc")
    plan = plan_server(audit_server(FakeRemote(fleet.get("dns1")), policy), policy)
    add = next(i for i in plan.fixes if (i.change.zone, i.change.script) == ("nozsk.corp.example", "key_add"))
    assert add.change.params["KeyLength"] == 2048
    assert "length 2048 from profile rfc (KEY005 minimum)" in add.reason


def test_a_policy_file_narrows_the_signature_validity(fleet: Fleet, tmp_path: Path) -> None:
    path = tmp_path / "corp.toml"
    path.write_text(
        'extends = "rfc"\n[thresholds]\ndnskey-validity-min = "100h"\ndnskey-validity-max = "120h"\n'
    )
    policy = load_policy(path)
    remote = FakeRemote(fleet.get("dns1"))
    out = admin.add_key(remote, "corp.example", "ksk", options=admin.Options(policy=policy))
    assert out.change.params["DnsKeySignatureValidityPeriodSeconds"] == 120 * 3600
    assert any(
        n.startswith("DNSKEY signature validity 120h from policy corp (SIG001 range 100h..120h")
        for n in out.notes
    )
    key_id = str(out.data["KeyId"]).lower()
    findings = audit_server(remote, policy).findings
    assert not [
        f for f in findings if (f.target.key_id or "").lower() == key_id and f.rule_id.startswith(AREAS)
    ]


def test_fix_enables_rollover_with_a_period_within_the_policy(fleet: Fleet) -> None:
    policy = load_policy(None, "rfc")
    plan = plan_server(audit_server(FakeRemote(fleet.get("dns4")), policy), policy)
    item = next(i for i in plan.fixes if i.change.params.get("Action") == "enable")
    assert item.change.params["RolloverPeriodSeconds"] == 730 * 86400  # Windows's 755 d is above rfc's 730 d
    assert "730d from profile rfc (ROLL002" in item.reason
