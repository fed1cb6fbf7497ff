"""Descriptors of the outside-in view: what a DNS server publishes for a zone, as seen over DNS.

Frozen and typed like ``toolkit.model``: rules never see dnspython messages. Algorithms and digest
types are DNSSEC wire numbers (``algorithm_name`` spells an algorithm as every output does,
dnspython's ``DSDigest`` names a digest type); times are
timezone-aware UTC ``datetime``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import dns.dnssectypes

from toolkit.model.enums import algorithm_label

__all__ = [
    "NO_ANSWER_KINDS",
    "DnsProblem",
    "DsRecord",
    "Nsec3Params",
    "PublishedKey",
    "Signature",
    "ZoneDnsView",
]

#: DNSKEY flag bits (RFC 4034 2.1.1, RFC 5011 3)
FLAG_ZONE = 0x0100
FLAG_SEP = 0x0001
FLAG_REVOKE = 0x0080


def _aware(name: str, value: datetime | None) -> None:
    if value is not None and value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got naive {value!r}")


def algorithm_name(number: int) -> str:
    """The algorithm as every output spells it (``toolkit.model.enums.algorithm_label``)."""
    return algorithm_label(number)


def digest_name(number: int) -> str:
    try:
        return dns.dnssectypes.DSDigest(number).name
    except ValueError:
        return str(number)


@dataclass(frozen=True, slots=True)
class PublishedKey:
    """One DNSKEY record as served at the zone apex."""

    zone: str
    key_tag: int
    flags: int
    algorithm: int
    key_length: int | None  # bits; None when the algorithm is unknown to us
    public_key: str  # base64, as in presentation format

    def __post_init__(self) -> None:
        if not 0 <= self.key_tag <= 65535:
            raise ValueError(f"key_tag out of range: {self.key_tag}")
        if not 0 <= self.flags <= 65535:
            raise ValueError(f"flags out of range: {self.flags}")

    @property
    def is_ksk(self) -> bool:
        """SEP bit set: the key the parent's DS should point at (how Windows marks its KSKs)."""
        return bool(self.flags & FLAG_SEP)

    @property
    def is_zone_key(self) -> bool:
        return bool(self.flags & FLAG_ZONE)

    @property
    def revoked(self) -> bool:
        """REVOKE bit set (RFC 5011 section 2.1): the key is used for nothing but its own
        revocation. It matches no DS, its RRSIGs anchor no chain, and it is not the zone's KSK."""
        return bool(self.flags & FLAG_REVOKE)

    @property
    def algorithm_name(self) -> str:
        return algorithm_name(self.algorithm)

    @property
    def role(self) -> str:
        return "KSK" if self.is_ksk else "ZSK"

    def describe(self) -> str:
        size = f" {self.key_length} bits" if self.key_length else ""
        revoked = "revoked " if self.revoked else ""
        return f"{revoked}{self.role} tag {self.key_tag} ({self.algorithm_name}{size})"


@dataclass(frozen=True, slots=True)
class Signature:
    """One RRSIG over an RRset, with the verdict of ``dns.dnssec`` at query time.

    ``valid`` is None when the signature could not be checked (no DNSKEY with its key tag was
    served); ``error`` says why it failed or could not be checked. ``verifies_in_window`` is set
    for a signature that failed on time alone ("expired", "not yet valid"): True when it verifies
    at its own inception, so the key and the data are right and only the signature is out of date;
    None for every other signature.
    """

    zone: str
    owner: str
    covered: str  # RR type mnemonic: DNSKEY, SOA, NSEC3PARAM, DS ...
    algorithm: int
    key_tag: int
    signer: str
    inception: datetime
    expiration: datetime
    original_ttl: int
    valid: bool | None
    error: str | None = None
    verifies_in_window: bool | None = None

    def __post_init__(self) -> None:
        _aware("inception", self.inception)
        _aware("expiration", self.expiration)

    @property
    def in_window(self) -> bool:
        """Valid, or failing only because the time is outside its validity period."""
        return bool(self.valid or self.verifies_in_window)

    @property
    def validity(self) -> timedelta:
        """Expiration minus inception: what the STIG calls the signature validity period."""
        return self.expiration - self.inception

    def remaining(self, now: datetime) -> timedelta:
        return self.expiration - now


