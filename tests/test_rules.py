"""Every rule: one descriptor fixture that triggers it, and the healthy server that does not."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from tests.rules_fixtures import (
    NOW,
    SERVER,
    ZONE,
    D,
    H,
    inventory,
    key,
    replace_key,
    with_settings,
    zone,
)
from toolkit.findings import Finding, Severity
from toolkit.model import ServerDnssecSettings, ServerInventory, TrustAnchor, TrustPoint, ZoneError
from toolkit.model.enums import (
    CryptoAlgorithm,
    DenialOfExistence,
    DsDigest,
    KeyMasterStatus,
    KeyState,
    KeyType,
    RolloverStatus,
    RolloverType,
    TrustAnchorState,
    TrustAnchorType,
)
from toolkit.policy import PROFILES, Policy, load_policy
from toolkit.rules import RULES, evaluate, evaluate_rules, get_rule
from toolkit.rules.join_rules import JoinRule


def everything(profile: str = "rfc") -> Policy:
    """A built-in profile with every rule selected."""
    return dataclasses.replace(load_policy(profile=profile), select=("",), ignore=())


def run(rule_id: str, inv: ServerInventory, policy: Policy | None = None) -> list[Finding]:
    rule = get_rule(rule_id)
    assert rule is not None
    active, suppressed = evaluate_rules((rule,), inv, policy or everything(), now=NOW)
    assert suppressed == []
    return active


def sz(**kw: object) -> ServerInventory:
    """The healthy inventory with its one zone's settings changed."""
    return inventory(with_settings(zone(), **kw))


def sk(index: int, **kw: object) -> ServerInventory:
    """The healthy inventory with one key changed (0 = KSK, 1 = ZSK)."""
    return inventory(replace_key(zone(), index, **kw))


ecdsa_ksk = key("KSK", 3, algorithm=CryptoAlgorithm.ECDSAP256SHA256, key_length=256)
weird = KeyType("SuperSigningKey")

