"""The DNS view's questions on the wire: the query packed by hand, one socket per server, and
answers read only as far as the view reads them.

``dns.query.udp`` makes a socket, a selector and a query ``Message`` for every question, and
``dns.message.from_wire`` builds every record of the answer into RRsets (rendering each record
again to weed out duplicates); for the DNS view that was most of a zone's CPU time. A ``Channel``
keeps one UDP socket per server for all of a zone's questions (and one TCP connection, opened on
the first truncated answer), and the query is a few packed bytes. ``read_reply`` parses, with
dnspython's own record parsers, only the records the view reads (``RRs``, each with its canonical
wire form), and leaves any answer of an unusual shape to ``dns.message.from_wire``. An answer is
judged as ``dns.query`` judges it: it must come from the server's address (else
``UnexpectedSource``) and answer this question (else ``BadResponse``).
"""

from __future__ import annotations

import errno
import math
import os
import select
import socket
import struct
import time
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

import dns.exception
import dns.flags
import dns.inet
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.RRSIG
import dns.rdtypes.rrsigbase
import dns.rrset
import dns.wire

__all__ = [
    "RRs",
    "Channel",
    "Reply",
    "is_response",
    "query_wire",
    "read_message",
    "read_reply",
    "socket_factory",
]

_HEADER = struct.Struct("!HHHHHH")
_QUESTION = struct.Struct("!HH")
_RR = struct.Struct("!HHIH")
_OPT_DO = struct.Struct("!BHHIH")  # root owner, OPT, payload as class, DO in the TTL, no options
_TAIL = _QUESTION.size + _OPT_DO.size  # what follows the question's name in a query

_OPT = int(dns.rdatatype.OPT)
_TSIG = int(dns.rdatatype.TSIG)
_RRSIG = int(dns.rdatatype.RRSIG)
_IN = int(dns.rdataclass.IN)
_OPCODE = 0x7800  # the opcode bits of the header flags; QUERY is 0
_QR = int(dns.flags.QR)
_TC_HIGH = int(dns.flags.TC) >> 8  # the TC bit in the header's third octet
#: the rcodes whose answers may leave the question out (as ``Message.is_response`` allows)
_NO_QUESTION_NEEDED = frozenset({dns.rcode.FORMERR, dns.rcode.SERVFAIL, dns.rcode.NOTIMP, dns.rcode.REFUSED})

#: makes the channels' sockets (a seam for tests, as ``dns.query.socket_factory`` is)
socket_factory: Callable[[int, int, int], socket.socket] = socket.socket


def query_wire(qid: int, qname: dns.name.Name, rdtype: int, flags: int, payload: int) -> bytes:
    """The query ``dns.message.make_query(qname, rdtype, want_dnssec=True, payload=payload)``
    renders with ``id=qid`` and ``flags``: the question, and an EDNS0 OPT record with the DO bit."""
    name = qname.to_wire()
    assert name is not None  # an absolute name: no compression table, so bytes
    return b"".join(
        (
            _HEADER.pack(qid, flags, 1, 0, 0, 1),
            name,
            _QUESTION.pack(rdtype, _IN),
            _OPT_DO.pack(0, _OPT, payload, int(dns.flags.DO), 0),
        )
    )


#: what the view reads of the authority section: these types' RRsets, and the SOA's RRSIGs (of
#: the answer section: the question's type and its RRSIGs)
AUTHORITY_TYPES = frozenset({int(dns.rdatatype.SOA), int(dns.rdatatype.NSEC), int(dns.rdatatype.NSEC3)})
AUTHORITY_SIGNED = frozenset({int(dns.rdatatype.SOA)})

#: types whose records hold no name a canonical form lower-cases (or, NSEC, none it may:
#: RFC 6840 section 5.1): their wire form is their canonical form, as dnspython renders them
_AS_SENT = frozenset(
    int(t)
    for t in (
        dns.rdatatype.DNSKEY,
        dns.rdatatype.CDNSKEY,
        dns.rdatatype.DS,
        dns.rdatatype.CDS,
        dns.rdatatype.NSEC3PARAM,
        dns.rdatatype.NSEC3,
        dns.rdatatype.NSEC,
    )
)
_SINGLETONS = frozenset(int(t) for t in dns.rdatatype.RdataType if dns.rdatatype.is_singleton(t))


