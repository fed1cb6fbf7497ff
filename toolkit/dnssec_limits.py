"""What Windows allows for DNSSEC keys and zone settings: one set of rules for everyone.

The simulated server (``toolkit.testing.simulator.writes``) refuses what Windows refuses with these
rules, and the pre-flight guard (``toolkit.guard``) predicts the same refusals before anything
is sent. Each check takes plain values and returns ``None`` or a ``Violation`` naming the
Win32 code and the reason; callers decide whether it becomes a ``CmdletError`` (the server
answering) or a ``GuardError`` (our guard refusing).

Defaults and ranges: reference section 1.8 (ZONES "Parameter values" table, MOF, PSD).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "ALGORITHMS",
    "CMDLETS",
    "DEFAULT_DNSSEC_SETTING",
    "DEFAULT_ROLLOVER_DAYS",
    "DEFAULT_VALIDITY_HOURS",
    "DENIAL_VALUES",
    "DS_DIGESTS",
    "KEY_STORAGE_PROVIDERS",
    "MAX_KEYS_PER_ALGORITHM_AND_TYPE",
    "NEXT_ROLLOVER_ACTIONS",
    "NO_SALT",
    "NSEC3_SALT_LENGTHS",
    "ROLLOVER_DAYS",
    "Violation",
    "canonical",
    "check_denial_compatible",
    "check_initial_rollover_offset",
    "check_key_count",
    "check_key_length",
    "check_key_storage_provider",
    "check_nsec3_iterations",
    "check_rollover_period",
    "check_signature_validity",
    "check_signing_keys",
    "default_key_length",
    "max_nsec3_iterations",
    "nsec3_salt_length_problem",
]

DAY = 86400
HOUR = 3600

#: CryptoAlgorithm values Add-DnsServerSigningKey accepts (reference section 1)
ALGORITHMS = ("RsaSha1", "RsaSha256", "RsaSha512", "RsaSha1NSec3", "ECDsaP256Sha256", "ECDsaP384Sha384")
DENIAL_VALUES = ("NSec", "NSec3")
DS_DIGESTS = ("None", "Sha1", "Sha256", "Sha384")
NEXT_ROLLOVER_ACTIONS = ("Normal", "RevokeStandby", "Retire")
KEY_STORAGE_PROVIDERS = (
    "Microsoft Software Key Storage Provider",
    "Microsoft Platform Crypto Provider",
    "Microsoft Smart Card Key Storage Provider",
)

#: the DnsServer cmdlet behind each admin script (``key_rollover`` per action)
CMDLETS: dict[str, str] = {
    "key_add": "Add-DnsServerSigningKey",
    "key_remove": "Remove-DnsServerSigningKey",
    "key_set": "Set-DnsServerSigningKey",
    "key_rollover:enable": "Enable-DnsServerSigningKeyRollover",
    "key_rollover:disable": "Disable-DnsServerSigningKeyRollover",
    "key_rollover:step": "Step-DnsServerSigningKeyRollover",
    "key_rollover:now": "Invoke-DnsServerSigningKeyRollover",
    "zone_sign": "Invoke-DnsServerZoneSign",
    "zone_unsign": "Invoke-DnsServerZoneUnsign",
    "zone_dnssec_set": "Set-DnsServerDnsSecZoneSetting",
    "zone_export_keys": "Export-DnsServerDnsSecPublicKey",
}

MAX_KEYS_PER_ALGORITHM_AND_TYPE = 3
#: allowed rollover periods in days, per key type (KSK 7-7300 d, ZSK 7-1825 d)
ROLLOVER_DAYS = {"KeySigningKey": (7, 7300), "ZoneSigningKey": (7, 1825)}
DEFAULT_ROLLOVER_DAYS = {"KeySigningKey": 755, "ZoneSigningKey": 90}
INITIAL_OFFSET_DAYS = (0, 30)
VALIDITY_HOURS = (6, 720)
#: DNSKEY, DS and zone signature validity defaults (hours)
DEFAULT_VALIDITY_HOURS = {"DnsKey": 168, "DS": 168, "Zone": 240}
RSA_LENGTHS = (1024, 4096, 64)
ECDSA_LENGTHS = {"ECDsaP256Sha256": 256, "ECDsaP384Sha384": 384}
#: NSEC3 iteration ceiling by smallest key length in the zone (RFC 5155 table, reference 1.8)
NSEC3_ITERATION_LIMITS = ((1024, 150), (2048, 500), (4096, 2500))
#: NSec3RandomSaltLength in bytes (reference 1.8: "salt 1-255"); no salt is NSec3UserSalt "-", which
#: zone_dnssec_set.ps1 sends with a random salt length of 0 (MS-DNSP 3.1.1.2.3: the user salt is
#: ignored unless the random salt length is 0)
NSEC3_SALT_LENGTHS = (1, 255)
NO_SALT = "-"

#: what Windows gives a zone's DnsSecSetting when nobody set anything (Sign with defaults)
DEFAULT_DNSSEC_SETTING: dict[str, object] = {
    "DenialOfExistence": "NSec3",
    "NSec3HashAlgorithm": "RsaSha1",
    "NSec3Iterations": 50,
    "NSec3OptOut": False,
    "NSec3RandomSaltLength": 8,
    "NSec3UserSalt": "-",
    "DistributeTrustAnchor": ["None"],
    "EnableRfc5011KeyRollover": False,
    "DSRecordGenerationAlgorithm": ["Sha1", "Sha256"],
    "DSRecordSetTtl": 3600,
    "DnsKeyRecordSetTtl": 3600,
    "SignatureInceptionOffset": 3600,
    "SecureDelegationPollingPeriod": 43200,
    "PropagationTime": 172800,
    "ParentHasSecureDelegation": False,
}


@dataclass(frozen=True, slots=True)
class Violation:
    """A rule broken: the Win32 code Windows answers with, and why (one line)."""

    code: int
    reason: str


def canonical(value: str, allowed: Iterable[str]) -> str | None:
    """``value`` spelled as Windows spells it (case-insensitive match), or None."""
    key = value.strip().lower()
    for a in allowed:
        if a.lower() == key:
            return a
    return None


def _is_rsa(algorithm: str) -> bool:
    return algorithm.lower().startswith("rsa")


def default_key_length(algorithm: str, key_type: str) -> int:
    """Windows' default length: RSA KSK 2048, RSA ZSK 1024, ECDSA the curve size."""
    alg = canonical(algorithm, ALGORITHMS) or algorithm
    if alg in ECDSA_LENGTHS:
        return ECDSA_LENGTHS[alg]
    return 2048 if key_type == "KeySigningKey" else 1024


