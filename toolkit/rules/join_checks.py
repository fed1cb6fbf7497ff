"""The checks of the join rules: one zone's DNS view against the zone as its server reports it.

Each check reads a ``JoinCase`` and yields ``Hit``s; ``toolkit.rules.join_rules`` holds their
metadata (ids, severities, references) and runs them under a policy.

Keys are matched on algorithm, role (SEP flag = KSK) and length, by count: the inside view
(Get-DnsServerSigningKey) carries no key tag. A key *signs* when a valid RRSIG with its tag covers
the SOA (ZSK role) or the DNSKEY RRset (KSK role); an active key inside must be a signing key
outside, a standby or next key inside may be published without signing. A key descriptor with no
ActiveKey (only a StandbyKey or NextKey, ``toolkit.rules.base.not_yet_signing``) has no key that
signs: it is not asked to sign outside.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from toolkit.dnsview.descriptors import NO_ANSWER_KINDS, Signature, ZoneDnsView, algorithm_name
from toolkit.findings import Severity
from toolkit.model import Zone
from toolkit.model.enums import DenialOfExistence, RolloverStatus
from toolkit.rules.base import Hit, not_yet_signing

__all__ = [
    "SERVER_DOWN_KINDS",
    "JoinCase",
    "JoinThresholds",
    "chain_state",
    "zone_summary",
]

#: problems that mean the DNS server itself gives nothing (not one zone's trouble)
SERVER_DOWN_KINDS = NO_ANSWER_KINDS


@dataclass(frozen=True, slots=True)
class JoinThresholds:
    """The policy numbers the join rules compare with (see ``toolkit.policy.Thresholds``)."""

    rrsig_expiry_window: timedelta = timedelta(hours=48)
    dnskey_validity_min: timedelta = timedelta(hours=48)
    dnskey_validity_max: timedelta = timedelta(hours=168)
    ds_validity_min: timedelta = timedelta(hours=48)
    ds_validity_max: timedelta = timedelta(hours=168)


@dataclass(frozen=True, slots=True)
class JoinCase:
    """One zone's DNS view, the zone as its server reports it (None: not in the inventory)."""

    server: str
    view: ZoneDnsView
    zone: Zone | None
    now: datetime
    limits: JoinThresholds = JoinThresholds()

    @property
    def name(self) -> str:
        return self.view.zone.rstrip(".") or "."

    @property
    def inside_signed(self) -> bool:
        return self.zone is not None and self.zone.signed

    def hit(self, message: str, severity: Severity | None = None, **evidence: Any) -> Hit:
        return Hit(message, {"dns_server": self.view.server, **evidence}, severity=severity)


Group = tuple[int, str, int]


# -- key join ------------------------------------------------------------------------------------
def _group(alg: int | None, ksk: bool, length: int | None) -> Group:
    return (int(alg or 0), "KSK" if ksk else "ZSK", int(length or 0))


def _label(g: Group) -> str:
    return f"{g[1]} {algorithm_name(g[0])}" + (f" {g[2]} bits" if g[2] else "")


def _inside_counts(zone: Zone) -> tuple[Counter[Group], Counter[Group]]:
    active: Counter[Group] = Counter()
    versions: Counter[Group] = Counter()
    for k in zone.keys:
        if not k.is_active:
            continue
        g = _group(k.algorithm.number, k.is_ksk, k.key_length)
        held = sum(1 for v in (k.standby_key, k.next_key) if v)
        if not_yet_signing(k):  # no ActiveKey: nothing of it signs, its other versions may be served
            versions[g] += held
            continue
        active[g] += 1
        versions[g] += 1 + held
    return active, versions


def _outside_counts(view: ZoneDnsView) -> tuple[Counter[Group], Counter[Group]]:
    signing: Counter[Group] = Counter()
    published: Counter[Group] = Counter()
    soa, dnskey = view.signing_tags("SOA"), view.signing_tags("DNSKEY")
    for k in view.keys:
        g = _group(k.algorithm, k.is_ksk, k.key_length)
        published[g] += 1
        if not k.revoked and k.key_tag in (dnskey if k.is_ksk else soa):
            signing[g] += 1  # (a revoked key's RRSIG is its revocation, RFC 5011 section 2.1)
    return signing, published


def key_not_published(c: JoinCase) -> Iterator[Hit]:
    if c.zone is None or not c.inside_signed:
        return
    active, _ = _inside_counts(c.zone)
    signing, _ = _outside_counts(c.view)
    for g, n in sorted(active.items()):
        if signing[g] < n:
            yield c.hit(
                f"{n - signing[g]} active {_label(g)} key(s) inside are not published "
                "(or sign nothing) over DNS",
                inside_active=n,
                published_signing=signing[g],
            )