class RRs:
    """One RRset as the view reads it: owner, class, type, covered type, TTL, dnspython's rdatas
    and, for an RRset ``read_reply`` read from the wire, each rdata's canonical wire form (RFC 4034
    section 6.2; what ``to_digestable`` renders), in the order and with the TTL dnspython gives.
    ``wires`` is None for an RRset taken from a dnspython ``Message``."""

    __slots__ = ("covers", "name", "rdatas", "rdclass", "rdtype", "ttl", "wires")

    def __init__(
        self,
        name: dns.name.Name,
        rdclass: int,
        rdtype: int,
        covers: int,
        ttl: int,
        rdatas: list[dns.rdata.Rdata],
        wires: list[bytes] | None,
    ) -> None:
        self.name = name
        self.rdclass = rdclass
        self.rdtype = rdtype
        self.covers = covers
        self.ttl = ttl
        self.rdatas = rdatas
        self.wires = wires

    @classmethod
    def of(cls, rrset: dns.rrset.RRset) -> RRs:
        return cls(
            rrset.name, int(rrset.rdclass), int(rrset.rdtype), int(rrset.covers), rrset.ttl, list(rrset), None
        )

    def __iter__(self) -> Iterator[dns.rdata.Rdata]:
        return iter(self.rdatas)

    def __len__(self) -> int:
        return len(self.rdatas)


class Reply:
    """An answer as the view reads it: the header, the question, the answer and authority RRsets
    (of ``read_reply``: only those it reads)."""

    __slots__ = ("answer", "authority", "ednsflags", "flags", "id", "question")

    def __init__(
        self,
        qid: int,
        flags: int,
        ednsflags: int,
        question: list[tuple[dns.name.Name, int, int]],
        answer: list[RRs],
        authority: list[RRs],
    ) -> None:
        self.id = qid
        self.flags = flags
        self.ednsflags = ednsflags
        self.question = question
        self.answer = answer
        self.authority = authority

    @classmethod
    def of(cls, message: dns.message.Message) -> Reply:
        """The parts of a dnspython ``Message`` the view reads."""
        question = [(rr.name, int(rr.rdclass), int(rr.rdtype)) for rr in message.question]
        answer = [RRs.of(rr) for rr in message.answer]
        authority = [RRs.of(rr) for rr in message.authority]
        return cls(message.id, int(message.flags), message.ednsflags, question, answer, authority)

    def rcode(self) -> dns.rcode.Rcode:
        return dns.rcode.from_flags(self.flags, self.ednsflags)


#: reads one answer's wire, for a question of a type
Reader = Callable[[bytes, int, "Asked | None"], Reply]

#: the question's name, and its wire form as the query carries it
Asked = tuple[dns.name.Name, bytes]


def read_message(wire: bytes, qtype: int, asked: Asked | None = None) -> Reply:
    """``wire`` read by ``dns.message.from_wire``, every record (raises what it raises)."""
    return Reply.of(dns.message.from_wire(wire))


def read_reply(wire: bytes, qtype: int, asked: Asked | None = None) -> Reply:
    """``wire`` read for a question of ``qtype``: of the answer section the RRsets of ``qtype`` and
    their RRSIGs, of the authority section the SOA (and its RRSIGs), NSEC and NSEC3 RRsets. Every
    record is parsed by dnspython's parser for its type (a bad one raises as it did), but only
    those are built into RRsets with their canonical forms.

    Anything ``_read`` does not expect (another opcode, TSIG, a misplaced OPT, a name it cannot
    follow, a singleton type twice, trailing bytes, a record dnspython's parser refuses) is read
    by ``dns.message.from_wire`` instead, which returns the whole message or raises what it
    always raised. ``asked``: the question's name, which an owner name spelled out the same
    (octet for octet) is, without reading it again.

    A truncated answer (TC) is read only as far as its question, by dnspython: it is asked again
    over TCP whatever its records, which may be cut off anywhere (RFC 2181 section 9)."""
    if len(wire) >= 4 and wire[2] & _TC_HIGH:
        return Reply.of(dns.message.from_wire(wire, question_only=True))
    try:
        return _read(wire, qtype, asked)
    except Exception:  # noqa: BLE001 - dnspython decides what is wrong, and says so
        return read_message(wire, qtype)