def check_key_length(algorithm: str, length: int) -> Violation | None:
    """RSA 1024-4096 in steps of 64; ECDSA exactly the curve size (9106)."""
    alg = canonical(algorithm, ALGORITHMS) or algorithm
    if alg in ECDSA_LENGTHS:
        want = ECDSA_LENGTHS[alg]
        if length != want:
            return Violation(9106, f"{alg} keys are {want} bits, not {length}")
        return None
    low, high, step = RSA_LENGTHS
    if not low <= length <= high or length % step:
        return Violation(9106, f"RSA key length {length} is not {low}-{high} in steps of {step}")
    return None


def check_key_storage_provider(provider: str) -> Violation | None:
    """A key storage provider the DNS server can open (9112); the reference lists three."""
    if canonical(provider, KEY_STORAGE_PROVIDERS) is None:
        return Violation(
            9112, f"key storage provider {provider!r} is not one of {', '.join(KEY_STORAGE_PROVIDERS)}"
        )
    return None


def check_rollover_period(key_type: str, seconds: float) -> Violation | None:
    low, high = ROLLOVER_DAYS.get(key_type, ROLLOVER_DAYS["ZoneSigningKey"])
    if not low * DAY <= seconds <= high * DAY:
        kind = "KSK" if key_type == "KeySigningKey" else "ZSK"
        return Violation(9114, f"{kind} rollover period {_days(seconds)} is outside {low}-{high} days")
    return None


