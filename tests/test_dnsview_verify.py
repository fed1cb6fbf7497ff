"""The DNS view's RRSIG validation (toolkit.dnsview._verify) gives dnspython's verdicts.

``_signatures`` validates with each key's public key parsed once and each RRset rendered once;
every case here is also judged the way the view judged it before, by
``dns.dnssec.validate_rrsig`` with the keys of the signature's tag, and the two must agree on
valid, the error text and the verdict inside the validity period. Key tags and DS digests are
compared with dnspython's ``key_id`` and ``make_ds``.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import dns.exception
import dns.name
import dns.rdata
import dns.rdatatype
import dns.rrset
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from dns.rdtypes.ANY.DNSKEY import DNSKEY
from dns.rdtypes.ANY.RRSIG import RRSIG

from toolkit.dnsview import _dnssec, _verify, _wire
from toolkit.dnsview.query import _ds_records, _signatures, _tagged

ZONE = "corp.example."
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WHEN = NOW.timestamp()


def dnssec() -> Any:
    return _dnssec.load()


@dataclass(frozen=True)
class Key:
    private: Any
    dnskey: DNSKEY


def make_key(algorithm: int, flags: int = 257) -> Key:
    private: Any
    if algorithm in (1, 5, 7, 8, 10):
        private = rsa.generate_private_key(65537, 1024 if algorithm != 10 else 2048)
    elif algorithm == 13:
        private = ec.generate_private_key(ec.SECP256R1())
    elif algorithm == 14:
        private = ec.generate_private_key(ec.SECP384R1())
    elif algorithm == 15:
        private = ed25519.Ed25519PrivateKey.generate()
    else:
        private = ed448.Ed448PrivateKey.generate()
    return Key(private, dnssec().make_dnskey(private.public_key(), algorithm, flags))


def sign(
    rrset: dns.rrset.RRset, key: Key, *, signer: str = ZONE, hours: tuple[float, float] = (-1, 167)
) -> RRSIG:
    d = dnssec()
    rrsig: RRSIG = d.sign(
        rrset,
        key.private,
        dns.name.from_text(signer),
        key.dnskey,
        NOW + timedelta(hours=hours[0]),
        NOW + timedelta(hours=hours[1]),
        policy=d.allow_all_policy,
    )
    return rrsig


def soa(owner: str = ZONE, serial: int = 1) -> dns.rrset.RRset:
    return dns.rrset.from_text(
        owner, 3600, "IN", "SOA", f"ns1.{ZONE} admin.{ZONE} {serial} 3600 600 86400 60"
    )


def keyset(*keys: DNSKEY | Key, owner: str = ZONE) -> dns.rrset.RRset:
    return dns.rrset.from_rdata_list(owner, 3600, [k.dnskey if isinstance(k, Key) else k for k in keys])


def sigset(*sigs: RRSIG, owner: str = ZONE) -> dns.rrset.RRset:
    return dns.rrset.from_rdata_list(owner, 3600, list(sigs))


def before(rrset: Any, sigs: dns.rrset.RRset, keys: dns.rrset.RRset, when: float) -> list[tuple[Any, ...]]:
    """The verdicts as the view reached them before: ``validate_rrsig`` with the keys of the tag."""
    d = dnssec()
    out = []
    for sig in sigs:
        tagged = [k for k in keys if d.key_id(k) == sig.key_tag]
        if not tagged:
            out.append((None, f"no DNSKEY with key tag {sig.key_tag} served", None))
            continue
        tag_keys = dns.rrset.from_rdata_list(keys.name, keys.ttl, tagged)

        def check(
            at: float, sig: RRSIG = sig, tag_keys: dns.rrset.RRset = tag_keys
        ) -> tuple[bool | None, str | None]:
            try:
                d.validate_rrsig(rrset, sig, {tag_keys.name: tag_keys}, now=at, policy=d.allow_all_policy)
            except dns.exception.ValidationFailure as exc:
                return False, str(exc) or "validation failed"
            except dns.exception.UnsupportedAlgorithm as exc:
                return None, str(exc) or "algorithm not supported by the validator"
            return True, None

        valid, error = check(when)
        in_window = check(float(sig.inception))[0] if error in ("expired", "not yet valid") else None
        out.append((valid, error, in_window))
    return out


def now_(rrset: Any, sigs: Any, keys: Any, when: float) -> list[tuple[Any, ...]]:
    at = datetime.fromtimestamp(when, UTC)
    return [(s.valid, s.error, s.verifies_in_window) for s in _signatures(ZONE, rrset, sigs, keys, at)]


def agree(
    rrset: Any, sigs: dns.rrset.RRset, keys: dns.rrset.RRset, when: float = WHEN
) -> list[tuple[Any, ...]]:
    """The verdicts of ``_signatures`` (on dnspython's RRsets and on ``_wire.RRs`` with canonical
    forms) equal those reached before; returned for the case's own assertions."""
    old = before(rrset, sigs, keys, when)
    assert now_(rrset, sigs, keys, when) == old
    rrs = _wire.RRs.of(rrset)
    rrs.wires = [rd.to_digestable() for rd in rrset]
    assert now_(rrs, _wire.RRs.of(sigs), _wire.RRs.of(keys), when) == old
    return old