class _Unusual(Exception):
    """An answer ``_read`` leaves to ``dns.message.from_wire``."""


def _read(wire: bytes, qtype: int, asked: Asked | None = None) -> Reply:
    end = len(wire)
    if end < 12:
        raise _Unusual("short header")
    qid, flags, qdcount, ancount, nscount, arcount = _HEADER.unpack_from(wire, 0)
    if flags & _OPCODE:
        raise _Unusual("not a QUERY")
    parser = dns.wire.Parser(wire, 12)
    # Owner names, mostly a bare pointer (two octets) to one written before. What dnspython reads
    # at a pointer depends only on the target, provided the pointer points backwards, the name
    # there ends before the pointer and the chain of pointers stays within dnspython's limit.
    parsed: dict[int, tuple[dns.name.Name, int, int]] = {}  # offset -> (name, end, pointers in it)

    def owner() -> dns.name.Name:
        start = parser.current
        if start < end and wire[start] == 0:
            parser.current = start + 1
            return dns.name.root
        if asked is not None and wire.startswith(asked[1], start):
            parser.current = start + len(asked[1])  # the question's name, spelled out the same
            parsed[start] = (asked[0], parser.current, 0)
            return asked[0]
        if start + 1 < end and wire[start] >= 0xC0:
            hit = parsed.get(((wire[start] & 0x3F) << 8) | wire[start + 1])
            if hit is not None and hit[1] <= start and hit[2] < dns.name.MAX_COMPRESSION_POINTER_CHAIN:
                parser.current = start + 2
                parsed[start] = (hit[0], start + 2, hit[2] + 1)
                return hit[0]
        name = dns.name.from_wire_parser(parser, True)
        parsed[start] = (name, parser.current, _pointers(wire, start))
        return name

    question: list[tuple[dns.name.Name, int, int]] = []
    for _ in range(qdcount):
        name = owner()
        if parser.current + 4 > end:
            raise _Unusual("short question")
        rdtype, rdclass = _QUESTION.unpack_from(wire, parser.current)
        parser.current += 4
        question.append((name, rdclass, rdtype))
    ednsflags = 0
    seen_opt = False
    sections: list[list[RRs]] = []
    # RRsets are keyed as dnspython's names compare: by their labels in lower case
    lowered: dict[int, tuple[bytes, ...]] = {}  # id of a name (all kept in parsed) -> its key
    for section, count in ((1, ancount), (2, nscount), (3, arcount)):
        rrsets: dict[tuple[tuple[bytes, ...], int, int, int], tuple[RRs, set[bytes]]] = {}
        wanted = (qtype,) if section == 1 else AUTHORITY_TYPES if section == 2 else ()
        signed = (qtype,) if section == 1 else AUTHORITY_SIGNED if section == 2 else ()
        for _ in range(count):
            name = owner()
            if parser.current + 10 > end:
                raise _Unusual("short record")
            rdtype, rdclass, ttl, rdlen = _RR.unpack_from(wire, parser.current)
            start = parser.current + 10
            stop = start + rdlen
            if stop > end:
                raise _Unusual("short rdata")
            if rdtype == _OPT:
                if section != 3 or seen_opt or name != dns.name.root:
                    raise _Unusual("misplaced OPT")
                if rdlen:  # options, which dnspython checks
                    _rdata(parser, start, stop, rdclass, rdtype)
                parser.current = stop
                seen_opt, ednsflags = True, ttl
                continue
            if rdtype == _TSIG:
                raise _Unusual("TSIG")
            rd = _rdata(parser, start, stop, rdclass, rdtype)  # every record: a bad one raises
            covers = int(rd.covers())
            if not (covers in signed if rdtype == _RRSIG else rdtype in wanted):
                continue  # not read by the view: no RRset, no canonical form
            if rdtype in _AS_SENT:
                canonical = wire[start:stop]
            elif rdtype == _RRSIG:
                assert isinstance(rd, dns.rdtypes.rrsigbase.RRSIGBase)
                signer = start + 18 + len(rd.signer.labels) + sum(map(len, rd.signer.labels))
                canonical = wire[start : start + 18] + wire[start + 18 : signer].lower() + wire[signer:stop]
            else:
                canonical = rd.to_digestable()
            if ttl > 0x7FFFFFFF:
                ttl = 0
            labels = lowered.get(id(name))
            if labels is None:
                labels = lowered[id(name)] = tuple(label.lower() for label in name.labels)
            key = (labels, rdclass, rdtype, covers)
            found = rrsets.get(key)
            if found is None:
                rrsets[key] = (RRs(name, rdclass, rdtype, covers, ttl, [rd], [canonical]), {canonical})
                continue
            rrs, seen = found
            if rdtype in _SINGLETONS:
                raise _Unusual("a singleton type twice")
            rrs.ttl = min(rrs.ttl, ttl)
            if canonical not in seen:  # dnspython keeps the first of equal records
                seen.add(canonical)
                rrs.rdatas.append(rd)
                assert rrs.wires is not None
                rrs.wires.append(canonical)
        sections.append([rrs for rrs, _ in rrsets.values()])
    if parser.current != end:
        raise _Unusual("trailing bytes")
    return Reply(qid, flags, ednsflags, question, sections[0], sections[1])


