"""The DNS view's questions on the wire: the query packed by hand, one socket per server.

``dns.query.udp`` makes a socket, a selector and a query ``Message`` for every question; for the
DNS view that was a large part of a zone's CPU time. A ``Channel`` keeps one UDP socket per server
for all of a zone's questions (and one TCP connection, opened on the first truncated answer), and
the query is a few packed bytes. An answer is judged as ``dns.query`` judges it: it must come from
the server's address (else ``UnexpectedSource``) and answer this question (else ``BadResponse``).
"""

from __future__ import annotations

import errno
import math
import os
import select
import socket
import struct
import time
from collections.abc import Callable
from types import TracebackType

import dns.entropy
import dns.exception
import dns.flags
import dns.inet
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

__all__ = ["Channel", "Reply", "is_response", "query_wire", "read_message", "socket_factory"]

_HEADER = struct.Struct("!HHHHHH")
_QUESTION = struct.Struct("!HH")
_OPT_DO = struct.Struct("!BHHIH")  # root owner, OPT, payload as class, DO in the TTL, no options

_OPT = int(dns.rdatatype.OPT)
_IN = int(dns.rdataclass.IN)
_OPCODE = 0x7800  # the opcode bits of the header flags; QUERY is 0
_QR = int(dns.flags.QR)
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


class Reply:
    """An answer as the view reads it: the header, the question, the answer and authority RRsets."""

    __slots__ = ("answer", "authority", "ednsflags", "flags", "id", "question")

    def __init__(
        self,
        qid: int,
        flags: int,
        ednsflags: int,
        question: list[tuple[dns.name.Name, int, int]],
        answer: list[dns.rrset.RRset],
        authority: list[dns.rrset.RRset],
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
        return cls(
            message.id, int(message.flags), message.ednsflags, question, message.answer, message.authority
        )

    def rcode(self) -> dns.rcode.Rcode:
        return dns.rcode.from_flags(self.flags, self.ednsflags)


#: reads one answer's wire, for a question of a type
Reader = Callable[[bytes, int], Reply]


def read_message(wire: bytes, qtype: int) -> Reply:
    """``wire`` read by ``dns.message.from_wire``, every record (raises what it raises)."""
    return Reply.of(dns.message.from_wire(wire))


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
        """A query ID not used before on this channel."""
        while True:
            qid = dns.entropy.random_16()
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
        read: Reader = read_message,
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
            reply = read(data, qtype)
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
    poller = select.poll()
    poller.register(sock, select.POLLIN if readable else select.POLLOUT)
    if not poller.poll(math.ceil(_remaining(expiration) * 1000)):
        raise dns.exception.Timeout
