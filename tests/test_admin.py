"""Admin service: happy paths on the fake, dry run, confirmation, --force and the audit log."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from toolkit.audit_log import AuditLog, Operator
from toolkit.errors import CmdletError, GuardError
from toolkit.services import admin
from toolkit.services.audit import collect
from toolkit.testing.fake_remote import FakeRemote
from toolkit.testing.simulator import Fleet


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    return AuditLog(tmp_path / "audit.log")


def _writes(remote: FakeRemote) -> list[str]:
    return [c.script for c in remote.write_calls]


def _zone(remote: FakeRemote, name: str):  # type: ignore[no-untyped-def]
    zone = collect(remote, [name]).zone(name)
    assert zone is not None
    return zone


def test_add_key_matches_zone_algorithm_and_next_read_shows_it(fleet: Fleet, log: AuditLog) -> None:
    remote = FakeRemote(fleet.get("dns1"))
    out = admin.add_key(remote, "ecdsa.corp.example", "ZSK", options=admin.Options(audit_log=log))
    assert out.change.params["CryptoAlgorithm"] == "ECDsaP256Sha256" and out.change.params["KeyLength"] == 256
    zone = _zone(remote, "ecdsa.corp.example")
    assert len(zone.zsks) == 2
    assert out.data["KeyId"] in {k.key_id for k in zone.keys}
    assert [e["result"] for e in log] == ["done"]


def test_add_missing_zsk_fixes_the_9104_zone(fleet: Fleet) -> None:
    remote = FakeRemote(fleet.get("dns1"))
    admin.add_key(remote, "nozsk.corp.example", "zsk", rollover_period=timedelta(days=60))
    zone = _zone(remote, "nozsk.corp.example")
    assert [k.algorithm.value for k in zone.zsks] == ["RsaSha256"]
    assert zone.zsks[0].rollover_period == timedelta(days=60)


def test_set_key_and_rollover_change_state(fleet: Fleet) -> None:
    dns4 = fleet.get("dns4")
    remote = FakeRemote(dns4)
    ksk = _zone(remote, "manual.branch.example").ksks[0]
    assert not ksk.rollover_enabled
    admin.rollover(remote, "manual.branch.example", ksk.key_id, "enable", rollover_period=timedelta(days=365))
    after = _zone(remote, "manual.branch.example").ksks[0]
    assert after.rollover_enabled and after.rollover_period == timedelta(days=365)
    admin.set_key(remote, "manual.branch.example", ksk.key_id, dnskey_validity=timedelta(hours=72))
    assert _zone(remote, "manual.branch.example").ksks[0].dnskey_signature_validity == timedelta(hours=72)
    # rolling and stepping a KSK asks the parent's DS over DNS; a simulated server has no address
    confirmed = admin.Options(ds_confirmed=True)
    admin.rollover(remote, "manual.branch.example", ksk.key_id, "now", options=confirmed)
    status = _zone(remote, "manual.branch.example").ksks[0].current_rollover_status
    assert status is not None and status.value == "KskWaitingForDSUpdate"
    admin.rollover(remote, "manual.branch.example", ksk.key_id, "step", options=confirmed)
    status = _zone(remote, "manual.branch.example").ksks[0].current_rollover_status
    assert status is not None and status.value == "NotRolling"


def test_zone_operations(fleet: Fleet) -> None:
    remote = FakeRemote(fleet.get("dns1"))
    admin.set_zone_dnssec(
        remote, "nsec3.corp.example", nsec3_iterations=0, nsec3_salt="-", ds_digests=["Sha256"]
    )
    s = _zone(remote, "nsec3.corp.example").dnssec
    assert s is not None and s.nsec3_iterations == 0 and not s.salt_in_use
    admin.sign_zone(remote, "_msdcs.corp.example", defaults=True)
    assert _zone(remote, "_msdcs.corp.example").signed
    out = admin.export_keys(remote, "_msdcs.corp.example", digests=["Sha256"])
    assert out.data["Kind"] == "DS" and " IN DS " in out.data["File"]
    admin.unsign_zone(remote, "_msdcs.corp.example", options=admin.Options(assume_yes=True))
    assert not _zone(remote, "_msdcs.corp.example").signed


def test_dry_run_sends_nothing_and_is_logged(fleet: Fleet, log: AuditLog) -> None:
    remote = FakeRemote(fleet.get("dns1"))
    zsk = _zone(remote, "nsec3.corp.example").zsks[0]
    out = admin.set_key(
        remote,
        "nsec3.corp.example",
        zsk.key_id,
        rollover_period=timedelta(days=30),
        options=admin.Options(dry_run=True, audit_log=log),
    )
    assert _writes(remote) == []
    assert out.dry_run and out.plan_line == (
        "DNS1.corp.example: Set-DnsServerSigningKey -ZoneName 'nsec3.corp.example' "
        f"-KeyId '{zsk.key_id}' -RolloverPeriod ([TimeSpan]::FromSeconds(2592000))"
    )
    assert _zone(remote, "nsec3.corp.example").zsks[0].rollover_period == timedelta(days=90)
    (entry,) = log.entries()
    assert entry["dry_run"] is True and entry["result"] == "planned"


def test_destructive_change_needs_confirmation(fleet: Fleet, log: AuditLog) -> None:
    remote = FakeRemote(fleet.get("dns1"))
    ksk = _zone(remote, "staging.corp.example").ksks[0]
    with pytest.raises(admin.ConfirmationRequired):
        admin.remove_keys(remote, "staging.corp.example", [ksk.key_id], options=admin.Options(audit_log=log))
    asked: list[str] = []

    def no(change: admin.Change) -> bool:
        asked.append(change.command_line())
        return False

    with pytest.raises(admin.Cancelled):
        admin.remove_keys(
            remote, "staging.corp.example", [ksk.key_id], options=admin.Options(confirm=no, audit_log=log)
        )
    assert asked and asked[0].startswith("Remove-DnsServerSigningKey -ZoneName 'staging.corp.example'")
    assert _writes(remote) == []
    admin.remove_keys(
        remote,
        "staging.corp.example",
        [ksk.key_id],
        options=admin.Options(confirm=lambda c: True, audit_log=log),
    )
    assert _writes(remote) == ["key_remove"]
    assert _zone(remote, "staging.corp.example").keys == ()
    assert [e["result"] for e in log] == ["refused", "cancelled", "done"]


def test_resign_is_destructive_but_plain_sign_is_not(fleet: Fleet) -> None:
    remote = FakeRemote(fleet.get("dns1"))
    with pytest.raises(admin.ConfirmationRequired):
        admin.sign_zone(remote, "nsec3.corp.example", resign=True)
    admin.sign_zone(remote, "nsec3.corp.example", resign=True, options=admin.Options(assume_yes=True))
    assert _writes(remote) == ["zone_sign"]


def test_guard_refusal_sends_nothing_and_force_gets_the_server_error(fleet: Fleet, log: AuditLog) -> None:
    remote = FakeRemote(fleet.get("dns1"))
    zsk = _zone(remote, "corp.example").zsks[0]
    with pytest.raises(GuardError) as refused:
        admin.remove_keys(remote, "corp.example", [zsk.key_id], options=admin.Options(audit_log=log))
    assert refused.value.code == 9104 and _writes(remote) == []
    warnings: list[str] = []
    with pytest.raises(CmdletError) as answered:
        admin.remove_keys(
            remote,
            "corp.example",
            [zsk.key_id],
            options=admin.Options(force=True, assume_yes=True, audit_log=log, warn=warnings.append),
        )
    assert answered.value.code == 9104 and _writes(remote) == ["key_remove"]
    assert any("guard is skipped" in w for w in warnings)
    assert any("9104" in w for w in warnings)
    refusal, failure = log.entries()
    assert refusal["result"] == "refused" and refusal["error"]["code"] == 9104
    assert refusal["error"]["name"] == "DNS_ERROR_NOT_ENOUGH_SIGNING_KEY_DESCRIPTORS"
    assert failure["result"] == "failed" and failure["forced"] is True and failure["error"]["code"] == 9104
    text = admin.describe_failure(answered.value, zone="corp.example")
    assert text is not None and text.startswith("DNS_ERROR_NOT_ENOUGH_SIGNING_KEY_DESCRIPTORS (9104)")


def test_describe_failure_keeps_the_resolve_lines_and_fills_the_zone() -> None:
    from toolkit.catalogue import get

    err = CmdletError("no", code=9104, cmdlet="Remove-DnsServerSigningKey")
    text = admin.describe_failure(err, zone="corp.example")
    assert text is not None
    resolve = get(9104).resolve  # type: ignore[union-attr]
    assert resolve is not None and "<Zone>" in resolve
    want = [line.replace("<Zone>", "corp.example").strip() for line in resolve.splitlines() if line.strip()]
    lines = text.splitlines()
    assert lines[1] == "  Resolve:"
    assert [line.strip() for line in lines[2:]] == want  # one printed line per line of advice
    assert all(line.startswith("    ") for line in lines[2:])
    assert "<Zone>" not in text


def test_fill_placeholders_quotes_like_powershell() -> None:
    text = "Get-X -ZoneName '<Zone>' -KeyId <KeyId> -Name <Zone> -ComputerName <Server>"
    out = admin.fill_placeholders(text, Zone="o'brien.example", KeyId=None)
    assert (
        out
        == "Get-X -ZoneName 'o''brien.example' -KeyId <KeyId> -Name o'brien.example -ComputerName <Server>"
    )


@pytest.mark.parametrize(("length", "code"), [(-5, None), (0, 9106), (99999999999, None)])
def test_impossible_key_length_is_refused_then_answered(fleet: Fleet, length: int, code: int | None) -> None:
    remote = FakeRemote(fleet.get("dns1"))
    with pytest.raises(GuardError) as refused:
        admin.add_key(remote, "corp.example", "KSK", length=length)
    assert refused.value.code == 9106 and _writes(remote) == []
    with pytest.raises(CmdletError) as answered:
        admin.add_key(remote, "corp.example", "KSK", length=length, options=admin.Options(force=True))
    # Forced through, a length the script's [uint32]$KeyLength cannot hold (key_add.ps1 L14) is
    # refused by PowerShell's parameter binding, without a Win32 code; 0 reaches
    # Add-DnsServerSigningKey, which answers 9106.
    assert answered.value.code == code and _writes(remote) == ["key_add"]
    assert remote.write_calls[0].params["KeyLength"] == length  # sent as given, not replaced by a default
    assert len(_zone(remote, "corp.example").keys) == 2


def test_salt_length_zero_is_refused_and_no_salt_is_dash(fleet: Fleet) -> None:
    remote = FakeRemote(fleet.get("dns1"))
    with pytest.raises(GuardError) as refused:
        admin.set_zone_dnssec(remote, "nsec3.corp.example", nsec3_salt_length=0)
    assert "1-255" in str(refused.value) and _writes(remote) == []
    admin.set_zone_dnssec(remote, "nsec3.corp.example", nsec3_salt="-")
    s = _zone(remote, "nsec3.corp.example").dnssec
    assert s is not None and not s.salt_in_use


def test_audit_entry_fields(fleet: Fleet, log: AuditLog) -> None:
    remote = FakeRemote(fleet.get("dns1"))
    admin.add_key(
        remote,
        "nozsk.corp.example",
        "ZSK",
        options=admin.Options(audit_log=log, operator=Operator("alice", "CORP\\dnsadmin")),
    )
    (entry,) = log.entries()
    assert entry["operator"] == {"local": "alice", "remote": "CORP\\dnsadmin"}
    assert (entry["server"], entry["zone"], entry["action"]) == (
        "DNS1.corp.example",
        "nozsk.corp.example",
        "keys add",
    )
    assert entry["cmdlet"] == "Add-DnsServerSigningKey"
    assert entry["parameters"]["KeyType"] == "ZoneSigningKey" and entry["dry_run"] is False
    assert entry["result"] == "done" and "error" not in entry


def test_export_is_not_a_change(fleet: Fleet, log: AuditLog) -> None:
    remote = FakeRemote(fleet.get("dns1"))
    admin.export_keys(remote, "corp.example", options=admin.Options(audit_log=log))
    assert log.entries() == []


def test_bad_arguments_are_value_errors(fleet: Fleet) -> None:
    remote = FakeRemote(fleet.get("dns1"))
    with pytest.raises(ValueError):
        admin.add_key(remote, "corp.example", "XSK")
    with pytest.raises(ValueError):
        admin.rollover(remote, "corp.example", "x", "later")
    with pytest.raises(ValueError):
        admin.set_key(remote, "corp.example", "x")
    assert remote.calls == []