def _rdata(parser: dns.wire.Parser, start: int, stop: int, rdclass: int, rdtype: int) -> dns.rdata.Rdata:
    """The record's data between ``start`` and ``stop``, read by the class ``dns.rdata`` reads it
    with, as ``dns.message`` reads it (``Parser.restrict_to`` without its context manager, and
    without ``dns.rdata.from_wire_parser``'s wrapping of errors: on any error the answer is read
    again by dnspython, which raises what it raises)."""
    made = _ENUMS.get((rdclass, rdtype))
    if made is None:
        made = (dns.rdataclass.RdataClass.make(rdclass), dns.rdatatype.RdataType.make(rdtype))
        if len(_ENUMS) < 1024:
            _ENUMS[(rdclass, rdtype)] = made
    cls = dns.rdata.get_rdata_class(*made)  # type: ignore[no-untyped-call]  # dnspython's
    if cls is _RRSIG_CLASS:
        parser.current = stop
        return _rrsig(parser.wire, start, stop, made)
    parser.current, end, parser.end = start, parser.end, stop
    rd: dns.rdata.Rdata = cls.from_wire_parser(made[0], made[1], parser, None)
    if parser.current != stop:
        raise _Unusual("record data not read to its end")
    parser.end = end
    return rd


#: (class, type) from the wire -> dnspython's enums for them
_ENUMS: dict[tuple[int, int], tuple[dns.rdataclass.RdataClass, dns.rdatatype.RdataType]] = {}

_RRSIG_CLASS: Any = dns.rdtypes.ANY.RRSIG.RRSIG  # its constructor is untyped
_RRSIG_FIELDS = struct.Struct("!HBBIIIH")


