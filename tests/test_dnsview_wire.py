"""The DNS view's questions on the wire (toolkit.dnsview._wire): the query dnspython would send,
one socket per server for a zone's questions, and every answer judged as ``dns.query`` judges it.

Counts are taken at seams (``Channel.udp``/``Channel.tcp``, ``_wire.socket_factory``, what a stub
server receives), never by timing.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest

from toolkit.dnsview import _wire
from toolkit.dnsview.query import DnsTarget, ParentKeys, QueryOptions, _ask, parse_target, zone_view
from toolkit.testing.bind import BindServer, ZoneSpec

FAST = QueryOptions(timeout=0.3, retries=1)

#: a stub's answer to one query: the datagrams (or TCP messages) to send back, maybe none
Script = Callable[[dns.message.Message, int], list[bytes]]


@dataclass
class Stub:
    """A DNS server on 127.0.0.1 that answers by ``script`` and records what it was asked."""

    script: Script
    tcp: Script | None = None  # also listen on TCP and answer by this
    close_after_answer: bool = False  # close each TCP connection after one answer
    port: int = 0
    asked: list[tuple[tuple[str, int], dns.message.Message]] = field(default_factory=list)
    connections: int = 0


@pytest.fixture
def stub() -> Iterator[Callable[..., Stub]]:
    stops: list[Callable[[], None]] = []

    def start(script: Script, **kw: object) -> Stub:
        s = Stub(script, **kw)  # type: ignore[arg-type]
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", 0))
        udp.settimeout(0.05)
        s.port = int(udp.getsockname()[1])
        stop = threading.Event()
        threads = [threading.Thread(target=_serve_udp, args=(s, udp, stop), daemon=True)]
        sockets = [udp]
        if s.tcp is not None:
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", s.port))
            listener.listen(4)
            listener.settimeout(0.05)
            threads.append(threading.Thread(target=_serve_tcp, args=(s, listener, stop), daemon=True))
            sockets.append(listener)
        for t in threads:
            t.start()

        def halt() -> None:
            stop.set()
            for t in threads:
                t.join(timeout=2)
            for sock in sockets:
                sock.close()

        stops.append(halt)
        return s

    yield start
    for halt in stops:
        halt()


def _serve_udp(s: Stub, sock: socket.socket, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            data, peer = sock.recvfrom(4096)
        except TimeoutError:
            continue
        except OSError:
            return
        q = dns.message.from_wire(data)
        s.asked.append((peer, q))
        for out in s.script(q, len(s.asked)):
            sock.sendto(out, peer)


def _serve_tcp(s: Stub, listener: socket.socket, stop: threading.Event) -> None:
    assert s.tcp is not None
    while not stop.is_set():
        try:
            conn, peer = listener.accept()
        except TimeoutError:
            continue
        except OSError:
            return
        s.connections += 1
        conn.settimeout(1)
        with conn:
            while not stop.is_set():
                try:
                    head = _read_exactly(conn, 2)
                    q = dns.message.from_wire(_read_exactly(conn, struct.unpack("!H", head)[0]))
                except (OSError, EOFError):
                    break
                s.asked.append((peer, q))
                for out in s.tcp(q, len(s.asked)):
                    conn.sendall(struct.pack("!H", len(out)) + out)
                if s.close_after_answer:
                    break


def _read_exactly(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def answer(q: dns.message.Message, *, rcode: int = dns.rcode.NOERROR, tc: bool = False) -> bytes:
    """An authoritative answer to ``q`` with one TXT record (or none, with ``rcode``/``tc``)."""
    r = dns.message.make_response(q)
    r.flags |= dns.flags.AA | (dns.flags.TC if tc else 0)
    r.set_rcode(rcode)
    if rcode == dns.rcode.NOERROR and not tc:
        r.answer.append(dns.rrset.from_text(q.question[0].name, 60, "IN", "TXT", f'"id {q.id}"'))
    return r.to_wire()


def ask(channel: _wire.Channel, s: Stub, qname: str, opts: QueryOptions = FAST) -> tuple[object, object]:
    return _ask(channel, DnsTarget("127.0.0.1", s.port), dns.name.from_text(qname), "TXT", opts)


def txt(reply: object) -> str:
    assert isinstance(reply, _wire.Reply)
    return str(next(iter(reply.answer[0])))


@pytest.mark.parametrize(
    ("qname", "rdtype", "flags", "payload"),
    [
        ("corp.example.", "CDS", 0, 1232),
        ("Corp.Example", "DNSKEY", dns.flags.RD | dns.flags.CD, 1232),
        (".", "DS", 0, 4096),
        ("a.very.long.name.below.branch.corp.example.", "NSEC3PARAM", 0, 512),
    ],
)
def test_the_query_is_the_one_dnspython_makes(qname: str, rdtype: str, flags: int, payload: int) -> None:
    q = dns.message.make_query(qname, rdtype, want_dnssec=True, payload=payload)
    q.flags = dns.flags.Flag(flags)
    name = dns.name.from_text(qname)
    assert _wire.query_wire(q.id, name, int(dns.rdatatype.from_text(rdtype)), flags, payload) == q.to_wire()


def _variants() -> Iterator[tuple[str, dns.message.Message, dns.message.Message]]:
    q = dns.message.make_query("corp.example.", "DNSKEY", want_dnssec=True)
    yield "the answer", q, dns.message.make_response(q)
    r = dns.message.make_response(q)
    r.id ^= 1
    yield "another id", q, r
    r = dns.message.make_response(q)
    r.flags &= ~dns.flags.QR
    yield "no QR", q, r
    r = dns.message.make_response(q)
    r.set_opcode(dns.opcode.NOTIFY)
    yield "another opcode", q, r
    for name, rdtype, rdclass in [
        ("CORP.example.", "DNSKEY", "IN"),
        ("other.example.", "DNSKEY", "IN"),
        ("corp.example.", "DS", "IN"),
        ("corp.example.", "DNSKEY", "CH"),
    ]:
        r = dns.message.make_response(q)
        r.question = [
            dns.rrset.RRset(
                dns.name.from_text(name), dns.rdataclass.from_text(rdclass), dns.rdatatype.from_text(rdtype)
            )
        ]
        yield f"question {name} {rdclass} {rdtype}", q, r
    r = dns.message.make_response(q)
    r.question = [r.question[0], r.question[0]]
    yield "the question twice", q, r
    r = dns.message.make_response(q)
    r.question.append(dns.rrset.RRset(dns.name.from_text("x.example."), dns.rdataclass.IN, dns.rdatatype.A))
    yield "a second question", q, r
    for rcode in (
        dns.rcode.SERVFAIL,
        dns.rcode.REFUSED,
        dns.rcode.NOERROR,
        dns.rcode.NXDOMAIN,
        dns.rcode.BADVERS,
    ):
        r = dns.message.make_response(q)
        r.question = []
        r.set_rcode(rcode)
        yield f"no question, {dns.rcode.to_text(rcode)}", q, r


@pytest.mark.parametrize(("what", "q", "r"), list(_variants()), ids=[v[0] for v in _variants()])
def test_is_response_judges_as_dnspython(what: str, q: dns.message.Message, r: dns.message.Message) -> None:
    got = dns.message.from_wire(r.to_wire())
    reply = _wire.Reply.of(got)
    assert _wire.is_response(reply, q.id, q.question[0].name, int(q.question[0].rdtype)) == q.is_response(got)


def test_from_server_is_the_address_and_port_asked() -> None:
    ch = _wire.Channel("127.0.0.1", 5353)
    ch._family()
    assert ch._from_server(("127.0.0.1", 5353))
    assert not ch._from_server(("127.0.0.1", 5354))
    assert not ch._from_server(("127.0.0.2", 5353))
    v6 = _wire.Channel("::1", 53)
    v6._family()
    assert v6._from_server(("0:0::1", 53, 0, 0)) and not v6._from_server(("::2", 53, 0, 0))


def test_one_socket_serves_every_question_and_survives_failed_answers(
    stub: Callable[..., Stub], monkeypatch: pytest.MonkeyPatch
) -> None:
    def script(q: dns.message.Message, n: int) -> list[bytes]:
        name = q.question[0].name.to_text()
        if name.startswith("truncated"):
            return [answer(q, tc=True)]  # and no TCP listener: TCP fails
        if name.startswith("servfail"):
            return [answer(q, rcode=dns.rcode.SERVFAIL)]
        if name.startswith("silent"):
            return []
        if name.startswith("wrongid"):
            r = dns.message.from_wire(answer(q))
            r.id ^= 0x8000
            return [r.to_wire()]
        return [answer(q)]

    s = stub(script)
    _, made = _count(monkeypatch)
    with _wire.Channel("127.0.0.1", s.port) as ch:
        got = [ask(ch, s, f"{n}.example.") for n in ("truncated", "servfail", "silent", "wrongid", "fine")]
    kinds = [getattr(p, "kind", None) for _, p in got]
    assert kinds == ["truncated", "servfail", "timeout", "formerr", None]
    assert txt(got[-1][0]) == f'"id {s.asked[-1][1].id}"'
    # one UDP socket (and one TCP attempt, refused) for all five questions
    assert made == [socket.SOCK_DGRAM, socket.SOCK_STREAM]
    assert len({peer for peer, _ in s.asked}) == 1
    # the silent question was asked once per attempt, with the same ID each time
    silent = [q for _, q in s.asked if q.question[0].name.to_text().startswith("silent")]
    assert len(silent) == FAST.retries + 1 and len({q.id for q in silent}) == 1


def test_each_question_has_its_own_timeout(stub: Callable[..., Stub]) -> None:
    """A question that times out leaves the next one on the same socket its full attempts."""
    s = stub(lambda q, n: [])
    opts = QueryOptions(timeout=0.2, retries=2)
    with _wire.Channel("127.0.0.1", s.port) as ch:
        first = ask(ch, s, "one.example.", opts)
        second = ask(ch, s, "two.example.", opts)
    assert [getattr(p, "kind", None) for _, p in (first, second)] == ["timeout", "timeout"]
    names = [q.question[0].name.to_text() for _, q in s.asked]
    assert names == ["one.example."] * 3 + ["two.example."] * 3


def test_a_retry_takes_the_answer_to_either_attempt(stub: Callable[..., Stub]) -> None:
    s = stub(lambda q, n: [] if n == 1 else [answer(q)])  # the first datagram is lost
    with _wire.Channel("127.0.0.1", s.port) as ch:
        reply, problem = ask(ch, s, "retry.example.")
    assert problem is None and len(s.asked) == 2 and txt(reply) == f'"id {s.asked[0][1].id}"'


def test_an_earlier_questions_answer_is_dropped(stub: Callable[..., Stub]) -> None:
    """The first answer comes twice; the copy waits on the socket and must not answer question 2."""
    s = stub(lambda q, n: [answer(q), answer(q)] if n == 1 else [answer(q)])
    with _wire.Channel("127.0.0.1", s.port) as ch:
        got = [ask(ch, s, f"q{i}.example.") for i in (1, 2, 3)]
    assert [p for _, p in got] == [None, None, None]
    assert [txt(r) for r, _ in got] == [f'"id {q.id}"' for _, q in s.asked]


def test_truncated_answers_share_one_tcp_connection(stub: Callable[..., Stub]) -> None:
    s = stub(lambda q, n: [answer(q, tc=True)], tcp=lambda q, n: [answer(q)])
    with _wire.Channel("127.0.0.1", s.port) as ch:
        got = [ask(ch, s, f"big{i}.example.") for i in (1, 2, 3)]
    assert [p for _, p in got] == [None, None, None]
    assert s.connections == 1


def test_a_truncated_answer_cut_off_mid_record_is_asked_again_over_tcp(stub: Callable[..., Stub]) -> None:
    """The records of a truncated datagram may end anywhere: only its header and question are
    read (to match it to the question), and the answer comes over TCP."""

    def cut(q: dns.message.Message, n: int) -> list[bytes]:
        r = dns.message.from_wire(answer(q))
        r.flags |= dns.flags.TC
        return [r.to_wire()[:-3]]  # its last record cut short

    s = stub(cut, tcp=lambda q, n: [answer(q)])
    with _wire.Channel("127.0.0.1", s.port) as ch:
        reply, problem = ask(ch, s, "cut.example.")
    assert problem is None and txt(reply) == f'"id {s.asked[0][1].id}"'
    assert s.connections == 1 and len(s.asked) == 2


def test_a_truncated_answer_is_read_as_far_as_its_question() -> None:
    wire = _msg("DNSKEY", (r(Q, "DNSKEY", KEY), r(Q, "RRSIG", SIG)), flags=0x8600)[:-30]
    with pytest.raises(dns.exception.FormError):
        dns.message.from_wire(wire)  # what dns.query.udp would have made of it
    reply = _wire.read_reply(wire, int(dns.rdatatype.DNSKEY))
    assert reply.flags & dns.flags.TC and not reply.answer and not reply.authority
    assert _wire.is_response(reply, 4242, dns.name.from_text("corp.example."), int(dns.rdatatype.DNSKEY))


def test_a_tcp_connection_the_server_closed_is_opened_again(stub: Callable[..., Stub]) -> None:
    s = stub(lambda q, n: [answer(q, tc=True)], tcp=lambda q, n: [answer(q)], close_after_answer=True)
    with _wire.Channel("127.0.0.1", s.port) as ch:
        got = [ask(ch, s, f"big{i}.example.") for i in (1, 2)]
    assert [p for _, p in got] == [None, None]
    assert [txt(r) for r, _ in got] == [f'"id {q.id}"' for _, q in s.asked[1::2]]  # UDP, TCP, UDP, TCP
    assert s.connections == 2


def _count(monkeypatch: pytest.MonkeyPatch) -> tuple[list[tuple[str, str, str]], list[int]]:
    """Record every question (transport, name, type) and every socket made, at the channel's seams."""
    asked: list[tuple[str, str, str]] = []
    made: list[int] = []
    udp, tcp, factory = _wire.Channel.udp, _wire.Channel.tcp, _wire.socket_factory

    def on_udp(self: _wire.Channel, qid: int, qname: dns.name.Name, qtype: int, *a: object) -> object:
        asked.append(("udp", qname.to_text(), dns.rdatatype.to_text(qtype)))
        return udp(self, qid, qname, qtype, *a)  # type: ignore[arg-type]

    def on_tcp(self: _wire.Channel, qid: int, qname: dns.name.Name, qtype: int, *a: object) -> object:
        asked.append(("tcp", qname.to_text(), dns.rdatatype.to_text(qtype)))
        return tcp(self, qid, qname, qtype, *a)  # type: ignore[arg-type]

    monkeypatch.setattr(_wire.Channel, "udp", on_udp)
    monkeypatch.setattr(_wire.Channel, "tcp", on_tcp)
    monkeypatch.setattr(_wire, "socket_factory", lambda *a: (made.append(a[1]), factory(*a))[1])
    return asked, made


