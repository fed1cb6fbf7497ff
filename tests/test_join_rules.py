"""Join rules (area DNS) as registry rules: a trigger per rule, quiet on a healthy zone, and the
policy's selection, severities, suppressions and thresholds applied like everywhere else.

The DNS views here are built by hand (the real-BIND cases are in test_bind_demo.py and
test_dns_audit.py): a healthy view of ``corp.example`` matching ``rules_fixtures``' healthy zone,
changed one way per rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner

from tests.rules_fixtures import NOW, SERVER, ZONE, inventory, key, settings, zone
from toolkit.cli import main
from toolkit.dnsview.descriptors import (
    DnsProblem,
    DsRecord,
    Nsec3Params,
    PublishedKey,
    Signature,
    ZoneDnsView,
)
from toolkit.findings import Severity
from toolkit.model import ServerInventory
from toolkit.model.enums import RolloverStatus
from toolkit.policy import load_policy, parse_policy
from toolkit.rules import RULES, explain_rule, get_rule
from toolkit.rules.join_engine import evaluate_join
from toolkit.rules.join_rules import JOIN_RULES, JoinRule

H = timedelta(hours=1)
FQDN = ZONE + "."


def sig(
    covered: str,
    tag: int,
    *,
    start: datetime = NOW - H,
    hours: float = 168,
    valid: bool | None = True,
    error: str | None = None,
) -> Signature:
    return Signature(
        zone=FQDN,
        owner=FQDN,
        covered=covered,
        algorithm=8,
        key_tag=tag,
        signer=FQDN,
        inception=start,
        expiration=start + hours * H,
        original_ttl=3600,
        valid=valid,
        error=error,
    )


KSK = PublishedKey(FQDN, 1, 257, 8, 2048, "AwEAAQ==")
ZSK = PublishedKey(FQDN, 2, 256, 8, 2048, "AwEAAg==")
GOOD_DS = DsRecord(FQDN, 1, 8, 2, "AB" * 32, matched_key_tag=1)


def healthy() -> ZoneDnsView:
    return ZoneDnsView(
        zone=FQDN,
        server="192.0.2.53:53",
        queried_at=NOW,
        reachable=True,
        soa_serial=1,
        keys=(KSK, ZSK),
        signatures=(sig("SOA", 2), sig("DNSKEY", 1), sig("NSEC3PARAM", 2)),
        nsec3param=Nsec3Params(FQDN, 1, 0, 0, ""),
        ds=(GOOD_DS,),
        ds_server="192.0.2.1:53",
        ds_signatures=(replace(sig("DS", 9), signer="example."),),
    )


def view(**changes: object) -> ZoneDnsView:
    return replace(healthy(), **changes)  # type: ignore[arg-type]


def waiting_for_ds() -> ServerInventory:
    ksk = key("KSK", 1, current_rollover_status=RolloverStatus.KSK_WAITING_FOR_DS_UPDATE)
    return inventory(zone(keys=(ksk, key("ZSK", 2))))


def signed_with(algorithm: int) -> ZoneDnsView:
    """The healthy view with every key and RRSIG of ``algorithm`` (a DNSSEC number)."""
    v = healthy()
    return replace(
        v,
        keys=tuple(replace(k, algorithm=algorithm) for k in v.keys),
        signatures=tuple(replace(s, algorithm=algorithm) for s in v.signatures),
        ds=tuple(replace(d, algorithm=algorithm) for d in v.ds or ()),
    )


Case = tuple[Callable[[], ZoneDnsView], Callable[[], ServerInventory | None]]
TRIGGERS: dict[str, Case] = {
    "DNS000": (healthy, inventory),
    "DNS001": (
        lambda: view(reachable=False, problems=(DnsProblem(f"{FQDN} CDS", "x", "servfail", "SERVFAIL"),)),
        inventory,
    ),
    "DNS002": (healthy, lambda: inventory(zone(keys=(key("KSK", 1), key("ZSK", 2), key("ZSK", 3))))),
    "DNS003": (lambda: view(keys=(KSK, ZSK, replace(ZSK, key_tag=3))), inventory),
    "DNS004": (lambda: view(ds=(replace(GOOD_DS, key_tag=7, matched_key_tag=None),)), inventory),
    "DNS005": (lambda: view(ds=(replace(GOOD_DS, digest_type=1, digest="AB" * 20),)), inventory),
    "DNS006": (healthy, waiting_for_ds),
    "DNS007": (
        lambda: view(signatures=(sig("SOA", 2, valid=False, error="bad"), sig("DNSKEY", 1))),
        inventory,
    ),
    "DNS008": (lambda: view(signatures=(sig("SOA", 2, hours=11), sig("DNSKEY", 1))), inventory),
    "DNS009": (lambda: view(signatures=(sig("SOA", 2), sig("DNSKEY", 1, hours=400))), inventory),
    "DNS010": (lambda: view(ds_signatures=(sig("DS", 9, hours=400),)), inventory),
    "DNS011": (
        lambda: view(signatures=(sig("SOA", 2), sig("DNSKEY", 1), sig("NSEC3PARAM", 2, start=NOW - 2 * H))),
        inventory,
    ),
    "DNS012": (lambda: view(answered_without_rrsig=("SOA",)), inventory),
    "DNS013": (lambda: view(signatures=(sig("DNSKEY", 1),)), lambda: None),
    "DNS014": (healthy, lambda: inventory(zone(dnssec=settings(nsec3_iterations=5)))),
    "DNS015": (lambda: view(nsec3param=Nsec3Params(FQDN, 1, 0, 10, "")), inventory),
    "DNS016": (lambda: signed_with(5), inventory),
}


def run(rule_id: str, profile: str = "rfc") -> set[str]:
    make_view, make_inv = TRIGGERS[rule_id]
    found, _ = evaluate_join([make_view()], make_inv(), load_policy(profile=profile), server=SERVER)
    return {f.rule_id for f in found}


def test_join_rules_are_registered_with_metadata() -> None:
    ids = [r.id for r in JOIN_RULES]
    assert sorted(TRIGGERS) == ids
    for rule in JOIN_RULES:
        assert get_rule(rule.id) is rule and rule in RULES and rule.area == "DNS"
        assert isinstance(rule, JoinRule) and rule.zone_check is None and rule.server_check is None
    text = explain_rule("dns004")
    assert text is not None and "Step-DnsServerSigningKeyRollover" in text and "V-259382" in text


def test_a_join_rule_needs_exactly_its_own_check() -> None:
    rule = get_rule("DNS004")
    assert isinstance(rule, JoinRule)
    with pytest.raises(ValueError, match="exactly one"):
        replace(rule, summary_check=lambda server, views: ())
    with pytest.raises(ValueError, match="inventory"):
        replace(rule, zone_check=lambda ctx: ())


@pytest.mark.parametrize("rule_id", sorted(TRIGGERS))
def test_rule_triggers(rule_id: str) -> None:
    assert rule_id in run(rule_id)


def test_healthy_zone_gives_only_the_record() -> None:
    for profile in ("baseline", "rfc", "stig"):
        found, _ = evaluate_join([healthy()], inventory(), load_policy(profile=profile), server=SERVER)
        assert [(f.rule_id, f.severity) for f in found] == [("DNS000", Severity.INFO)]
        assert found[0].evidence["zones"][ZONE]["chain"] == "ok"


def test_selection_by_prefix_severity_and_suppression() -> None:
    stale = (replace(GOOD_DS, key_tag=7, matched_key_tag=None),)
    broken = view(ds=stale, nsec3param=Nsec3Params(FQDN, 1, 0, 5, ""))
    inv = inventory()
    assert evaluate_join([broken], inv, parse_policy('ignore = ["DNS"]'), server=SERVER) == ([], [])
    only, _ = evaluate_join([broken], inv, parse_policy('select = ["DNS00"]'), server=SERVER)
    assert {f.rule_id for f in only} == {"DNS000", "DNS004"}
    text = (
        'extends = "rfc"\n[severity]\nDNS004 = "low"\n'
        '[[suppress]]\nrule = "DNS015"\nzone = "corp.*"\nreason = "CHG-1"\n'
    )
    active, suppressed = evaluate_join([broken], inv, parse_policy(text), server=SERVER)
    assert next(f for f in active if f.rule_id == "DNS004").severity is Severity.LOW
    assert [(f.rule_id, f.suppressed_reason) for f in suppressed] == [("DNS015", "CHG-1")]
    assert "DNS015" not in {f.rule_id for f in active}


def test_thresholds_come_from_the_policy() -> None:
    expiring = view(signatures=(sig("SOA", 2, hours=11), sig("DNSKEY", 1)))
    assert "DNS008" in {f.rule_id for f in evaluate_join([expiring], inventory(), load_policy())[0]}
    short = parse_policy('[thresholds]\nrrsig-expiry-window = "8h"\n')
    assert "DNS008" not in {f.rule_id for f in evaluate_join([expiring], inventory(), short)[0]}
    long_validity = [TRIGGERS["DNS009"][0]()]
    stig = load_policy(profile="stig")
    assert "DNS009" in {f.rule_id for f in evaluate_join(long_validity, inventory(), stig)[0]}
    # the baseline allows up to 720 h, as Windows does
    assert "DNS009" not in {f.rule_id for f in evaluate_join(long_validity, inventory(), load_policy())[0]}


def test_a_silent_server_is_one_finding_not_one_per_zone() -> None:
    def down(name: str) -> ZoneDnsView:
        problem = DnsProblem(f"{name}. CDS", "192.0.2.53:53", "timeout", "no answer within 2s")
        return ZoneDnsView(f"{name}.", "192.0.2.53:53", NOW, reachable=False, problems=(problem,))

    found, _ = evaluate_join([down("a.example"), down("b.example")], None, load_policy(), server=SERVER)
    dns001 = [f for f in found if f.rule_id == "DNS001"]
    assert len(dns001) == 1 and dns001[0].target.zone is None
    assert dns001[0].evidence["zones"] == ["a.example", "b.example"] and "timeout" in dns001[0].message
    one, _ = evaluate_join([down("a.example")], None, load_policy(), server=SERVER)
    assert [f.target.zone for f in one if f.rule_id == "DNS001"] == ["a.example"]


def test_ds_not_asked_at_the_parent_is_info_and_not_a_broken_chain() -> None:
    problem = DnsProblem(f"{FQDN} DS", "192.0.2.53:53", "not-parent", "answered from the zone itself")
    v = view(ds=None, ds_signatures=(), problems=(problem,))
    found, _ = evaluate_join([v], inventory(), load_policy(), server=SERVER)
    assert {(f.rule_id, f.severity) for f in found} == {("DNS000", Severity.INFO), ("DNS001", Severity.INFO)}
    assert found[0].evidence["zones"][ZONE]["chain"] == "not checked"


def test_policy_file_classified_network_and_expiry_window() -> None:
    p = parse_policy('classified-network = true\n[thresholds]\nrrsig-expiry-window = "3d"\n', "p.toml")
    assert p.classified_network and p.thresholds.rrsig_expiry_window == 72 * H
    assert not load_policy().classified_network
    from toolkit.errors import ConfigError
    from toolkit.policy import policy_to_toml

    again = parse_policy(policy_to_toml(p), "again.toml")
    assert again.classified_network and again.thresholds.rrsig_expiry_window == 72 * H
    with pytest.raises(ConfigError, match="bad.toml:2") as exc:
        parse_policy('name = "x"\nclassified-network = "yes"\n', "bad.toml")
    assert "true or false" in str(exc.value)


def test_cli_rules_list_and_explain_show_join_rules(runner: CliRunner) -> None:
    res = runner.invoke(main, ["rules", "list", "--profile", "baseline"])
    assert res.exit_code == 0, res.output
    lines = {line.split()[0]: line for line in res.output.splitlines() if line.startswith("DNS")}
    assert sorted(lines) == [r.id for r in JOIN_RULES]
    assert "info" in lines["DNS015"]  # the baseline lowers served NSEC3 iterations/salt, like NSEC001
    res = runner.invoke(main, ["rules", "explain", "DNS002"])
    assert res.exit_code == 0 and "Remediation" in res.output and "<Zone>" in res.output


ECDSA_KSK = PublishedKey(FQDN, 3, 257, 13, 256, "AwEAAw==")
ECDSA_ZSK = PublishedKey(FQDN, 4, 256, 13, 256, "AwEAAx==")


def ecdsa_sig(covered: str, tag: int) -> Signature:
    return replace(sig(covered, tag), algorithm=13)


def test_dns013_within_an_algorithm_a_second_algorithm_with_only_a_ksk() -> None:
    # RSASHA256 has its KSK and ZSK; ECDSAP256SHA256 signs the DNSKEY RRset with a KSK but
    # nothing of it signs the SOA: the zone-wide split holds, dnssec-verify still rejects it.
    v = view(keys=(KSK, ZSK, ECDSA_KSK), signatures=(sig("SOA", 2), sig("DNSKEY", 1), ecdsa_sig("DNSKEY", 3)))
    assert v.missing_roles == () and v.algorithm_gaps == ((13, "ZSK"),)
    found, _ = evaluate_join([v], inventory(), load_policy(profile="rfc"), server=SERVER)
    hit = next(f for f in found if f.rule_id == "DNS013")
    assert "ECDsaP256Sha256: no ZSK of it signs the zone data" in hit.message
    assert hit.evidence["missing_by_algorithm"] == ["ECDsaP256Sha256 ZSK"]


def test_dns013_within_an_algorithm_the_ksk_signing_everything_is_not_a_zsk() -> None:
    # the ECDSA KSK signs DNSKEY and SOA (dnssec-signzone -z): no non-SEP key of it signs the SOA
    v = view(
        keys=(KSK, ZSK, ECDSA_KSK),
        signatures=(sig("SOA", 2), sig("DNSKEY", 1), ecdsa_sig("DNSKEY", 3), ecdsa_sig("SOA", 3)),
    )
    assert v.algorithm_gaps == ((13, "ZSK"),)


def test_dns013_two_complete_algorithms_and_colliding_tags_are_no_gap() -> None:
    complete = view(
        keys=(KSK, ZSK, ECDSA_KSK, ECDSA_ZSK),
        signatures=(sig("SOA", 2), sig("DNSKEY", 1), ecdsa_sig("DNSKEY", 3), ecdsa_sig("SOA", 4)),
    )
    assert complete.algorithm_gaps == ()
    found, _ = evaluate_join([complete], inventory(), load_policy(profile="rfc"), server=SERVER)
    assert "DNS013" not in {f.rule_id for f in found}
    # an ECDSA ZSK with the RSA KSK's tag: an RRSIG by tag 1 over the SOA is the RSA key's only
    # when its algorithm says so
    clash = replace(ECDSA_ZSK, key_tag=1)
    v = view(
        keys=(KSK, ZSK, ECDSA_KSK, clash),
        signatures=(sig("SOA", 2), sig("DNSKEY", 1), ecdsa_sig("DNSKEY", 3), sig("SOA", 1)),
    )
    assert v.algorithm_gaps == ((13, "ZSK"),)
    # an algorithm that is only published (no valid signature) is not judged; an invalid one is not a signer
    published = view(keys=(KSK, ZSK, ECDSA_KSK), signatures=(sig("SOA", 2), sig("DNSKEY", 1)))
    assert published.algorithm_gaps == ()
    invalid = view(
        keys=(KSK, ZSK, ECDSA_KSK),
        signatures=(sig("SOA", 2), sig("DNSKEY", 1), replace(ecdsa_sig("DNSKEY", 3), valid=False)),
    )
    assert invalid.algorithm_gaps == ()


def test_dns013_zone_wide_gap_is_said_once() -> None:
    v = view(signatures=(sig("DNSKEY", 1),))
    found, _ = evaluate_join([v], inventory(), load_policy(profile="rfc"), server=SERVER)
    hits = [f for f in found if f.rule_id == "DNS013"]
    assert len(hits) == 1 and hits[0].evidence["missing"] == ["ZSK"]


# -- what a served key may be used for (RFC 5011 section 2.1: REVOKE) ----------------------------
REVOKED_KSK = PublishedKey(FQDN, 129, 257 | 0x0080, 8, 2048, "AwEAAQ==")  # SEP + REVOKE


def revoked_only() -> ZoneDnsView:
    """The zone's only KSK carries the REVOKE bit; it still signs the DNSKEY RRset (its own
    revocation) and the parent's DS was computed from it."""
    return view(
        keys=(REVOKED_KSK, ZSK),
        signatures=(sig("SOA", 2), sig("DNSKEY", 129), sig("NSEC3PARAM", 2)),
        ds=(replace(GOOD_DS, key_tag=129, matched_key_tag=129),),
    )


