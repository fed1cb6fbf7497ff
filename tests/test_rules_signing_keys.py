"""KEY and ALG rules against what Windows means by "enough signing key descriptors" (9104).

Sources the verdicts rest on:

- MS-DNSP 2.2.6.2.3 (DNS_RPC_SKD_STATE), dwState: DNS_SKD_STATE_ACTIVE "The signing key
  descriptor is active and in use for online signing of the zone"; DNS_SKD_STATE_RETIRED "The
  signing key descriptor is no longer in use for online signing". A retired descriptor counts for
  nothing when Windows signs, so it satisfies neither the zone's KSK+ZSK check nor an algorithm's.
- The same structure's pwszActiveKey / pwszStandbyKey / pwszNextKey, and the DnsServerSigningKey
  class's ActiveKey ("A pointer string for the active key"): a descriptor whose ActiveKey is
  blank while a StandbyKey or NextKey is set has no key that signs yet.
- Win32 9104 DNS_ERROR_NOT_ENOUGH_SIGNING_KEY_DESCRIPTORS: "The zone does not have enough signing
  keys. There must be at least one key signing key (KSK) and at least one zone signing key (ZSK)."
- MS-DNSP 2.2.6.2.3, dwCurrentRolloverStatus: it "MUST be set to one of the following values";
  a value outside that list is unknown, not a rollover in progress.
"""

from __future__ import annotations

import dataclasses

from tests.rules_fixtures import NOW, D, inventory, key, with_settings, zone
from toolkit.findings import Finding, Severity
from toolkit.model import ServerInventory
from toolkit.model.enums import CryptoAlgorithm, KeyState, RolloverStatus
from toolkit.policy import Policy, load_policy
from toolkit.rules import evaluate, evaluate_rules, get_rule

GUID_A = "{68550441-8E4D-4D99-921C-BC1807FFF7ED}"
GUID_S = "{5B8E2D41-7C9A-4E03-B6F1-A2D3C4E5F607}"
ECDSA = {"algorithm": CryptoAlgorithm.ECDSAP256SHA256, "key_length": 256}


def everything(profile: str = "rfc") -> Policy:
    return dataclasses.replace(load_policy(profile=profile), select=("",), ignore=())


def run(rule_id: str, inv: ServerInventory) -> list[Finding]:
    rule = get_rule(rule_id)
    assert rule is not None
    active, _ = evaluate_rules((rule,), inv, everything(), now=NOW)
    return active


def ids(inv: ServerInventory) -> set[str]:
    return {f.rule_id for f in evaluate(inv, everything(), now=NOW)[0]}


def retired(kind: str, n: int, **kw: object) -> object:
    return key(kind, n, current_state=KeyState.RETIRED, **kw)


def pending(kind: str, n: int, **kw: object) -> object:
    """A descriptor as Add-DnsServerSigningKey leaves it: no ActiveKey yet, only a NextKey."""
    return key(kind, n, active_key=None, next_key=GUID_S, **kw)


# -- retired keys count for nothing --------------------------------------------------------------
def test_key003_a_retired_zsk_does_not_complete_an_algorithm() -> None:
    # RSA has its KSK and ZSK; ECDSA has an active KSK and only a retired ZSK: the ECDSA chain
    # has no ZSK that signs (today KEY003 counts the retired key and says nothing)
    inv = inventory(
        zone(keys=(key("KSK", 1), key("ZSK", 2), key("KSK", 3, **ECDSA), retired("ZSK", 4, **ECDSA)))
    )
    (f,) = run("KEY003", inv)
    assert f.evidence["algorithm"] == "ECDsaP256Sha256" and f.evidence["missing"] == "ZSK"
    assert "retired" in f.message


def test_key003_an_algorithm_whose_keys_are_all_retired_is_not_in_use() -> None:
    inv = inventory(zone(keys=(key("KSK", 1), key("ZSK", 2), retired("KSK", 3, **ECDSA))))
    assert run("KEY003", inv) == []


def test_key001_signed_zone_whose_only_zsk_is_retired_is_critical_not_key002() -> None:
    # MS-DNSP: a retired descriptor is "no longer in use for online signing": the zone has no ZSK
    # that signs, the 9104 state itself
    inv = inventory(zone(keys=(key("KSK", 1), retired("ZSK", 2))))
    (f,) = run("KEY001", inv)
    assert f.severity is Severity.CRITICAL and "9104" in f.message and "retired" in f.message
    assert f.evidence["missing"] == ["ZSK"] and f.evidence["retired"] == ["ZSK"]
    assert run("KEY002", inv) == []


def test_key001_signed_zone_whose_only_ksk_is_retired_is_critical() -> None:
    (f,) = run("KEY001", inventory(zone(keys=(retired("KSK", 1), key("ZSK", 2)))))
    assert f.severity is Severity.CRITICAL and f.evidence["missing"] == ["KSK"]