ALGORITHMS = [1, 5, 7, 8, 10, 13, 14, 15, 16]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_valid_expired_not_yet_valid_and_tampered(algorithm: int) -> None:
    key = make_key(algorithm)
    data = soa()
    sigs = sigset(
        sign(data, key),
        sign(data, key, hours=(-300, -200)),
        sign(data, key, hours=(2, 100)),
    )
    keys = keyset(key)
    assert agree(data, sigs, keys) == [
        (True, None, None),
        (False, "expired", True),
        (False, "not yet valid", True),
    ]
    assert [v[:2] for v in agree(soa(serial=2), sigs, keys)] == [
        (False, "verify failure"),
        (False, "expired"),
        (False, "not yet valid"),
    ]


def test_the_dnskey_rrset_signed_by_each_of_two_keys_and_by_a_revoked_one() -> None:
    ksk, zsk, revoked = make_key(13), make_key(13, 256), make_key(13, 257 | 0x0080)
    keys = keyset(ksk, zsk, revoked)
    sigs = sigset(sign(keys, ksk), sign(keys, zsk), sign(keys, revoked))
    assert agree(keys, sigs, keys) == [(True, None, None)] * 3  # RFC 5011: a revoked key signs its RRset
    data = soa()
    # ... and nothing else
    assert [v[0] for v in agree(data, sigset(sign(data, zsk), sign(data, revoked)), keys)] == [True, False]


@pytest.mark.parametrize(
    "change",
    [
        {"flags": 1},  # SEP only, no ZONE flag
        {"flags": 0},
        {"protocol": 2},
        {"algorithm": 14},  # not the signature's algorithm
    ],
)
def test_a_key_that_may_not_verify_is_no_candidate(change: dict[str, int]) -> None:
    key = make_key(13)
    data = soa()
    served = key.dnskey.replace(**change)
    sig = sign(data, key).replace(key_tag=dnssec().key_id(served))
    assert agree(data, sigset(sig), keyset(served))[0][:2] == (False, "verify failure")


def test_signer_type_and_class_must_match() -> None:
    key = make_key(13)
    data = soa()
    keys = keyset(key)
    other = sign(data, key, signer="other.example.")
    assert agree(data, sigset(other), keys)[0][:2] == (False, "unknown key")
    upper = sign(data, key, signer="CORP.Example.")  # names compare without case
    assert agree(data, sigset(upper), keys)[0] == (True, None, None)
    wrong_type = sign(data, key).replace(type_covered=dns.rdatatype.NS)
    assert agree(data, sigset(wrong_type), keys)[0][:2] == (False, "RRSIG does not cover the RRset")
    ch = dns.rrset.from_text(ZONE, 3600, "CH", "TXT", '"x"')
    assert agree(ch, sigset(sign(dns.rrset.from_text(ZONE, 3600, "IN", "TXT", '"x"'), key)), keys)[0][:2] == (
        False,
        "RRSIG does not cover the RRset",
    )