@dataclass(frozen=True, slots=True)
class Nsec3Params:
    """The NSEC3PARAM record at the apex (RFC 5155 4)."""

    zone: str
    hash_algorithm: int
    flags: int
    iterations: int
    salt: str  # hex, "" for no salt

    @property
    def has_salt(self) -> bool:
        return bool(self.salt)


@dataclass(frozen=True, slots=True)
class DsRecord:
    """One DS record for ``zone`` as served by its parent."""

    zone: str
    key_tag: int
    algorithm: int
    digest_type: int
    digest: str  # hex, upper-case as in presentation format
    #: key tag of the served DNSKEY whose computed digest equals this DS (None: matches no served key)
    matched_key_tag: int | None = None

    @property
    def digest_name(self) -> str:
        return digest_name(self.digest_type)

    @property
    def is_sha1(self) -> bool:
        return self.digest_type == int(dns.dnssectypes.DSDigest.SHA1)


#: the problem kinds of a question the server gave no answer to at all: it is down, unreachable,
#: its name does not resolve, or the exchange failed
NO_ANSWER_KINDS = frozenset({"timeout", "unreachable", "unresolvable", "error"})


@dataclass(frozen=True, slots=True)
class DnsProblem:
    """A query that did not give a usable answer. Never raised: recorded on the view.

    ``kind``: timeout, unreachable, unresolvable (the server's name does not resolve), servfail,
    refused, lame (no AA bit / referral), truncated (TC over UDP and TCP failed), formerr,
    nxdomain, not-parent (a DS asked at a server that serves the zone but not its parent), error.
    """

    query: str  # "corp.example. DNSKEY"
    server: str  # "127.0.0.1:53"
    kind: str
    message: str