def key_unaccounted(c: JoinCase) -> Iterator[Hit]:
    if c.zone is None or (c.zone.errors and not c.zone.keys):
        return
    _, versions = _inside_counts(c.zone)
    _, published = _outside_counts(c.view)
    for g, n in sorted(published.items()):
        if n > versions[g]:
            tags = [k.key_tag for k in c.view.keys if _group(k.algorithm, k.is_ksk, k.key_length) == g]
            yield c.hit(
                f"{n - versions[g]} published {_label(g)} DNSKEY(s) not accounted for by any key inside",
                published=n,
                inside_versions=versions[g],
                key_tags=tags,
            )


# -- DS at the parent ----------------------------------------------------------------------------
def chain(c: JoinCase) -> Iterator[Hit]:
    v = c.view
    if not v.signed or v.ds is None or v.chain_ok:
        return
    if not v.ds:
        island = c.zone is not None and c.zone.dnssec is not None
        declared = island and c.zone.dnssec.parent_has_secure_delegation is False  # type: ignore[union-attr]
        yield c.hit(
            "no DS at the parent: the zone is signed but not chained (island of security)",
            Severity.MEDIUM if declared else Severity.HIGH,
            ds_server=v.ds_server,
        )
        return
    ds = [f"{d.key_tag}/{d.digest_name}" for d in v.ds]
    keys = [k.describe() for k in v.usable_keys if k.key_tag in v.signing_tags("DNSKEY")]
    yield c.hit(
        f"chain broken: no DS at the parent ({', '.join(ds)}) matches a key signing the DNSKEY RRset "
        f"({', '.join(keys) or 'none'})",
        ds=ds,
        signing_keys=keys,
        ds_server=v.ds_server,
    )


def ds_sha1_only(c: JoinCase) -> Iterator[Hit]:
    if c.view.ds and all(d.is_sha1 for d in c.view.ds):
        yield c.hit(
            "the parent holds only SHA-1 DS records (RFC 8624: SHA-1 MUST NOT)",
            ds=[f"{d.key_tag}/{d.digest_name}" for d in c.view.ds],
        )


def ksk_ds_ready(c: JoinCase) -> Iterator[Hit]:
    if c.zone is None or c.view.ds is None:
        return
    waiting = [
        k for k in c.zone.ksks if k.current_rollover_status is RolloverStatus.KSK_WAITING_FOR_DS_UPDATE
    ]
    if not waiting:
        return
    ksks = c.view.ksks
    if ksks and all(c.view.ds_matching(k) for k in ksks):
        yield c.hit(
            "KSK rollover waits for a DS update, but the parent already has a DS for every published KSK: "
            "step the rollover (Step-DnsServerSigningKeyRollover)",
            key_tags=[k.key_tag for k in ksks],
        )


# -- signatures ----------------------------------------------------------------------------------
def rrsig_invalid(c: JoinCase) -> Iterator[Hit]:
    for s in (*c.view.signatures, *c.view.ds_signatures):
        if s.valid is False:
            yield c.hit(f"RRSIG over {s.covered} by key {s.key_tag} does not validate: {s.error}")
        elif s.valid is None and s.error:
            yield c.hit(f"RRSIG over {s.covered} cannot be checked: {s.error}", Severity.HIGH)


def rrsig_expiring(c: JoinCase) -> Iterator[Hit]:
    window = c.limits.rrsig_expiry_window
    for s in (*c.view.signatures, *c.view.ds_signatures):
        left = s.remaining(c.now)
        if left < window:
            hours = left.total_seconds() / 3600
            yield c.hit(
                f"RRSIG over {s.covered} (key {s.key_tag}) expires in {hours:.1f} h "
                f"(window {window.total_seconds() / 3600:g} h)",
                Severity.CRITICAL if left <= timedelta(0) else None,
                expiration=s.expiration.isoformat(),
            )


def _validity(
    c: JoinCase, sigs: Sequence[Signature], what: str, lo: timedelta, hi: timedelta
) -> Iterator[Hit]:
    for s in sigs:
        if not lo <= s.validity <= hi:
            hours = s.validity.total_seconds() / 3600
            yield c.hit(
                f"measured {what} RRSIG validity {hours:g} h (key {s.key_tag}) is outside "
                f"{lo.total_seconds() / 3600:g}-{hi.total_seconds() / 3600:g} h",
                validity_hours=hours,
            )


def dnskey_validity(c: JoinCase) -> Iterator[Hit]:
    lim = c.limits
    yield from _validity(
        c, c.view.signatures_over("DNSKEY"), "DNSKEY", lim.dnskey_validity_min, lim.dnskey_validity_max
    )