def test_owner_names_wildcards_and_labels() -> None:
    key = make_key(13)
    keys = keyset(key)
    wild = dns.rrset.from_text(f"*.w.{ZONE}", 300, "IN", "TXT", '"w"')
    sig = sign(wild, key)
    expanded = dns.rrset.from_text(f"x.y.w.{ZONE}", 300, "IN", "TXT", '"w"')
    assert agree(expanded, sigset(sig, owner=f"x.y.w.{ZONE}"), keys)[0] == (True, None, None)
    assert agree(wild, sigset(sig.replace(labels=5), owner=f"*.w.{ZONE}"), keys)[0][:2] == (
        False,
        "wild owner name has wrong label length",
    )
    plain = dns.rrset.from_text(f"MiXeD.{ZONE}", 300, "IN", "TXT", '"m"')
    good = sign(dns.rrset.from_text(f"mixed.{ZONE}", 300, "IN", "TXT", '"m"'), key)
    assert agree(plain, sigset(good, owner=f"mixed.{ZONE}"), keys)[0] == (True, None, None)
    assert agree(plain, sigset(good.replace(labels=9)), keys)[0][:2] == (
        False,
        "owner name longer than RRSIG labels",
    )


def test_several_signatures_over_one_rrset_with_their_own_labels_and_ttls() -> None:
    key = make_key(13)
    data = soa()
    short = dns.rrset.from_rdata_list(data.name, 60, list(data))
    sigs = sigset(
        sign(data, key),
        sign(short, key),  # original TTL 60, and so it is signed
        sign(data, key).replace(original_ttl=60),  # signed with 3600
        sign(data, key, hours=(-2, 100)),
    )
    assert [v[0] for v in agree(data, sigs, keyset(key))] == [True, True, False, True]


def test_keys_that_cannot_be_read_or_are_not_implemented() -> None:
    data = soa()
    blob = base64.b64encode(os.urandom(64)).decode()
    for text in (
        "256 3 12 " + blob,  # ECC-GOST: dnspython implements none
        "256 3 200 " + blob,  # an unassigned algorithm
        "256 3 13 AAAA",  # far too short for P-256
        "256 3 8 AA==",  # an RSA key with no exponent
    ):
        key = dns.rdata.from_text("IN", "DNSKEY", text)
        assert isinstance(key, DNSKEY)
        tag = dnssec().key_id(key)
        sig = dns.rdata.from_text(
            "IN", "RRSIG", f"SOA {key.algorithm} 2 3600 20260310000000 20260225000000 {tag} {ZONE} {blob}"
        )
        assert isinstance(sig, RRSIG)
        verdicts = agree(data, sigset(sig, sig.replace(original_ttl=5)), keyset(key))
        assert verdicts[0] == verdicts[1] and verdicts[0][0] in (None, False)


def _colliding_keys() -> tuple[Key, Key]:
    """Two P-256 keys with the same key tag (a birthday search, some hundred keys)."""
    seen: dict[int, Key] = {}
    while True:
        key = make_key(13, 256)
        tag = dnssec().key_id(key.dnskey)
        if tag in seen:
            return seen[tag], key
        seen[tag] = key


def test_keys_sharing_a_tag_are_each_tried_in_order() -> None:
    first, second = _colliding_keys()
    data = soa()
    sigs = sigset(sign(data, first), sign(data, second))
    assert agree(data, sigs, keyset(first, second)) == [(True, None, None)] * 2
    assert agree(data, sigs, keyset(second, first)) == [(True, None, None)] * 2
    assert agree(data, sigset(sign(soa(serial=5), first)), keyset(first, second))[0][:2] == (
        False,
        "verify failure",  # neither key verifies it
    )


