"""RRSIG validation as ``dns.dnssec.validate_rrsig`` does it, with each DNSKEY's public key parsed
once and each RRset's canonical records rendered once; key tags and DS digests from the records'
wire form.

``validate_rrsig`` computes the key tag of every DNSKEY it is given, parses the candidate's
public key and renders the RRset in canonical form for every signature; for the DNS view, which
validates three or four signatures a zone (the parent's keys for every child), that was most of
the validation's time. ``validate`` takes the same steps in the same order, with the same
outcome and the same ``ValidationFailure`` texts: the RRSIG covers the RRset's type and class;
its signer owns the keys (else "unknown key"); the candidates are the keys of its algorithm with
the ZONE flag, protocol 3 and, unless the RRset is a DNSKEY RRset, no REVOKE flag; not
"expired", not "not yet valid"; the signed data of RFC 4034 section 3.1.8.1 (wildcard owners
included); the first candidate whose public key verifies the signature. dnspython's algorithm
classes (``dns.dnssecalgs``) parse the keys and verify. The tests compare every verdict with
``validate_rrsig``'s.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import dns.exception
import dns.name
import dns.rdata
import dns.rdatatype
from dns.rdtypes.ANY.DNSKEY import DNSKEY
from dns.rdtypes.ANY.RRSIG import RRSIG
from dns.rdtypes.dnskeybase import DNSKEYBase

from toolkit.dnsview import _dnssec

if TYPE_CHECKING:
    from dns.dnssecalgs.base import GenericPublicKey

__all__ = ["KeyGroup", "Signed", "ds_digest", "key_tag", "validate"]

_ZONE = 0x0100
_REVOKE = 0x0080
_DNSKEY = int(dns.rdatatype.DNSKEY)
_HEADER = struct.Struct("!HBBIIIH")  # an RRSIG's fields before the signer (RFC 4034 section 3.1)
_FIXED = struct.Struct("!HHI")
_LENGTH = struct.Struct("!H")
#: DS digest types dnspython's ``make_ds`` computes (RFC 4509, RFC 6605)
_DIGESTS: dict[int, Callable[[bytes], Any]] = {1: hashlib.sha1, 2: hashlib.sha256, 4: hashlib.sha384}


class RRsetLike(Protocol):
    """A dnspython RRset, or a ``_wire.RRs`` (which also carries its records' canonical forms)."""

    @property
    def name(self) -> dns.name.Name: ...

    @property
    def rdclass(self) -> int: ...

    @property
    def rdtype(self) -> int: ...

    def __iter__(self) -> Any: ...


def _failure(text: str) -> dns.exception.ValidationFailure:
    """dnspython's ``ValidationFailure`` with ``text`` (as ``str()`` of it gives back)."""
    return dns.exception.ValidationFailure(text)  # type: ignore[no-untyped-call]


def key_tag(key: DNSKEYBase, wire: bytes | None = None) -> int:
    """``dns.dnssec.key_id(key)`` (RFC 4034 appendix B), from the record's ``wire`` form if known."""
    if wire is None:
        wire = key.to_wire()
        assert wire is not None
    if key.algorithm == 1:  # RSAMD5: the key's least significant 16 bits
        return (wire[-3] << 8) + wire[-2]
    total = sum(struct.unpack_from(f"!{len(wire) // 2}H", wire))
    if len(wire) % 2:
        total += wire[-1] << 8
    total += (total >> 16) & 0xFFFF
    return int(total) & 0xFFFF


def ds_digest(owner: bytes, key_wire: bytes, digest_type: int) -> bytes | None:
    """The digest ``make_ds`` puts in a DS of ``digest_type`` for the key (``owner``: the key's
    owner name in canonical wire form); None for a digest type it does not compute."""
    make = _DIGESTS.get(int(digest_type))
    return None if make is None else bytes(make(owner + key_wire).digest())


class KeyGroup:
    """The DNSKEYs of one owner with one key tag (a DNSKEY RRset split by tag), each key's public
    key parsed by dnspython's algorithm class on first use and kept, as is a failure to parse it.
    Shared by threads: at worst two parse the same key."""

    __slots__ = ("_public", "keys", "name")

    def __init__(self, name: dns.name.Name, keys: Sequence[DNSKEY]) -> None:
        self.name = name
        self.keys = list(keys)
        self._public: list[GenericPublicKey | BaseException | None] = [None] * len(self.keys)

    def __iter__(self) -> Any:
        return iter(self.keys)

    def public(self, i: int) -> GenericPublicKey:
        """The public key of ``keys[i]``, as ``dns.dnssec`` makes it: ``UnsupportedAlgorithm`` for
        an algorithm dnspython lacks, ``ValidationFailure("invalid public key")`` for a key it
        cannot read."""
        got = self._public[i]
        if got is None:
            _dnssec.load()  # dns.dnssecalgs imported without cryptography's DSA warning
            import dns.dnssecalgs

            key = self.keys[i]
            try:
                public_cls = dns.dnssecalgs.get_algorithm_cls_from_dnskey(key).public_cls
                try:
                    got = public_cls.from_dnskey(key)
                except ValueError:
                    got = _failure("invalid public key")
            except Exception as exc:  # noqa: BLE001 - kept, and raised on every use, as before
                got = exc
            self._public[i] = got
        if isinstance(got, BaseException):
            raise got
        return got


class Signed:
    """An RRset as signatures over it are checked: its records' canonical forms, sorted, and the
    signed data (RFC 4034 section 3.1.8.1) of each labels count and original TTL, made once."""

    __slots__ = ("_bodies", "_records", "rrset")

    def __init__(self, rrset: RRsetLike) -> None:
        self.rrset = rrset
        self._records: list[bytes] | None = None  # rendered when a signature gets that far
        self._bodies: dict[tuple[int, int], bytes] = {}

    def data(self, sig: RRSIG) -> bytes:
        """What ``sig`` signs over the RRset; ``ValidationFailure`` as ``dns.dnssec`` raises it."""
        signer = sig.signer
        if not signer.is_absolute():
            raise _failure("relative RR name without an origin specified")
        head = _HEADER.pack(
            sig.type_covered,
            sig.algorithm,
            sig.labels,
            sig.original_ttl,
            sig.expiration,
            sig.inception,
            sig.key_tag,
        )
        key = (int(sig.labels), int(sig.original_ttl))
        body = self._bodies.get(key)
        if body is None:
            body = self._bodies[key] = self._body(*key)
        return head + signer.to_digestable() + body

    def _body(self, labels: int, original_ttl: int) -> bytes:
        rrname = self.rrset.name
        if not rrname.is_absolute():
            raise _failure("relative RR name without an origin specified")
        name_len = len(rrname)
        if rrname.is_wild() and labels != name_len - 2:
            raise _failure("wild owner name has wrong label length")
        if name_len - 1 < labels:
            raise _failure("owner name longer than RRSIG labels")
        if labels < name_len - 1:
            rrname = dns.name.from_text("*", rrname.split(labels + 1)[1])
        owner = rrname.to_digestable()
        fixed = _FIXED.pack(self.rrset.rdtype, self.rrset.rdclass, original_ttl)
        if self._records is None:
            wires: Iterable[bytes] | None = getattr(self.rrset, "wires", None)
            if wires is None:
                wires = [rd.to_digestable(None) for rd in self.rrset]
            self._records = sorted(wires)
        return b"".join(owner + fixed + _LENGTH.pack(len(rd)) + rd for rd in self._records)


def validate(signed: Signed, sig: RRSIG, keys: KeyGroup, when: float) -> None:
    """``dns.dnssec.validate_rrsig(signed.rrset, sig, {keys.name: keys}, now=when,
    policy=allow_all_policy)`` for ``keys`` of ``sig``'s key tag: returns when the signature
    verifies, raises ``ValidationFailure`` (or ``UnsupportedAlgorithm``, or what else dnspython's
    algorithm class raises) as it does."""
    rrset = signed.rrset
    if sig.type_covered != rrset.rdtype or sig.rdclass != rrset.rdclass:
        raise _failure("RRSIG does not cover the RRset")
    if sig.signer != keys.name:
        raise _failure("unknown key")
    candidates = [
        i
        for i, key in enumerate(keys.keys)
        if key.algorithm == sig.algorithm
        and key.flags & _ZONE
        and key.protocol == 3
        and (not key.flags & _REVOKE or sig.type_covered == _DNSKEY)
    ]
    if sig.expiration < when:
        raise _failure("expired")
    if sig.inception > when:
        raise _failure("not yet valid")
    data = signed.data(sig)
    from cryptography.exceptions import InvalidSignature

    for i in candidates:
        try:
            keys.public(i).verify(sig.signature, data)
            return
        except (InvalidSignature, dns.exception.ValidationFailure):
            continue
    raise _failure("verify failure")