@dataclass(frozen=True, slots=True)
class ZoneDnsView:
    """Everything one DNS check of one zone found, with its validation verdicts.

    ``reachable`` is False when the SOA could not be read at all (the other fields are then
    empty). ``ds`` is None when the parent was not asked; an empty tuple means it was asked and
    served no DS. ``answered_without_rrsig`` lists RR types the server returned without RRSIGs
    even though the DO bit was set, in a zone that publishes DNSKEYs.
    """

    zone: str
    server: str
    queried_at: datetime
    reachable: bool
    soa_serial: int | None = None
    keys: tuple[PublishedKey, ...] = ()
    signatures: tuple[Signature, ...] = ()
    nsec3param: Nsec3Params | None = None
    nsec_at_apex: bool = False
    cds: tuple[DsRecord, ...] = ()
    cdnskey: tuple[PublishedKey, ...] = ()
    ds: tuple[DsRecord, ...] | None = None
    ds_server: str | None = None
    ds_signatures: tuple[Signature, ...] = ()
    answered_without_rrsig: tuple[str, ...] = ()
    problems: tuple[DnsProblem, ...] = ()
    elapsed: float = 0.0

    def __post_init__(self) -> None:
        _aware("queried_at", self.queried_at)

    @property
    def signed(self) -> bool:
        """The zone publishes DNSKEYs (a zone with keys but no RRSIGs is reported, not hidden)."""
        return bool(self.keys)

    @property
    def usable_keys(self) -> tuple[PublishedKey, ...]:
        """The served keys that may sign: all but the revoked ones (RFC 5011 section 2.1)."""
        return tuple(k for k in self.keys if not k.revoked)

    @property
    def revoked_keys(self) -> tuple[PublishedKey, ...]:
        return tuple(k for k in self.keys if k.revoked)

    @property
    def ksks(self) -> tuple[PublishedKey, ...]:
        """The SEP keys that are not revoked: the zone's KSKs."""
        return tuple(k for k in self.keys if k.is_ksk and not k.revoked)

    @property
    def zsks(self) -> tuple[PublishedKey, ...]:
        """The keys without the SEP bit that are not revoked: the zone's ZSKs."""
        return tuple(k for k in self.keys if not k.is_ksk and not k.revoked)

    def signatures_over(self, rdtype: str) -> tuple[Signature, ...]:
        return tuple(s for s in self.signatures if s.covered == rdtype.upper())

    def ds_matching(self, key: PublishedKey) -> tuple[DsRecord, ...]:
        """The parent's DS records whose digest is this key's; none for a revoked key, which
        RFC 5011 section 2.1 allows to validate nothing but its own revocation."""
        if key.revoked:
            return ()
        return tuple(d for d in (self.ds or ()) if d.matched_key_tag == key.key_tag)

    @property
    def chain_ok(self) -> bool | None:
        """True when a DS at the parent matches a served key, not revoked, that signs the DNSKEY
        RRset.

        A DS matches a key when its digest recomputed from the served DNSKEY is equal (key tag
        alone can collide); None when the parent was not asked. A revoked key's RRSIG over the
        DNSKEY RRset is its revocation (RFC 5011 section 2.1), not a link of the chain.
        """
        if self.ds is None:
            return None
        signing_tags = {s.key_tag for s in self.signatures_over("DNSKEY") if s.valid}
        return any(self.ds_matching(k) for k in self.usable_keys if k.key_tag in signing_tags)

    def _roles(self, strict: bool) -> tuple[frozenset[tuple[int, int]], frozenset[tuple[int, int]]]:
        """``(algorithm, key tag)`` of the RRSIGs over the DNSKEY RRset and over the SOA that count
        for a role: valid ones (``strict``), or also those failing only on time; a revoked key's
        RRSIG (its revocation) never counts."""
        revoked = {(k.algorithm, k.key_tag) for k in self.revoked_keys}
        out = []
        for rdtype in ("DNSKEY", "SOA"):
            sigs = self.signatures_over(rdtype)
            out.append(
                frozenset((s.algorithm, s.key_tag) for s in sigs if (s.valid if strict else s.in_window))
                - revoked
            )
        return out[0], out[1]

    def _missing(self, strict: bool) -> tuple[str, ...]:
        if not self.keys:
            return ()
        dnskey, soa = self._roles(strict)
        out = []
        if not any((k.algorithm, k.key_tag) in dnskey for k in self.ksks):
            out.append("KSK")
        if not any((k.algorithm, k.key_tag) in soa for k in self.zsks):
            out.append("ZSK")
        return tuple(out)

    def _gaps(self, strict: bool) -> tuple[tuple[int, str], ...]:
        dnskey, soa = self._roles(strict)
        with_ksk = {k.algorithm for k in self.ksks if (k.algorithm, k.key_tag) in dnskey}
        with_zsk = {k.algorithm for k in self.zsks if (k.algorithm, k.key_tag) in soa}
        gaps = []
        for alg in sorted({alg for alg, _ in dnskey | soa}):
            if alg not in with_ksk:
                gaps.append((alg, "KSK"))
            if alg not in with_zsk:
                gaps.append((alg, "ZSK"))
        return tuple(gaps)

    @property
    def missing_roles_in_window(self) -> tuple[str, ...]:
        """``missing_roles`` counting also the RRSIGs that fail only on time
        (``Signature.verifies_in_window``): the roles no served key fills, whatever the time.
        What DNS013 reports: a role that only out-of-date signatures leave empty is DNS007's and
        DNS008's, and adding a key would not fix it."""
        return self._missing(strict=False)

    @property
    def algorithm_gaps_in_window(self) -> tuple[tuple[int, str], ...]:
        """``algorithm_gaps`` counting also the RRSIGs that fail only on time."""
        return self._gaps(strict=False)

    @property
    def missing_roles(self) -> tuple[str, ...]:
        """ "KSK" when no SEP key signs the DNSKEY RRset, "ZSK" when no non-SEP key signs the SOA:
        the split every signer (Windows 9104, BIND's dnssec-verify) expects. Empty when unsigned.
        A revoked key fills neither role (RFC 5011 section 2.1)."""
        return self._missing(strict=True)

    @property
    def algorithm_gaps(self) -> tuple[tuple[int, str], ...]:
        """``(algorithm, "KSK"|"ZSK")`` for each algorithm that signs the apex (a valid RRSIG over
        the DNSKEY RRset or the SOA) without both roles of its own: a SEP key of that algorithm
        signing the DNSKEY RRset, and a non-SEP key of it signing the SOA. BIND's dnssec-verify
        (without ``-z``) requires the split per algorithm, as Windows requires a KSK and a ZSK
        per algorithm (9104). A zone missing a role altogether has a gap in every algorithm
        (``missing_roles`` says it in one word). Keys and signatures are matched on algorithm
        and key tag, as tags of different algorithms may collide. A revoked key fills no role, and
        its RRSIG (its revocation) does not make its algorithm one that signs the apex."""
        return self._gaps(strict=True)

    def signing_tags(self, rdtype: str) -> frozenset[int]:
        """Key tags of the keys whose valid RRSIGs cover ``rdtype`` at the apex."""
        return frozenset(s.key_tag for s in self.signatures_over(rdtype) if s.valid)