def test_a_key_group_parses_each_public_key_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import dns.dnssecalgs

    zsk = make_key(13, 256)
    data, other = soa(), soa(owner=ZONE, serial=7)
    calls: list[int] = []
    real = dns.dnssecalgs.get_algorithm_cls_from_dnskey

    def counting(key: DNSKEY) -> Any:
        calls.append(dnssec().key_id(key))
        return real(key)

    monkeypatch.setattr(dns.dnssecalgs, "get_algorithm_cls_from_dnskey", counting)
    group = {dnssec().key_id(zsk.dnskey): _verify.KeyGroup(dns.name.from_text(ZONE), [zsk.dnskey])}
    sigs_a = sigset(sign(data, zsk), sign(data, zsk, hours=(-300, -200)))
    sigs_b = sigset(sign(other, zsk))
    got = _signatures(ZONE, data, sigs_a, None, NOW, group) + _signatures(
        ZONE, other, sigs_b, None, NOW, group
    )
    assert [s.valid for s in got] == [True, False, True] and got[1].verifies_in_window
    assert len(calls) == 1  # four verifications, one parse


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_key_tags_are_dnspythons(algorithm: int) -> None:
    for flags in (256, 257, 257 | 0x0080):
        key = make_key(algorithm, flags).dnskey
        assert _verify.key_tag(key) == dnssec().key_id(key)
        assert _verify.key_tag(key, key.to_wire()) == dnssec().key_id(key)
    odd = dns.rdata.from_text("IN", "DNSKEY", "256 3 13 " + base64.b64encode(b"\x01" * 65).decode())
    assert isinstance(odd, DNSKEY) and _verify.key_tag(odd) == dnssec().key_id(odd)


def _ds_before(zone: str, rrset: dns.rrset.RRset, keys: list[DNSKEY]) -> list[int | None]:
    """The matching as ``_ds_records`` did it before: dnspython's ``make_ds`` for each candidate."""
    d = dnssec()
    out: list[int | None] = []
    for ds in rrset:
        matched = None
        for key in keys:
            tag = d.key_id(key)
            if tag != ds.key_tag or key.algorithm != ds.algorithm or key.flags & 0x0080:
                continue
            try:
                made = d.make_ds(zone, key, ds.digest_type, policy=d.allow_all_policy)
            except (dns.exception.UnsupportedAlgorithm, ValueError):
                continue
            if made.digest == ds.digest:
                matched = tag
                break
        out.append(matched)
    return out


def test_ds_matching_is_make_ds_s() -> None:
    d = dnssec()
    ksk, other, revoked = make_key(13), make_key(13), make_key(13, 257 | 0x0080)
    records = [
        d.make_ds(ZONE, k.dnskey, t, policy=d.allow_all_policy) for k in (ksk, other) for t in (1, 2, 4)
    ]
    records.append(d.make_ds(ZONE, revoked.dnskey, 2, policy=d.allow_all_policy))
    tag = d.key_id(ksk.dnskey)
    records += [
        dns.rdata.from_text("IN", "DS", f"{tag} 13 3 " + "AB" * 32),  # GOST digest: not computed
        dns.rdata.from_text("IN", "DS", f"{tag} 13 2 " + "CD" * 32),  # a digest no key has
        dns.rdata.from_text("IN", "DS", f"{tag} 8 2 " + records[1].digest.hex()),  # another algorithm
    ]
    ds = dns.rrset.from_rdata_list(ZONE, 3600, records)
    keys = [ksk.dnskey, revoked.dnskey]
    expected = _ds_before(ZONE, ds, keys)
    assert expected[:3] == [tag] * 3 and expected[3:] == [None] * 7
    assert [r.matched_key_tag for r in _ds_records(ZONE, ds, keys)] == expected
    assert [r.matched_key_tag for r in _ds_records(ZONE, ds, keys, _tagged(keys))] == expected
    assert _verify.ds_digest(b"\x00", b"", 3) is None
