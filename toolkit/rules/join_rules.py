"""Join rules: the server's own view (inventory) against what it publishes over DNS.

Each rule reads one ``JoinCase`` (a zone's DNS view, the zone as the server reports it when
known, thresholds, the time) and yields findings. Neither side alone can make these findings:
"the KSK the server thinks is active is not the key the parent's DS points at" needs both.

Keys are matched on algorithm, role (SEP flag = KSK) and length, by count: the inside view
(Get-DnsServerSigningKey) carries no key tag. A key *signs* when a valid RRSIG with its tag covers
the SOA (ZSK role) or the DNSKEY RRset (KSK role); an active key inside must be a signing key
outside, a standby/next key inside may be published without signing.

``JOIN_RULES`` holds the metadata (id, title, severity, references, STIG ids) in the shape of
the rule registry; ``evaluate_join`` runs them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from toolkit.dnsview.descriptors import ZoneDnsView
from toolkit.findings import Finding, Severity, Target
from toolkit.model import ServerInventory, Zone
from toolkit.model.enums import DenialOfExistence, RolloverStatus

__all__ = ["JOIN_RULES", "JoinCase", "JoinRule", "JoinThresholds", "evaluate_join", "join_case"]

H48, H168 = timedelta(hours=48), timedelta(hours=168)


@dataclass(frozen=True, slots=True)
class JoinThresholds:
    rrsig_expiry_window: timedelta = timedelta(hours=48)
    validity_min: timedelta = H48
    validity_max: timedelta = H168


@dataclass(frozen=True, slots=True)
class JoinCase:
    server: str
    view: ZoneDnsView
    zone: Zone | None
    now: datetime
    limits: JoinThresholds = field(default_factory=JoinThresholds)

    @property
    def name(self) -> str:
        return self.view.zone.rstrip(".") or "."

    def finding(
        self, rule: JoinRule, message: str, severity: Severity | None = None, **evidence: Any
    ) -> Finding:
        return Finding(
            rule_id=rule.id,
            severity=severity if severity is not None else rule.severity,
            target=Target(self.server, self.name),
            message=message,
            evidence={"dns_server": self.view.server, **evidence},
        )

    @property
    def inside_signed(self) -> bool:
        return self.zone is not None and self.zone.signed


Check = Callable[["JoinRule", JoinCase], Iterable[Finding]]


@dataclass(frozen=True, slots=True)
class JoinRule:
    id: str
    title: str
    severity: Severity
    references: tuple[str, ...]
    check: Check
    stig: tuple[str, ...] = ()  # Vuln IDs, 2022 STIG first
    needs_inside: bool = False
    profiles: tuple[str, ...] = ("baseline", "strict", "stig", "rfc")


# -- key join ------------------------------------------------------------------------------------
def _group(alg: int | None, ksk: bool, length: int | None) -> tuple[int, str, int]:
    return (int(alg or 0), "KSK" if ksk else "ZSK", int(length or 0))


def _inside_counts(zone: Zone) -> tuple[Counter[tuple[int, str, int]], Counter[tuple[int, str, int]]]:
    active: Counter[tuple[int, str, int]] = Counter()
    versions: Counter[tuple[int, str, int]] = Counter()
    for k in zone.keys:
        if not k.is_active:
            continue
        g = _group(k.algorithm.number, k.is_ksk, k.key_length)
        active[g] += 1
        versions[g] += 1 + sum(1 for v in (k.standby_key, k.next_key) if v)
    return active, versions


def _outside_counts(view: ZoneDnsView) -> tuple[Counter[tuple[int, str, int]], Counter[tuple[int, str, int]]]:
    signing: Counter[tuple[int, str, int]] = Counter()
    published: Counter[tuple[int, str, int]] = Counter()
    soa, dnskey = view.signing_tags("SOA"), view.signing_tags("DNSKEY")
    for k in view.keys:
        g = _group(k.algorithm, k.is_ksk, k.key_length)
        published[g] += 1
        if k.key_tag in (dnskey if k.is_ksk else soa):
            signing[g] += 1
    return signing, published


def _label(g: tuple[int, str, int]) -> str:
    from toolkit.dnsview.descriptors import algorithm_name

    return f"{g[1]} {algorithm_name(g[0])}" + (f" {g[2]} bits" if g[2] else "")


def _key_not_published(rule: JoinRule, c: JoinCase) -> Iterator[Finding]:
    if c.zone is None or not c.inside_signed or not c.view.reachable:
        return
    active, _ = _inside_counts(c.zone)
    signing, _ = _outside_counts(c.view)
    for g, n in sorted(active.items()):
        if signing[g] < n:
            yield c.finding(
                rule,
                f"{n - signing[g]} active {_label(g)} key(s) inside are not published "
                "(or sign nothing) over DNS",
                inside_active=n,
                published_signing=signing[g],
            )


def _key_unaccounted(rule: JoinRule, c: JoinCase) -> Iterator[Finding]:
    if c.zone is None or not c.view.reachable or c.zone.errors and not c.zone.keys:
        return
    _, versions = _inside_counts(c.zone)
    _, published = _outside_counts(c.view)
    for g, n in sorted(published.items()):
        if n > versions[g]:
            tags = [k.key_tag for k in c.view.keys if _group(k.algorithm, k.is_ksk, k.key_length) == g]
            yield c.finding(
                rule,
                f"{n - versions[g]} published {_label(g)} DNSKEY(s) not accounted for by any key inside",
                published=n,
                inside_versions=versions[g],
                key_tags=tags,
            )


# -- DS at the parent ----------------------------------------------------------------------------
def _chain(rule: JoinRule, c: JoinCase) -> Iterator[Finding]:
    v = c.view
    if not v.signed or v.ds is None:
        return
    if v.chain_ok:
        return
    if not v.ds:
        if c.zone is not None and c.zone.dnssec and c.zone.dnssec.parent_has_secure_delegation is False:
            sev = Severity.MEDIUM
        else:
            sev = Severity.HIGH
        yield c.finding(rule, "no DS at the parent: the zone is signed but not chained (island)", sev)
        return
    ds = [f"{d.key_tag}/{d.digest_name}" for d in v.ds]
    keys = [k.describe() for k in v.keys if k.key_tag in v.signing_tags("DNSKEY")]
    yield c.finding(
        rule,
        f"chain broken: no DS at the parent ({', '.join(ds)}) matches a key signing the DNSKEY RRset "
        f"({', '.join(keys) or 'none'})",
        Severity.CRITICAL,
        ds=ds,
        signing_keys=keys,
    )


def _ds_sha1_only(rule: JoinRule, c: JoinCase) -> Iterator[Finding]:
    if c.view.ds and all(d.is_sha1 for d in c.view.ds):
        yield c.finding(rule, "the parent holds only SHA-1 DS records (RFC 8624: SHA-1 MUST NOT)")


def _ksk_ds_ready(rule: JoinRule, c: JoinCase) -> Iterator[Finding]:
    if c.zone is None or c.view.ds is None:
        return
    waiting = [
        k for k in c.zone.ksks if k.current_rollover_status is RolloverStatus.KSK_WAITING_FOR_DS_UPDATE
    ]
    if not waiting:
        return
    ksks = c.view.ksks
    if ksks and all(c.view.ds_matching(k) for k in ksks):
        yield c.finding(
            rule,
            "KSK rollover waits for a DS update, but the parent already has a DS for every published KSK: "
            "step the rollover (Step-DnsServerSigningKeyRollover)",
            key_tags=[k.key_tag for k in ksks],
        )


# -- signatures ----------------------------------------------------------------------------------
def _rrsig_invalid(rule: JoinRule, c: JoinCase) -> Iterator[Finding]:
    for s in (*c.view.signatures, *c.view.ds_signatures):
        if s.valid is False:
            yield c.finding(rule, f"RRSIG over {s.covered} by key {s.key_tag} does not validate: {s.error}")
        elif s.valid is None and s.error:
            yield c.finding(rule, f"RRSIG over {s.covered} cannot be checked: {s.error}", Severity.HIGH)


def _rrsig_expiring(rule: JoinRule, c: JoinCase) -> Iterator[Finding]:
    window = c.limits.rrsig_expiry_window
    for s in (*c.view.signatures, *c.view.ds_signatures):
        left = s.remaining(c.now)
        if left < window:
            sev = Severity.CRITICAL if left <= timedelta(0) else rule.severity
            hours = left.total_seconds() / 3600
            yield c.finding(
                rule,
                f"RRSIG over {s.covered} (key {s.key_tag}) expires in {hours:.1f} h "
                f"(window {window.total_seconds() / 3600:g} h)",
                sev,
                expiration=s.expiration.isoformat(),
            )


def _validity(rule: JoinRule, c: JoinCase, sigs: Sequence[Any], what: str) -> Iterator[Finding]:
    lo, hi = c.limits.validity_min, c.limits.validity_max
    for s in sigs:
        if not lo <= s.validity <= hi:
            hours = s.validity.total_seconds() / 3600
            yield c.finding(
                rule,
                f"measured {what} RRSIG validity {hours:g} h (key {s.key_tag}) is outside "
                f"{lo.total_seconds() / 3600:g}-{hi.total_seconds() / 3600:g} h",
                validity_hours=hours,
            )


def _dnskey_validity(rule: JoinRule, c: JoinCase) -> Iterator[Finding]:
    yield from _validity(rule, c, c.view.signatures_over("DNSKEY"), "DNSKEY")


def _ds_validity(rule: JoinRule, c: JoinCase) -> Iterator[Finding]:
    yield from _validity(rule, c, c.view.ds_signatures, "DS (signed by the parent)")


def _nsec3param_inception(rule: JoinRule, c: JoinCase) -> Iterator[Finding]:
    n3 = {s.inception for s in c.view.signatures_over("NSEC3PARAM")}
    dk = {s.inception for s in c.view.signatures_over("DNSKEY")}
    if n3 and dk and not n3 & dk:
        yield c.finding(
            rule,
            "NSEC3PARAM was signed at a different inception than the DNSKEY RRset "
            "(salt not changed on re-sign)",
            nsec3param=sorted(t.isoformat() for t in n3),
            dnskey=sorted(t.isoformat() for t in dk),
        )


def _unsigned_answers(rule: JoinRule, c: JoinCase) -> Iterator[Finding]:
    v = c.view
    if not v.reachable:
        return
    if v.answered_without_rrsig:
        yield c.finding(
            rule,
            f"answers with the DO bit carry no RRSIG: {', '.join(v.answered_without_rrsig)}",
            types=list(v.answered_without_rrsig),
        )
    elif c.inside_signed and not v.signed:
        yield c.finding(rule, "the server reports the zone signed, but serves no DNSKEY over DNS")


def _key_roles(rule: JoinRule, c: JoinCase) -> Iterator[Finding]:
    missing = c.view.missing_roles
    if missing:
        what = {"KSK": "no KSK (SEP) signs the DNSKEY RRset", "ZSK": "no ZSK signs the zone data"}
        yield c.finding(
            rule,
            "served zone lacks the KSK/ZSK split: " + "; ".join(what[m] for m in missing),
            missing=list(missing),
        )


# -- NSEC3 ---------------------------------------------------------------------------------------
def _nsec3_mismatch(rule: JoinRule, c: JoinCase) -> Iterator[Finding]:
    z, v = c.zone, c.view
    if z is None or z.dnssec is None or not c.inside_signed or not v.signed:
        return
    s = z.dnssec
    if s.denial_of_existence is DenialOfExistence.NSEC3 and v.nsec3param is None:
        yield c.finding(rule, "NSEC3 inside, but the zone serves no NSEC3PARAM (NSEC or not re-signed)")
        return
    if s.denial_of_existence is DenialOfExistence.NSEC and v.nsec3param is not None:
        yield c.finding(rule, "NSEC inside, but the zone serves NSEC3PARAM (not re-signed)")
        return
    p = v.nsec3param
    if p is None:
        return
    if s.nsec3_iterations is not None and s.nsec3_iterations != p.iterations:
        yield c.finding(
            rule,
            f"NSEC3 iterations {s.nsec3_iterations} inside, {p.iterations} served (zone not re-signed?)",
            inside=s.nsec3_iterations,
            served=p.iterations,
        )
    inside_salt = next((x for x in (s.nsec3_current_salt, s.nsec3_user_salt) if x and x != "-"), None)
    if inside_salt is not None and inside_salt.upper() != p.salt:
        yield c.finding(rule, f"NSEC3 salt {inside_salt} inside, {p.salt or 'none'} served")
    elif inside_salt is None and not s.nsec3_random_salt_length and p.salt:
        yield c.finding(rule, f"no NSEC3 salt inside, salt {p.salt} served (zone not re-signed?)")


def _nsec3_rfc9276(rule: JoinRule, c: JoinCase) -> Iterator[Finding]:
    p = c.view.nsec3param
    if p is None:
        return
    if p.iterations > 0:
        sev = Severity.HIGH if p.iterations > 50 else Severity.MEDIUM
        yield c.finding(rule, f"served NSEC3 iterations {p.iterations} (RFC 9276 3.1: MUST be 0)", sev)
    if p.has_salt:
        yield c.finding(rule, f"served NSEC3 salt {p.salt} (RFC 9276 3.1: SHOULD NOT)", Severity.LOW)


# -- reachability --------------------------------------------------------------------------------
def _reachability(rule: JoinRule, c: JoinCase) -> Iterator[Finding]:
    v = c.view
    if not v.reachable:
        p = v.problems[0] if v.problems else None
        what = f"{p.kind}: {p.message}" if p else "no answer"
        yield c.finding(rule, f"DNS server {v.server} gives no usable answer for the zone ({what})")
        return
    for p in v.problems:
        yield c.finding(rule, f"{p.query} at {p.server}: {p.kind}: {p.message}", Severity.MEDIUM, kind=p.kind)


R = JoinRule
JOIN_RULES: tuple[JoinRule, ...] = (
    R(
        "dns.unreachable",
        "DNS server unreachable, lame, SERVFAIL or truncating",
        Severity.HIGH,
        ("RFC 1035 4.2", "RFC 7766 (TCP fallback)"),
        _reachability,
    ),
    R(
        "dns.key-not-published",
        "Active key inside is not published over DNS",
        Severity.HIGH,
        ("RFC 6781 4.1", "RFC 7583 3"),
        _key_not_published,
        needs_inside=True,
    ),
    R(
        "dns.key-unaccounted",
        "Published DNSKEY no key inside accounts for",
        Severity.MEDIUM,
        ("RFC 6781 4.1",),
        _key_unaccounted,
        needs_inside=True,
    ),
    R(
        "dns.ds-chain",
        "No DS at the parent matches a key signing the DNSKEY RRset",
        Severity.CRITICAL,
        ("RFC 4035 5.2", "STIG V-259382 / V-215619"),
        _chain,
        stig=("V-259382", "V-215619"),
    ),
    R(
        "dns.ds-sha1-only",
        "Parent holds only SHA-1 DS records",
        Severity.MEDIUM,
        ("RFC 8624 3.3", "RFC 9904"),
        _ds_sha1_only,
    ),
    R(
        "dns.ksk-ds-ready",
        "KSK waits for DS update, but the DS is already at the parent",
        Severity.MEDIUM,
        ("RFC 7583 3.3",),
        _ksk_ds_ready,
        needs_inside=True,
    ),
    R(
        "dns.rrsig-invalid",
        "RRSIG does not validate",
        Severity.CRITICAL,
        ("RFC 4035 5.3",),
        _rrsig_invalid,
        stig=("V-259350", "V-215583"),
    ),
    R(
        "dns.rrsig-expiring",
        "RRSIG expires within the policy window",
        Severity.HIGH,
        ("RFC 6781 4.4.2",),
        _rrsig_expiring,
    ),
    R(
        "dns.dnskey-rrsig-validity",
        "Measured DNSKEY RRSIG validity outside 48-168 h",
        Severity.MEDIUM,
        ("STIG V-259345 / WDNS-22-000014", "STIG V-215578 / WDNS-CM-000008"),
        _dnskey_validity,
        stig=("V-259345", "V-215578"),
    ),
    R(
        "dns.ds-rrsig-validity",
        "Measured DS RRSIG validity outside 48-168 h",
        Severity.MEDIUM,
        ("STIG V-259339 / WDNS-22-000007", "STIG V-215661 / WDNS-CM-000001"),
        _ds_validity,
        stig=("V-259339", "V-215661"),
    ),
    R(
        "dns.nsec3param-inception",
        "NSEC3PARAM signed at a different inception than DNSKEY",
        Severity.LOW,
        ("STIG V-259372 / WDNS-22-000044", "STIG V-215609 / WDNS-SC-000001"),
        _nsec3param_inception,
        stig=("V-259372", "V-215609"),
    ),
    R(
        "dns.unsigned-answers",
        "Signed zone answers without RRSIGs when asked with DO",
        Severity.HIGH,
        ("RFC 4035 3.1", "STIG V-259350 family / V-215613"),
        _unsigned_answers,
        stig=("V-259350", "V-215613"),
    ),
    R(
        "dns.key-roles",
        "Served zone lacks a signing KSK or ZSK",
        Severity.MEDIUM,
        ("RFC 6781 3.1", "Win32 9104"),
        _key_roles,
    ),
    R(
        "dns.nsec3-mismatch",
        "Served NSEC3 parameters differ from the zone's settings inside",
        Severity.MEDIUM,
        ("RFC 5155 4",),
        _nsec3_mismatch,
        needs_inside=True,
    ),
    R(
        "dns.nsec3-params",
        "Served NSEC3 iterations above 0 or a salt",
        Severity.MEDIUM,
        ("RFC 9276 3.1",),
        _nsec3_rfc9276,
    ),
)


def join_case(
    server: str,
    view: ZoneDnsView,
    inventory: ServerInventory | None,
    now: datetime,
    limits: JoinThresholds | None = None,
) -> JoinCase:
    zone = inventory.zone(view.zone.rstrip(".") or ".") if inventory is not None else None
    return JoinCase(server, view, zone, now, limits or JoinThresholds())


def evaluate_join(
    views: Iterable[ZoneDnsView],
    inventory: ServerInventory | None = None,
    *,
    server: str | None = None,
    now: datetime | None = None,
    limits: JoinThresholds | None = None,
    select: Mapping[str, bool] | None = None,
) -> list[Finding]:
    """Run every join rule over each zone view (``select`` maps rule id -> enabled)."""
    now = now or datetime.now(UTC)
    name = server or (inventory.server.name if inventory is not None else "dns")
    out: list[Finding] = []
    for view in views:
        case = join_case(name, view, inventory, now, limits)
        for rule in JOIN_RULES:
            if select is not None and not select.get(rule.id, True):
                continue
            if rule.needs_inside and case.zone is None:
                continue
            if not view.reachable and rule.id != "dns.unreachable":
                continue
            out.extend(rule.check(rule, case))
    return out
