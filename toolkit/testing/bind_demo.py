"""The demo fleet's DNS side: BIND zone specs built from what the simulated servers report.

Every signed primary zone of the demo fleet is served with keys of the same algorithm, length
and role (a pre-published standby ZSK where Windows shows a StandbyKey; a key with no ActiveKey
published without signing), NSEC or NSEC3 with the
zone's iterations and salt, and the zone's validity periods and inception offset. A demo root and
``example.`` hold the DS records, so ``delv`` can validate with a trust anchor for the demo root.

``DRIFT`` makes some zones deliberately out of sync with the inside view, so the join rules have
real cases. Key tags cannot match the simulator's (its keys have no private half); the join
matches keys on algorithm, role, length and count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from toolkit.errors import WindnsError
from toolkit.model import zone_key
from toolkit.model.enums import CryptoAlgorithm, DsDigest
from toolkit.testing.bind import KeySpec, ZoneSpec

__all__ = ["DRIFT", "Drift", "demo_specs", "fleet_specs", "zone_spec"]


@dataclass(frozen=True, slots=True)
class Drift:
    """How a served zone differs from what its server reports."""

    note: str
    stale_ds: bool = False  # KSK rolled, parent DS never updated
    unpublished: str | None = None  # "KSK" or "ZSK": that key exists inside, never published
    nsec3: tuple[int, str] | None = None  # served NSEC3 params (inside changed, zone not re-signed)
    signed_hours_ago: float | None = None  # signatures made this long ago (signer stopped)


DRIFT: dict[str, Drift] = {
    "rollover.corp.example": Drift(
        "KSK rolled inside, the parent's DS still points at the old KSK: chain broken", stale_ds=True
    ),
    "rollerr.branch.example": Drift(
        "ZSK rollover failed: the active ZSK inside was never published", unpublished="ZSK"
    ),
    "manual.branch.example": Drift(
        "NSEC3 parameters changed inside (0, no salt) but the zone was not re-signed", nsec3=(5, "C0FFEE11")
    ),
    "branch.corp.example": Drift(
        "key master offline for a week: signatures are about to expire", signed_hours_ago=160
    ),
}

_BIND_NAMES = {"RSASHA1NSEC3SHA1": "NSEC3RSASHA1"}


def _bind_alg(text: str) -> str:
    num = CryptoAlgorithm(text).number
    if num is None:
        raise WindnsError(f"algorithm {text!r} has no DNSSEC number")
    return _BIND_NAMES.get(num.name, num.name)


def _hours(value: Any, default: float) -> timedelta:
    try:
        return timedelta(seconds=float(value))
    except (TypeError, ValueError):
        return timedelta(hours=default)


def zone_spec(z: Mapping[str, Any], drift: Drift | None = None) -> ZoneSpec | None:
    """A BIND spec for one zone record of the inventory document (None: not served)."""
    if str(z.get("ZoneType", "")).lower() != "primary" or not z.get("IsSigned"):
        return None
    records = [k for k in z.get("SigningKeys") or [] if str(k.get("CurrentState") or "Active") != "Retired"]
    if not records:
        return None
    s = z.get("DnsSecSetting") or {}
    keys: list[KeySpec] = []
    for k in records:
        ksk = k.get("KeyType") == "KeySigningKey"
        alg = _bind_alg(str(k.get("CryptoAlgorithm")))
        bits = int(k["KeyLength"]) if k.get("KeyLength") else None
        hidden = drift is not None and drift.unpublished == ("KSK" if ksk else "ZSK")
        if not k.get("ActiveKey") and (k.get("StandbyKey") or k.get("NextKey")):
            # no ActiveKey yet (toolkit.rules.base.not_yet_signing): its versions are published,
            # none signs
            held = [p for p in (k.get("StandbyKey"), k.get("NextKey")) if p]
            keys.extend(KeySpec(alg, bits, ksk=ksk, standby=True) for _ in held)
            continue
        keys.append(KeySpec(alg, bits, ksk=ksk, published=not hidden))
        if k.get("StandbyKey"):
            keys.append(KeySpec(alg, bits, ksk=ksk, standby=True))
    nsec3: tuple[int, str] | None = None
    if str(s.get("DenialOfExistence", "")).lower() == "nsec3":
        salt = next((v for v in (s.get("NSec3CurrentSalt"), s.get("NSec3UserSalt")) if v and v != "-"), "")
        nsec3 = (int(s.get("NSec3Iterations") or 0), str(salt))
    ksk_rec = next((k for k in records if k.get("KeyType") == "KeySigningKey"), records[0])
    zsk_rec = next((k for k in records if k.get("KeyType") == "ZoneSigningKey"), records[0])
    digests = tuple(
        int(n) for d in s.get("DSRecordGenerationAlgorithm") or ["Sha256"] if (n := DsDigest(str(d)).number)
    ) or (2,)
    spec = ZoneSpec(
        name=str(z["ZoneName"]),
        keys=tuple(keys),
        nsec3=nsec3,
        dnskey_validity=_hours(ksk_rec.get("DnsKeySignatureValidityPeriod"), 168),
        zone_validity=_hours(zsk_rec.get("ZoneSignatureValidityPeriod"), 240),
        inception_offset=_hours(s.get("SignatureInceptionOffset"), 1),
        ds_digests=digests,
        note=str(z.get("Illustrates") or ""),
    )
    if drift is not None:
        spec = replace(
            spec,
            stale_ds=drift.stale_ds,
            nsec3=drift.nsec3 if drift.nsec3 is not None else spec.nsec3,
            inception_offset=timedelta(hours=drift.signed_hours_ago)
            if drift.signed_hours_ago is not None
            else spec.inception_offset,
            note=drift.note,
        )
    return spec


def _ds_validity(z: Mapping[str, Any]) -> timedelta | None:
    for k in z.get("SigningKeys") or []:
        if k.get("DSSignatureValidityPeriod") is not None:
            return _hours(k.get("DSSignatureValidityPeriod"), 168)
    return None


def fleet_specs(
    documents: Iterable[Mapping[str, Any]], drift: Mapping[str, Drift] | None = None
) -> list[ZoneSpec]:
    """Specs for every served zone of these inventory documents, plus a signed demo root and
    ``example.`` so each zone has a signed parent holding its DS."""
    drift = DRIFT if drift is None else drift
    zones = [z for doc in documents for z in doc.get("Zones") or []]
    specs: dict[str, ZoneSpec] = {}
    for z in zones:
        spec = zone_spec(z, drift.get(str(z.get("ZoneName", "")).lower()))
        if spec is not None:
            specs[zone_key(spec.name)] = spec
    by_name = {str(z.get("ZoneName", "")).lower(): z for z in zones}
    for name, spec in list(specs.items()):
        # Windows signs children's DS RRsets with DSSignatureValidityPeriod; dnssec-signzone has
        # one validity for all but DNSKEY, so a zone with children uses the DS period throughout.
        has_children = any(o.endswith("." + name) for o in specs if o != name)
        dsv = _ds_validity(by_name.get(name, {}))
        if has_children and dsv is not None:
            specs[name] = replace(spec, zone_validity=dsv)
    ecdsa = (KeySpec("ECDSAP256SHA256", ksk=True), KeySpec("ECDSAP256SHA256"))
    week = timedelta(hours=168)
    parents = [
        ZoneSpec(".", ecdsa, zone_validity=week, note="demo root"),
        ZoneSpec("example", ecdsa, zone_validity=week, note="demo TLD"),
    ]
    return parents + sorted(specs.values(), key=lambda s: s.name)


def demo_specs(fixtures: Path | None = None) -> list[ZoneSpec]:
    """Specs for the demo fleet (bundled, or a fixture directory).

    Built from each simulated server's state, not from what its inventory shows: a zone whose
    keys the audit account cannot read (Win32 9107) is still served with them, as on Windows.
    """
    from toolkit.resources import demo_fixtures_dir
    from toolkit.testing.simulator import Fleet

    fleet = Fleet.load(fixtures or demo_fixtures_dir())
    return fleet_specs({"Zones": server.state.get("Zones") or []} for server in fleet)
