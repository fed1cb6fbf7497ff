"""Join rules (area DNS): the server's own view (inventory) against what it publishes over DNS.

Neither side alone can make these findings: "the KSK the server thinks is active is not the key
the parent's DS points at" needs both. The rules are registered in ``toolkit.rules.registry``
like every other rule (same ids, metadata, policy selection, severities and suppressions), but
their checks read a zone's DNS view, which the inventory engine does not have: ``evaluate_join``
runs them over the views ``windns audit --dns`` / ``windns scan --dns`` / ``windns dns check``
collect (``toolkit.rules.join_engine``). The checks live in ``toolkit.rules.join_checks``.

DNS000 is the record of the DNS view itself (one info finding per server, with what each zone
showed as evidence): STIG checklists read it to tell "checked over DNS, nothing wrong" from "not
checked".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from toolkit.dnsview.descriptors import ZoneDnsView
from toolkit.findings import Severity
from toolkit.rules import join_checks as jc
from toolkit.rules.base import Hit, Rule
from toolkit.rules.join_checks import JoinCase, JoinThresholds

if TYPE_CHECKING:
    from toolkit.rules.thresholds import Thresholds

__all__ = ["JOIN_RULES", "JoinCase", "JoinRule", "JoinThresholds", "join_thresholds"]

JoinCheck = Callable[[JoinCase], Iterable[Hit]]
SummaryCheck = Callable[[str, Sequence[ZoneDnsView]], Iterable[Hit]]


@dataclass(frozen=True, slots=True)
class JoinRule(Rule):
    """A rule over the DNS view: ``join_check`` per zone, or ``summary_check`` once per server.

    ``zone_check``/``server_check`` stay None, so the inventory engine never runs it;
    ``needs_inside`` rules are skipped for zones the inventory does not list.
    """

    join_check: JoinCheck | None = None
    summary_check: SummaryCheck | None = None
    needs_inside: bool = False

    def __post_init__(self) -> None:
        if self.zone_check is not None or self.server_check is not None:
            raise ValueError(f"rule {self.id}: a join rule reads the DNS view, not the inventory alone")
        if (self.join_check is None) == (self.summary_check is None):
            raise ValueError(f"rule {self.id}: needs exactly one of join_check, summary_check")
        if (self.scope == "server") != (self.summary_check is not None):
            raise ValueError(f"rule {self.id}: scope {self.scope!r} does not fit its check")


def _summary(server: str, views: Sequence[ZoneDnsView]) -> Iterator[Hit]:
    if not views:
        return
    states = [jc.chain_state(v) for v in views]
    answered = sum(1 for v in views if v.reachable)
    where = ", ".join(sorted({v.server for v in views}))
    yield Hit(
        f"DNS view of {len(views)} zone(s) at {where}: {answered} answered, chain of trust ok for "
        f"{states.count('ok')}, broken for {states.count('broken') + states.count('island')}, "
        f"not checked for {states.count('not checked')}",
        {
            "dns_server": where,
            "ds_server": next((v.ds_server for v in views if v.ds_server), None),
            "queried_at": min(v.queried_at for v in views).isoformat(),
            "zones": {v.zone.rstrip(".") or ".": jc.zone_summary(v) for v in views},
        },
    )


_SIGN = "Invoke-DnsServerZoneSign -ZoneName '<Zone>' -SignWithDefault:$false -DoResign"
_CHECK = "windns dns check <Zone> --dns-server <DnsServer>"
STIG_DNSKEY = ("V-259345 / WDNS-22-000014", "V-215578 / WDNS-CM-000008")
STIG_DS = ("V-259339 / WDNS-22-000007", "V-215661 / WDNS-CM-000001")


def _r(
    id: str,
    title: str,
    severity: Severity,
    checks: str,
    why: str,
    remediation: str,
    references: tuple[str, ...],
    check: JoinCheck,
    *,
    stig: tuple[str, ...] = (),
    needs_inside: bool = False,
    win32: int | None = None,
) -> JoinRule:
    return JoinRule(
        id=id,
        title=title,
        severity=severity,
        scope="zone",
        checks=checks,
        why=why,
        remediation=remediation,
        references=references,
        stig=stig,
        win32=win32,
        join_check=check,
        needs_inside=needs_inside,
    )


JOIN_RULES: tuple[JoinRule, ...] = (
    JoinRule(
        id="DNS000",
        title="DNS view collected (record)",
        severity=Severity.INFO,
        scope="server",
        checks="Not a problem: one record per server of what the DNS view saw for each zone (keys "
        "served, chain of trust, measured DNSKEY RRSIG validity, denial of existence).",
        why="The evidence an auditor files: STIG checklists read it to mark the items that need the "
        "DNS view NotAFinding rather than Not_Reviewed. Ignore DNS000 in a policy to drop it.",
        remediation=f"# nothing to fix; the same view alone:\n{_CHECK}",
        references=("RFC 4035 section 5 (authenticating DNS responses)",),
        summary_check=_summary,
    ),
    _r(
        "DNS001",
        "DNS server unreachable, lame, SERVFAIL or truncating",
        Severity.HIGH,
        "The DNS server gives no usable answer for the zone: no answer within the timeout (after "
        "retries), SERVFAIL, REFUSED, an answer without the AA bit (lame), or a truncated answer "
        "whose TCP retry fails. One finding per server when it answers nothing at all. A DS asked at "
        "a server that does not serve the parent zone is reported as info (the chain is not checked).",
        "Resolvers that cannot reach an authoritative answer fail the zone's names (SERVFAIL for "
        "validating resolvers); an audit that cannot see the zone over DNS cannot vouch for it.",
        "Resolve-DnsName -Name '<Zone>' -Type SOA -Server <DnsServer> -DnssecOk\n"
        "Get-Service DNS; Get-NetFirewallRule -DisplayGroup 'DNS Service'",
        ("RFC 1035 section 4.2", "RFC 7766 (DNS over TCP)"),
        jc.reachability,
    ),
    _r(
        "DNS002",
        "Active key inside is not published over DNS",
        Severity.HIGH,
        "For each algorithm, role (KSK/ZSK) and length, the zone's active keys inside "
        "(Get-DnsServerSigningKey) are matched with served DNSKEYs that sign: a KSK must sign the "
        "DNSKEY RRset, a ZSK the SOA. Reports active keys inside with no signing counterpart outside. "
        "A key with no ActiveKey yet (only a StandbyKey or NextKey) signs nothing and is not asked to "
        "(KEY007 reports it); a revoked DNSKEY is no signing counterpart.",
        "The server believes a key signs the zone while resolvers never see it: a ZSK rollover that "
        "failed, or a key master whose state diverged from what is served. The next rollover step "
        "can then withdraw the only key resolvers know.",
        f"Get-DnsServerSigningKey -ZoneName '<Zone>'\n{_SIGN}",
        ("RFC 6781 section 4.1", "RFC 7583 section 3"),
        jc.key_not_published,
        needs_inside=True,
    ),
    _r(
        "DNS003",
        "Published DNSKEY no key inside accounts for",
        Severity.MEDIUM,
        "Served DNSKEYs are counted per algorithm, role and length against the keys inside (active, "
        "standby and next versions). Reports served keys beyond what the server knows of.",
        "A key the server does not manage is a key nobody will roll or withdraw: left over from a "
        "restore, another signer, or a zone served by a different server than the one audited.",
        "Get-DnsServerSigningKey -ZoneName '<Zone>'\n"
        "Get-DnsServerResourceRecord -ZoneName '<Zone>' -RRType DnsKey",
        ("RFC 6781 section 4.1",),
        jc.key_unaccounted,
        needs_inside=True,
    ),
    _r(
        "DNS004",
        "No DS at the parent matches a key signing the DNSKEY RRset",
        Severity.CRITICAL,
        "Every DS the parent serves is matched to a served DNSKEY by recomputing its digest (key tags "
        "can collide); the chain holds when a DS matches a key whose RRSIG over the DNSKEY RRset "
        "validates. A key with the REVOKE bit (flags 0x0080) matches no DS and anchors no chain. "
        "Critical when DS records exist but none matches (validating resolvers answer SERVFAIL); "
        "high when the parent serves no DS at all (medium when the zone declares "
        "ParentHasSecureDelegation false).",
        "A broken chain takes the whole zone offline for every validating resolver: the outage the "
        "join exists to prevent (a KSK rolled while the parent kept the old DS). RFC 5011 section 2.1: "
        "once a key is revoked, validators must not use it to validate anything but its own "
        "revocation (its self-signature over the DNSKEY RRset), so a zone whose only KSK is revoked "
        "is chained to nothing, whatever DS the parent holds.",
        "Get-DnsServerResourceRecord -ZoneName '<Zone>' -RRType DS  # on the signing server, the DS "
        "to publish\n# give the parent the DS of the active KSK, then:\n"
        "Step-DnsServerSigningKeyRollover -ZoneName '<Zone>' -KeyId <KeyId>",
        ("RFC 4035 section 5.2", "RFC 7583 section 3.3", "RFC 5011 section 2.1 (REVOKE bit)"),
        jc.chain,
        stig=("V-259382 / WDNS-22-000054", "V-215619 / WDNS-SC-000011"),
    ),
    _r(
        "DNS005",
        "Parent holds only SHA-1 DS records",
        Severity.MEDIUM,
        "Every DS the parent serves for the zone uses digest type 1 (SHA-1).",
        "RFC 8624 forbids creating SHA-1 DS records; validators that stop accepting SHA-1 treat the "
        "zone as insecure.",
        "Set-DnsServerDnsSecZoneSetting -ZoneName '<Zone>' -DSRecordGenerationAlgorithm Sha256\n"
        "# then give the parent the SHA-256 DS",
        ("RFC 8624 section 3.3", "RFC 9904"),
        jc.ds_sha1_only,
    ),
    _r(
        "DNS006",
        "KSK waits for DS update, but the DS is already at the parent",
        Severity.MEDIUM,
        "A KSK inside is in KskWaitingForDSUpdate while the parent already serves a DS matching "
        "every published KSK.",
        "Windows does not poll every parent: the rollover waits until someone steps it, and the old "
        "KSK keeps signing past its period.",
        "Step-DnsServerSigningKeyRollover -ZoneName '<Zone>' -KeyId <KeyId>",
        ("RFC 7583 section 3.3",),
        jc.ksk_ds_ready,
        needs_inside=True,
    ),
    _r(
        "DNS007",
        "RRSIG does not validate",
        Severity.CRITICAL,
        "Each RRSIG over the SOA, DNSKEY and NSEC3PARAM RRsets (and the parent's RRSIG over the DS) "
        "is validated with dnspython at the time of the query. Critical when one fails; high when "
        "it cannot be checked because no DNSKEY with its key tag is served.",
        "A validating resolver rejects answers whose signatures fail: the zone goes dark for them.",
        f"{_SIGN}\n{_CHECK}",
        ("RFC 4035 section 5.3",),
        jc.rrsig_invalid,
        stig=("V-259350 / WDNS-22-000019", "V-215583 / WDNS-CM-000014"),
    ),
    _r(
        "DNS008",
        "RRSIG expires within the policy window",
        Severity.HIGH,
        "Each served RRSIG's expiration against the policy's rrsig-expiry-window (48 h by default), "
        "measured from the time of the query. Critical once expired.",
        "Signatures that are not refreshed expire and the zone fails validation: the sign of a "
        "stopped signer or an offline key master.",
        "Get-DnsServerDnsSecZoneSetting -ZoneName '<Zone>' | Select KeyMasterServer, KeyMasterStatus\n"
        + _SIGN,
        ("RFC 6781 section 4.4.2",),
        jc.rrsig_expiring,
    ),
    _r(
        "DNS009",
        "Measured DNSKEY RRSIG validity outside the policy range",
        Severity.MEDIUM,
        "Expiration minus inception of each RRSIG over the DNSKEY RRset, as served, against the "
        "policy's dnskey-validity-min/max (48-168 h in the stig and rfc profiles).",
        "The STIG bounds the DNSKEY signature validity (48 to 168 hours): long validity widens "
        "replay windows, short validity risks expiry. The served value is what resolvers see, "
        "whatever the key's DnsKeySignatureValidityPeriod says.",
        "Set-DnsServerSigningKey -ZoneName '<Zone>' -KeyId <KeyId> -DnsKeySignatureValidityPeriod 7.00:00:00",
        ("RFC 6781 section 4.4.2 (signature validity)",),
        jc.dnskey_validity,
        stig=STIG_DNSKEY,
    ),
    _r(
        "DNS010",
        "Measured DS RRSIG validity outside the policy range",
        Severity.MEDIUM,
        "Expiration minus inception of the parent's RRSIG over the zone's DS RRset, as served, "
        "against the policy's ds-validity-min/max (48-168 h in the stig and rfc profiles).",
        "The STIG bounds the validity of the DS RRset signatures of delegated children.",
        "# on the parent zone's signing server:\nSet-DnsServerSigningKey -ZoneName '<ParentZone>' "
        "-KeyId <KeyId> -DSSignatureValidityPeriod 7.00:00:00",
        ("RFC 6781 section 4.4.2 (signature validity)",),
        jc.ds_validity,
        stig=STIG_DS,
    ),
    _r(
        "DNS011",
        "NSEC3PARAM signed at a different inception than DNSKEY",
        Severity.LOW,
        "The inception of the RRSIG over NSEC3PARAM against the inception of the RRSIG over the "
        "DNSKEY RRset.",
        "The STIG asks that the NSEC3 salt change on every full re-sign, which shows as equal "
        "inceptions; different inceptions mean the NSEC3 chain was not re-made with the zone.",
        _SIGN,
        ("RFC 5155 section 4 (NSEC3PARAM)",),
        jc.nsec3param_inception,
        stig=("V-259372 / WDNS-22-000044", "V-215609 / WDNS-SC-000001"),
    ),
    _r(
        "DNS012",
        "Signed zone answers without RRSIGs when asked with DO",
        Severity.HIGH,
        "A zone that serves DNSKEYs answers SOA, DNSKEY or NSEC3PARAM queries carrying the DO bit "
        "without RRSIGs, or the server reports the zone signed while it serves no DNSKEY.",
        "The STIG's 'zone must be signed' family (about eighteen items) is this one DNS test: "
        "unsigned answers from a signed zone fail validation or strip its protection.",
        f"Get-DnsServerZone -Name '<Zone>' | Select IsSigned\n{_SIGN}",
        ("RFC 4035 section 3.1", "the STIG's 'zone must be signed' family (about eighteen items)"),
        jc.unsigned_answers,
        stig=("V-259350 / WDNS-22-000019", "V-215613"),
    ),
    _r(
        "DNS013",
        "Served zone lacks a signing KSK or ZSK",
        Severity.MEDIUM,
        "No served key with the SEP flag has a valid RRSIG over the DNSKEY RRset, or no key without "
        "it has a valid RRSIG over the SOA: the split BIND's dnssec-verify and Windows (9104) expect. "
        "Also within each algorithm that signs the apex: a SEP key of it signing the DNSKEY RRset "
        "and a non-SEP key of it signing the SOA (a second algorithm with only a KSK fails it). A "
        "revoked key (REVOKE bit) fills no role. An RRSIG that fails only because it expired or is "
        "not yet valid, and verifies inside its validity period, still shows its key in the role: "
        "the keys are there, DNS007/DNS008 report the signatures.",
        "The zone as served is missing a role: the inside view's 9104 condition, seen from outside, "
        "or a rollover that withdrew the signing key. Within an algorithm, the zone breaks RFC 4035 "
        "section 2.2 (every RRset signed with each algorithm of the DNSKEY RRset), and dnssec-verify "
        "rejects it. A revoked KSK is not the zone's KSK: RFC 5011 section 2.1 leaves it no use but "
        "its own revocation. Out-of-date signatures (RFC 4035 section 5.3.1: the validity period "
        "must include the current time) are a signer that stopped re-signing, not a missing key: "
        "adding a key would not fix them.",
        "Add-DnsServerSigningKey -ZoneName '<Zone>' -Type <KeySigningKey|ZoneSigningKey> "
        f"-CryptoAlgorithm RsaSha256\n{_SIGN}",
        ("RFC 6781 section 3.1", "RFC 5011 section 2.1 (REVOKE bit)", "RFC 4035 section 5.3.1"),
        jc.key_roles,
        win32=9104,
    ),
    _r(
        "DNS014",
        "Served NSEC3 parameters differ from the zone's settings inside",
        Severity.MEDIUM,
        "NSEC or NSEC3 as served against DenialOfExistence inside; NSEC3PARAM iterations and salt "
        "against NSec3Iterations and the current or user salt.",
        "Settings changed without a re-sign: the server reports a configuration resolvers do not see, "
        "so an audit of the settings alone passes a zone that still serves the old chain.",
        _SIGN,
        ("RFC 5155 section 4",),
        jc.nsec3_mismatch,
        needs_inside=True,
    ),
    _r(
        "DNS015",
        "Served NSEC3 iterations above 0 or a salt",
        Severity.MEDIUM,
        "The NSEC3PARAM record as served: iterations above 0 (high above 50, where validators treat "
        "the zone as insecure), or a salt (low).",
        "RFC 9276: iterations MUST be 0 and a salt SHOULD NOT be used; extra iterations cost "
        "resolvers CPU and protect nothing.",
        "Set-DnsServerDnsSecZoneSetting -ZoneName '<Zone>' -NSec3Iterations 0 -NSec3UserSalt '-'\n" + _SIGN,
        ("RFC 9276 section 3.1",),
        jc.nsec3_params,
    ),
    _r(
        "DNS016",
        "Served zone signs with an algorithm advised against for signing",
        Severity.HIGH,
        "The algorithms of the DNSKEYs the zone serves and of the RRSIGs at its apex, against RFC "
        "8624's signing column (carried over unchanged by RFC 9904) and RFC 9905: MUST NOT (RSAMD5 "
        "1, DSA 3, DSANSEC3SHA1 6, ECCGOST 12, and RsaSha1 5 and RsaSha1NSec3 7, which "
        "RFC 9905 moves from NOT RECOMMENDED to MUST NOT) is high, as ALG001 inside; NOT "
        "RECOMMENDED (RsaSha512 10) is info, as ALG002 inside. One finding per algorithm.",
        "What resolvers validate is what is served, whatever the keys inside say (another signer, a "
        "restored zone, a key added by hand). Resolvers following RFC 9905 treat RsaSha1 and "
        "RsaSha1NSec3 as unsupported, so a zone signed only with them validates as insecure; "
        "RSAMD5, DSA and ECCGOST are no longer validated by many resolvers at all (RFC 8624: MUST "
        "NOT for validation, or MAY for ECCGOST).",
        "Add-DnsServerSigningKey -ZoneName '<Zone>' -Type KeySigningKey -CryptoAlgorithm "
        "ECDsaP256Sha256\nAdd-DnsServerSigningKey -ZoneName '<Zone>' -Type ZoneSigningKey "
        "-CryptoAlgorithm ECDsaP256Sha256\n# publish the new DS at the parent, then remove the old "
        "keys: Remove-DnsServerSigningKey -ZoneName '<Zone>' -KeyId <KeyId>\n" + _CHECK,
        (jc.RFC8624_ALG, "RFC 9904 (IANA DNSSEC algorithm registries)", jc.RFC9905_ALG),
        jc.signing_algorithm,
    ),
)


def join_thresholds(t: Thresholds) -> JoinThresholds:
    """The policy's thresholds the join rules read."""
    return JoinThresholds(
        rrsig_expiry_window=t.rrsig_expiry_window,
        dnskey_validity_min=t.dnskey_validity_min,
        dnskey_validity_max=t.dnskey_validity_max,
        ds_validity_min=t.ds_validity_min,
        ds_validity_max=t.ds_validity_max,
    )