def ds_validity(c: JoinCase) -> Iterator[Hit]:
    lim = c.limits
    yield from _validity(
        c, c.view.ds_signatures, "DS (signed by the parent)", lim.ds_validity_min, lim.ds_validity_max
    )


def nsec3param_inception(c: JoinCase) -> Iterator[Hit]:
    n3 = {s.inception for s in c.view.signatures_over("NSEC3PARAM")}
    dk = {s.inception for s in c.view.signatures_over("DNSKEY")}
    if n3 and dk and not n3 & dk:
        yield c.hit(
            "NSEC3PARAM was signed at a different inception than the DNSKEY RRset "
            "(salt not changed on re-sign)",
            nsec3param=sorted(t.isoformat() for t in n3),
            dnskey=sorted(t.isoformat() for t in dk),
        )


def unsigned_answers(c: JoinCase) -> Iterator[Hit]:
    v = c.view
    if v.answered_without_rrsig:
        yield c.hit(
            f"answers with the DO bit carry no RRSIG: {', '.join(v.answered_without_rrsig)}",
            types=list(v.answered_without_rrsig),
        )
    elif c.inside_signed and not v.signed:
        yield c.hit("the server reports the zone signed, but serves no DNSKEY over DNS")


def key_roles(c: JoinCase) -> Iterator[Hit]:
    # A role left empty only by RRSIGs that are out of date (expired, not yet valid) but verify
    # inside their validity period is not a missing key: DNS007/DNS008 report the signatures,
    # and adding a key (this rule's fix) would be wrong.
    missing = c.view.missing_roles_in_window
    if missing:
        what = {"KSK": "no KSK (SEP) signs the DNSKEY RRset", "ZSK": "no ZSK signs the zone data"}
        yield c.hit(
            "served zone lacks the KSK/ZSK split: " + "; ".join(what[m] for m in missing),
            missing=list(missing),
        )
        return
    gaps = c.view.algorithm_gaps_in_window  # the split holds zone-wide, not within each algorithm
    if gaps:
        what = {"KSK": "no KSK of it signs the DNSKEY RRset", "ZSK": "no ZSK of it signs the zone data"}
        yield c.hit(
            "served zone lacks the KSK/ZSK split within an algorithm: "
            + "; ".join(f"{algorithm_name(alg)}: {what[role]}" for alg, role in gaps),
            missing_by_algorithm=[f"{algorithm_name(alg)} {role}" for alg, role in gaps],
        )


# -- signing algorithms --------------------------------------------------------------------------
RFC8624_ALG = "RFC 8624 section 3.1 (table, DNSSEC signing column), carried over by RFC 9904"
RFC9905_ALG = "RFC 9905 section 2 (SHA-1 MUST NOT be used to create DNSKEY/RRSIG)"

#: Signing algorithms the RFCs advise against, by number: (grade, the RFC, where it says so).
#: The numbers not here are fit to sign (RSASHA256, ECDSAP256SHA256: MUST; ED25519: RECOMMENDED;
#: ECDSAP384SHA384, ED448: MAY) or not listed by RFC 8624 for signing at all.
_SHA1 = f"{RFC9905_ALG}; NOT RECOMMENDED in {RFC8624_ALG}"
SIGNING_ADVICE: dict[int, tuple[str, str, str]] = {
    1: ("MUST NOT", "RFC 8624", RFC8624_ALG),  # RSAMD5
    3: ("MUST NOT", "RFC 8624", RFC8624_ALG),  # DSA
    5: ("MUST NOT", "RFC 9905", _SHA1),  # RSASHA1
    6: ("MUST NOT", "RFC 8624", RFC8624_ALG),  # DSA-NSEC3-SHA1
    7: ("MUST NOT", "RFC 9905", _SHA1),  # RSASHA1-NSEC3-SHA1
    10: ("NOT RECOMMENDED", "RFC 8624", RFC8624_ALG),  # RSASHA512
    12: ("MUST NOT", "RFC 8624", RFC8624_ALG),  # ECC-GOST
}


def signing_algorithm(c: JoinCase) -> Iterator[Hit]:
    v = c.view
    signing = {s.algorithm for s in v.signatures}
    for alg in sorted({k.algorithm for k in v.keys} | signing):
        advice = SIGNING_ADVICE.get(alg)
        if advice is None:
            continue
        grade, rfc, source = advice
        tags = sorted(k.key_tag for k in v.keys if k.algorithm == alg)
        what = "signs with" if alg in signing else "publishes DNSKEYs of"
        yield c.hit(
            f"served zone {what} {algorithm_name(alg)} ({alg}): {grade} for signing ({rfc})",
            # MUST NOT: the rule's severity (as ALG001 inside); NOT RECOMMENDED: info (as ALG002)
            None if grade == "MUST NOT" else Severity.INFO,
            algorithm=alg,
            algorithm_name=algorithm_name(alg),
            grade=grade,
            source=source,
            key_tags=tags,
            signs=alg in signing,
        )


