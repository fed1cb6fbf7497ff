"""NSEC and DS rules: authenticated denial of existence (RFC 9276) and DS digests (RFC 8624)."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from toolkit import dnssec_limits as lim
from toolkit.findings import Severity
from toolkit.rules.base import Hit, Rule, ZoneContext, lowered

__all__ = ["RULES"]

RFC9276 = "RFC 9276 section 3.1 (NSEC3 parameters for zone publishers)"
STIG_NSEC3 = ("V-259346 / WDNS-22-000015", "V-215579 / WDNS-CM-000009")
RFC8624_DS = "RFC 8624 section 3.3 (DS and CDS digest algorithms)"


def nsec3_iterations(ctx: ZoneContext) -> Sequence[Hit]:
    s = ctx.nsec3
    if s is None or s.nsec3_iterations is None:
        return ()
    hits: list[Hit] = []
    if s.nsec3_iterations > ctx.t.nsec3_max_iterations:
        hits.append(
            Hit(
                f"NSEC3 uses {s.nsec3_iterations} extra iterations (policy maximum "
                f"{ctx.t.nsec3_max_iterations}; RFC 9276: MUST be 0)",
                {"nsec3_iterations": s.nsec3_iterations, "maximum": ctx.t.nsec3_max_iterations},
            )
        )
    return hits


def nsec3_salt(ctx: ZoneContext) -> Sequence[Hit]:
    s = ctx.nsec3
    if s is None or ctx.t.nsec3_salt_allowed or not s.salt_in_use:
        return ()
    evidence = {
        "nsec3_random_salt_length": s.nsec3_random_salt_length,
        "nsec3_user_salt": s.nsec3_user_salt,
        "nsec3_current_salt": s.nsec3_current_salt,
    }
    return [Hit("NSEC3 records carry a salt (RFC 9276: SHOULD NOT)", evidence)]


def nsec3_opt_out(ctx: ZoneContext) -> Sequence[Hit]:
    s = ctx.nsec3
    if s is None or ctx.t.nsec3_opt_out_allowed or not s.nsec3_opt_out:
        return ()
    return [Hit("NSEC3 opt-out is on (RFC 9276: not recommended for small zones)", {"nsec3_opt_out": True})]


def nsec3_validator_limit(ctx: ZoneContext) -> Sequence[Hit]:
    s = ctx.nsec3
    if s is None or s.nsec3_iterations is None:
        return ()
    limit = ctx.t.nsec3_validator_limit
    hits: list[Hit] = []
    if s.nsec3_iterations > limit:
        hits.append(
            Hit(
                f"NSEC3 uses {s.nsec3_iterations} iterations, above the {limit} validators accept: "
                "negative answers validate as insecure or SERVFAIL",
                {"nsec3_iterations": s.nsec3_iterations, "validator_limit": limit},
            )
        )
    windows_max = lim.max_nsec3_iterations(ctx.min_key_length)
    if s.nsec3_iterations > windows_max:
        hits.append(
            Hit(
                f"NSEC3 uses {s.nsec3_iterations} iterations, above the {windows_max} Windows allows for "
                "the zone's smallest key (Win32 9124)",
                {"nsec3_iterations": s.nsec3_iterations, "windows_limit": windows_max, "win32": 9124},
                severity=Severity.CRITICAL,
            )
        )
    return hits


def denial_policy(ctx: ZoneContext) -> Sequence[Hit]:
    wanted = ctx.t.denial_of_existence
    s = ctx.zone.dnssec
    if wanted.lower() == "any" or s is None or not (ctx.dnssec_in_use and ctx.signed):
        return ()
    actual = s.denial_of_existence.value if s.denial_of_existence else None
    hits: list[Hit] = []
    if actual is None or actual.lower() != wanted.lower():
        hits.append(
            Hit(
                f"zone uses {actual or 'unknown'} for denial of existence; the policy requires {wanted}",
                {"denial_of_existence": actual, "required": wanted},
            )
        )
    return hits


def ds_digests(ctx: ZoneContext) -> Sequence[Hit]:
    if ctx.zone.dnssec is None or not (ctx.dnssec_in_use and ctx.signed):
        return ()
    t = ctx.t
    verdict = _ds_verdict(ctx.ds_digests, t.ds_required_digests, t.ds_forbidden_digests)
    hits: list[Hit] = []
    if verdict is not None:
        message, evidence = verdict
        hits.append(Hit(message, {name: list(value) for name, value in evidence.items()}))
    return hits


def ds_forbidden_beside(ctx: ZoneContext) -> Sequence[Hit]:
    if ctx.zone.dnssec is None or not (ctx.dnssec_in_use and ctx.signed):
        return ()
    have = ctx.ds_digests
    if len(have) < 2:
        return ()  # "beside": a forbidden digest alongside at least one other
    banned = lowered(ctx.t.ds_forbidden_digests)
    forbidden = [h for h in have if h.lower() in banned]
    hits: list[Hit] = []
    if forbidden and len(forbidden) < len(have):
        hits.append(
            Hit(
                f"DS records are also generated with {', '.join(forbidden)}",
                {"ds_record_generation_algorithm": list(have), "forbidden": forbidden},
            )
        )
    return hits


@functools.lru_cache(maxsize=64)
def _ds_verdict(
    have: tuple[str, ...], required: tuple[str, ...], forbidden: tuple[str, ...]
) -> tuple[str, dict[str, tuple[str, ...]]] | None:
    """DS001's message and evidence (lists as tuples: each hit takes its own lists) for a zone
    generating ``have``, or None. Kept per argument tuple: zones repeat the same few digest
    lists under one policy."""
    present = {h.lower() for h in have}
    missing = [r for r in required if r.lower() not in present]
    banned = lowered(forbidden)
    if not have:
        return "no DS digest algorithm is configured", {"ds_record_generation_algorithm": ()}
    if all(h.lower() in banned for h in have):
        return (
            f"DS records are generated only with {', '.join(have)} (RFC 8624: SHA-1 MUST NOT)",
            {"ds_record_generation_algorithm": have, "required": required},
        )
    if missing:
        return (
            f"DS records are not generated with {', '.join(missing)}",
            {"ds_record_generation_algorithm": have, "required": required},
        )
    return None


_SET = "Set-DnsServerDnsSecZoneSetting -ZoneName '<Zone>' "

RULES: tuple[Rule, ...] = (
    Rule(
        id="NSEC001",
        title="NSEC3 iterations above policy",
        severity=Severity.MEDIUM,
        scope="zone",
        checks="NSec3Iterations is at most nsec3-max-iterations (default 0). The Windows default "
        "is 50: info in baseline, medium in rfc.",
        why="RFC 9276 says zone publishers MUST use 0 extra iterations: more iterations cost "
        "validators CPU and add no protection against zone walking.",
        remediation=_SET + "-NSec3Iterations 0",
        references=(RFC9276,),
        zone_check=nsec3_iterations,
    ),
    Rule(
        id="NSEC002",
        title="NSEC3 salt in use",
        severity=Severity.LOW,
        scope="zone",
        checks="NSEC3 carries no salt (NSec3RandomSaltLength 0 and NSec3UserSalt '-') unless "
        "nsec3-salt-allowed. The Windows default is an 8-byte random salt.",
        why="RFC 9276 says operators SHOULD NOT use a salt: it adds no protection and bloats responses.",
        remediation=_SET + "-NSec3RandomSaltLength 0 -NSec3UserSalt '-'",
        references=(RFC9276,),
        zone_check=nsec3_salt,
    ),
    Rule(
        id="NSEC003",
        title="NSEC3 opt-out in use",
        severity=Severity.LOW,
        scope="zone",
        checks="NSec3OptOut is off unless nsec3-opt-out-allowed.",
        why="RFC 9276: opt-out is not recommended except for very large, sparsely signed "
        "delegation-centric zones; it leaves unsigned delegations unprovable.",
        remediation=_SET + "-NSec3OptOut $false",
        references=(RFC9276, "RFC 5155 section 6"),
        zone_check=nsec3_opt_out,
    ),
    Rule(
        id="NSEC004",
        title="NSEC3 iterations above what validators accept",
        severity=Severity.HIGH,
        scope="zone",
        checks="NSec3Iterations is at most nsec3-validator-limit (default 50), and within the limit "
        "Windows enforces for the zone's smallest key (150/500/2500; else 9124, critical).",
        why="Validators treat high iteration counts as insecure or answer SERVFAIL (RFC 9276 "
        "Appendix A; BIND above 50): negative answers stop validating.",
        remediation=_SET + "-NSec3Iterations 0",
        references=("RFC 9276 sections 3.2 and Appendix A", "RFC 5155 section 10.3"),
        zone_check=nsec3_validator_limit,
        win32=9124,
    ),
    Rule(
        id="NSEC005",
        title="Denial of existence differs from policy",
        severity=Severity.MEDIUM,
        scope="zone",
        checks="Signed zones use the denial-of-existence the policy names (any in baseline/rfc; "
        "NSec3 in stig).",
        why="The DISA STIG requires NSEC3 on internal zones so that zone contents cannot be listed by "
        "walking NSEC records.",
        remediation=_SET + "-DenialOfExistence <NSec3|NSec>",
        references=("RFC 5155 section 1", "RFC 9276 section 3"),
        zone_check=denial_policy,
        stig=STIG_NSEC3,
    ),
    Rule(
        id="DS001",
        title="DS digest SHA-1 only, or no SHA-256",
        severity=Severity.MEDIUM,
        scope="zone",
        checks="DSRecordGenerationAlgorithm includes every digest in ds-required-digests (SHA-256) "
        "and is not only forbidden digests (SHA-1).",
        why="RFC 8624 makes SHA-256 DS digests MUST and SHA-1 MUST NOT; a parent given only a "
        "SHA-1 DS leaves the chain of trust on a digest resolvers may treat as unsupported.",
        remediation=_SET + "-DSRecordGenerationAlgorithm Sha256",
        references=(RFC8624_DS, "RFC 9905 section 2"),
        zone_check=ds_digests,
    ),
    Rule(
        id="DS002",
        title="SHA-1 DS generated beside SHA-256",
        severity=Severity.LOW,
        scope="zone",
        checks="No forbidden digest (SHA-1) is generated alongside the required ones. The Windows "
        "default generates SHA-1 and SHA-256: info in baseline.",
        why="RFC 8624 says SHA-1 DS MUST NOT be generated; handing it to the parent keeps a weak "
        "digest in the chain.",
        remediation=_SET + "-DSRecordGenerationAlgorithm Sha256",
        references=(RFC8624_DS,),
        zone_check=ds_forbidden_beside,
    ),
)
