"""Ask a DNS server what it publishes for a zone, validate it, and describe it.

One function per step, all with dnspython: ``ask`` sends one query (UDP, TCP when truncated, the
DO bit, a timeout and retries) and turns every failure into a ``DnsProblem``; ``zone_view`` asks
for SOA, DNSKEY, NSEC3PARAM, CDS, CDNSKEY and the DS at the parent, the same way but over one
``_wire.Channel`` (one socket) per server, and validates each RRSIG with ``dns.dnssec`` at the
time of the query; ``zone_views`` does that for many zones at once with a bounded thread pool.
Nothing here raises for a bad answer: a server that is down, lame, answers SERVFAIL or truncates
gives a view with ``problems``, which the join rules turn into findings.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, TypeVar

import dns.dnssectypes
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
from dns.rdtypes.ANY.DNSKEY import DNSKEY
from dns.rdtypes.ANY.NSEC import NSEC
from dns.rdtypes.ANY.NSEC3 import NSEC3
from dns.rdtypes.ANY.NSEC3PARAM import NSEC3PARAM
from dns.rdtypes.ANY.RRSIG import RRSIG
from dns.rdtypes.dnskeybase import DNSKEYBase
from dns.rdtypes.dsbase import DSBase

from toolkit.dnsview import _verify, _wire
from toolkit.dnsview.descriptors import (
    FLAG_REVOKE,
    DnsProblem,
    DsRecord,
    Nsec3Params,
    PublishedKey,
    Signature,
    ZoneDnsView,
)
from toolkit.errors import ConfigError

__all__ = [
    "DnsTarget",
    "ParentKeys",
    "QueryOptions",
    "ViewFunction",
    "ZoneQuery",
    "ask",
    "key_length",
    "parent_ds",
    "parse_target",
    "published_key",
    "zone_view",
    "zone_views",
]


@dataclass(frozen=True, slots=True)
class DnsTarget:
    """Where to send queries: an IP address and a port."""

    address: str
    port: int = 53

    def __str__(self) -> str:
        if ":" in self.address:
            return f"[{self.address}]:{self.port}"
        return f"{self.address}:{self.port}"


@dataclass(frozen=True, slots=True)
class QueryOptions:
    timeout: float = 2.0  # seconds per attempt
    retries: int = 2  # extra attempts after a timeout or a network error
    concurrency: int = 8  # zones checked at once
    payload: int = 1232  # EDNS buffer size (DNS flag day 2020)


class ViewFunction(Protocol):
    """What takes one zone's view: ``zone_view``'s question, without its per-host caches."""

    def __call__(
        self,
        zone: str,
        server: DnsTarget,
        *,
        parent: DnsTarget | None,
        opts: QueryOptions,
        now: datetime | None = None,
    ) -> ZoneDnsView: ...


@dataclass(frozen=True, slots=True)
class ZoneQuery:
    """One zone to check: on ``server``; DS asked from ``parent`` (None: do not ask)."""

    zone: str
    server: DnsTarget
    parent: DnsTarget | None = None


def parse_target(text: str, *, default_port: int = 53) -> DnsTarget:
    """``ADDR``, ``ADDR:PORT``, ``[V6]:PORT`` or a host name (resolved once) -> DnsTarget."""
    raw = text.strip()
    host, port = raw, default_port
    if raw.startswith("["):
        end = raw.find("]")
        if end < 0:
            raise ConfigError(f"bad DNS server address {text!r}: missing ']'")
        host, rest = raw[1:end], raw[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise ConfigError(f"bad DNS server address {text!r}")
            port = _port(rest[1:], text)
    elif raw.count(":") == 1:
        host, port_text = raw.split(":")
        port = _port(port_text, text)
    if not host:
        raise ConfigError(f"bad DNS server address {text!r}: no host")
    try:
        return DnsTarget(str(ipaddress.ip_address(host)), port)
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except (OSError, UnicodeError) as exc:
        raise ConfigError(f"cannot resolve DNS server {host!r}: {exc}") from None
    return DnsTarget(str(infos[0][4][0]), port)


def _port(text: str, whole: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ConfigError(f"bad port in DNS server address {whole!r}")
    return int(text)


def ask(
    target: DnsTarget, qname: str, rdtype: str, opts: QueryOptions, *, recursive: bool = False
) -> tuple[dns.message.Message | None, DnsProblem | None]:
    """One query with the DO bit: UDP, then TCP if truncated; retries on timeouts.

    Returns (response, None) for a usable answer (NOERROR or NXDOMAIN, AA set) or
    (response-or-None, problem). ``recursive`` sets RD and CD (bogus data is returned, not
    hidden behind SERVFAIL) and also accepts a resolver's answer (RA set, no AA): for the DS
    at the parent, which the user may ask of a resolver. Each call has sockets of its own (the
    DNS view asks over a ``_wire.Channel`` per server instead).
    """
    q = dns.message.make_query(qname, rdtype, want_dnssec=True, payload=opts.payload)
    if recursive:
        q.flags |= dns.flags.RD | dns.flags.CD
    else:
        q.flags &= ~dns.flags.RD
    label = f"{dns.name.from_text(qname).to_text()} {rdtype}"
    return _attempts(
        lambda: label,
        target,
        opts,
        recursive,
        lambda: dns.query.udp(q, target.address, timeout=opts.timeout, port=target.port),
        lambda: dns.query.tcp(q, target.address, timeout=opts.timeout, port=target.port),
    )


def _ask(
    channel: _wire.Channel,
    target: DnsTarget,
    name: dns.name.Name,
    rdtype: str,
    opts: QueryOptions,
    *,
    recursive: bool = False,
) -> tuple[_wire.Reply | None, DnsProblem | None]:
    """``ask`` for ``name`` over ``channel``, the sockets of ``target`` kept for all of a zone's
    questions."""
    qtype = int(dns.rdatatype.RdataType.make(rdtype))
    flags = int(dns.flags.RD | dns.flags.CD) if recursive else 0
    qid = channel.new_id()  # one for every attempt and for TCP, as ``ask`` sends one message
    return _attempts(
        lambda: f"{name.to_text()} {rdtype}",
        target,
        opts,
        recursive,
        lambda: channel.udp(qid, name, qtype, flags, opts.payload, opts.timeout),
        lambda: channel.tcp(qid, name, qtype, flags, opts.payload, opts.timeout),
    )


_R = TypeVar("_R", dns.message.Message, _wire.Reply)


def _attempts(
    label: Callable[[], str],
    target: DnsTarget,
    opts: QueryOptions,
    recursive: bool,
    udp: Callable[[], _R],
    tcp: Callable[[], _R],
) -> tuple[_R | None, DnsProblem | None]:
    """``udp`` until an answer comes (``opts.retries`` more times after a timeout or a network
    error), then ``tcp`` if it is truncated; every failure a ``DnsProblem`` about ``label()``."""
    last: DnsProblem | None = None
    for _attempt in range(opts.retries + 1):
        try:
            resp = udp()
        except dns.exception.Timeout:
            last = DnsProblem(label(), str(target), "timeout", f"no answer within {opts.timeout:g}s")
            continue
        except OSError as exc:
            last = DnsProblem(label(), str(target), "unreachable", exc.strerror or str(exc))
            continue
        except dns.exception.DNSException as exc:
            return None, DnsProblem(label(), str(target), "formerr", f"malformed answer: {exc}")
        if resp.flags & dns.flags.TC:
            try:
                resp = tcp()
            except (dns.exception.DNSException, OSError) as exc:
                why = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
                return None, DnsProblem(
                    label(), str(target), "truncated", f"truncated over UDP; TCP failed: {why}"
                )
        return resp, _judge(resp, label, target, recursive)
    return None, last


def _judge(
    resp: dns.message.Message | _wire.Reply,
    label: Callable[[], str],
    target: DnsTarget,
    recursive: bool = False,
) -> DnsProblem | None:
    rcode = resp.rcode()
    if rcode == dns.rcode.SERVFAIL:
        return DnsProblem(label(), str(target), "servfail", "server answered SERVFAIL")
    if rcode == dns.rcode.REFUSED:
        return DnsProblem(label(), str(target), "refused", "server refused the query (not authoritative?)")
    if rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
        return DnsProblem(label(), str(target), "error", f"server answered {dns.rcode.to_text(rcode)}")
    if not resp.flags & dns.flags.AA and not (recursive and resp.flags & dns.flags.RA):
        return DnsProblem(label(), str(target), "lame", "answer is not authoritative (lame delegation)")
    if rcode == dns.rcode.NXDOMAIN:
        return DnsProblem(label(), str(target), "nxdomain", "server says the name does not exist")
    return None


def key_length(key: DNSKEYBase) -> int | None:
    """Public key size in bits, as Windows reports KeyLength (RSA modulus, ECDSA curve)."""
    alg = int(key.algorithm)
    if alg in (5, 7, 8, 10):
        raw = key.key
        if not raw:
            return None
        if raw[0] == 0:
            exp_len = int.from_bytes(raw[1:3], "big")
            offset = 3 + exp_len
        else:
            offset = 1 + raw[0]
        modulus = raw[offset:].lstrip(b"\x00")
        return len(modulus) * 8 - (8 - modulus[0].bit_length()) if modulus else None
    return {13: 256, 14: 384, 15: 256, 16: 456}.get(alg)


def _ts(value: int) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def published_key(zone: str, rr: DNSKEYBase, key_tag: int | None = None) -> PublishedKey:
    """The descriptor of one DNSKEY (or CDNSKEY) record of ``zone`` (key tag, flags, algorithm, length);
    ``key_tag`` when the caller has computed it already."""
    return PublishedKey(
        zone=zone,
        key_tag=_verify.key_tag(rr) if key_tag is None else key_tag,
        flags=int(rr.flags),
        algorithm=int(rr.algorithm),
        key_length=key_length(rr),
        public_key=base64.b64encode(rr.key).decode("ascii"),
    )


#: a DNSKEY RRset split by key tag (``_by_tag``)
KeysByTag = Mapping[int, _verify.KeyGroup]

#: an RRset from an answer: dnspython's, or one ``_wire.read_reply`` read
RRsetLike = dns.rrset.RRset | _wire.RRs


def _tagged(keys: Iterable[object]) -> list[tuple[int, DNSKEY]]:
    """Each DNSKEY with its key tag, computed once (from the wire form ``read_reply`` kept)."""
    wires: list[bytes] | None = getattr(keys, "wires", None)
    if wires is not None:
        return [(_verify.key_tag(k, w), k) for k, w in zip(keys, wires, strict=True) if isinstance(k, DNSKEY)]
    return [(_verify.key_tag(k), k) for k in keys if isinstance(k, DNSKEY)]


def _by_tag(keys: RRsetLike | None, tagged: Sequence[tuple[int, DNSKEY]] | None = None) -> KeysByTag:
    """The DNSKEY RRset split by key tag, one ``KeyGroup`` per tag, made once per RRset: each
    RRSIG is checked against the keys of its tag only, and each key's public key is parsed once
    for all the signatures it verifies."""
    if keys is None:
        return {}
    groups: dict[int, list[DNSKEY]] = {}
    for tag, key in _tagged(keys) if tagged is None else tagged:
        groups.setdefault(tag, []).append(key)
    return {tag: _verify.KeyGroup(keys.name, rds) for tag, rds in groups.items()}


def _signatures(
    zone: str,
    rrset: RRsetLike | None,
    sigs: RRsetLike | None,
    keys: RRsetLike | None,
    now: datetime,
    by_tag: KeysByTag | None = None,
    *,
    signed_above: dns.name.Name | None = None,
) -> list[Signature]:
    """Each RRSIG of ``sigs`` over ``rrset``, validated with the ``keys`` of its tag
    (``by_tag``: ``keys`` split by ``_by_tag`` once for the zone's RRsets). ``signed_above``:
    the RRset is a DS of that zone, whose RRSIGs must be made by a zone above it (RFC 4035
    section 5.3.1: the signer is the zone holding the RRset, here the parent side of the cut);
    one made by any other zone does not validate, whatever its keys."""
    out: list[Signature] = []
    if sigs is None:
        return out
    if by_tag is None:
        by_tag = _by_tag(keys)
    signed = _verify.Signed(rrset) if rrset is not None else None  # one rendering for all its RRSIGs
    owner = _text(sigs.name)
    for sig in sigs:
        assert isinstance(sig, RRSIG)
        valid: bool | None
        error: str | None = None
        in_window: bool | None = None
        if signed is None:
            valid, error = None, "no RRset to check"
        elif signed_above is not None and not _is_above(sig.signer, signed_above):
            valid, error = False, f"signed by {_text(sig.signer)}, not by a zone above {_text(signed_above)}"
        elif sig.key_tag not in by_tag:
            valid, error = None, f"no DNSKEY with key tag {sig.key_tag} served"
        else:
            tag_keys = by_tag[sig.key_tag]
            valid, error = _validate(signed, sig, tag_keys, now.timestamp())
            if error in _ON_TIME:
                # out of its validity period: would it verify inside it? (at its inception)
                in_window, _ = _validate(signed, sig, tag_keys, float(sig.inception))
        out.append(
            Signature(
                zone=zone,
                owner=owner,
                covered=dns.rdatatype.to_text(sig.type_covered),
                algorithm=int(sig.algorithm),
                key_tag=int(sig.key_tag),
                signer=_text(sig.signer),
                inception=_ts(sig.inception),
                expiration=_ts(sig.expiration),
                original_ttl=int(sig.original_ttl),
                valid=valid,
                error=error,
                verifies_in_window=in_window,
            )
        )
    return out


def _is_above(signer: dns.name.Name, zone: dns.name.Name) -> bool:
    """``signer`` is an ancestor of ``zone`` (a parent, or further up where no cut lies between)."""
    return signer != zone and zone.is_subdomain(signer)


def _text(name: dns.name.Name) -> str:
    """``name.to_text()``, kept for the next name with the same labels (a zone's signer names
    recur in every RRSIG)."""
    text = _TEXTS.get(name.labels)
    if text is None:
        text = name.to_text()
        if len(_TEXTS) < 4096:
            _TEXTS[name.labels] = text
    return text


_TEXTS: dict[tuple[bytes, ...], str] = {}


#: dnspython's ValidationFailure texts for a signature outside its validity period
_ON_TIME = frozenset({"expired", "not yet valid"})


def _validate(
    signed: _verify.Signed, sig: RRSIG, keys: _verify.KeyGroup, when: float
) -> tuple[bool | None, str | None]:
    """(valid, why not) for one RRSIG at ``when`` (seconds since the epoch), as dnspython's
    ``validate_rrsig`` judges it (``_verify.validate``); valid is None for an algorithm dnspython
    does not implement (ECC-GOST): the signature is not checked."""
    try:
        _verify.validate(signed, sig, keys, when)
    except dns.exception.ValidationFailure as exc:
        return False, str(exc) or "validation failed"
    except dns.exception.UnsupportedAlgorithm as exc:
        return None, str(exc) or "algorithm not supported by the validator"
    return True, None


def _pick(
    resp: _wire.Reply | None,
    name: dns.name.Name,
    rdtype: dns.rdatatype.RdataType,
    *,
    authority: bool = False,
) -> tuple[_wire.RRs | None, _wire.RRs | None]:
    """The RRset of ``rdtype`` at ``name`` in the answer (or authority) section and its RRSIGs."""
    if resp is None:
        return None, None
    rrset = sigs = None
    for rr in resp.authority if authority else resp.answer:
        if rr.name is not name and rr.name != name:  # often the very name asked
            continue
        if rr.rdtype == rdtype:
            rrset = rr
        elif rr.rdtype == dns.rdatatype.RRSIG and rr.covers == rdtype:
            sigs = rr
    return rrset, sigs


def _apex_types(resp: _wire.Reply, name: dns.name.Name) -> frozenset[int] | None:
    """The RR types at the apex, from the NSEC (or the one NSEC3) proving a NODATA answer there.

    None when the answer carries no such proof (unsigned zone, or an unexpected shape): then
    every type is asked for explicitly.
    """
    nsec = [rr for rr in resp.authority if rr.rdtype == dns.rdatatype.NSEC and rr.name == name]
    nsec3 = [rr for rr in resp.authority if rr.rdtype == dns.rdatatype.NSEC3 and rr.name.parent() == name]
    proofs = nsec or nsec3
    if len(proofs) != 1 or len(proofs[0]) != 1:
        return None
    types: set[int] = set()
    proof = next(iter(proofs[0]))
    assert isinstance(proof, NSEC | NSEC3)
    for window, bitmap in proof.windows:
        for i, byte in enumerate(bitmap):
            types.update(window * 256 + i * 8 + bit for bit in range(8) if byte & (0x80 >> bit))
    return frozenset(types)


class ParentKeys:
    """The parent zones' DNSKEY RRsets, asked once per (server, zone) for many children's DS."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, dns.name.Name], tuple[_wire.RRs | None, DnsProblem | None]] = {}
        self._split: dict[int, tuple[RRsetLike, KeysByTag]] = {}

    def by_tag(self, keys: RRsetLike | None) -> KeysByTag:
        """``keys`` (an RRset this cache returned) split by key tag, once for all the children."""
        if keys is None:
            return {}
        with self._lock:
            hit = self._split.get(id(keys))
        if hit is not None and hit[0] is keys:
            return hit[1]
        split = _by_tag(keys)
        with self._lock:
            self._split[id(keys)] = (keys, split)
        return split

    def get(
        self,
        target: DnsTarget,
        signer: dns.name.Name,
        opts: QueryOptions,
        channel: _wire.Channel | None = None,
    ) -> tuple[_wire.RRs | None, DnsProblem | None]:
        """``signer``'s DNSKEY RRset as ``target`` serves it (asked over ``channel``, the sockets
        of ``target``, when given), asked once."""
        key = (str(target), signer)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        with contextlib.ExitStack() as stack:
            if channel is None:
                channel = stack.enter_context(_wire.Channel(target.address, target.port))
            resp, p = _ask(channel, target, signer, "DNSKEY", opts, recursive=True)
        found = (_pick(resp, signer, dns.rdatatype.DNSKEY)[0], p)
        with self._lock:
            return self._cache.setdefault(key, found)


def _answered_by_child(resp: _wire.Reply | None, name: dns.name.Name) -> bool:
    """A DS NODATA whose SOA is the zone's own: the server serves the child, not the parent."""
    return resp is not None and any(
        rr.rdtype == dns.rdatatype.SOA and rr.name == name for rr in resp.authority
    )


def _ds_records(
    zone: str,
    rrset: RRsetLike | None,
    keys: Sequence[DNSKEY],
    tagged: Sequence[tuple[int, DNSKEY]] | None = None,
) -> tuple[DsRecord, ...]:
    """The DS (or CDS) records of ``rrset``, each with the tag of the key of ``keys`` it matches
    (``tagged``: ``keys`` with their tags, when computed already). The digest is the one
    dnspython's ``make_ds`` computes (``_verify.ds_digest``); a digest type it lacks matches
    nothing."""
    out: list[DsRecord] = []
    if rrset is None:
        return ()
    pairs = _tagged(keys) if tagged is None else tagged
    owner: bytes | None = None  # the zone's name in canonical wire form, when a key is a candidate
    for ds in rrset:
        assert isinstance(ds, DSBase)  # a DS or a CDS
        matched: int | None = None
        for tag, key in pairs:
            if tag != ds.key_tag or int(key.algorithm) != int(ds.algorithm):
                continue
            if int(key.flags) & FLAG_REVOKE:
                continue  # RFC 5011 section 2.1: a revoked key anchors nothing, a DS included
            if owner is None:
                owner = dns.name.from_text(zone, None).canonicalize().to_wire()
                assert owner is not None
            key_wire = key.to_wire()
            assert key_wire is not None
            if _verify.ds_digest(owner, key_wire, ds.digest_type) == ds.digest:
                matched = tag
                break
        out.append(
            DsRecord(
                zone=zone,
                key_tag=int(ds.key_tag),
                algorithm=int(ds.algorithm),
                digest_type=int(ds.digest_type),
                digest=ds.digest.hex().upper(),
                matched_key_tag=matched,
            )
        )
    return tuple(out)


def parent_ds(
    zone: str, parent: DnsTarget, keys: Sequence[DNSKEY], opts: QueryOptions | None = None
) -> tuple[tuple[DsRecord, ...] | None, DnsProblem | None]:
    """The DS RRset ``parent`` serves for ``zone``, each record matched against ``keys`` as
    ``zone_view`` matches the parent's DS against the served DNSKEYs: key tag, algorithm and the
    digest recomputed from the key. An empty tuple: the parent answered and holds no DS.

    ``(None, problem)`` when no usable answer came, or when the answer came from the zone itself
    rather than its parent (kind ``not-parent``): then nothing is known about the DS.
    """
    opts = opts or QueryOptions()
    name = dns.name.from_text(zone)
    ztext = name.to_text()
    with _wire.Channel(parent.address, parent.port) as channel:
        resp, p = _ask(channel, parent, name, "DS", opts, recursive=True)
    if p is not None:
        return None, p
    rrset, _ = _pick(resp, name, dns.rdatatype.DS)
    if rrset is None and _answered_by_child(resp, name):
        return None, DnsProblem(
            f"{ztext} DS",
            str(parent),
            "not-parent",
            "answered from the zone itself, not its parent (ask the parent's server or a resolver)",
        )
    return _ds_records(ztext, rrset, keys), None


def zone_view(
    zone: str,
    server: DnsTarget,
    *,
    parent: DnsTarget | None = None,
    opts: QueryOptions | None = None,
    now: datetime | None = None,
    parent_keys: ParentKeys | None = None,
) -> ZoneDnsView:
    """Ask ``server`` about ``zone`` (and ``parent`` for its DS); never raises for DNS trouble.

    The first question is for CDS: its NODATA answer (the usual case) carries the SOA with its
    RRSIG and the NSEC/NSEC3 proof of which types the apex holds, so SOA, and CDNSKEY or
    NSEC3PARAM when the proof shows them absent, need no question of their own. Fewer answers to
    parse is most of the DNS view's CPU time.

    All the questions to one server go over one ``_wire.Channel`` (one UDP socket, and one TCP
    connection if an answer is truncated); the parent's are the same channel when it is the same
    server.
    """
    start = time.perf_counter()
    with _wire.Channel(server.address, server.port) as channel:
        if parent is None or parent == server:
            return _zone_view(zone, server, parent, opts, now, parent_keys, start, channel, channel)
        with _wire.Channel(parent.address, parent.port) as pchannel:
            return _zone_view(zone, server, parent, opts, now, parent_keys, start, channel, pchannel)


def _zone_view(
    zone: str,
    server: DnsTarget,
    parent: DnsTarget | None,
    opts: QueryOptions | None,
    now: datetime | None,
    parent_keys: ParentKeys | None,
    start: float,
    channel: _wire.Channel,
    pchannel: _wire.Channel,
) -> ZoneDnsView:
    opts = opts or QueryOptions()
    now = now or datetime.now(UTC)
    name = dns.name.from_text(zone)
    ztext = name.to_text()
    problems: list[DnsProblem] = []

    def down(problem: DnsProblem) -> ZoneDnsView:
        return ZoneDnsView(
            zone=ztext,
            server=str(server),
            queried_at=now,
            reachable=False,
            problems=(problem,),
            elapsed=time.perf_counter() - start,
        )

    probe, p = _ask(channel, server, name, "CDS", opts)
    if p is not None or probe is None:
        return down(p or DnsProblem(f"{ztext} CDS", str(server), "error", "no answer"))
    cds_rrset, _ = _pick(probe, name, dns.rdatatype.CDS)
    soa, soa_sigs = _pick(probe, name, dns.rdatatype.SOA, authority=True)
    apex = _apex_types(probe, name) if cds_rrset is None else None
    if soa is None:
        soa_resp, p = _ask(channel, server, name, "SOA", opts)
        soa, soa_sigs = _pick(soa_resp, name, dns.rdatatype.SOA)
        if p is not None or soa is None:
            return down(p or DnsProblem(f"{ztext} SOA", str(server), "lame", "no SOA at the zone apex"))

    key_resp, p = _ask(channel, server, name, "DNSKEY", opts)
    if p:
        problems.append(p)
    dnskeys, dnskey_sigs = _pick(key_resp, name, dns.rdatatype.DNSKEY)
    tagged = _tagged(dnskeys or ())  # each key's tag once for the whole zone
    key_rdatas = [k for _, k in tagged]
    keys = tuple(published_key(ztext, k, tag) for tag, k in tagged)
    by_tag = _by_tag(dnskeys, tagged)

    sigs = _signatures(ztext, soa, soa_sigs, dnskeys, now, by_tag)
    sigs += _signatures(ztext, dnskeys, dnskey_sigs, dnskeys, now, by_tag)
    missing_sigs: list[str] = []
    if keys:
        if soa_sigs is None:
            missing_sigs.append("SOA")
        if dnskey_sigs is None:
            missing_sigs.append("DNSKEY")

    nsec3: Nsec3Params | None = None
    nsec_at_apex = any(rr.rdtype == dns.rdatatype.NSEC and rr.name == name for rr in probe.authority)
    if apex is None or dns.rdatatype.NSEC3PARAM in apex:
        n3_resp, p = _ask(channel, server, name, "NSEC3PARAM", opts)
        if p:
            problems.append(p)
        n3, n3_sigs = _pick(n3_resp, name, dns.rdatatype.NSEC3PARAM)
        for rd in n3 or ():
            assert isinstance(rd, NSEC3PARAM)
            nsec3 = Nsec3Params(
                ztext, int(rd.algorithm), int(rd.flags), int(rd.iterations), rd.salt.hex().upper()
            )
            break
        if n3 is not None:
            sigs += _signatures(ztext, n3, n3_sigs, dnskeys, now, by_tag)
            if keys and n3_sigs is None:
                missing_sigs.append("NSEC3PARAM")
        nsec_at_apex = nsec_at_apex or bool(
            n3_resp is not None
            and any(rr.rdtype == dns.rdatatype.NSEC and rr.name == name for rr in n3_resp.authority)
        )

    cds = _ds_records(ztext, cds_rrset, key_rdatas, tagged)
    cdnskey: tuple[PublishedKey, ...] = ()
    if apex is None or dns.rdatatype.CDNSKEY in apex:
        cdk_resp, p = _ask(channel, server, name, "CDNSKEY", opts)
        if p:
            problems.append(p)
        cdk_rrset, _ = _pick(cdk_resp, name, dns.rdatatype.CDNSKEY)
        cdnskey = tuple(published_key(ztext, k) for k in cdk_rrset or () if isinstance(k, DNSKEYBase))

    ds: tuple[DsRecord, ...] | None = None
    ds_sigs: list[Signature] = []
    if parent is not None and name != dns.name.root:
        ds_resp, p = _ask(pchannel, parent, name, "DS", opts, recursive=True)
        ds_rrset, ds_rrsig = _pick(ds_resp, name, dns.rdatatype.DS)
        if p:
            problems.append(p)
        elif ds_rrset is None and _answered_by_child(ds_resp, name):
            problems.append(
                DnsProblem(
                    f"{ztext} DS",
                    str(parent),
                    "not-parent",
                    "answered from the zone itself, not its parent: DS not checked "
                    "(ask the parent's server or a resolver)",
                )
            )
        else:
            ds = _ds_records(ztext, ds_rrset, key_rdatas, tagged)
            if ds_rrsig is not None:
                # the parent's keys, asked of the parent by the name of the first RRSIG's signer
                # above the zone (the signer a DS RRSIG must have)
                signer = next(
                    (s.signer for s in ds_rrsig if isinstance(s, RRSIG) and _is_above(s.signer, name)), None
                )
                pcache = parent_keys or ParentKeys()
                pkeys: _wire.RRs | None = None
                if signer is not None:
                    pkeys, p = pcache.get(parent, signer, opts, pchannel)
                    if p:
                        problems.append(p)
                ds_sigs = _signatures(
                    ztext, ds_rrset, ds_rrsig, pkeys, now, pcache.by_tag(pkeys), signed_above=name
                )

    serial = next((int(getattr(rd, "serial", 0)) for rd in soa), None)
    return ZoneDnsView(
        zone=ztext,
        server=str(server),
        queried_at=now,
        reachable=True,
        soa_serial=serial,
        keys=keys,
        signatures=tuple(sigs),
        nsec3param=nsec3,
        nsec_at_apex=nsec_at_apex,
        cds=cds,
        cdnskey=cdnskey,
        ds=ds,
        ds_server=str(parent) if parent is not None else None,
        ds_signatures=tuple(ds_sigs),
        answered_without_rrsig=tuple(missing_sigs),
        problems=tuple(problems),
        elapsed=time.perf_counter() - start,
    )


def zone_views(
    queries: Sequence[ZoneQuery],
    opts: QueryOptions | None = None,
    *,
    now: datetime | None = None,
    parent_keys: ParentKeys | None = None,
    view: ViewFunction | None = None,
) -> list[ZoneDnsView]:
    """Check many zones, at most ``opts.concurrency`` at a time; results in input order.

    The parents' DNSKEY RRsets (to validate each DS RRSIG) are asked once for all the zones.
    ``view`` takes each zone's view instead of ``zone_view`` (``SharedViews.view``: the views a
    scan's other hosts took).
    """
    opts = opts or QueryOptions()
    if not queries:
        return []
    cache = parent_keys or ParentKeys()
    workers = max(1, min(opts.concurrency, len(queries)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="windns-dns") as pool:
        if view is None:
            view = functools.partial(zone_view, parent_keys=cache)
        futures = [pool.submit(view, q.zone, q.server, parent=q.parent, opts=opts, now=now) for q in queries]
        return [f.result() for f in futures]
