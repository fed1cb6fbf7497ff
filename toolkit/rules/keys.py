"""KEY and ALG rules: are there the signing keys Windows needs, and are they strong enough.

KEY001 is the founding rule: the condition behind Win32 9104
(DNS_ERROR_NOT_ENOUGH_SIGNING_KEY_DESCRIPTORS): a zone must hold at least one KSK and one ZSK.
"""

from __future__ import annotations

from collections.abc import Sequence

from toolkit.findings import Severity
from toolkit.model import SigningKey
from toolkit.model.enums import CryptoAlgorithm, DenialOfExistence, KeyType
from toolkit.rules.base import Hit, Rule, ZoneContext, key_line, lowered, not_yet_signing

__all__ = ["RULES"]

RFC8624 = "RFC 8624 section 3.1 (algorithm implementation requirements)"
RFC9905 = "RFC 9905 section 2 (SHA-1 MUST NOT be used to create DNSKEY/RRSIG/DS)"
NIST = "NIST SP 800-81-2 section 11.2 (key sizes)"
STIG_ALG = ("V-259351 / WDNS-22-000020", "V-215584 / WDNS-CM-000015")


def _signs(k: SigningKey) -> bool:
    """The key counts as signing for Windows: not retired, and with an active key."""
    return k.is_active and not not_yet_signing(k)


def key_presence(ctx: ZoneContext) -> Sequence[Hit]:
    if not ctx.dnssec_in_use or not ctx.keys_readable:
        return ()
    signed = ctx.signed
    ksks, zsks = ctx.ksks, ctx.zsks
    if ksks and zsks and (not signed or (len(ctx.active_keys) == len(ctx.keys) and not ctx.pending_keys)):
        return ()  # the usual case: both types present, and in a signed zone every key signs
    missing: list[str] = []
    retired: list[str] = []
    pending: list[str] = []
    for kind, keys in (("KSK", ksks), ("ZSK", zsks)):
        if not keys:
            missing.append(kind)
        elif signed and not any(_signs(k) for k in keys):
            # MS-DNSP 2.2.6.2.3: a retired descriptor is "no longer in use for online signing";
            # one without an active key has nothing to sign with yet
            missing.append(kind)
            (retired if not any(k.is_active for k in keys) else pending).append(kind)
    if not missing:
        return ()
    evidence: dict[str, object] = {
        "missing": missing,
        "signed": signed,
        "keys_present": list(ctx.keys_present),
        "win32": 9104,
    }
    if signed:
        parts = []
        for kind in missing:
            if kind in retired:
                parts.append(f"no {kind} that signs (every {kind} is retired)")
            elif kind in pending:
                parts.append(f"no {kind} that signs (no {kind} has an active key yet)")
            else:
                parts.append(f"no {kind}")
        msg = f"signed zone has {' and '.join(parts)}: Windows cannot re-sign or roll it (Win32 9104)"
        sev = Severity.CRITICAL
        if retired:
            evidence["retired"] = retired
        if pending:
            evidence["not_yet_signing"] = pending
    else:
        msg = f"zone holds signing keys but no {' and '.join(missing)}: signing it will fail with Win32 9104"
        sev = Severity.HIGH
    return [Hit(msg, evidence, severity=sev)]


def active_key_presence(ctx: ZoneContext) -> Sequence[Hit]:
    # A signed zone whose keys of a type are all retired is KEY001's (critical): here, the zone
    # that is not signed yet, or no longer, whose keys of a type are all retired.
    if not ctx.dnssec_in_use or ctx.signed or not ctx.keys_readable or len(ctx.active_keys) == len(ctx.keys):
        return ()  # (the last: no key is retired, so every type present has an active key)
    hits: list[Hit] = []
    for kind, keys in (("KSK", ctx.ksks), ("ZSK", ctx.zsks)):
        if keys and not any(k.is_active for k in keys):
            hits.append(
                Hit(
                    f"every {kind} is retired: signing the zone will fail with Win32 9104",
                    {"missing_active": kind, "keys_present": list(ctx.keys_present), "win32": 9104},
                )
            )
    return hits