def test_a_revoked_ksk_is_not_the_zones_ksk_nor_its_chain() -> None:
    # RFC 5011 section 2.1: a key with the REVOKE bit "MUST NOT be used" to validate anything but
    # its own revocation: it matches no DS, its RRSIG over the DNSKEY RRset anchors nothing, and
    # it is not the zone's KSK
    v = revoked_only()
    assert v.chain_ok is False and v.missing_roles == ("KSK",) and v.ksks == ()
    assert v.ds_matching(REVOKED_KSK) == ()
    found, _ = evaluate_join([v], inventory(), load_policy(profile="rfc"), server=SERVER)
    by_rule = {f.rule_id: f for f in found}
    assert {"DNS004", "DNS013"} <= set(by_rule)
    assert by_rule["DNS004"].severity is Severity.CRITICAL
    assert by_rule["DNS000"].evidence["zones"][ZONE]["chain"] == "broken"
    assert "revoked" in by_rule["DNS000"].evidence["zones"][ZONE]["keys"][0]


def test_a_revoked_ksk_beside_a_live_one_changes_nothing() -> None:
    # the usual RFC 5011 rollover: the new KSK signs and matches the DS, the old one is revoked
    v = view(
        keys=(KSK, REVOKED_KSK, ZSK),
        signatures=(sig("SOA", 2), sig("DNSKEY", 1), sig("DNSKEY", 129), sig("NSEC3PARAM", 2)),
    )
    assert v.chain_ok is True and v.missing_roles == () and v.ksks == (KSK,)
    found, _ = evaluate_join([v], inventory(), load_policy(profile="rfc"), server=SERVER)
    assert not {"DNS004", "DNS013"} & {f.rule_id for f in found}