TRIGGERS: dict[str, Callable[[], ServerInventory]] = {
    "KEY001": lambda: inventory(zone(keys=(key("KSK", 1),))),
    # A signed zone whose only ZSK is retired is KEY001's now (MS-DNSP 2.2.6.2.3: a retired
    # descriptor is "no longer in use for online signing", so the zone lacks a ZSK: 9104);
    # KEY002 keeps the zone that is not signed and whose ZSKs are all retired.
    "KEY002": lambda: inventory(
        with_settings(replace_key(zone(is_signed=False), 1, current_state=KeyState.RETIRED), is_signed=False)
    ),
    "KEY003": lambda: inventory(zone(keys=(key("KSK", 1), key("ZSK", 2), ecdsa_ksk))),
    "KEY004": lambda: inventory(zone(keys=(key("KSK", 1), *(key("ZSK", n) for n in range(2, 6))))),
    "KEY005": lambda: sk(1, key_length=1024),
    "KEY006": lambda: sk(1, rollover_type=RolloverType("Sideways")),
    "KEY007": lambda: inventory(
        zone(
            keys=(
                key("KSK", 1),
                key("ZSK", 2),
                key("ZSK", 3, next_key="{5B8E2D41-7C9A-4E03-B6F1-A2D3C4E5F607}"),
            )
        )
    ),
    "ALG001": lambda: inventory(
        with_settings(
            zone(
                keys=(
                    key("KSK", 1, algorithm=CryptoAlgorithm.RSASHA1),
                    key("ZSK", 2, algorithm=CryptoAlgorithm.RSASHA1),
                )
            ),
            denial_of_existence=DenialOfExistence.NSEC,
        )
    ),
    "ALG002": lambda: inventory(
        zone(
            keys=(
                key("KSK", 1, algorithm=CryptoAlgorithm.ECDSAP384SHA384, key_length=384),
                key("ZSK", 2, algorithm=CryptoAlgorithm.ECDSAP384SHA384, key_length=384),
            )
        )
    ),
    "ALG003": lambda: sk(1, algorithm=CryptoAlgorithm.RSASHA1),
    "ROLL001": lambda: sk(0, is_rollover_enabled=False),
    "ROLL002": lambda: sk(0, rollover_period=755 * D),
    "ROLL003": lambda: sk(1, next_rollover_time=NOW - 3 * D),
    "ROLL004": lambda: sk(1, current_rollover_status=RolloverStatus.ROLL_ERROR),
    "ROLL005": lambda: sk(
        0, current_rollover_status=RolloverStatus.KSK_WAITING_FOR_DS_UPDATE, next_rollover_time=NOW - 20 * D
    ),
    "ROLL006": lambda: sk(0, rollover_type=RolloverType.PREPUBLISH),
    "SIG001": lambda: sk(0, dnskey_signature_validity=720 * H),
    "SIG002": lambda: sk(0, ds_signature_validity=720 * H),
    "SIG003": lambda: sk(1, zone_signature_validity=720 * H),
    "SIG004": lambda: sz(propagation_time=5 * D),
    "NSEC001": lambda: sz(nsec3_iterations=10),
    "NSEC002": lambda: sz(nsec3_random_salt_length=8),
    "NSEC003": lambda: sz(nsec3_opt_out=True),
    "NSEC004": lambda: sz(nsec3_iterations=100),
    "NSEC005": lambda: sz(denial_of_existence=DenialOfExistence.NSEC),
    "DS001": lambda: sz(ds_record_generation_algorithm=(DsDigest.SHA1,)),
    "DS002": lambda: sz(ds_record_generation_algorithm=(DsDigest.SHA1, DsDigest.SHA256)),
    "KM001": lambda: sz(
        is_key_master_server=False,
        key_master_server="DNS9.corp.example",
        key_master_status=KeyMasterStatus.OFFLINE,
    ),
    "KM002": lambda: sz(is_key_master_server=False, key_master_server=None, key_master_status=None),
    "KM003": lambda: sk(1, store_keys_in_ad=False),
    "TA001": lambda: inventory(
        trust_anchors=(
            TrustAnchor(".", TrustAnchorType.DS, TrustAnchorState.VALID, key_tag=20326),
            TrustAnchor("partner.example.", TrustAnchorType.DNSKEY, TrustAnchorState.REVOKED, key_tag=40112),
        )
    ),
    "TA002": lambda: inventory(
        trust_points=(
            TrustPoint(
                "partner.example.",
                TrustAnchorState.ACTIVE,
                last_active_refresh_result=1460,
                last_active_refresh_result_description="The timeout period expired.",
            ),
        )
    ),
    "TA003": lambda: inventory(trust_points=(TrustPoint("partner.example.", TrustAnchorState.DS_INVALID),)),
    "TA004": lambda: inventory(trust_anchors=()),
    "TA005": lambda: sz(distribute_trust_anchor=("None",)),
    "SRV001": lambda: inventory(
        server=dataclasses.replace(
            inventory().server, settings=ServerDnssecSettings(enable_dnssec=False, enable_online_signing=True)
        )
    ),
    "SRV002": lambda: inventory(
        server=dataclasses.replace(
            inventory().server, settings=ServerDnssecSettings(enable_dnssec=True, enable_online_signing=False)
        )
    ),
    "SRV003": lambda: inventory(
        errors=(ZoneError("Get-DnsServerTrustPoint", "Access is denied.", code=5),), trust_points=()
    ),
    # only the zones Windows creates itself (Get-DnsServerZone lists them, the audit judges none)
    "SRV004": lambda: inventory(
        zone("0.in-addr.arpa", keys=(), is_signed=False, is_auto_created=True, dnssec=None),
        zone("TrustAnchors", keys=(), is_signed=False, dnssec=None),
    ),
    "ZONE001": lambda: inventory(zone(), zone("plain.example", keys=(), is_signed=False, dnssec=None)),
    "ZONE002": lambda: inventory(
        zone(
            errors=(
                ZoneError(
                    "Get-DnsServerSigningKey",
                    "One or more of the signing keys for a zone are not accessible to the DNS server.",
                    code=9107,
                    zone=ZONE,
                ),
            )
        )
    ),
}


def test_every_rule_has_a_trigger_fixture() -> None:
    # join rules (area DNS) read the DNS view: their triggers are in tests/test_join_rules.py
    assert sorted(TRIGGERS) == sorted(r.id for r in RULES if not isinstance(r, JoinRule))


#: rules whose trigger needs a profile's threshold (rfc otherwise)
PROFILE_FOR = {"NSEC005": "stig"}


@pytest.mark.parametrize("rule_id", sorted(TRIGGERS))
def test_rule_triggers(rule_id: str) -> None:
    findings = run(rule_id, TRIGGERS[rule_id](), everything(PROFILE_FOR.get(rule_id, "rfc")))
    assert findings, f"{rule_id} did not fire on its fixture"
    assert {f.rule_id for f in findings} == {rule_id}
    assert all(f.target.server == SERVER and f.message for f in findings)


