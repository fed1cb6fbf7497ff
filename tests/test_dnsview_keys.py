"""The DNS view's reading of keys and signatures, on records dnspython makes and signs here.

- RFC 5011 section 2.1: a DNSKEY with the REVOKE bit (0x0080) is used for nothing but its own
  revocation, so a DS computed from it anchors nothing.
- A signature outside its validity period fails (RFC 4035 section 5.3.1); whether it would
  verify inside that period tells an out-of-date signature from a wrong one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import dns.name
import dns.rrset
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from dns.rdtypes.ANY.DNSKEY import DNSKEY

from toolkit.dnsview import _dnssec
from toolkit.dnsview.query import _ds_records, _signatures

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
    from toolkit.testing.bind_demo import zone_spec

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


def signed_soa(
    private: ec.EllipticCurvePrivateKey, key: DNSKEY, inception: datetime, hours: float
) -> tuple[Any, Any, Any]:
    """An SOA RRset, its RRSIG made by ``key`` for ``hours`` from ``inception``, and the DNSKEY RRset."""
    dnssec = _dnssec.load()
    soa = dns.rrset.from_text(ZONE, 3600, "IN", "SOA", f"ns1.{ZONE} admin.{ZONE} 1 3600 600 86400 60")
    rrsig = dnssec.sign(
        soa, private, dns.name.from_text(ZONE), key, inception, inception + timedelta(hours=hours)
    )
    return soa, dns.rrset.from_rdata(ZONE, 3600, rrsig), dns.rrset.from_rdata(ZONE, 3600, key)


@pytest.mark.parametrize(
    ("inception", "error"),
    [(NOW - timedelta(hours=200), "expired"), (NOW + timedelta(hours=2), "not yet valid")],
)
def test_a_signature_failing_only_on_time_says_it_verifies_inside_its_window(
    inception: datetime, error: str
) -> None:
    private, key = make_key(256)
    soa, sigs, keys = signed_soa(private, key, inception, 168)
    (s,) = _signatures(ZONE, soa, sigs, keys, NOW)
    assert s.valid is False and s.error == error and s.verifies_in_window is True


def test_a_signature_failing_on_time_and_on_its_key_does_not_verify_inside_its_window() -> None:
    private, key = make_key(256)
    _, other = make_key(256)  # same tag would be a coincidence: sign with one key, serve another
    soa, sigs, _ = signed_soa(private, key, NOW - timedelta(hours=200), 168)
    forged = dns.rrset.from_rdata(ZONE, 3600, other)
    tag = _dnssec.load().key_id(other)
    sig = next(iter(sigs)).replace(key_tag=tag)
    (s,) = _signatures(ZONE, soa, dns.rrset.from_rdata(ZONE, 3600, sig), forged, NOW)
    assert s.valid is False and s.error == "expired" and s.verifies_in_window is False


def test_a_valid_signature_has_no_window_verdict() -> None:
    private, key = make_key(256)
    soa, sigs, keys = signed_soa(private, key, NOW - timedelta(hours=1), 168)
    (s,) = _signatures(ZONE, soa, sigs, keys, NOW)
    assert s.valid is True and s.verifies_in_window is None


def test_a_signature_by_an_algorithm_the_validator_lacks_is_unchecked_not_a_crash() -> None:
    # ECC-GOST (12): dnspython implements no GOST; a zone signed with it must give a view
    import base64
    import os

    import dns.rdata

    key = dns.rdata.from_text("IN", "DNSKEY", "256 3 12 " + base64.b64encode(os.urandom(64)).decode())
    assert isinstance(key, DNSKEY)
    tag = _dnssec.load().key_id(key)
    soa = dns.rrset.from_text(ZONE, 3600, "IN", "SOA", f"ns1.{ZONE} admin.{ZONE} 1 3600 600 86400 60")
    blob = base64.b64encode(os.urandom(64)).decode()
    rrsig = dns.rdata.from_text(
        "IN", "RRSIG", f"SOA 12 2 3600 20260310000000 20260225000000 {tag} {ZONE} {blob}"
    )
    (s,) = _signatures(
        ZONE, soa, dns.rrset.from_rdata(ZONE, 3600, rrsig), dns.rrset.from_rdata(ZONE, 3600, key), NOW
    )
    assert s.valid is None and s.algorithm == 12 and "not supported" in (s.error or "")


@pytest.mark.parametrize(
    ("signer", "valid"),
    [("example.", True), (".", True), (ZONE, False), ("other.example.", False), ("sub." + ZONE, False)],
)
def test_a_ds_rrsig_validates_only_when_a_zone_above_made_it(signer: str, valid: bool) -> None:
    """RFC 4035 section 5.3.1: a DS RRSIG is made by the parent side of the cut. Signed by the
    child, a sibling or a zone below, it fails even with that zone's keys, as served."""
    dnssec = _dnssec.load()
    private, key = make_key(257)
    _, child_key = make_key(257)
    ds = dns.rrset.from_rdata(ZONE, 3600, dnssec.make_ds(ZONE, child_key, "SHA256"))
    name = dns.name.from_text(signer)
    sig = dnssec.sign(
        ds,
        private,
        name,
        key,
        NOW - timedelta(hours=1),
        NOW + timedelta(hours=24),
        policy=dnssec.allow_all_policy,
    )
    sigs = dns.rrset.from_rdata(ZONE, 3600, sig)
    keys = dns.rrset.from_rdata(name, 3600, key)
    (unchecked,) = _signatures(ZONE, ds, sigs, keys, NOW)
    assert unchecked.valid is True  # the signature itself is good
    (s,) = _signatures(ZONE, ds, sigs, keys, NOW, signed_above=dns.name.from_text(ZONE))
    assert s.valid is valid and s.signer == signer
    if not valid:
        assert s.error == f"signed by {signer}, not by a zone above {ZONE}"


def test_a_zone_publishing_cds_and_cdnskey_has_them_in_its_view() -> None:
    """CDS and CDNSKEY (RFC 7344) are read as DS and DNSKEY are (their classes are siblings of
    DS and DNSKEY in dnspython, not subclasses): a CDS matched against the served keys, each
    CDNSKEY described as a key."""
    from tests.bind_fixtures import require_bind
    from toolkit.dnsview.query import parse_target, zone_view
    from toolkit.testing.bind import BindServer, KeySpec, ZoneSpec

    require_bind()
    dnssec = _dnssec.load()
    _, standby = make_key(257)  # published in the DNSKEY RRset, signing nothing
    _, elsewhere = make_key(257)  # not served
    zone = "cds.example."
    cds = [dnssec.make_cds(zone, k, "SHA256") for k in (standby, elsewhere)]
    records = (
        f"{zone} 3600 IN DNSKEY {standby.to_text()}",
        *(f"{zone} 3600 IN CDS {c.to_text()}" for c in cds),
        f"{zone} 3600 IN CDNSKEY {standby.to_text()}",
    )
    spec = ZoneSpec("cds.example", (KeySpec("ECDSAP256SHA256", ksk=True),), records=records)
    with BindServer([spec], lifetime=120) as server:
        view = zone_view(zone, parse_target(server.address))
    assert view.reachable and not view.problems, view.problems
    tag = dnssec.key_id(standby)
    assert tag in {k.key_tag for k in view.keys}
    assert sorted((c.key_tag, c.matched_key_tag) for c in view.cds) == sorted(
        [(tag, tag), (dnssec.key_id(elsewhere), None)]
    )
    assert [(k.key_tag, k.flags, k.algorithm) for k in view.cdnskey] == [(tag, 257, 13)]