def _rrsig(
    wire: bytes, start: int, stop: int, made: tuple[dns.rdataclass.RdataClass, dns.rdatatype.RdataType]
) -> dns.rdata.Rdata:
    """An RRSIG as ``RRSIGBase.from_wire_parser`` makes it (its fields, the signer, which may not
    be compressed, and the signature), the signer's Name kept for the next RRSIG by the same
    signer (every RRSIG of a zone)."""
    at = start + 18
    if at >= stop:
        raise _Unusual("no signer")
    end = at
    while (length := wire[end]) != 0:
        if length > 63:
            raise _Unusual("a compressed signer")  # dnspython says why
        end += length + 1
        if end >= stop:
            raise _Unusual("a signer past the record")
    end += 1
    spelled = wire[at:end]
    signer = _SIGNERS.get(spelled)
    if signer is None:
        signer = dns.name.from_wire_parser(dns.wire.Parser(spelled), False)  # no pointer in it
        if len(_SIGNERS) < 4096:
            _SIGNERS[spelled] = signer
    fields = _RRSIG_FIELDS.unpack_from(wire, start)
    rd: dns.rdata.Rdata = _RRSIG_CLASS(made[0], made[1], *fields, signer, wire[end:stop])
    return rd


#: signer names as spelled in RRSIGs -> their Names (a zone's and its parent's, many zones')
_SIGNERS: dict[bytes, dns.name.Name] = {}


def _pointers(wire: bytes, at: int) -> int:
    """How many compression pointers the name at ``at`` (one dnspython has read) follows."""
    count = 0
    while (length := wire[at]) != 0:
        if length >= 0xC0:
            count += 1
            at = ((length & 0x3F) << 8) | wire[at + 1]
        else:
            at += length + 1
    return count


def is_response(reply: Reply, qid: int, qname: dns.name.Name, qtype: int) -> bool:
    """``Message.is_response`` of the query (``qid``, QUERY, ``qname`` IN ``qtype``) for ``reply``."""
    if not reply.flags & _QR or reply.id != qid or reply.flags & _OPCODE:
        return False
    if not reply.question:
        return reply.rcode() in _NO_QUESTION_NEEDED
    ours = (qname, _IN, qtype)
    return all(q == ours for q in reply.question)