def test_key002_still_reports_an_unsigned_zone_whose_keys_of_a_type_are_retired() -> None:
    z = zone(keys=(key("KSK", 1), retired("ZSK", 2)), is_signed=False)
    inv = inventory(with_settings(z, is_signed=False))
    (f,) = run("KEY002", inv)
    assert f.evidence["missing_active"] == "ZSK" and "9104" in f.message
    assert run("KEY001", inv) == []


# -- a descriptor without an ActiveKey does not sign yet -----------------------------------------
def test_key007_a_descriptor_without_an_active_key_is_reported() -> None:
    inv = inventory(
        zone(keys=(key("KSK", 1, active_key=GUID_A), key("ZSK", 2, active_key=GUID_A), pending("ZSK", 3)))
    )
    (f,) = run("KEY007", inv)
    assert f.target.key_id == "00000000-0000-0000-0000-000000000003"
    assert f.evidence["active_key"] is None and f.evidence["next_key"] == GUID_S
    assert ids(inv) == {"KEY007"}  # another ZSK signs: nothing else to say


def test_key001_a_pending_zsk_does_not_satisfy_a_signed_zone() -> None:
    inv = inventory(zone(keys=(key("KSK", 1, active_key=GUID_A), pending("ZSK", 2))))
    (f,) = run("KEY001", inv)
    assert f.severity is Severity.CRITICAL and f.evidence["missing"] == ["ZSK"]
    assert f.evidence["not_yet_signing"] == ["ZSK"]
    assert {"KEY001", "KEY007"} <= ids(inv)


def test_key001_pending_keys_are_what_an_unsigned_zone_holds_before_signing() -> None:
    # Add-DnsServerSigningKey, then Invoke-DnsServerZoneSign: before the sign, nothing signs anyway
    z = zone(keys=(pending("KSK", 1), pending("ZSK", 2)), is_signed=False)
    inv = inventory(with_settings(z, is_signed=False))
    assert {i for i in ids(inv) if i.startswith("KEY")} == set()


def test_keys_without_any_pointer_reported_are_not_taken_for_pending() -> None:
    # an inventory that carries no pointers at all (older documents, hand-made descriptors) says
    # nothing about them: the healthy fixture has none and stays clean
    assert ids(inventory()) == set()


def test_key003_a_pending_ecdsa_zsk_does_not_complete_the_ecdsa_chain() -> None:
    keys = (
        key("KSK", 1),
        key("ZSK", 2),
        key("KSK", 3, active_key=GUID_A, **ECDSA),
        pending("ZSK", 4, **ECDSA),
    )
    (f,) = run("KEY003", inventory(zone(keys=keys)))
    assert f.evidence["missing"] == "ZSK" and "no active key" in f.message


# -- ALG003 and rollover statuses ----------------------------------------------------------------
def test_alg003_once_per_zone_and_algorithm() -> None:
    sha1 = {"algorithm": CryptoAlgorithm.RSASHA1}
    inv = inventory(zone(keys=(key("KSK", 1, **sha1), key("ZSK", 2, **sha1), key("ZSK", 3, **sha1))))
    (f,) = run("ALG003", inv)
    assert f.target.key_id is None and f.evidence["algorithm"] == "RsaSha1"
    assert f.evidence["keys"] == ["KSK", "ZSK", "ZSK"]


def test_an_unknown_rollover_status_is_not_a_rollover_in_progress() -> None:
    assert not RolloverStatus("KskWaitingForCds").is_rolling
    assert RolloverStatus.ROLL_STARTED.is_rolling and not RolloverStatus.QUEUED.is_rolling


def test_roll003_reports_an_overdue_key_whose_status_is_unknown_as_unknown() -> None:
    odd = RolloverStatus("KskWaitingForCds")
    inv = inventory(
        zone(keys=(key("KSK", 1, next_rollover_time=NOW - 3 * D, current_rollover_status=odd), key("ZSK", 2)))
    )
    (f,) = run("ROLL003", inv)
    assert "KskWaitingForCds" in f.message and "unknown" in f.message
    assert f.evidence["current_rollover_status"] == "KskWaitingForCds"


def test_rollover_calendar_shows_an_unknown_status_as_unknown() -> None:
    from toolkit.rollovers import STATES, rollover_calendar

    odd = RolloverStatus("KskWaitingForCds")
    inv = inventory(zone(keys=(key("KSK", 1, current_rollover_status=odd), key("ZSK", 2))))
    (ksk,) = [e for e in rollover_calendar({"dns1": inv}, now=NOW) if e.key_type == "KSK"]
    assert ksk.state == "unknown" and "KskWaitingForCds" in ksk.detail and "unknown" in STATES
