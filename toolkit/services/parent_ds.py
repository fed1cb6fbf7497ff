"""Before a change retires a KSK: ask the parent which KSK its DS points at.

``check`` runs for the changes ``toolkit.guard.ksk_changes`` names (step, rollover now, retire or
remove a KSK of a signed zone). It reads the zone's KSK DNSKEYs from Windows
(``zone_export_keys``, Export-DnsServerDnsSecPublicKey: the records the zone's administrator hands
the parent), asks the DS at the parent over DNS (``toolkit.dnsview.query.parent_ds``, matched
against those keys by key tag, algorithm and digest, as the DNS view matches it) and lets
``toolkit.guard.parent_ds_refusal`` decide. DNS that cannot be asked is a refusal too; the
operator who has checked the parent says so with ``confirmed`` (``--ds-confirmed``).

Where the DS is asked: ``DnsViewOptions.ds_from``, else ``.server``, else the Windows server
itself on port 53 (as ``windns audit --dns`` asks it).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from toolkit import guard
from toolkit.errors import ConfigError
from toolkit.model import CryptoAlgorithm, Zone
from toolkit.remote.base import Remote

if TYPE_CHECKING:
    from dns.rdtypes.ANY.DNSKEY import DNSKEY

    from toolkit.services.audit import DnsViewOptions

__all__ = ["DsCheck", "check", "dnskeys_from_export"]


@dataclass(frozen=True, slots=True)
class DsCheck:
    """What the check decided: a refusal, or what it found (``note``), or a ``warning`` when the
    operator confirmed the DS instead."""

    refusal: guard.Refusal | None = None
    note: str | None = None
    warning: str | None = None


def dnskeys_from_export(records: Iterable[Mapping[str, Any]]) -> list[DNSKEY]:
    """The KSK DNSKEY records of a ``zone_export_keys`` answer (records that do not parse are left
    out: they cannot be matched with a DS)."""
    import dns.rdataclass
    import dns.rdatatype
    from dns.rdtypes.ANY.DNSKEY import DNSKEY

    out: list[DNSKEY] = []
    for record in records:
        if str(record.get("RecordType") or "").lower() != "dnskey":
            continue
        data = record.get("RecordData") or {}
        number = CryptoAlgorithm(str(data.get("CryptoAlgorithm") or "")).number
        try:
            flags = int(data.get("KeyFlags") or 0)
            key = base64.b64decode(str(data.get("Base64Data") or ""), validate=True)
        except (TypeError, ValueError, binascii.Error):
            continue
        if number is None or not key or not flags & 0x0001:
            continue
        out.append(DNSKEY(dns.rdataclass.IN, dns.rdatatype.DNSKEY, flags, 3, number, key))  # type: ignore[no-untyped-call]
    return out


def check(
    remote: Remote,
    zone: Zone,
    script: str,
    params: Mapping[str, Any],
    dns: DnsViewOptions | None,
    *,
    confirmed: bool,
) -> DsCheck:
    """Ask the parent before ``script`` with ``params`` changes ``zone``'s KSKs (see the module
    docstring). A bad address given in ``dns`` raises ``ConfigError``; a Windows read that fails
    raises its error (nothing is sent)."""
    from toolkit.dnsview.query import QueryOptions, parent_ds, parse_target, published_key

    changes = guard.ksk_changes(zone, script, params)
    if not changes:
        return DsCheck()
    first = changes[0]
    if confirmed:
        return DsCheck(
            warning=f"--ds-confirmed: the parent's DS was not checked over DNS before {first.verb} "
            f"{first.key.key_id} of {zone.name}; it must match the KSK that stays"
        )
    given = (dns.ds_from or dns.server) if dns is not None else None
    where = given or remote.host
    try:
        target = parse_target(where)
    except ConfigError as exc:
        if given:
            raise
        return DsCheck(refusal=guard.parent_ds_unknown(zone, changes, where, exc.message))
    exported = remote.run("zone_export_keys", {"ZoneName": zone.name}).data or {}
    keys = dnskeys_from_export(exported.get("Records") or [] if isinstance(exported, Mapping) else [])
    opts = dns.query if dns is not None else QueryOptions()
    ds, problem = parent_ds(zone.name, target, keys, opts)
    if ds is None:
        why = f"{problem.kind}: {problem.message}" if problem is not None else "no answer"
        return DsCheck(refusal=guard.parent_ds_unknown(zone, changes, str(target), why))
    zone_fqdn = zone.name.rstrip(".") + "."
    parent = guard.ParentDs(zone.name, str(target), tuple(published_key(zone_fqdn, k) for k in keys), ds)
    refusal = guard.parent_ds_refusal(zone, changes, parent)
    if refusal is not None:
        return DsCheck(refusal=refusal)
    return DsCheck(note=guard.parent_ds_note(zone, changes, parent))
