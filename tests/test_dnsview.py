"""The DNS view's failure handling with stub servers: never a crash, always a typed problem."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import dns.flags
import dns.message
import dns.rcode
import pytest

from toolkit.dnsview import QueryOptions, ZoneQuery, parse_target, zone_view, zone_views
from toolkit.errors import ConfigError
from toolkit.rules.join_engine import evaluate_join
from toolkit.testing.bind import free_port

FAST = QueryOptions(timeout=0.3, retries=1, concurrency=4)


def _stub(reply: Callable[[dns.message.Message], dns.message.Message]) -> Iterator[int]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.1)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            sock.sendto(reply(dns.message.from_wire(data)).to_wire(), peer)

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    try:
        yield int(sock.getsockname()[1])
    finally:
        stop.set()
        t.join(timeout=2)
        sock.close()


def _servfail(q: dns.message.Message) -> dns.message.Message:
    r = dns.message.make_response(q)
    r.set_rcode(dns.rcode.SERVFAIL)
    return r


def _truncating(q: dns.message.Message) -> dns.message.Message:
    r = dns.message.make_response(q)
    r.flags |= dns.flags.TC | dns.flags.AA
    return r


def _not_authoritative(q: dns.message.Message) -> dns.message.Message:
    return dns.message.make_response(q)  # NOERROR, no AA, empty: lame


@pytest.fixture
def servfail() -> Iterator[int]:
    yield from _stub(_servfail)


@pytest.fixture
def truncating() -> Iterator[int]:
    yield from _stub(_truncating)


@pytest.fixture
def lame() -> Iterator[int]:
    yield from _stub(_not_authoritative)


@pytest.mark.parametrize(
    ("fixture", "kind"), [("servfail", "servfail"), ("truncating", "truncated"), ("lame", "lame")]
)
def test_bad_servers_give_a_problem_and_a_finding(
    request: pytest.FixtureRequest, fixture: str, kind: str
) -> None:
    port = request.getfixturevalue(fixture)
    v = zone_view("corp.example", parse_target(f"127.0.0.1:{port}"), opts=FAST)
    assert not v.reachable
    assert [p.kind for p in v.problems] == [kind]
    found, _ = evaluate_join([v], server="DNS1")
    assert [f.rule_id for f in found] == ["DNS000", "DNS001"]
    assert kind in found[1].message and found[1].target.zone == "corp.example"


def test_silent_server_times_out_with_retries() -> None:
    port = free_port()  # nothing listens there
    v = zone_view("corp.example", parse_target(f"127.0.0.1:{port}"), opts=FAST)
    assert not v.reachable and v.problems[0].kind in ("timeout", "unreachable")
    assert v.elapsed >= FAST.timeout * (FAST.retries + 1) * 0.9 or v.problems[0].kind == "unreachable"


def test_zone_views_keeps_order_and_bounds_workers(servfail: int) -> None:
    t = parse_target(f"127.0.0.1:{servfail}")
    names = [f"z{i}.example" for i in range(10)]
    got = zone_views([ZoneQuery(n, t) for n in names], FAST)
    assert [v.zone for v in got] == [n + "." for n in names]
    assert zone_views([], FAST) == []


@pytest.mark.parametrize(
    ("text", "address", "port"),
    [
        ("127.0.0.1", "127.0.0.1", 53),
        ("127.0.0.1:5353", "127.0.0.1", 5353),
        ("[::1]:54", "::1", 54),
        ("::1", "::1", 53),
        ("localhost:99", None, 99),
    ],
)
def test_parse_target(text: str, address: str | None, port: int) -> None:
    t = parse_target(text)
    assert t.port == port
    if address:
        assert t.address == address


@pytest.mark.parametrize("text", ["127.0.0.1:0", "127.0.0.1:x", "[::1", "", "no-such-host.invalid"])
def test_parse_target_rejects(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_target(text)


def test_cli_dns_check_bad_server_is_a_finding_not_a_traceback(runner, servfail: int) -> None:  # type: ignore[no-untyped-def]
    from toolkit.cli import main

    res = runner.invoke(
        main,
        [
            "dns",
            "check",
            "corp.example",
            "--dns-server",
            f"127.0.0.1:{servfail}",
            "--timeout",
            "0.3",
            "--retries",
            "0",
        ],
        standalone_mode=False,
    )
    assert res.exception is None, res.output
    assert res.return_value == 1
    assert "DNS001" in res.output and "servfail" in res.output
    assert main.run(["dns", "check", "corp.example", "--dns-server", "127.0.0.1:notaport"]) == 4


@pytest.mark.parametrize(("fixture", "kind"), [("servfail", "servfail"), ("truncating", "truncated")])
def test_audit_with_a_bad_dns_server_keeps_a_clean_exit_code(
    request: pytest.FixtureRequest,
    runner,
    fixture: str,
    kind: str,  # type: ignore[no-untyped-def]
) -> None:
    import json

    from toolkit.cli import main

    port = request.getfixturevalue(fixture)
    args = ["--transport", "fake", "--server", "dns2", "audit", "-f", "json"]
    res = runner.invoke(main, [*args, "--dns-server", f"127.0.0.1:{port}", "--dns-timeout", "0.3"])
    assert res.exit_code == 1 and "Traceback" not in res.output, res.output
    doc = json.loads(res.output)
    bad = [f for f in doc["findings"] if f["rule_id"] == "DNS001"]
    # SERVFAIL and truncation are answers about one zone: one finding per signed zone
    signed = ["branch.corp.example", "rollover.corp.example", "shop.corp.example"]
    assert sorted(f["zone"] for f in bad) == signed
    assert all(kind in f["message"] for f in bad)
    assert any(f["rule_id"] == "ROLL005" for f in doc["findings"])


def test_ask_a_resolver_for_the_ds() -> None:
    """``recursive=True`` sets RD and CD and takes a resolver's answer (RA, no AA); without it,
    the same answer is lame."""
    seen: list[int] = []

    def resolver(q: dns.message.Message) -> dns.message.Message:
        seen.append(q.flags)
        r = dns.message.make_response(q)
        r.flags |= dns.flags.RA
        return r

    from toolkit.dnsview import ask

    for port in _stub(resolver):
        target = parse_target(f"127.0.0.1:{port}")
        resp, problem = ask(target, "corp.example", "DS", FAST, recursive=True)
        assert problem is None and resp is not None
        assert seen[-1] & dns.flags.RD and seen[-1] & dns.flags.CD
        _, problem = ask(target, "corp.example", "DS", FAST)
        assert problem is not None and problem.kind == "lame" and not seen[-1] & dns.flags.RD
