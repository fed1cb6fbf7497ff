"""Zone key export of the simulated server (``zone_export_keys``): the zone's KSK DNSKEY
records, or DS records for the parent, as ``Export-DnsServerDnsSecPublicKey`` and
``Get-DnsServerResourceRecord -RRType DnsKey`` give them. Public key material is derived
deterministically from the key pointer, so exports are stable between runs."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import dns.name
import dns.rdataclass
import dns.rdatatype
from dns.rdtypes.ANY.DNSKEY import DNSKEY

from toolkit import dnssec_limits as lim
from toolkit.dnsview import _dnssec
from toolkit.errors import CmdletError
from toolkit.model import CryptoAlgorithm
from toolkit.simulator.writes import CMDLETS, KSK_TYPE, primary_zone, require_signed

if TYPE_CHECKING:
    from toolkit.simulator.server import SimulatedServer

__all__ = ["HANDLERS"]


def _dnskey(z: Mapping[str, Any], key: Mapping[str, Any]) -> DNSKEY:
    """A stable, well-formed DNSKEY for a simulated key (derived from its active key pointer)."""
    alg = lim.canonical(str(key.get("CryptoAlgorithm")), lim.ALGORITHMS) or "RsaSha256"
    number = CryptoAlgorithm(alg).number
    size = int(key.get("KeyLength") or lim.default_key_length(alg, str(key.get("KeyType")))) // 8
    if alg.startswith("ECDsa"):
        size *= 2
    seed = f"{z['ZoneName']}/{key.get('KeyId')}/{key.get('ActiveKey')}".encode()
    material = b""
    counter = 0
    while len(material) < size:
        material += hashlib.sha256(seed + counter.to_bytes(4, "big")).digest()
        counter += 1
    material = material[:size]
    if not alg.startswith("ECDsa"):
        material = b"\x03\x01\x00\x01" + bytes([material[0] | 0x80]) + material[1:]
    flags = 257 if key.get("KeyType") == KSK_TYPE else 256
    return DNSKEY(  # type: ignore[no-untyped-call]
        dns.rdataclass.IN, dns.rdatatype.DNSKEY, flags, 3, number, material
    )


def zone_export_keys(server: SimulatedServer, params: Mapping[str, Any]) -> dict[str, Any]:
    cmdlet = CMDLETS["zone_export_keys"]
    z = primary_zone(server, params, cmdlet)
    require_signed(z, cmdlet)
    digests = params.get("DigestType")
    if isinstance(digests, str):
        digests = [digests]
    origin = dns.name.from_text(str(z["ZoneName"]))
    setting = z.get("DnsSecSetting") or {}
    ttl = int(float(setting.get("DnsKeyRecordSetTtl") or 3600))
    records: list[dict[str, Any]] = []
    lines: list[str] = []
    for key in z.get("SigningKeys") or []:
        if key.get("KeyType") != KSK_TYPE or str(key.get("CurrentState") or "Active").lower() == "retired":
            continue
        rdata = _dnskey(z, key)
        alg = str(key.get("CryptoAlgorithm"))
        if not digests:
            records.append(
                {
                    "HostName": str(z["ZoneName"]),
                    "RecordType": "DnsKey",
                    "TimeToLive": ttl,
                    "RecordData": {
                        "KeyTag": _dnssec.load().key_id(rdata),
                        "KeyFlags": rdata.flags,
                        "KeyProtocol": "DnsSec",
                        "CryptoAlgorithm": alg,
                        "SecureEntryPoint": True,
                        "ZoneKey": True,
                        "Base64Data": base64.b64encode(rdata.key).decode(),
                    },
                }
            )
            lines.append(f"{origin.to_text()} {ttl} IN DNSKEY {rdata.to_text()}")
            continue
        for d in digests:
            canon = lim.canonical(str(d), ("Sha1", "Sha256", "Sha384"))
            if canon is None:
                raise CmdletError(
                    f"Cannot validate argument on parameter 'DigestType': {d!r}.",
                    cmdlet=cmdlet,
                    fully_qualified_error_id=f"ParameterArgumentValidationError,{cmdlet}",
                )
            dnssec = _dnssec.load()
            ds = dnssec.make_ds(origin, rdata, canon.upper(), policy=dnssec.allow_all_policy)
            records.append(
                {
                    "HostName": str(z["ZoneName"]),
                    "RecordType": "DS",
                    "TimeToLive": ttl,
                    "RecordData": {
                        "KeyTag": ds.key_tag,
                        "CryptoAlgorithm": alg,
                        "DigestType": canon,
                        "Digest": ds.digest.hex().upper(),
                    },
                }
            )
            lines.append(f"{origin.to_text()} {ttl} IN DS {ds.to_text()}")
    return {
        "ZoneName": z["ZoneName"],
        "Kind": "DS" if digests else "DnsKey",
        "Records": records,
        "File": "\n".join(lines) + ("\n" if lines else ""),
    }


HANDLERS: dict[str, Callable[[SimulatedServer, Mapping[str, Any]], Any]] = {
    "zone_export_keys": zone_export_keys,
}