def test_a_revoked_ksk_inside_is_not_signing_outside() -> None:
    # DNS002: the active KSK inside is served only revoked: resolvers have no KSK of it
    found, _ = evaluate_join([revoked_only()], inventory(), load_policy(profile="rfc"), server=SERVER)
    (dns002,) = [f for f in found if f.rule_id == "DNS002"]
    assert "KSK" in dns002.message


# -- a key descriptor without an ActiveKey does not sign yet ---------------------------------------
def test_dns002_does_not_ask_a_key_without_an_active_key_to_sign() -> None:
    # MS-DNSP 2.2.6.2.3 (pwszActiveKey): a descriptor with only a NextKey has no key that signs;
    # the served zone signed by the other ZSK is what the server means
    pending = key("ZSK", 3, next_key="{0C1A4E7B-2F3D-4B58-9A6E-D1C2B3A4F506}")
    inv = inventory(zone(keys=(key("KSK", 1), key("ZSK", 2), pending)))
    found, _ = evaluate_join([healthy()], inv, load_policy(profile="rfc"), server=SERVER)
    assert {f.rule_id for f in found} == {"DNS000"}


# -- DNS013 and signatures that fail only on time -----------------------------------------------
def timed_out(covered: str, tag: int, error: str = "expired") -> Signature:
    start = NOW - 200 * H if error == "expired" else NOW + H
    return replace(sig(covered, tag, start=start), valid=False, error=error, verifies_in_window=True)