def per_algorithm_pairs(ctx: ZoneContext) -> Sequence[Hit]:
    if not ctx.dnssec_in_use or not ctx.keys_readable or not (ctx.ksks and ctx.zsks):
        return ()  # KEY001 reports the zone-wide case
    counts = ctx.key_counts
    if len(counts) == 2 and counts[0][0] == counts[1][0]:
        return ()  # the usual case: one algorithm, so its gaps are the zone's (KEY001/KEY002)
    signed = ctx.signed
    # the keys that count: not retired (MS-DNSP: "no longer in use for online signing"), and in a
    # signed zone, with an active key (an algorithm of retired or pending keys only is not in use)
    counted = [k for k in ctx.keys if (_signs(k) if signed else k.is_active)]
    seen = {id(k) for k in counted}
    if not any(k.is_ksk for k in counted) or not any(k.is_zsk for k in counted):
        return ()  # the zone-wide case again (KEY001, KEY002)
    types: dict[str, set[str]] = {}
    for k in counted:
        types.setdefault(k.algorithm.value, set()).add(k.key_type.short)
    hits: list[Hit] = []
    for alg in sorted(types):
        present = types[alg]
        for kind in ("KSK", "ZSK"):
            if kind in present:
                continue
            idle = [
                k
                for k in ctx.keys
                if k.algorithm.value == alg and k.key_type.short == kind and id(k) not in seen
            ]
            why = ""
            if idle and all(not k.is_active for k in idle):
                why = f" (its {kind} is retired)"
            elif idle:
                why = f" (its {kind} has no active key yet)"
            evidence: dict[str, object] = {
                "algorithm": alg,
                "missing": kind,
                "keys_present": list(ctx.keys_present),
                "win32": 9104,
            }
            if idle:
                evidence["not_counted"] = [key_line(k) for k in idle]
            hits.append(
                Hit(
                    f"algorithm {alg} has no {kind}{why}: every algorithm in use needs a KSK and a ZSK",
                    evidence,
                )
            )
    return hits


def pending_keys(ctx: ZoneContext) -> Sequence[Hit]:
    if not ctx.dnssec_in_use or not ctx.signed or not ctx.keys_readable:
        return ()  # before a zone is signed, no key of it signs: nothing to single out
    hits: list[Hit] = []
    for k in ctx.pending_keys:  # usually none
        held = " and ".join(n for n, v in (("a StandbyKey", k.standby_key), ("a NextKey", k.next_key)) if v)
        hits.append(
            Hit(
                f"{k.key_type.short} {k.algorithm.value} has no ActiveKey (only {held}): "
                "it signs nothing yet",
                {"active_key": None, "standby_key": k.standby_key, "next_key": k.next_key},
                key_id=k.key_id,
            )
        )
    return hits


def too_many_keys(ctx: ZoneContext) -> Sequence[Hit]:
    if not ctx.dnssec_in_use:
        return ()
    limit = ctx.t.max_keys_per_algorithm_and_type
    hits: list[Hit] = []
    for alg, kind, n in ctx.key_counts:
        if n > limit:
            hits.append(
                Hit(
                    f"{n} {kind}s with algorithm {alg} "
                    f"(limit {limit}; Windows refuses a 4th with Win32 9113)",
                    {"algorithm": alg, "key_type": kind, "count": n, "limit": limit, "win32": 9113},
                )
            )
    return hits


def rsa_key_length(ctx: ZoneContext) -> Sequence[Hit]:
    if not ctx.dnssec_in_use:
        return ()
    t = ctx.t
    ksk_min, zsk_min = t.ksk_min_rsa_bits, t.zsk_min_rsa_bits
    hits: list[Hit] = []
    for k in ctx.active_keys:
        if k.key_length is None:
            continue
        minimum = ksk_min if k.key_type is KeyType.KSK else zsk_min
        if k.key_length < minimum and k.algorithm.is_rsa:
            hits.append(
                Hit(
                    f"{k.key_type.short} is RSA {k.key_length} bits, below the policy minimum {minimum}",
                    {"key_type": k.key_type.short, "key_length": k.key_length, "minimum": minimum},
                    key_id=k.key_id,
                )
            )
    return hits