def test_questions_per_zone(
    demo_bind: tuple[BindServer, list[ZoneSpec]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An NSEC3 zone: CDS (its NODATA answer carries the SOA and the NSEC3 proof of the apex
    types), DNSKEY, NSEC3PARAM, the DS at the parent, and the parent's DNSKEY once for all its
    children. An NSEC zone needs no NSEC3PARAM. All over one UDP socket per zone."""
    server, _ = demo_bind
    t = parse_target(server.address)
    asked, made = _count(monkeypatch)
    parents = ParentKeys()
    views = {}
    for zone in ("corp.example", "rollover.corp.example", "ecdsa.corp.example"):
        asked.clear()
        made.clear()
        views[zone] = (zone_view(zone, t, parent=t, parent_keys=parents), list(asked), list(made))
    corp, rollover, ecdsa = views.values()
    assert [a[2] for a in corp[1]] == ["CDS", "DNSKEY", "NSEC3PARAM", "DS", "DNSKEY"]
    assert corp[1][-1][1] == "example."  # the parent's keys, for the DS RRSIG
    assert [a[2] for a in rollover[1]] == ["CDS", "DNSKEY", "NSEC3PARAM", "DS", "DNSKEY"]
    assert rollover[1][-1][1] == "corp.example."
    assert [a[2] for a in ecdsa[1]] == ["CDS", "DNSKEY", "DS"]  # corp.example.'s keys known now
    for view, questions, sockets in views.values():
        assert view.reachable and not view.problems and all(s.valid for s in view.signatures)
        assert {a[0] for a in questions} == {"udp"} and sockets == [socket.SOCK_DGRAM]


# --- read_reply: only the RRsets the view reads, exactly as dnspython reads them ---------------

_QTYPES = ("CDS", "DNSKEY", "NSEC3PARAM", "CDNSKEY", "SOA")


def _wanted(reply: _wire.Reply, qtype: int) -> list[list[tuple[object, ...]]]:
    """The RRsets of ``reply`` the view reads, each as comparable values (and its canonical forms)."""

    def rows(
        rrsets: list[_wire.RRs], types: frozenset[int], signed: frozenset[int]
    ) -> list[tuple[object, ...]]:
        out = []
        for rr in rrsets:
            if not (rr.covers in signed if rr.rdtype == dns.rdatatype.RRSIG else rr.rdtype in types):
                continue
            wires = rr.wires if rr.wires is not None else [rd.to_digestable() for rd in rr]
            assert wires == [rd.to_digestable() for rd in rr]
            out.append((rr.name.to_text(), rr.rdclass, rr.rdtype, rr.covers, rr.ttl, list(rr), wires))
        return out

    one = frozenset({qtype})
    return [
        rows(reply.answer, one, one),
        rows(reply.authority, _wire.AUTHORITY_TYPES, _wire.AUTHORITY_SIGNED),
    ]


def _same_as_dnspython(
    wire: bytes, qtype: int, *, fast: bool = True, asked: _wire.Asked | None = None
) -> None:
    """``read_reply`` gives what dnspython reads of ``wire`` (and raises what it raises), told or
    not told the question's name (``asked``)."""
    for told in (None, asked) if asked is not None else (None,):
        _same_once(wire, qtype, fast=fast, asked=told)


def _same_once(wire: bytes, qtype: int, *, fast: bool, asked: _wire.Asked | None) -> None:
    try:
        expected = _wire.Reply.of(dns.message.from_wire(wire))
    except Exception as exc:  # noqa: BLE001 - the same exception, with the same text
        with pytest.raises(type(exc)) as got:
            _wire.read_reply(wire, qtype, asked)
        assert str(got.value) == str(exc)
        return
    if fast:
        _wire._read(wire, qtype, asked)  # the fast path takes it: no fallback
    reply = _wire.read_reply(wire, qtype, asked)

    def question(r: _wire.Reply) -> list[tuple[str, int, int]]:
        return [(name.to_text(), rdclass, rdtype) for name, rdclass, rdtype in r.question]  # with case

    assert (reply.id, reply.flags, reply.ednsflags, reply.rcode(), question(reply)) == (
        expected.id,
        expected.flags,
        expected.ednsflags,
        expected.rcode(),
        question(expected),
    )
    assert _wanted(reply, qtype) == _wanted(expected, qtype)


def test_read_reply_reads_the_demo_answers_as_dnspython(demo_bind: tuple[BindServer, list[ZoneSpec]]) -> None:
    server, specs = demo_bind
    t = parse_target(server.address)
    wires: list[tuple[bytes, int, _wire.Asked | None]] = []

    def keep(wire: bytes, qtype: int, asked: _wire.Asked | None) -> _wire.Reply:
        wires.append((wire, qtype, asked))
        return _wire.read_message(wire, qtype)

    with _wire.Channel(t.address, t.port) as ch:
        for spec in specs:
            name = dns.name.from_text(spec.name)
            for rdtype in _QTYPES:
                ch.udp(ch.new_id(), name, int(dns.rdatatype.from_text(rdtype)), 0, 1232, 2.0, keep)
            flags = int(dns.flags.RD | dns.flags.CD)
            ch.udp(ch.new_id(), name, int(dns.rdatatype.DS), flags, 1232, 2.0, keep)
    assert len(wires) == len(specs) * (len(_QTYPES) + 1)
    for wire, qtype, asked in wires:
        assert asked is not None
        _same_as_dnspython(wire, qtype, asked=asked)


def _name(text: str) -> bytes:
    wire = dns.name.from_text(text).to_wire()
    assert wire is not None
    return wire


def _rdata(rdtype: str, text: str) -> bytes:
    wire = dns.rdata.from_text("IN", rdtype, text).to_wire()
    assert wire is not None
    return wire


def _ptr(offset: int) -> bytes:
    return struct.pack("!H", 0xC000 | offset)


Q = _ptr(12)  # a pointer to the question's name
OPT = (b"\x00", "OPT", b"", 0x8000, 1232)  # EDNS0, DO, 1232 octets
KEY = _rdata("DNSKEY", "257 3 13 " + "A" * 86 + "==")
KEY2 = _rdata("DNSKEY", "256 3 13 " + "B" * 86 + "==")
SIG = _rdata("RRSIG", "DNSKEY 13 2 3600 20260310000000 20260225000000 1234 Corp.Example. " + "C" * 88)
SOA = _rdata("SOA", "ns.corp.example. admin.corp.example. 1 3600 600 86400 60")
SOA_SIG = _rdata("RRSIG", "SOA 13 2 3600 20260310000000 20260225000000 1234 corp.example. " + "D" * 88)
NSEC = _rdata("NSEC", "z.corp.example. NS SOA RRSIG NSEC DNSKEY")
NS = _name("ns.corp.example.")

#: a record: owner (wire, or an int: a pointer to the owner or rdata of the record of that
#: index, negative for its rdata), type, rdata, TTL, class
Record = tuple[bytes | int, str, bytes, int, int]


def _msg(
    qtype: str,
    answer: tuple[Record, ...] = (),
    authority: tuple[Record, ...] = (),
    additional: tuple[Record, ...] = (OPT,),
    *,
    flags: int = 0x8400,
    qdcount: int = 1,
) -> bytes:
    """An answer to ``corp.example. IN qtype`` with these records."""
    records = answer + authority + additional
    head = struct.pack("!HHHHHH", 4242, flags, qdcount, len(answer), len(authority), len(additional))
    out = (
        head + (_name("corp.example.") + struct.pack("!HH", int(dns.rdatatype.from_text(qtype)), 1)) * qdcount
    )
    owners: list[int] = []
    rdatas: list[int] = []
    for owner, rdtype, rdata, ttl, rdclass in records:
        if isinstance(owner, int):
            owner = _ptr(owners[owner] if owner >= 0 else rdatas[-owner - 1])
        owners.append(len(out))
        out += owner + struct.pack("!HHIH", int(dns.rdatatype.from_text(rdtype)), rdclass, ttl, len(rdata))
        rdatas.append(len(out))
        out += rdata
    return out


def r(owner: bytes | int, rdtype: str, rdata: bytes, ttl: int = 300, rdclass: int = 1) -> Record:
    return (owner, rdtype, rdata, ttl, rdclass)


#: answers read on the fast path (no dnspython message reader): (question type, wire)
USUAL = {
    "keys and a signature": (
        "DNSKEY",
        _msg("DNSKEY", (r(Q, "DNSKEY", KEY), r(Q, "DNSKEY", KEY2), r(Q, "RRSIG", SIG))),
    ),
    "a record twice, the lower TTL kept": (
        "DNSKEY",
        _msg("DNSKEY", (r(Q, "DNSKEY", KEY, 600), r(Q, "DNSKEY", KEY2), r(Q, "DNSKEY", KEY, 60))),
    ),
    "the same type in two classes": (
        "DNSKEY",
        _msg("DNSKEY", (r(Q, "DNSKEY", KEY), r(Q, "DNSKEY", KEY2, 300, 3))),
    ),
    "a TTL over 2**31": ("DNSKEY", _msg("DNSKEY", (r(Q, "DNSKEY", KEY, 0x80000001),))),
    "owners spelled out, upper case, and a pointer to a pointer": (
        "DNSKEY",
        _msg("DNSKEY", (r(_name("CORP.example."), "DNSKEY", KEY), r(0, "DNSKEY", KEY2), r(1, "RRSIG", SIG))),
    ),
    "a label and a pointer, and a pointer to that": (
        "DNSKEY",
        _msg("DNSKEY", (r(b"\x03sub" + Q, "DNSKEY", KEY), r(0, "DNSKEY", KEY2), r(Q, "DNSKEY", KEY2))),
    ),
    "NODATA with the SOA, NSEC and their RRSIGs; NS and glue not read": (
        "CDS",
        _msg(
            "CDS",
            (),
            (r(Q, "SOA", SOA), r(Q, "RRSIG", SOA_SIG), r(Q, "NSEC", NSEC), r(Q, "NS", NS)),
            (r(-4, "A", b"\x7f\x00\x00\x01"), r(4, "RRSIG", SIG), OPT),
        ),
    ),
    "an owner pointing into a record not read": (
        "CDS",
        _msg("CDS", (), (r(Q, "NS", NS), r(-1, "SOA", SOA), r(1, "NSEC", NSEC))),
    ),
    "an option in the OPT record": (
        "DNSKEY",
        _msg("DNSKEY", (r(Q, "DNSKEY", KEY),), (), (r(b"\x00", "OPT", b"\x00\x03\x00\x02ab", 0x8000, 1232),)),
    ),
    "an extended rcode": ("DNSKEY", _msg("DNSKEY", (), (), (r(b"\x00", "OPT", b"", 0x01008000, 1232),))),
    "no EDNS": ("DNSKEY", _msg("DNSKEY", (r(Q, "DNSKEY", KEY),), (), ())),
    "RRSIGs: the root signing, no signature, one signer in two spellings": (
        "DNSKEY",
        _msg(
            "DNSKEY",
            (
                r(Q, "RRSIG", SIG[:18] + b"\x00"),
                r(Q, "RRSIG", SIG[:18] + _name("corp.example.") + b"sig"),
                r(Q, "RRSIG", SIG[:18] + _name("CORP.example.") + b"sig"),
                r(Q, "RRSIG", SIG),
            ),
        ),
    ),
    "no question": ("DNSKEY", _msg("DNSKEY", flags=0x8402, qdcount=0)),
    "the question twice": ("DNSKEY", _msg("DNSKEY", (r(Q, "DNSKEY", KEY),), qdcount=2)),
}

#: answers left to dnspython's message reader, which reads them or raises: (question type, wire)
UNUSUAL = {
    "the SOA twice": ("CDS", _msg("CDS", (), (r(Q, "SOA", SOA), r(Q, "SOA", SOA, 60)))),
    "NOTIFY": ("DNSKEY", _msg("DNSKEY", (r(Q, "DNSKEY", KEY),), flags=0xA400)),
    "UPDATE": ("DNSKEY", _msg("DNSKEY", flags=0xA800)),
    "a short header": ("DNSKEY", b"\x10\x92\x84\x00\x00"),
    "trailing bytes": ("DNSKEY", _msg("DNSKEY", (r(Q, "DNSKEY", KEY),)) + b"\x00"),
    "a pointer forwards": ("DNSKEY", _msg("DNSKEY", (r(_ptr(0x3F0), "DNSKEY", KEY),))),
    "a pointer to itself": ("DNSKEY", _msg("DNSKEY", (r(_ptr(30), "DNSKEY", KEY),))),
    "a bad label type": ("DNSKEY", _msg("DNSKEY", (r(b"\x40", "DNSKEY", KEY),))),
    "an rdata past the end": ("DNSKEY", _msg("DNSKEY", (r(Q, "DNSKEY", KEY),))[:-20]),
    "a bad record the view does not read": (
        "DNSKEY",
        _msg("DNSKEY", (r(Q, "DNSKEY", KEY),), (), (r(Q, "A", b"\x7f\x00\x01"), OPT)),
    ),
    "a short RRSIG the view does not read": ("CDS", _msg("CDS", (), (r(Q, "RRSIG", b"\x00\x32\x0d"),))),
    "a compressed RRSIG signer": ("DNSKEY", _msg("DNSKEY", (r(Q, "RRSIG", SIG[:18] + Q + SIG[18 + 14 :]),))),
    "an RRSIG signer past the record": ("DNSKEY", _msg("DNSKEY", (r(Q, "RRSIG", SIG[:18] + b"\x04corp"),))),
    "an RRSIG signer with a bad label": (
        "DNSKEY",
        _msg("DNSKEY", (r(Q, "RRSIG", SIG[:18] + b"\x41" + b"a" * 65),)),
    ),
    "an RRSIG signer too long": (
        "DNSKEY",
        _msg("DNSKEY", (r(Q, "RRSIG", SIG[:18] + (b"\x3f" + b"a" * 63) * 4 + b"\x00"),)),
    ),
    "an RRSIG without a signer": ("DNSKEY", _msg("DNSKEY", (r(Q, "RRSIG", SIG[:18]),))),
    "OPT in the answer": ("DNSKEY", _msg("DNSKEY", (OPT,))),
    "two OPT records": ("DNSKEY", _msg("DNSKEY", (), (), (OPT, OPT))),
    "TSIG": ("DNSKEY", _msg("DNSKEY", (), (), (r(_name("key."), "TSIG", b"\x00" * 20, 0, 255),))),
}


@pytest.mark.parametrize("what", list(USUAL))
def test_read_reply_reads_usual_answers_itself_as_dnspython(what: str) -> None:
    qtype, wire = USUAL[what]
    for asked in ("corp.example.", "CORP.EXAMPLE.", "other.example."):  # names keep the answer's case
        name = dns.name.from_text(asked)
        spelled = name.to_wire()
        assert spelled is not None
        _same_as_dnspython(wire, int(dns.rdatatype.from_text(qtype)), asked=(name, spelled))


@pytest.mark.parametrize("what", list(UNUSUAL))
def test_read_reply_leaves_unusual_answers_to_dnspython(what: str) -> None:
    qtype, wire = UNUSUAL[what]
    with pytest.raises(Exception):  # noqa: B017 - _read gives up (dnspython says why, below)
        _wire._read(wire, int(dns.rdatatype.from_text(qtype)))
    _same_as_dnspython(wire, int(dns.rdatatype.from_text(qtype)), fast=False)


def test_without_poll_the_channel_waits_with_select(
    stub: Callable[..., Stub], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows has no ``select.poll``: the same answers, and the same timeouts, with ``select``."""
    monkeypatch.setattr(_wire, "_POLL", False)
    s = stub(lambda q, n: [] if q.question[0].name.to_text().startswith("silent") else [answer(q)])
    with _wire.Channel("127.0.0.1", s.port) as ch:
        got = [ask(ch, s, f"{n}.example.") for n in ("one", "silent", "two")]
    assert [getattr(p, "kind", None) for _, p in got] == [None, "timeout", None]


def test_a_parent_on_another_server_has_its_own_channel(
    demo_bind: tuple[BindServer, list[ZoneSpec]], stub: Callable[..., Stub], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The DS and the parent's keys asked of another server (a stub relaying to BIND): the same
    view, the parent's questions on a second socket."""
    import dns.query

    server, _ = demo_bind
    t = parse_target(server.address)
    relay = stub(lambda q, n: [dns.query.udp(q, t.address, timeout=2, port=t.port).to_wire()])
    parent = DnsTarget("127.0.0.1", relay.port)
    now = datetime.now(UTC)
    direct = zone_view("rollover.corp.example", t, parent=t, now=now)
    asked, made = _count(monkeypatch)
    relayed = zone_view("rollover.corp.example", t, parent=parent, now=now)
    assert made == [socket.SOCK_DGRAM, socket.SOCK_DGRAM]
    assert [q.question[0].rdtype for _, q in relay.asked] == [dns.rdatatype.DS, dns.rdatatype.DNSKEY]
    assert [a[2] for a in asked] == ["CDS", "DNSKEY", "NSEC3PARAM", "DS", "DNSKEY"]
    for part in ("keys", "signatures", "nsec3param", "ds", "ds_signatures", "problems", "soa_serial"):
        got, expected = getattr(relayed, part), getattr(direct, part)
        if isinstance(got, tuple):  # BIND varies the order of records in an RRset
            got, expected = sorted(got, key=repr), sorted(expected, key=repr)
        assert got == expected, part
    assert relayed.ds_server == str(parent) and direct.ds_server == str(t)