@pytest.mark.parametrize("error", ["expired", "not yet valid"])
def test_dns013_quiet_when_only_the_signature_times_explain_the_missing_role(error: str) -> None:
    # the ZSK is served and its RRSIG over the SOA verifies inside its validity period: the zone
    # has its KSK and ZSK, its signatures are out of date (DNS007/DNS008 say so). DNS013's fix,
    # adding a key, would be wrong.
    v = view(signatures=(timed_out("SOA", 2, error), sig("DNSKEY", 1), sig("NSEC3PARAM", 2)))
    assert v.missing_roles == ("ZSK",)
    found, _ = evaluate_join([v], inventory(), load_policy(profile="rfc"), server=SERVER)
    rules = {f.rule_id for f in found}
    assert "DNS013" not in rules and "DNS007" in rules
    both = view(signatures=(timed_out("SOA", 2, error), timed_out("DNSKEY", 1, error)))
    found, _ = evaluate_join([both], inventory(), load_policy(profile="rfc"), server=SERVER)
    assert "DNS013" not in {f.rule_id for f in found}


def test_dns013_still_fires_for_a_timed_out_signature_that_would_not_verify() -> None:
    bad = replace(timed_out("SOA", 2), verifies_in_window=False)
    v = view(signatures=(bad, sig("DNSKEY", 1)))
    found, _ = evaluate_join([v], inventory(), load_policy(profile="rfc"), server=SERVER)
    (hit,) = [f for f in found if f.rule_id == "DNS013"]
    assert hit.evidence["missing"] == ["ZSK"]