@pytest.mark.parametrize("rule_id", sorted(TRIGGERS))
def test_rule_quiet_on_healthy_server(rule_id: str) -> None:
    assert run(rule_id, inventory(), everything(PROFILE_FOR.get(rule_id, "rfc"))) == []


@pytest.mark.parametrize("profile", PROFILES)
def test_healthy_server_clean_under_every_profile(profile: str) -> None:
    active, suppressed = evaluate(inventory(), everything(profile), now=NOW)
    assert [f"{f.rule_id}: {f.message}" for f in active] == [] and suppressed == []


# -- the founding rule in detail ----------------------------------------------------------------
def test_key001_signed_zone_without_zsk_is_critical_and_lists_keys() -> None:
    (f,) = run("KEY001", TRIGGERS["KEY001"]())
    assert f.severity is Severity.CRITICAL
    assert "no ZSK" in f.message and "9104" in f.message
    assert f.evidence["missing"] == ["ZSK"]
    assert f.evidence["keys_present"] == [
        "KSK RsaSha256 2048 bits Active 00000000-0000-0000-0000-000000000001"
    ]
    assert f.target.zone == ZONE


def test_key001_signed_zone_without_ksk_names_ksk() -> None:
    (f,) = run("KEY001", inventory(zone(keys=(key("ZSK", 2),))))
    assert "no KSK" in f.message and f.evidence["missing"] == ["KSK"]


def test_key001_unsigned_zone_holding_one_type_is_high() -> None:
    z = zone("staging.example", keys=(key("KSK", 1, zone="staging.example"),), is_signed=False)
    (f,) = run("KEY001", inventory(z))
    assert f.severity is Severity.HIGH and "will fail" in f.message


def test_key001_signed_zone_without_any_key_names_both() -> None:
    (f,) = run("KEY001", inventory(zone(keys=())))
    assert f.evidence["missing"] == ["KSK", "ZSK"] and f.evidence["keys_present"] == []


def test_key001_skips_unsigned_keyless_secondary_and_unreadable_zones() -> None:
    from toolkit.model.enums import ZoneType

    unsigned = zone("u.example", keys=(), is_signed=False, dnssec=None)
    secondary = zone("s.example", keys=(), is_signed=None, dnssec=None, zone_type=ZoneType.SECONDARY)
    unreadable = zone("x.example", keys=(), errors=(ZoneError("Get-DnsServerSigningKey", "denied", code=5),))
    assert run("KEY001", inventory(unsigned, secondary, unreadable)) == []


def test_key003_names_the_algorithm_missing_a_type() -> None:
    (f,) = run("KEY003", TRIGGERS["KEY003"]())
    assert f.evidence["algorithm"] == "ECDsaP256Sha256" and f.evidence["missing"] == "ZSK"


def test_key004_threshold_from_policy() -> None:
    inv = inventory(zone(keys=(key("KSK", 1), key("ZSK", 2), key("ZSK", 3))))
    assert run("KEY004", inv) == []
    strict = dataclasses.replace(
        everything(),
        thresholds=dataclasses.replace(everything().thresholds, max_keys_per_algorithm_and_type=1),
    )
    assert [f.evidence["count"] for f in run("KEY004", inv, strict)] == [2]


def test_key005_baseline_accepts_windows_default_zsk_rfc_does_not() -> None:
    inv = TRIGGERS["KEY005"]()
    base = dataclasses.replace(load_policy(), ignore=())
    assert run("KEY005", inv, base) == []
    assert run("KEY005", inv, everything("rfc"))[0].evidence["minimum"] == 2048


def test_alg002_unlisted_algorithm_is_medium() -> None:
    inv = sk(1, algorithm=CryptoAlgorithm("RsaSha3"))
    (f,) = run("ALG002", inv)
    assert f.severity is Severity.MEDIUM


def test_roll003_ignores_keys_mid_rollover_and_recent_due_dates() -> None:
    assert run("ROLL003", sk(1, next_rollover_time=NOW - 2 * H)) == []
    mid = sk(0, next_rollover_time=NOW - 3 * D, current_rollover_status=RolloverStatus.KSK_WAITING_FOR_DS_TTL)
    assert run("ROLL003", mid) == []


def test_roll005_respects_wait_threshold() -> None:
    short = sk(
        0, current_rollover_status=RolloverStatus.KSK_WAITING_FOR_DS_UPDATE, next_rollover_time=NOW - 2 * D
    )
    assert run("ROLL005", short) == []
    (f,) = run("ROLL005", TRIGGERS["ROLL005"]())
    assert f.evidence["waiting"] == "20d" and f.target.key_id == "00000000-0000-0000-0000-000000000001"