class Channel:
    """One server's sockets for a run of questions: a UDP socket, made on the first question, and
    a TCP connection, opened on the first truncated answer; both kept until ``close``.

    Each question has its own deadline. A datagram answering an earlier question of this channel
    (late, or sent twice) is dropped: it would have gone to that question's own socket before.
    """

    def __init__(self, address: str, port: int) -> None:
        self.address, self.port = address, port
        self._af: int | None = None  # set by the first exchange (a bad address raises there)
        self._destination: tuple[object, ...] = ()
        self._where = b""
        self._udp: socket.socket | None = None
        self._tcp: socket.socket | None = None
        self._ids: set[int] = set()
        self._fresh: list[int] = []

    def __enter__(self) -> Channel:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        for sock in (self._udp, self._tcp):
            if sock is not None:
                sock.close()
        self._udp = self._tcp = None

    def new_id(self) -> int:
        """A random query ID not used before on this channel (drawn eight at a time)."""
        while True:
            if not self._fresh:
                self._fresh = list(struct.unpack("!8H", os.urandom(16)))
            qid = self._fresh.pop()
            if qid not in self._ids:
                self._ids.add(qid)
                return qid

    def udp(
        self,
        qid: int,
        qname: dns.name.Name,
        qtype: int,
        flags: int,
        payload: int,
        timeout: float,
        read: Reader = read_reply,
    ) -> Reply:
        """One UDP exchange within ``timeout`` seconds, as ``dns.query.udp``: ``Timeout`` when no
        answer came, ``OSError`` for a network error, another ``DNSException`` for a bad answer."""
        expiration = time.monotonic() + timeout
        af = self._family()
        if self._udp is None:
            sock = socket_factory(af, socket.SOCK_DGRAM, 0)
            sock.setblocking(False)
            self._udp = sock
        sock = self._udp
        wire = query_wire(qid, qname, qtype, flags, payload)
        asked = (qname, wire[12 : len(wire) - _TAIL])  # the question's name as the query spells it
        while True:
            try:
                sock.sendto(wire, self._destination)
                break
            except BlockingIOError:
                _wait(sock, False, expiration)
        while True:
            _wait(sock, True, expiration)  # the answer is never there yet: wait, then read
            try:
                data, source = sock.recvfrom(65535)
            except BlockingIOError:
                continue
            if not self._from_server(source):
                raise dns.query.UnexpectedSource(  # type: ignore[no-untyped-call]  # dnspython's
                    f"got a response from {source} instead of {self._destination}"
                )
            if len(data) >= 2 and (data[0] << 8 | data[1]) != qid and (data[0] << 8 | data[1]) in self._ids:
                continue  # an earlier question's answer
            reply = read(data, qtype, asked)
            if not is_response(reply, qid, qname, qtype):
                raise dns.query.BadResponse
            return reply

    def tcp(
        self, qid: int, qname: dns.name.Name, qtype: int, flags: int, payload: int, timeout: float
    ) -> Reply:
        """The question over TCP within ``timeout`` seconds by ``dns.query.tcp`` (which raises what
        it raises), on the channel's connection: a new one if there is none, or if the server closed
        the one kept."""
        expiration = time.monotonic() + timeout
        self._family()
        rdtype = dns.rdatatype.RdataType.make(qtype)
        q = dns.message.make_query(qname, rdtype, want_dnssec=True, payload=payload, id=qid, flags=flags)
        reused = self._tcp is not None
        while True:
            sock = self._tcp if self._tcp is not None else self._connect(expiration)
            self._tcp = sock
            try:
                return Reply.of(dns.query.tcp(q, self.address, timeout=_remaining(expiration), sock=sock))
            except (EOFError, ConnectionResetError, BrokenPipeError):
                self._drop_tcp()
                if not reused:
                    raise
                reused = False  # the server closed the kept connection: once more on a new one
            except BaseException:
                self._drop_tcp()
                raise

    def _family(self) -> int:
        """The address family, and the destination as ``dns.query`` computes it, on first use."""
        if self._af is None:
            af = dns.inet.af_for_address(self.address)
            self._destination = dns.inet.low_level_address_tuple((self.address, self.port), af)
            self._where = dns.inet.inet_pton(af, self.address)
            self._af = af
        return self._af

    def _drop_tcp(self) -> None:
        if self._tcp is not None:
            self._tcp.close()
            self._tcp = None

    def _connect(self, expiration: float) -> socket.socket:
        """A connected non-blocking TCP socket, made as ``dns.query.tcp`` makes it (the errno's
        text when the connection fails, ``Timeout`` at ``expiration``)."""
        sock = socket_factory(self._family(), socket.SOCK_STREAM, 0)
        try:
            sock.setblocking(False)
            err = sock.connect_ex(self._destination)
            if err in (errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EALREADY):
                _wait(sock, False, expiration)
                err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err != 0:
                raise OSError(err, os.strerror(err))
        except BaseException:
            sock.close()
            raise
        return sock

    def _from_server(self, source: tuple[object, ...]) -> bool:
        """``dns.query``'s check of where a datagram came from."""
        if source == self._destination:
            return True
        try:
            same = dns.inet.inet_pton(self._family(), str(source[0])) == self._where
        except dns.exception.SyntaxError:
            same = False
        return source[1:] == self._destination[1:] and (
            same or dns.inet.is_multicast(str(self._destination[0]))
        )


def _remaining(expiration: float) -> float:
    left = expiration - time.monotonic()
    if left <= 0:
        raise dns.exception.Timeout
    return left


def _wait(sock: socket.socket, readable: bool, expiration: float) -> None:
    """Until ``sock`` is readable (or writable); ``dns.exception.Timeout`` at ``expiration``."""
    left = _remaining(expiration)
    if _POLL:
        poller = select.poll()
        poller.register(sock, select.POLLIN if readable else select.POLLOUT)
        ready = bool(poller.poll(math.ceil(left * 1000)))
    else:  # Windows: no poll
        got = select.select([sock] if readable else [], [] if readable else [sock], [], left)
        ready = bool(got[0] or got[1])
    if not ready:
        raise dns.exception.Timeout


_POLL = hasattr(select, "poll")  # poll has no FD_SETSIZE limit; select is what Windows has