def check_initial_rollover_offset(seconds: float) -> Violation | None:
    low, high = INITIAL_OFFSET_DAYS
    if not low * DAY <= seconds <= high * DAY:
        return Violation(9115, f"initial rollover offset {_days(seconds)} is outside {low}-{high} days")
    return None


def check_signature_validity(what: str, seconds: float) -> Violation | None:
    low, high = VALIDITY_HOURS
    if not low * HOUR <= seconds <= high * HOUR:
        hours = f"{seconds / HOUR:g} h"
        return Violation(9123, f"{what} signature validity {hours} is outside {low}-{high} hours")
    return None


def max_nsec3_iterations(min_key_length: int | None) -> int:
    """Highest NSEC3 iteration count Windows accepts for the zone's smallest key."""
    if min_key_length is None:
        return NSEC3_ITERATION_LIMITS[0][1]
    for bound, limit in NSEC3_ITERATION_LIMITS:
        if min_key_length <= bound:
            return limit
    return NSEC3_ITERATION_LIMITS[-1][1]


def check_nsec3_iterations(iterations: int, key_lengths: Iterable[int]) -> Violation | None:
    lengths = [n for n in key_lengths if n]
    smallest = min(lengths) if lengths else None
    limit = max_nsec3_iterations(smallest)
    if iterations > limit:
        basis = f"smallest key is {smallest} bits" if smallest else "no keys yet"
        return Violation(9124, f"{iterations} NSEC3 iterations exceed {limit} ({basis})")
    return None


def nsec3_salt_length_problem(length: int) -> str | None:
    """Why ``length`` is not a NSec3RandomSaltLength Windows takes (1-255 bytes), or None.

    Windows's answer to an out-of-range length is not documented with a Win32 code, so this is a
    reason only: the simulator answers it as a parameter validation error, the guard refuses it.
    """
    low, high = NSEC3_SALT_LENGTHS
    if not low <= length <= high:
        return (
            f"NSEC3 random salt length {length} is outside {low}-{high} bytes "
            f"(for no salt, set NSec3UserSalt '{NO_SALT}')"
        )
    return None


def check_denial_compatible(denial: str | None, algorithms: Iterable[str]) -> Violation | None:
    """RsaSha1 keys need NSEC (9103); RsaSha1NSec3 keys need NSEC3 (9130)."""
    if not denial:
        return None
    algs = {canonical(a, ALGORITHMS) or a for a in algorithms}
    d = denial.lower()
    if d == "nsec3" and "RsaSha1" in algs:
        return Violation(9103, "NSEC3 cannot be used with RsaSha1 keys (use NSEC, or RsaSha1NSec3/RsaSha256)")
    if d == "nsec" and "RsaSha1NSec3" in algs:
        return Violation(9130, "NSEC cannot be used with RsaSha1NSec3 keys (use NSEC3)")
    return None


def check_key_count(existing: Iterable[tuple[str, str]], key_type: str, algorithm: str) -> Violation | None:
    """At most three keys of one algorithm and type per zone (9113). ``existing``: (type, alg)."""
    alg = (canonical(algorithm, ALGORITHMS) or algorithm).lower()
    same = sum(1 for t, a in existing if t == key_type and a.lower() == alg)
    if same >= MAX_KEYS_PER_ALGORITHM_AND_TYPE:
        kind = "KSKs" if key_type == "KeySigningKey" else "ZSKs"
        return Violation(
            9113,
            f"the zone already has {same} {algorithm} {kind} (at most {MAX_KEYS_PER_ALGORITHM_AND_TYPE})",
        )
    return None


def check_signing_keys(keys: Iterable[tuple[str, str | None]]) -> Violation | None:
    """A signed zone needs at least one active KSK and one active ZSK (9104).

    ``keys``: (KeyType, CurrentState) pairs; a blank state counts as active.
    """
    active = [t for t, state in keys if (state or "Active").lower() != "retired"]
    missing = [name for t, name in (("KeySigningKey", "KSK"), ("ZoneSigningKey", "ZSK")) if t not in active]
    if missing:
        return Violation(9104, f"the zone would have no active {' and no active '.join(missing)}")
    return None


def _days(seconds: float) -> str:
    return f"{seconds / DAY:g} days"