def test_dns013_names_only_the_role_no_signature_of_any_time_covers() -> None:
    # the KSK's RRSIG expired, and no ZSK is served at all: only the ZSK is missing
    v = view(keys=(KSK,), signatures=(timed_out("DNSKEY", 1),))
    found, _ = evaluate_join([v], inventory(), load_policy(profile="rfc"), server=SERVER)
    (hit,) = [f for f in found if f.rule_id == "DNS013"]
    assert hit.evidence["missing"] == ["ZSK"]


# -- DNS016: served signing algorithms RFC 8624 / RFC 9904 / RFC 9905 advise against ----------------
@pytest.mark.parametrize(
    ("algorithm", "severity"),
    [
        (1, Severity.HIGH),  # RSAMD5: MUST NOT (RFC 8624 3.1)
        (3, Severity.HIGH),  # DSA: MUST NOT
        (5, Severity.HIGH),  # RSASHA1: NOT RECOMMENDED in RFC 8624, MUST NOT in RFC 9905 2
        (6, Severity.HIGH),  # DSA-NSEC3-SHA1: MUST NOT
        (7, Severity.HIGH),  # RSASHA1-NSEC3-SHA1: as RSASHA1
        (10, Severity.INFO),  # RSASHA512: NOT RECOMMENDED (RFC 8624 3.1), as ALG002 inside
        (12, Severity.HIGH),  # ECC-GOST: MUST NOT
    ],
)
def test_dns016_served_algorithms_advised_against_for_signing(algorithm: int, severity: Severity) -> None:
    for profile in ("baseline", "rfc", "stig"):
        found, _ = evaluate_join(
            [signed_with(algorithm)], inventory(), load_policy(profile=profile), server=SERVER
        )
        (hit,) = [f for f in found if f.rule_id == "DNS016"]
        assert hit.severity is severity and hit.evidence["algorithm"] == algorithm
        assert hit.evidence["key_tags"] == [1, 2] and hit.evidence["signs"] is True


@pytest.mark.parametrize("algorithm", [8, 13, 14, 15, 16])
def test_dns016_quiet_for_algorithms_fit_to_sign(algorithm: int) -> None:
    found, _ = evaluate_join([signed_with(algorithm)], inventory(), load_policy(profile="rfc"), server=SERVER)
    assert "DNS016" not in {f.rule_id for f in found}


def test_dns016_one_finding_per_algorithm_and_a_key_only_published_counts() -> None:
    # a DSA key published beside the RSASHA256 keys, signing nothing: still a key made to sign
    dsa = PublishedKey(FQDN, 40, 256, 3, None, "AwEAAQ==")
    found, _ = evaluate_join(
        [view(keys=(KSK, ZSK, dsa))], inventory(), load_policy(profile="rfc"), server=SERVER
    )
    (hit,) = [f for f in found if f.rule_id == "DNS016"]
    assert (
        hit.evidence["algorithm"] == 3 and hit.evidence["key_tags"] == [40] and hit.evidence["signs"] is False
    )
