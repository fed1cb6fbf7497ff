"""Public key material of a simulated key: a stable, well-formed DNSKEY derived from the key's
pointer (a model: Windows keeps real keys), and its DS records. Used by the fakes
``Export-DnsServerDnsSecPublicKey`` and ``Get-DnsServerResourceRecord -RRType DnsKey``
(``toolkit.testing.simulator.cmdlets``)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import dns.name
import dns.rdataclass
import dns.rdatatype
from dns.rdtypes.ANY.DNSKEY import DNSKEY

from toolkit import dnssec_limits as lim
from toolkit.dnsview import _dnssec
from toolkit.model import CryptoAlgorithm

__all__ = ["dnskey", "records"]


def dnskey(zone: str, key: Mapping[str, Any]) -> DNSKEY:
    """A stable, well-formed DNSKEY for a simulated key (derived from its active key pointer)."""
    alg = lim.canonical(str(key.get("CryptoAlgorithm")), lim.ALGORITHMS) or "RsaSha256"
    number = CryptoAlgorithm(alg).number
    size = int(key.get("KeyLength") or lim.default_key_length(alg, str(key.get("KeyType")))) // 8
    if alg.startswith("ECDsa"):
        size *= 2
    seed = f"{zone}/{key.get('KeyId')}/{key.get('ActiveKey')}".encode()
    material = b""
    counter = 0
    while len(material) < size:
        material += hashlib.sha256(seed + counter.to_bytes(4, "big")).digest()
        counter += 1
    material = material[:size]
    if not alg.startswith("ECDsa"):
        material = b"\x03\x01\x00\x01" + bytes([material[0] | 0x80]) + material[1:]
    flags = 257 if key.get("KeyType") == "KeySigningKey" else 256
    return DNSKEY(  # type: ignore[no-untyped-call]
        dns.rdataclass.IN, dns.rdatatype.DNSKEY, flags, 3, number, material
    )


def records(
    zone: str, key: Mapping[str, Any], ttl: int, digests: Sequence[str]
) -> tuple[list[tuple[dict[str, Any], str]], list[str]]:
    """The key's records as (RecordData, RecordType) pairs, DNSKEY without ``digests`` and one DS
    per digest with them, and their zone-file lines. RecordData members: MOF
    DnsServerResourceRecordDnsKey (KeyTag, SecureEntryPoint, ZoneKey, Revoked, KeyProtocol,
    CryptoAlgorithm, Base64Data, KeyFlags) and DnsServerResourceRecordDS (KeyTag, CryptoAlgorithm,
    DigestType, Digest), reference section 1.6."""
    origin = dns.name.from_text(zone)
    rdata = dnskey(zone, key)
    alg = str(key.get("CryptoAlgorithm"))
    dnssec = _dnssec.load()
    out: list[tuple[dict[str, Any], str]] = []
    lines: list[str] = []
    if not digests:
        data = {
            "KeyTag": dnssec.key_id(rdata),
            "SecureEntryPoint": bool(rdata.flags & 1),  # RFC 4034 2.1.1: the SEP bit
            "ZoneKey": True,
            "Revoked": False,
            "KeyProtocol": "DnsSec",
            "CryptoAlgorithm": alg,
            "Base64Data": base64.b64encode(rdata.key).decode(),
            "KeyFlags": rdata.flags,
        }
        out.append((data, "DnsKey"))
        lines.append(f"{origin.to_text()} {ttl} IN DNSKEY {rdata.to_text()}")
        return out, lines
    for d in digests:
        ds = dnssec.make_ds(origin, rdata, d.upper(), policy=dnssec.allow_all_policy)
        out.append(
            (
                {
                    "KeyTag": ds.key_tag,
                    "CryptoAlgorithm": alg,
                    "DigestType": d,
                    "Digest": ds.digest.hex().upper(),
                },
                "DS",
            )
        )
        lines.append(f"{origin.to_text()} {ttl} IN DS {ds.to_text()}")
    return out, lines
