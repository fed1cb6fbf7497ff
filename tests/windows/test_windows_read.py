"""Reads against a real Windows DNS server, over each transport: the inventory, the audit, the
zone and key listings and the public key export, each compared with what the server holds.

Run by hand against your own server (nothing is changed by these tests):

    WINDNS_TEST_HOST=dns1.example.net WINDNS_TEST_USERNAME='EXAMPLE\\dnsaudit' \\
    WINDNS_TEST_PASSWORD=... python -m pytest -m windows tests/windows/test_windows_read.py

All variables: tests/windows/README.md. Without WINDNS_TEST_HOST every test here is skipped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

import pytest
from click.testing import Result

from tests.windows.target import Target, held_keys, held_zones, requires_server
from toolkit.model import ServerInventory, Zone
from toolkit.model.enums import ZoneType
from toolkit.remote import ConnectionOptions, Remote
from toolkit.services.audit import audit_server, collect

pytestmark = [pytest.mark.windows, requires_server]


def _names(names: Iterable[str]) -> set[str]:
    return {name.lower().rstrip(".") for name in names}


def _keyed(zone: Zone) -> bool:
    """Zones whose keys the inventory reads: primary, not auto-created, not TrustAnchors."""
    return zone.zone_type is ZoneType.PRIMARY and not zone.is_auto_created and zone.name != "TrustAnchors"


def _signed_zone(target: Target, inv: ServerInventory) -> Zone:
    """WINDNS_TEST_SIGNED_ZONE, else the first signed zone holding a KSK and a ZSK."""
    if target.signed_zone:
        zone = inv.zone(target.signed_zone)
        assert zone is not None and zone.signed, f"WINDNS_TEST_SIGNED_ZONE={target.signed_zone} is not signed"
        return zone
    for zone in inv.zones:
        if zone.signed and zone.ksks and zone.zsks and not zone.errors:
            return zone
    pytest.skip("the server holds no signed zone with a KSK and a ZSK (or set WINDNS_TEST_SIGNED_ZONE)")


def test_inventory_lists_exactly_the_zones_the_server_holds(
    remote: Remote, options: ConnectionOptions
) -> None:
    """The normal collect path (its self-check included) raises nothing, and its zones are the
    zones Get-DnsServerZone lists: none missing, none invented (so non-empty whenever the server
    holds a zone)."""
    inv = collect(remote)
    assert _names(z.name for z in inv.zones) == held_zones(options)


def test_inventory_keys_are_the_keys_each_zone_holds(remote: Remote, options: ConnectionOptions) -> None:
    inv = collect(remote)
    held = held_keys(options)
    compared = 0
    for zone in filter(_keyed, inv.zones):
        ids = held.get(zone.name.lower().rstrip("."), set())
        if ids is None or zone.errors:  # unreadable on the server too: nothing to compare
            continue
        assert {k.key_id for k in zone.keys} == ids, zone.name
        assert all(k.zone.lower() == zone.name.lower() for k in zone.keys)
        compared += 1
    assert compared or not any(_keyed(z) for z in inv.zones)


def test_zones_list_shows_the_zones_the_server_holds(
    cli: Callable[..., Result], options: ConnectionOptions
) -> None:
    res = cli("zones", "list", "--format", "json")
    assert res.exit_code == 0, res.output
    assert _names(row["zone"] for row in json.loads(res.stdout)) == held_zones(options)


def test_audit_reports_every_zone_of_the_server(
    cli: Callable[..., Result], remote: Remote, options: ConnectionOptions
) -> None:
    """`windns audit` audits the server (exit 0 or 1: findings are not failures) and counts
    every zone; the library's audit agrees and carries no host error."""
    res = cli("audit", "--format", "json")
    assert res.exit_code in (0, 1), res.output
    report = json.loads(res.stdout)
    (host,) = report["hosts"]
    assert host["ok"] is True and host["error"] is None, host
    held = held_zones(options)
    assert host["zones"] == len(held)
    direct = audit_server(remote)
    assert direct.error is None, direct.error
    assert direct.inventory is not None
    assert _names(z.name for z in direct.inventory.zones) == held


def test_keys_list_of_a_signed_zone_shows_its_keys(
    cli: Callable[..., Result], remote: Remote, target: Target
) -> None:
    zone = _signed_zone(target, collect(remote))
    res = cli("keys", "list", "--zone", zone.name, "--format", "json")
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert {row["key_id"] for row in rows} == {k.key_id for k in zone.keys}
    assert {row["key_type"] for row in rows} == {"KSK", "ZSK"}
    assert all(row["zone"].lower() == zone.name.lower() for row in rows)


def test_export_keys_gives_a_sha256_ds_for_a_signed_zone(
    cli: Callable[..., Result], remote: Remote, target: Target
) -> None:
    """zone_export_keys.ps1 (Export-DnsServerDnsSecPublicKey -DigestType Sha256): DS records of
    the zone, SHA-256 only."""
    zone = _signed_zone(target, collect(remote))
    res = cli("zone", "export-keys", zone.name, "--ds", "--digest", "Sha256", "--format", "json")
    assert res.exit_code == 0, res.output
    exported = json.loads(res.stdout)
    assert exported["Kind"] == "DS"
    records = exported["Records"]
    assert records and all(r["RecordType"] == "DS" for r in records), records
    assert {r["RecordData"]["DigestType"] for r in records} == {"Sha256"}


def test_zone_dnskeys_gives_every_active_key_its_rfc4034_tag(
    cli: Callable[..., Result], remote: Remote, target: Target
) -> None:
    """zone_dnskeys.ps1 (Get-DnsServerResourceRecord -Name '@' -RRType DnsKey): the zone's data
    holds a DNSKEY for its ZSK as for its KSK (fixtures/README.md lists this as unconfirmed), each
    KeyTag the RFC 4034 tag of its own record, and `keys list` gives every active key its tag."""
    import base64

    import dns.rdataclass
    import dns.rdatatype
    from dns.rdtypes.ANY.DNSKEY import DNSKEY

    from toolkit.dnsview import _dnssec
    from toolkit.model import CryptoAlgorithm

    zone = _signed_zone(target, collect(remote))
    (entry,) = remote.run("zone_dnskeys", {"ZoneName": [zone.name]}).data["Zones"]
    assert entry["Error"] is None, entry
    records = [r["RecordData"] for r in entry["Records"]]
    assert {bool(int(d["KeyFlags"]) & 1) for d in records} == {True, False}, records
    for d in records:
        number = CryptoAlgorithm(d["CryptoAlgorithm"]).number
        assert number is not None, d
        rdata = DNSKEY(  # type: ignore[no-untyped-call]
            dns.rdataclass.IN, dns.rdatatype.DNSKEY, int(d["KeyFlags"]), 3, int(number),
            base64.b64decode(d["Base64Data"]),
        )  # fmt: skip
        assert d["KeyTag"] == _dnssec.load().key_id(rdata)
    res = cli("keys", "list", "--zone", zone.name, "--format", "json")
    assert res.exit_code == 0, res.output
    active = [row for row in json.loads(res.stdout) if row["current_state"] != "Retired"]
    assert active and all(isinstance(row["key_tag"], int) for row in active), active