# -- NSEC3 ---------------------------------------------------------------------------------------
def nsec3_mismatch(c: JoinCase) -> Iterator[Hit]:
    z, v = c.zone, c.view
    if z is None or z.dnssec is None or not c.inside_signed or not v.signed:
        return
    s = z.dnssec
    if s.denial_of_existence is DenialOfExistence.NSEC3 and v.nsec3param is None:
        yield c.hit("NSEC3 inside, but the zone serves no NSEC3PARAM (NSEC or not re-signed)")
        return
    if s.denial_of_existence is DenialOfExistence.NSEC and v.nsec3param is not None:
        yield c.hit("NSEC inside, but the zone serves NSEC3PARAM (not re-signed)")
        return
    p = v.nsec3param
    if p is None:
        return
    if s.nsec3_iterations is not None and s.nsec3_iterations != p.iterations:
        yield c.hit(
            f"NSEC3 iterations {s.nsec3_iterations} inside, {p.iterations} served (zone not re-signed?)",
            inside=s.nsec3_iterations,
            served=p.iterations,
        )
    inside_salt = next((x for x in (s.nsec3_current_salt, s.nsec3_user_salt) if x and x != "-"), None)
    if inside_salt is not None and inside_salt.upper() != p.salt:
        yield c.hit(f"NSEC3 salt {inside_salt} inside, {p.salt or 'none'} served")
    elif inside_salt is None and not s.nsec3_random_salt_length and p.salt:
        yield c.hit(f"no NSEC3 salt inside, salt {p.salt} served (zone not re-signed?)")


def nsec3_params(c: JoinCase) -> Iterator[Hit]:
    p = c.view.nsec3param
    if p is None:
        return
    if p.iterations > 0:
        sev = Severity.HIGH if p.iterations > 50 else Severity.MEDIUM
        yield c.hit(f"served NSEC3 iterations {p.iterations} (RFC 9276 3.1: MUST be 0)", sev)
    if p.has_salt:
        yield c.hit(f"served NSEC3 salt {p.salt} (RFC 9276 3.1: SHOULD NOT)", Severity.LOW)


# -- reachability --------------------------------------------------------------------------------
def reachability(c: JoinCase) -> Iterator[Hit]:
    v = c.view
    if not v.reachable:
        p = v.problems[0] if v.problems else None
        what = f"{p.kind}: {p.message}" if p else "no answer"
        yield c.hit(f"DNS server {v.server} gives no usable answer for the zone ({what})", kind=p and p.kind)
        return
    for p in v.problems:
        # a DS asked at a server that does not serve the parent: nothing wrong, just not checked
        sev = Severity.INFO if p.kind == "not-parent" else Severity.MEDIUM
        yield c.hit(f"{p.query} at {p.server}: {p.kind}: {p.message}", sev, kind=p.kind)


# -- the per-server record -----------------------------------------------------------------------
def chain_state(view: ZoneDnsView) -> str:
    """``ok``, ``broken``, ``island`` (no DS), ``not checked`` or ``unsigned``, for evidence."""
    if not view.reachable:
        return "not checked"
    if not view.signed:
        return "unsigned"
    if view.ds is None:
        return "not checked"
    if view.chain_ok:
        return "ok"
    return "broken" if view.ds else "island"


def zone_summary(view: ZoneDnsView) -> dict[str, Any]:
    """What one zone's DNS view showed, as plain evidence (for reports and STIG checklists)."""
    if not view.reachable:
        p = view.problems[0] if view.problems else None
        return {"reachable": False, "problem": f"{p.kind}: {p.message}" if p else "no answer"}
    out: dict[str, Any] = {
        "reachable": True,
        "keys": [k.describe() for k in view.keys],
        "chain": chain_state(view),
        "ds": [f"{d.key_tag}/{d.digest_name}" for d in view.ds or ()],
        "signatures_valid": all(s.valid for s in view.signatures) if view.signatures else None,
        "dnskey_rrsig_validity_hours": sorted(
            {s.validity.total_seconds() / 3600 for s in view.signatures_over("DNSKEY")}
        ),
        "denial": "NSEC3" if view.nsec3param else ("NSEC" if view.nsec_at_apex else None),
    }
    if view.signatures:  # the first RRSIG served to expire (monitoring alerts on it)
        out["rrsig_expires"] = min(s.expiration for s in view.signatures).isoformat()
    if view.nsec3param is not None:
        out["nsec3"] = {"iterations": view.nsec3param.iterations, "salt": view.nsec3param.salt or "-"}
    return out