def test_sig004_factor_past_what_a_timedelta_holds_flags_every_validity() -> None:
    base = everything()
    t = dataclasses.replace(base.thresholds, validity_propagation_factor=1e300)
    huge = dataclasses.replace(base, thresholds=t)
    assert run("SIG004", inventory(), base) == []
    findings = run("SIG004", inventory(), huge)
    assert findings and all("shorter than" in f.message for f in findings)


def test_nsec3_windows_default_is_info_in_baseline_medium_in_rfc() -> None:
    inv = sz(nsec3_iterations=50, nsec3_random_salt_length=8)
    base, _ = evaluate(inv, load_policy(), now=NOW)
    rfc, _ = evaluate(inv, load_policy(profile="rfc"), now=NOW)
    assert {(f.rule_id, f.severity) for f in base} == {("NSEC001", Severity.INFO), ("NSEC002", Severity.INFO)}
    assert ("NSEC001", Severity.MEDIUM) in {(f.rule_id, f.severity) for f in rfc}
    assert "NSEC004" not in {f.rule_id for f in base}  # 50 is at, not above, the validator limit


def test_nsec004_predicts_9124_above_windows_limit() -> None:
    findings = run("NSEC004", sz(nsec3_iterations=600))
    assert {f.severity for f in findings} == {Severity.HIGH, Severity.CRITICAL}
    assert any(f.evidence.get("win32") == 9124 for f in findings)


def test_ta001_low_when_another_valid_anchor_remains() -> None:
    inv = inventory(
        trust_anchors=(
            TrustAnchor(".", TrustAnchorType.DS, TrustAnchorState.VALID, key_tag=20326),
            TrustAnchor(".", TrustAnchorType.DS, TrustAnchorState.REVOKED, key_tag=19036),
        )
    )
    (f,) = run("TA001", inv)
    assert f.severity is Severity.LOW and f.target.zone == "."


def test_zone002_explains_win32_code_from_catalogue() -> None:
    (f,) = run("ZONE002", TRIGGERS["ZONE002"]())
    assert "DNS_ERROR_SIGNING_KEY_NOT_ACCESSIBLE" in f.message
    assert f.evidence["win32"] == 9107 and f.evidence["explanation"]
    assert f.severity is Severity.HIGH


def test_multi_line_read_error_becomes_a_one_line_message() -> None:
    text = "Access is denied.\r\nAt line:1 char:1\n+ Get-DnsServerSigningKey"
    err = ZoneError("Get-DnsServerSigningKey", text, 5)
    (f,) = run("ZONE002", inventory(zone(errors=(err,))))
    assert "\n" not in f.message and "\r" not in f.message
    assert f.message.endswith(": Access is denied. At line:1 char:1 + Get-DnsServerSigningKey")
    assert f.evidence["error"] == err.message


def test_access_denied_read_error_is_medium() -> None:
    (f,) = run("SRV003", TRIGGERS["SRV003"]())
    assert f.severity is Severity.MEDIUM and f.evidence["win32"] == 5


def test_srv004_says_so_for_a_server_without_any_zone() -> None:
    (f,) = run("SRV004", inventory(zones=()))
    assert f.severity is Severity.INFO and "no zone to audit" in f.message and f.evidence["zones"] == 0


def test_ta004_not_reported_when_anchors_could_not_be_read() -> None:
    inv = inventory(trust_anchors=(), errors=(ZoneError("Get-DnsServerTrustAnchor", "denied", code=5),))
    assert run("TA004", inv) == []


def test_findings_sorted_deterministically() -> None:
    inv = inventory(
        zone("b.example", keys=(key("KSK", 1, zone="b.example"),)),
        zone("a.example", keys=(key("ZSK", 2, zone="a.example"),)),
    )
    active, _ = evaluate(inv, everything(), now=NOW)
    assert [f.sort_key for f in active] == sorted(f.sort_key for f in active)
    assert active[0].target.zone == "a.example"


def test_now_defaults_to_collection_time() -> None:
    inv = TRIGGERS["ROLL003"]()
    assert {f.rule_id for f in evaluate(inv, everything())[0]} == {"ROLL003"}
    later = dataclasses.replace(inv, collected_at=NOW - 10 * D)
    assert evaluate(later, everything())[0] == []