_ENUM_FIELDS = ("key_type", "algorithm", "current_rollover_status", "rollover_type", "current_state")


def unknown_values(ctx: ZoneContext) -> Sequence[Hit]:
    hits: list[Hit] = []
    for k in ctx.odd_keys:  # usually none
        values = (k.key_type, k.algorithm, k.current_rollover_status, k.rollover_type, k.current_state)
        odd = {
            name: v.value
            for name, v in zip(_ENUM_FIELDS, values, strict=True)
            if v is not None and not v.is_known
        }
        hits.append(
            Hit(
                "key reports values this toolkit does not know: "
                + ", ".join(f"{n}={v!r}" for n, v in odd.items()),
                odd,
                key_id=k.key_id,
            )
        )
    return hits


def forbidden_algorithm(ctx: ZoneContext) -> Sequence[Hit]:
    if not ctx.dnssec_in_use:
        return ()
    forbidden = lowered(ctx.t.forbidden_algorithms)
    if forbidden.isdisjoint(ctx.algorithms):
        return ()  # the usual case: no key's algorithm is forbidden
    hits: list[Hit] = []
    for k in ctx.keys:
        if k.algorithm.value.lower() in forbidden:
            hits.append(
                Hit(
                    f"{k.key_type.short} signs with {k.algorithm.value}"
                    + (f" (algorithm {int(k.algorithm.number)})" if k.algorithm.number else "")
                    + ", which the policy forbids",
                    {"algorithm": k.algorithm.value, "number": int(k.algorithm.number or 0)},
                    key_id=k.key_id,
                )
            )
    return hits


def not_recommended_algorithm(ctx: ZoneContext) -> Sequence[Hit]:
    if not ctx.dnssec_in_use:
        return ()
    t = ctx.t
    recommended = lowered(t.recommended_algorithms)
    if recommended.issuperset(ctx.algorithms):
        return ()  # the usual case: every key's algorithm is recommended
    allowed = lowered(t.allowed_algorithms)
    forbidden = lowered(t.forbidden_algorithms)
    hits: list[Hit] = []
    for k in ctx.keys:
        alg = k.algorithm.value.lower()
        if alg in recommended:
            continue
        if alg in allowed:
            hits.append(
                Hit(
                    f"{k.key_type.short} uses {k.algorithm.value}: allowed, but not a recommended algorithm",
                    {"algorithm": k.algorithm.value, "recommended": list(t.recommended_algorithms)},
                    key_id=k.key_id,
                )
            )
        elif alg not in forbidden:
            hits.append(
                Hit(
                    f"{k.key_type.short} uses {k.algorithm.value}, which the policy does not list as allowed",
                    {
                        "algorithm": k.algorithm.value,
                        "allowed": list(t.recommended_algorithms + t.allowed_algorithms),
                    },
                    key_id=k.key_id,
                    severity=Severity.MEDIUM,
                )
            )
    return hits


_SHA1_ALGORITHMS = frozenset(
    a.value.lower() for a in (CryptoAlgorithm.RSASHA1, CryptoAlgorithm.RSASHA1_NSEC3)
)


def denial_incompatible(ctx: ZoneContext) -> Sequence[Hit]:
    s = ctx.zone.dnssec
    if not ctx.dnssec_in_use or s is None or s.denial_of_existence is None:
        return ()
    nsec3 = s.denial_of_existence is DenialOfExistence.NSEC3
    nsec = s.denial_of_existence is DenialOfExistence.NSEC
    if _SHA1_ALGORITHMS.isdisjoint(ctx.algorithms):
        return ()  # only SHA-1 RSA keys clash with a denial of existence
    clash = CryptoAlgorithm.RSASHA1 if nsec3 else CryptoAlgorithm.RSASHA1_NSEC3 if nsec else None
    kinds = sorted(k.key_type.short for k in ctx.keys if k.algorithm is clash)
    if not kinds:
        return ()
    # once per zone and algorithm: Windows refuses to sign the zone, not each key
    if nsec3:
        return [
            Hit(
                f"NSEC3 with RsaSha1 keys ({', '.join(kinds)}): Windows refuses it (Win32 9103); "
                "use RsaSha256 or NSEC",
                {"denial_of_existence": "NSec3", "algorithm": "RsaSha1", "keys": kinds, "win32": 9103},
            )
        ]
    return [
        Hit(
            f"NSEC with RsaSha1NSec3 keys ({', '.join(kinds)}): Windows refuses it (Win32 9130)",
            {"denial_of_existence": "NSec", "algorithm": "RsaSha1NSec3", "keys": kinds, "win32": 9130},
        )
    ]


