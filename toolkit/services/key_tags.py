"""The DNSKEY key tag of a Windows signing key, from the zone's own DNSKEY records.

``Get-DnsServerSigningKey`` names a key by its GUID only; resolvers, DS records and every other
DNSSEC tool name it by its key tag (RFC 4034 appendix B). The tag is read, not guessed: from the
DNSKEY records at the apex of the zone's data (``zone_dnskeys``, ``Get-DnsServerResourceRecord
-RRType DnsKey``: KSKs and ZSKs), read for all the zones of a host in one call; DS records to
hand to the parent come from ``Export-DnsServerDnsSecPublicKey`` (``zone_export_keys``) when
digests are asked for. Those records carry no GUID, so a key is matched with a DNSKEY by role
(the SEP bit marks a KSK), algorithm and length: one Windows key and one DNSKEY of that kind,
and the tag is that key's. Otherwise the tag is unknown and the note says why:

- a retired key: not published;
- two keys of one role, algorithm and length (a rollover in progress): the note gives both tags,
  as nothing in the records tells which is which;
- a zone that is not signed, or a read that failed for that zone (the note says how; the other
  zones of the host keep their tags).

With a DNS view of the zone (``audit --dns``) the served DNSKEY RRset fills in what the zone data
leaves out, by the same match (``served_tags``). ``label_findings`` writes a key's tag (or why it
is unknown), type and algorithm into the evidence of each finding that names the key, so every
report shows them beside the GUID, stored scans included.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from toolkit.errors import WindnsError
from toolkit.findings import Finding
from toolkit.model import CryptoAlgorithm, ServerInventory, SigningKey, Zone, zone_key
from toolkit.remote.base import Remote

if TYPE_CHECKING:
    from toolkit.dnsview.descriptors import ZoneDnsView

__all__ = [
    "KEY_EVIDENCE",
    "DsRecord",
    "KeyTag",
    "dnskey_bits",
    "key_tags",
    "label_findings",
    "match_tags",
    "served_tags",
    "zones_naming_keys",
]

#: the evidence keys ``label_findings`` writes (renderers read them through ``key_label``)
KEY_EVIDENCE = ("key_type", "key_tag", "key_tag_note", "key_algorithm")

log = logging.getLogger("windns.keytags")


@dataclass(frozen=True, slots=True)
class DsRecord:
    digest_type: str
    digest: str


@dataclass(frozen=True, slots=True)
class KeyTag:
    """A key's tag, or None with the reason in ``note``; its DS records when asked for."""

    tag: int | None
    note: str | None = None
    ds: tuple[DsRecord, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class _Published:
    tag: int
    ksk: bool
    algorithm: int
    bits: int | None


def dnskey_bits(algorithm: int, key: bytes) -> int | None:
    """The key length in bits of a DNSKEY's public key, as Windows counts ``KeyLength``: the RSA
    modulus (RFC 3110), the ECDSA curve (RFC 6605); None when it cannot be told."""
    if algorithm in (13, 14):
        return 256 if algorithm == 13 else 384
    if algorithm in (5, 7, 8, 10) and key:
        n = key[0]
        start = 1
        if n == 0 and len(key) >= 3:
            n = int.from_bytes(key[1:3], "big")
            start = 3
        modulus = key[start + n :]
        return int.from_bytes(modulus, "big").bit_length() if modulus else None
    return None


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _published(records: Iterable[Mapping[str, Any]]) -> list[_Published]:
    """The zone keys among DNSKEY ``records`` (revoked ones left out), each with its role: the
    SecureEntryPoint member, else the SEP bit of KeyFlags (RFC 4034 2.1.1)."""
    out: list[_Published] = []
    for record in records:
        if str(record.get("RecordType") or "").lower() != "dnskey":
            continue
        data = record.get("RecordData") or {}
        number = CryptoAlgorithm(str(data.get("CryptoAlgorithm") or "")).number
        try:
            tag = int(str(data.get("KeyTag")))
            key = base64.b64decode(str(data.get("Base64Data") or ""), validate=True)
            flags = int(str(data["KeyFlags"])) if data.get("KeyFlags") is not None else None
        except (TypeError, ValueError, binascii.Error):
            continue
        if number is None or not 0 <= tag <= 65535:
            continue
        if _flag(data.get("Revoked")) or (flags is not None and flags & 0x80):
            continue
        zone_key_bit = _flag(data.get("ZoneKey"))
        if zone_key_bit is False or (zone_key_bit is None and flags is not None and not flags & 0x100):
            continue
        sep = _flag(data.get("SecureEntryPoint"))
        if sep is None:
            sep = bool(flags & 1) if flags is not None else None
        if sep is None:
            continue
        out.append(_Published(tag, sep, int(number), dnskey_bits(int(number), key)))
    return out


def _ds(records: Iterable[Mapping[str, Any]]) -> dict[int, list[DsRecord]]:
    out: dict[int, list[DsRecord]] = defaultdict(list)
    for record in records:
        if str(record.get("RecordType") or "").lower() != "ds":
            continue
        data = record.get("RecordData") or {}
        try:
            tag = int(str(data.get("KeyTag")))
        except (TypeError, ValueError):
            continue
        out[tag].append(DsRecord(str(data.get("DigestType") or ""), str(data.get("Digest") or "").upper()))
    return out


def _kind(key: SigningKey) -> tuple[int | None, int | None]:
    number = key.algorithm.number
    return (int(number) if number is not None else None, key.key_length)


def match_tags(
    zone: Zone,
    dnskeys: Sequence[Mapping[str, Any]],
    ds: Sequence[Mapping[str, Any]] = (),
) -> dict[str, KeyTag]:
    """Each of ``zone``'s keys (by key id) with its tag from the zone's DNSKEY records
    ``dnskeys`` (and the DS records ``ds`` of those tags), or why it has none (module docstring)."""
    by_tag = _ds(ds)
    published: dict[tuple[bool, int | None, int | None], list[int]] = defaultdict(list)
    for p in _published(dnskeys):
        published[(p.ksk, p.algorithm, p.bits)].append(p.tag)
    same: dict[tuple[bool, int | None, int | None], int] = defaultdict(int)
    for k in zone.keys:
        if k.is_active:
            same[(k.is_ksk, *_kind(k))] += 1
    out: dict[str, KeyTag] = {}
    for k in zone.keys:
        if not k.is_active:
            out[k.key_id] = KeyTag(None, "retired: not published")
            continue
        kind = (k.is_ksk, *_kind(k))
        tags = sorted(published.get(kind, []))
        if len(tags) == 1 and same[kind] == 1:
            out[k.key_id] = KeyTag(tags[0], ds=tuple(by_tag.get(tags[0], ())))
        elif not tags:
            role = "KSK" if k.is_ksk else "ZSK"
            out[k.key_id] = KeyTag(None, f"no {k.algorithm.value} {k.key_length} {role} DNSKEY in the zone")
        else:
            out[k.key_id] = KeyTag(None, "one of " + ", ".join(map(str, tags)))
    return out


def _export(remote: Remote, zone: str, digests: Sequence[str]) -> list[Mapping[str, Any]]:
    params: dict[str, Any] = {"ZoneName": zone}
    if digests:
        params["DigestType"] = list(digests)
    data = remote.run("zone_export_keys", params).data or {}
    records = data.get("Records") if isinstance(data, Mapping) else None
    return [r for r in records or [] if isinstance(r, Mapping)]


def _error_text(error: Mapping[str, Any]) -> str:
    code = error.get("Code")
    message = str(error.get("Message") or "the read failed")
    return f"{message} (Win32 {code})" if code is not None else message


def _zone_dnskeys(remote: Remote, zones: Sequence[str]) -> dict[str, list[Mapping[str, Any]] | str]:
    """One ``zone_dnskeys`` call for ``zones``: zone name (lower case) -> its DNSKEY records, or
    the text of the error its read met."""
    data = remote.run("zone_dnskeys", {"ZoneName": list(zones)}).data or {}
    entries = data.get("Zones") if isinstance(data, Mapping) else None
    out: dict[str, list[Mapping[str, Any]] | str] = {}
    for entry in entries or []:
        if not isinstance(entry, Mapping) or not entry.get("ZoneName"):
            continue
        name = zone_key(str(entry["ZoneName"]))
        error = entry.get("Error")
        if isinstance(error, Mapping):
            out[name] = _error_text(error)
        else:
            records = entry.get("Records")
            out[name] = [r for r in records or [] if isinstance(r, Mapping)]
    return out


def key_tags(
    remote: Remote, inv: ServerInventory, zones: Sequence[str] = (), *, digests: Sequence[str] = ()
) -> dict[tuple[str, str], KeyTag]:
    """(zone name lower case, key id) -> KeyTag for the keys of ``inv``'s zones (those named in
    ``zones``, all when empty): one ``zone_dnskeys`` call for all the signed zones with keys, and
    with ``digests`` one DS export per such zone. A zone whose read fails has its tags unknown,
    with the error as the note; the other zones keep theirs."""
    wanted = {zone_key(z) for z in zones}
    out: dict[tuple[str, str], KeyTag] = {}
    todo: list[Zone] = []
    for zone in inv.zones:
        name = zone_key(zone.name)
        if (wanted and name not in wanted) or not zone.keys:
            continue
        if not zone.signed:
            for k in zone.keys:
                out[(name, k.key_id)] = KeyTag(None, "zone not signed: no DNSKEY")
            continue
        todo.append(zone)
    if not todo:
        return out
    try:
        read = _zone_dnskeys(remote, [z.name for z in todo])
    except WindnsError as exc:
        log.warning("key tags: reading the DNSKEY records failed: %s", exc)
        read = {zone_key(z.name): str(exc) for z in todo}
    for zone in todo:
        name = zone_key(zone.name)
        found = read.get(name, "the zone is missing from the answer")
        if isinstance(found, str):
            log.warning("key tags of %s: the DNSKEY read failed: %s", zone.name, found)
            for k in zone.keys:
                out[(name, k.key_id)] = KeyTag(None, f"DNSKEY read failed: {found}"[:120])
            continue
        ds: list[Mapping[str, Any]] = []
        ds_note: str | None = None
        if digests:
            try:
                ds = _export(remote, zone.name, digests)
            except WindnsError as exc:
                log.warning("key tags of %s: the DS export failed: %s", zone.name, exc)
                ds_note = f"DS export failed: {exc}"[:120]
        for key_id, tag in match_tags(zone, found, ds).items():
            out[(name, key_id)] = replace(tag, note=ds_note) if ds_note and tag.tag is not None else tag
    return out


def served_tags(zone: Zone, view: ZoneDnsView) -> dict[str, KeyTag]:
    """Each of ``zone``'s keys (by key id) with its tag from the DNSKEY RRset the zone serves
    (``view``), matched as the zone data is: by role (the SEP bit marks a KSK), algorithm and
    length, one key and one DNSKEY of that kind. Keys without a single match are left out."""
    published: dict[tuple[bool, int, int | None], list[int]] = defaultdict(list)
    for p in view.keys:
        if not p.revoked and p.is_zone_key:
            published[(p.is_ksk, p.algorithm, p.key_length)].append(p.key_tag)
    same: dict[tuple[bool, int | None, int | None], int] = defaultdict(int)
    for k in zone.keys:
        if k.is_active:
            same[(k.is_ksk, *_kind(k))] += 1
    out: dict[str, KeyTag] = {}
    for k in zone.keys:
        number, bits = _kind(k)
        if not k.is_active or number is None:
            continue
        tags = published.get((k.is_ksk, number, bits), [])
        if len(tags) == 1 and same[(k.is_ksk, number, bits)] == 1:
            out[k.key_id] = KeyTag(tags[0], "from the served DNSKEY RRset")
    return out


def zones_naming_keys(findings: Iterable[Finding]) -> list[str]:
    """The zones (as the findings name them, once each) of the findings that name a key."""
    seen: dict[str, str] = {}
    for f in findings:
        if f.target.key_id and f.target.zone:
            seen.setdefault(zone_key(f.target.zone), f.target.zone)
    return list(seen.values())


def label_findings(
    findings: Sequence[Finding],
    inv: ServerInventory,
    tags: Mapping[tuple[str, str], KeyTag] | None = None,
    views: Sequence[ZoneDnsView] | None = None,
) -> tuple[Finding, ...]:
    """``findings`` with the key each names labelled in its evidence (``KEY_EVIDENCE``): its
    type and algorithm from the inventory, its tag from ``tags`` (the zone data, ``key_tags``) or,
    where that has none, from the served DNSKEY RRset of ``views``; else ``key_tag`` None and
    ``key_tag_note`` says why. A key the inventory does not hold is left as it is."""
    if not any(f.target.key_id for f in findings):
        return tuple(findings)
    keys = {(zone_key(k.zone), k.key_id): k for k in inv.iter_keys()}
    zones = {zone_key(z.name): z for z in inv.zones}
    served: dict[tuple[str, str], KeyTag] = {}
    for view in views or ():
        name = zone_key(view.zone)
        zone = zones.get(name)
        if zone is not None and view.reachable:
            served.update({(name, key_id): tag for key_id, tag in served_tags(zone, view).items()})
    out: list[Finding] = []
    for f in findings:
        where = (zone_key(f.target.zone or ""), f.target.key_id or "")
        key = keys.get(where)
        if key is None:
            out.append(f)
            continue
        tag = (tags or {}).get(where)
        if tag is None or tag.tag is None:
            tag = served.get(where) or tag or KeyTag(None, "not read: windns keys list reads it")
        evidence = dict(f.evidence)
        evidence.update(
            key_type=key.key_type.short,
            key_tag=tag.tag,
            key_tag_note=tag.note if tag.tag is None else None,
            key_algorithm=key.algorithm.value,
        )
        out.append(replace(f, evidence=evidence))
    return tuple(out)
