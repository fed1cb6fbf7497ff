"""The DNS view's reading of keys and signatures, on records dnspython makes and signs here.

- RFC 5011 section 2.1: a DNSKEY with the REVOKE bit (0x0080) is used for nothing but its own
  revocation, so a DS computed from it anchors nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

import dns.name
import dns.rrset
from cryptography.hazmat.primitives.asymmetric import ec
from dns.rdtypes.ANY.DNSKEY import DNSKEY

from toolkit.dnsview import _dnssec
from toolkit.dnsview.query import _ds_records

ZONE = "corp.example."
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def make_key(flags: int) -> tuple[ec.EllipticCurvePrivateKey, DNSKEY]:
    private = ec.generate_private_key(ec.SECP256R1())
    return private, _dnssec.load().make_dnskey(private.public_key(), 13, flags)


def test_a_ds_made_from_a_revoked_key_matches_no_served_key() -> None:
    dnssec = _dnssec.load()
    _, revoked = make_key(257 | 0x0080)
    _, live = make_key(257)
    ds = dns.rrset.from_rdata(
        ZONE, 3600, dnssec.make_ds(ZONE, revoked, "SHA256"), dnssec.make_ds(ZONE, live, "SHA256")
    )
    got = {d.key_tag: d.matched_key_tag for d in _ds_records(ZONE, ds, [revoked, live])}
    assert got == {dnssec.key_id(revoked): None, dnssec.key_id(live): dnssec.key_id(live)}


def test_the_demo_serves_a_key_without_an_active_key_published_but_not_signing() -> None:
    from toolkit.dnsview.demo import zone_spec

    def rec(kind: str, **pointers: str | None) -> dict[str, object]:
        return {"KeyType": kind, "CryptoAlgorithm": "ECDsaP256Sha256", "CurrentState": "Active", **pointers}

    z = {
        "ZoneName": "pending.lab.example",
        "ZoneType": "Primary",
        "IsSigned": True,
        "SigningKeys": [
            rec("KeySigningKey", ActiveKey="{A}"),
            rec("ZoneSigningKey", ActiveKey="{B}"),
            rec("ZoneSigningKey", ActiveKey=None, NextKey="{C}"),
        ],
    }
    spec = zone_spec(z)
    assert spec is not None
    assert [(k.ksk, k.published, k.standby) for k in spec.keys] == [
        (True, True, False),
        (False, True, False),
        (False, True, True),
    ]