_ADD_KEY = (
    "Add-DnsServerSigningKey -ZoneName '<Zone>' -Type {type} -CryptoAlgorithm RsaSha256 -KeyLength {bits}\n"
    "Invoke-DnsServerZoneSign -ZoneName '<Zone>' -DoResign -Force"
)

RULES: tuple[Rule, ...] = (
    Rule(
        id="KEY001",
        title="Zone has no KSK or no ZSK",
        severity=Severity.CRITICAL,
        scope="zone",
        checks="A signed primary zone must hold at least one key signing key (KSK) and at least one "
        "zone signing key (ZSK) that sign: not retired (CurrentState Retired) and with an active key "
        "(a key descriptor whose ActiveKey is blank while a StandbyKey or NextKey is set signs nothing "
        "yet). Critical. A primary zone that is not signed but holds keys must hold a key of each "
        "type: high.",
        why="Windows refuses to sign or re-sign such a zone with Win32 9104 "
        "(DNS_ERROR_NOT_ENOUGH_SIGNING_KEY_DESCRIPTORS: 'The zone does not have enough signing keys. "
        "There must be at least one key signing key (KSK) and at least one zone signing key (ZSK).'); "
        "a signed zone in this state cannot roll its keys and its signatures expire. MS-DNSP 2.2.6.2.3 "
        "(DNS_RPC_SKD_STATE) says a retired signing key descriptor is 'no longer in use for online "
        "signing', so a zone whose only ZSK (or KSK) is retired is in this state, not merely short "
        "of an active key.",
        remediation=_ADD_KEY.format(type="<ZoneSigningKey|KeySigningKey>", bits="<2048|1024>"),
        references=(
            "RFC 6781 section 3.1 (KSK/ZSK split)",
            "RFC 4035 section 2.1",
            "MS-DNSP section 2.2.6.2.3 (DNS_RPC_SKD_STATE: dwState, pwszActiveKey)",
        ),
        zone_check=key_presence,
        win32=9104,
    ),
    Rule(
        id="KEY002",
        title="No active key of a type",
        severity=Severity.HIGH,
        scope="zone",
        checks="A primary zone that is not signed holds keys of a type, but every one of them is "
        "retired (CurrentState Retired). In a signed zone the same state is KEY001's (critical).",
        why="A retired key no longer signs (MS-DNSP 2.2.6.2.3: 'no longer in use for online "
        "signing'): signing the zone fails with 9104, as if the key were missing.",
        remediation=_ADD_KEY.format(type="<KeySigningKey|ZoneSigningKey>", bits="2048"),
        references=("RFC 6781 section 4.1", "MS-DNSP section 2.2.6.2.3 (DNS_RPC_SKD_STATE: dwState)"),
        zone_check=active_key_presence,
        win32=9104,
    ),
    Rule(
        id="KEY003",
        title="An algorithm in use lacks a KSK or a ZSK",
        severity=Severity.HIGH,
        scope="zone",
        checks="For every algorithm a zone's keys use, there is both a KSK and a ZSK. Retired keys "
        "count for nothing, nor, in a signed zone, keys without an active key: an active ECDSA KSK "
        "beside a retired ECDSA ZSK leaves ECDSA without a ZSK, and an algorithm whose keys are all "
        "retired is not in use.",
        why="RFC 4035 requires the zone to be signed with each algorithm in the DNSKEY RRset; a KSK "
        "of an algorithm without a ZSK (or the reverse) leaves that algorithm's chain incomplete and "
        "Windows treats the algorithm's key set as insufficient (9104). A retired descriptor is 'no "
        "longer in use for online signing' (MS-DNSP 2.2.6.2.3): it completes no algorithm.",
        remediation="Add-DnsServerSigningKey -ZoneName '<Zone>' -Type <KeySigningKey|ZoneSigningKey> "
        "-CryptoAlgorithm <Algorithm>\n# or remove the odd key: Remove-DnsServerSigningKey -ZoneName "
        "'<Zone>' -KeyId <KeyId>",
        references=(
            "RFC 4035 section 2.2",
            "RFC 6781 section 4.1.4 (algorithm rollover)",
            "MS-DNSP section 2.2.6.2.3 (DNS_RPC_SKD_STATE: dwState)",
        ),
        zone_check=per_algorithm_pairs,
        win32=9104,
    ),
    Rule(
        id="KEY004",
        title="Too many keys of one algorithm and type",
        severity=Severity.MEDIUM,
        scope="zone",
        checks="No more than max-keys-per-algorithm-and-type (default 3, the Windows limit) keys share "
        "an algorithm and a key type.",
        why="Windows accepts at most 3 keys per algorithm and KSK flag (Win32 9113 "
        "DNS_ERROR_TOO_MANY_SKDS); a rollover needs room for the next key.",
        remediation="Get-DnsServerSigningKey -ZoneName '<Zone>'\n"
        "Remove-DnsServerSigningKey -ZoneName '<Zone>' -KeyId <KeyId> -Force   # a retired or unused key",
        references=("Microsoft DNSSEC guide: parameter values (3 keys per algorithm)",),
        zone_check=too_many_keys,
        win32=9113,
    ),
    Rule(
        id="KEY005",
        title="RSA key shorter than the policy minimum",
        severity=Severity.MEDIUM,
        scope="zone",
        checks="Active RSA keys are at least ksk-min-rsa-bits (KSK) / zsk-min-rsa-bits (ZSK) long: "
        "2048/1024 in baseline (Windows defaults), 2048/2048 in rfc and stig.",
        why="Short RSA keys can be factored within their crypto period; NIST allows a 1024-bit ZSK "
        "only short-term.",
        remediation="Add-DnsServerSigningKey -ZoneName '<Zone>' -Type <KeySigningKey|ZoneSigningKey> "
        "-CryptoAlgorithm RsaSha256 -KeyLength 2048\n# then retire the short key after a rollover: "
        "Set-DnsServerSigningKey -ZoneName '<Zone>' -KeyId <KeyId> -NextRolloverAction Retire",
        references=(NIST, "NIST SP 800-57 Part 1 section 5.6.1"),
        zone_check=rsa_key_length,
    ),
    Rule(
        id="KEY006",
        title="Key reports an unrecognised value",
        severity=Severity.LOW,
        scope="zone",
        checks="Key type, algorithm, state, rollover type and rollover status are values this toolkit knows.",
        why="A value unknown to the toolkit (a newer Windows, or a damaged key) means the other rules "
        "cannot judge the key: review it by hand.",
        remediation="Get-DnsServerSigningKey -ZoneName '<Zone>' -KeyId <KeyId> | Format-List *",
        references=("Windows DnsServerSigningKey CIM class (MOF)",),
        zone_check=unknown_values,
    ),
    Rule(
        id="KEY007",
        title="Key descriptor has no active key yet",
        severity=Severity.LOW,
        scope="zone",
        checks="In a signed primary zone, every key that is not retired reports an ActiveKey. A key "
        "whose ActiveKey is blank while a StandbyKey or NextKey is set (as Add-DnsServerSigningKey can "
        "leave it) is reported; it does not count towards KEY001's KSK and ZSK. A key reporting none "
        "of the three pointers is taken to sign.",
        why="Each signing key descriptor carries three signing key pointer strings, for its active, "
        "standby and next key (MS-DNSP 2.2.6.2.3, DNS_RPC_SKD_STATE: pwszActiveKey, pwszStandbyKey, "
        "pwszNextKey; the DnsServerSigningKey class: ActiveKey 'A pointer string for the active key'). "
        "Without an active key the descriptor signs nothing: the zone is signed only by its other "
        "keys, and if it has none of the type, KEY001 (9104) says so.",
        remediation="Get-DnsServerSigningKey -ZoneName '<Zone>' -KeyId <KeyId> | Format-List *\n"
        "# once the key should sign, re-sign the zone:\n"
        "Invoke-DnsServerZoneSign -ZoneName '<Zone>' -DoResign -Force",
        references=(
            "MS-DNSP section 2.2.6.2.3 (DNS_RPC_SKD_STATE: pwszActiveKey, pwszStandbyKey, pwszNextKey)",
            "Windows DnsServerSigningKey CIM class (MOF): ActiveKey, StandbyKey, NextKey",
        ),
        zone_check=pending_keys,
    ),
    Rule(
        id="ALG001",
        title="Key uses a forbidden algorithm (RSA/SHA-1)",
        severity=Severity.HIGH,
        scope="zone",
        checks="No key uses an algorithm in forbidden-algorithms (default RsaSha1 and RsaSha1NSec3).",
        why="RFC 9905 says RsaSha1 and RsaSha1NSec3 (algorithms 5 and 7) MUST NOT be used to sign, "
        "and resolvers following it treat such zones as insecure: the zone silently loses DNSSEC protection. "
        "(The DISA STIG text still accepts RsaSha1 'or stronger'.)",
        remediation="Add-DnsServerSigningKey -ZoneName '<Zone>' -Type KeySigningKey -CryptoAlgorithm "
        "RsaSha256 -KeyLength 2048\nAdd-DnsServerSigningKey -ZoneName '<Zone>' -Type ZoneSigningKey "
        "-CryptoAlgorithm RsaSha256 -KeyLength 2048\n# publish the new DS at the parent, then remove the "
        "SHA-1 keys: Remove-DnsServerSigningKey -ZoneName '<Zone>' -KeyId <KeyId>",
        references=(RFC9905, RFC8624, "RFC 6781 section 4.1.4 (algorithm rollover)"),
        zone_check=forbidden_algorithm,
        stig=STIG_ALG,
    ),
    Rule(
        id="ALG002",
        title="Algorithm allowed but not recommended",
        severity=Severity.INFO,
        scope="zone",
        checks="Keys use a recommended algorithm (RsaSha256, ECDsaP256Sha256); allowed ones "
        "(RsaSha512, ECDsaP384Sha384) are reported for information, any other as medium.",
        why="RFC 8624 makes RsaSha256 and ECDsaP256Sha256 MUST-implement for validators; other "
        "algorithms are less universally validated or larger on the wire.",
        remediation="# plan an algorithm rollover to ECDsaP256Sha256 or RsaSha256 (RFC 6781 4.1.4)",
        references=(RFC8624, "RFC 9904 (IANA registry columns)"),
        zone_check=not_recommended_algorithm,
    ),
    Rule(
        id="ALG003",
        title="Denial of existence incompatible with the key algorithm",
        severity=Severity.HIGH,
        scope="zone",
        checks="NSEC3 is not combined with RsaSha1 keys, nor NSEC with RsaSha1NSec3 keys. One finding "
        "per zone and algorithm, naming the key types that clash.",
        why="Windows refuses these combinations (Win32 9103 / 9130); a zone in this state cannot be "
        "re-signed. Windows refuses the zone, not each key: one finding says it.",
        remediation="Set-DnsServerDnsSecZoneSetting -ZoneName '<Zone>' -DenialOfExistence <NSec|NSec3>\n"
        "# or replace the keys with RsaSha256/ECDsaP256Sha256 keys",
        references=("RFC 5155 section 2 (NSEC3 algorithm aliases)",),
        zone_check=denial_incompatible,
        win32=9103,
    ),
)
