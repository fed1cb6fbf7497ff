"""Fleet scans: audit many servers concurrently, never letting one host abort the rest.

``Scanner`` runs hosts on at most ``concurrency`` daemon worker threads and collects each
``HostReport`` in the calling thread as it completes, handing it to ``on_host`` (the history
writer) at once; the returned ``Report`` lists hosts in inventory order, whatever order they
finished in, so two runs over the same fleet render the same. Per host:

- transient failures (``RemoteError.transient``: connection refused/reset, timeouts) are
  retried with exponential backoff and jitter; auth, cmdlet and protocol failures are not;
- a host still running at its deadline (``host_timeout``) is reported as a ``timeout`` error
  and its worker abandoned: a daemon thread, it never holds up the end of the scan or the
  exit of the process (the transport timeouts, capped to the deadline, free it later);
- anything else that goes wrong becomes ``HostReport.error`` with the error's ``kind``.

``stop()`` (called from a signal handler) stops dispatching; hosts already running get
``grace`` seconds to finish, then the scan ends with ``Report.interrupted`` and the hosts
never started or cut off in ``Report.not_scanned``.

With ``ScanOptions.workers`` above 1 the hosts are audited in that many worker processes
(``toolkit.services.workers``), each running its hosts on threads as above, so the CPU work of
many hosts (the transport's parsing and crypto, normalise, rules) uses more than one core. The
calling process still dispatches every host, enforces the deadlines and the grace time, calls
``on_host`` and the progress sink and builds the report, exactly as with threads. Only a
connector that can travel to another process (``default_connector``'s, or any picklable one
whose class sets ``portable = True``) is run there, and never for the ``fake`` transport (its
simulated servers live in this process): otherwise the scan keeps to threads.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Protocol

from toolkit.errors import AuthError, CmdletError, ConnectError, ProtocolError, RemoteTimeout, WindnsError
from toolkit.findings import HostError, HostReport, Report
from toolkit.fleet import FakeBehaviour, HostSpec
from toolkit.remote.base import ConnectionOptions, Remote
from toolkit.rules.registry import RULE_BOOK

if TYPE_CHECKING:
    from toolkit.dnsview.shared import SharedViews
    from toolkit.policy import Policy
    from toolkit.services.audit import DnsViewOptions
    from toolkit.services.workers import WorkerPool

__all__ = [
    "Connector",
    "HostConnector",
    "ProgressSink",
    "ScanOptions",
    "ScanOutcome",
    "Scanner",
    "default_connector",
    "scan_hosts",
]

log = logging.getLogger("windns.scan")

Connector = Callable[[HostSpec], Remote]


class ProgressSink(Protocol):
    def started(self, total: int) -> None: ...

    def host_done(self, host: HostReport, done: int, total: int) -> None: ...

    def finished(self) -> None: ...


@dataclass(frozen=True, slots=True)
class ScanOptions:
    concurrency: int = 16
    host_timeout: float | None = 300.0
    retries: int = 2
    backoff: float = 1.0
    backoff_max: float = 30.0
    grace: float = 10.0
    zones: tuple[str, ...] = ()
    #: keep each host's inventory in the returned report (renderers that show zones or keys
    #: need it); without it memory holds findings only, the inventories living in the history
    keep_inventory: bool = True
    #: take each host's DNS view too (``audit.dns_for_host``: a host's ``dns_address`` wins);
    #: None: only hosts whose inventory entry names a ``dns_address``
    dns: DnsViewOptions | None = None
    #: worker processes sharing the ``concurrency`` hosts at once; 1: threads in this process
    #: (see the module's documentation for when more are used)
    workers: int = 1

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if self.workers < 1:
            raise ValueError("workers must be at least 1")
        if self.retries < 0:
            raise ValueError("retries must be >= 0")


@dataclass(frozen=True, slots=True)
class ScanOutcome:
    report: Report
    #: hosts never dispatched because the scan was stopped
    not_started: tuple[str, ...] = ()
    #: hosts still running when the grace time ran out (or past their deadline): their worker
    #: threads may still be alive
    abandoned: tuple[str, ...] = ()


_FAKE_ERRORS: dict[str, Callable[[], WindnsError]] = {
    "connect": lambda: ConnectError("connection refused (simulated)"),
    "refused": lambda: ConnectError("connection refused (simulated)"),
    "timeout": lambda: RemoteTimeout("read timed out (simulated)"),
    "auth": lambda: AuthError("the server rejected the credentials (simulated)"),
    "protocol": lambda: ProtocolError("unreadable answer (simulated)"),
    "cmdlet": lambda: CmdletError("Access is denied. (simulated)", code=5, cmdlet="Get-DnsServerZone"),
}


@dataclass(frozen=True, slots=True)
class HostConnector:
    """Opens each host with its effective settings over ``base`` (``default_connector``'s).

    Plain data, so a scan can send it to its worker processes (through their pipe: the
    password never appears in a process's arguments or environment)."""

    base: ConnectionOptions | None = None
    transport: str = "psrp"
    fixtures: Path | None = None
    fallback_password: str | None = field(default=None, repr=False)
    host_timeout: float | None = None
    #: worker processes may run it (see ``toolkit.services.workers``)
    portable: ClassVar[bool] = True

    def __call__(self, spec: HostSpec) -> Remote:
        from toolkit.remote import connect

        kind = spec.transport or self.transport
        if kind == "fake":
            fake = spec.fake or FakeBehaviour()
            fail = _FAKE_ERRORS[fake.fail]() if fake.fail else None
            return connect(
                ConnectionOptions(host=spec.address),
                "fake",
                fixtures=self.fixtures,
                name=spec.name,
                latency=fake.latency,
                fail_with=fail,
            )
        opts = spec.connection_options(
            self.base, fallback_password=self.fallback_password, host_timeout=self.host_timeout
        )
        return connect(opts, kind)

    def transport_of(self, spec: HostSpec) -> str:
        return spec.transport or self.transport


def default_connector(
    base: ConnectionOptions | None = None,
    *,
    transport: str = "psrp",
    fixtures: Path | None = None,
    fallback_password: str | None = None,
    host_timeout: float | None = None,
) -> Connector:
    """A connector that opens each host with its effective settings over ``base``."""
    return HostConnector(
        base,
        transport=transport,
        fixtures=fixtures,
        fallback_password=fallback_password,
        host_timeout=host_timeout,
    )


class Scanner:
    def __init__(
        self,
        hosts: Sequence[HostSpec],
        connector: Connector,
        policy: Policy | None = None,
        *,
        options: ScanOptions | None = None,
        on_host: Callable[[HostReport], None] | None = None,
        progress: ProgressSink | None = None,
        now: datetime | None = None,
    ) -> None:
        self.hosts = tuple(hosts)
        self.connector = connector
        self.policy = policy
        self.options = options or ScanOptions()
        self.on_host = on_host
        self.progress = progress
        self.now = now
        self._stop = threading.Event()
        self._stop_reason = ""
        #: the zone views this scan's hosts share (made at the first host with a DNS view)
        self._shared_views: SharedViews | None = None
        self._shared_lock = threading.Lock()

    # -- control ---------------------------------------------------------------------------------
    def stop(self, reason: str = "stop requested") -> None:
        """Stop dispatching new hosts (safe to call from a signal handler)."""
        self._stop_reason = reason
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    # -- one host ----------------------------------------------------------------------------------
    def _error(self, spec: HostSpec, exc: BaseException, start: float) -> HostReport:
        # a bug somewhere below (not a WindnsError) is still one line, still not fatal to the scan
        return HostReport(
            server=spec.name,
            error=HostError.from_exception(spec.name, exc),
            duration=time.perf_counter() - start,
        )

    def _views(self) -> SharedViews:
        """The zone views shared by this scan's hosts: what one DNS server publishes for a zone is
        asked once, not once per host holding the zone (``toolkit.dnsview.shared``)."""
        with self._shared_lock:
            if self._shared_views is None:
                from toolkit.dnsview.shared import SharedViews

                self._shared_views = SharedViews()
            return self._shared_views

    def _audit_once(self, spec: HostSpec) -> tuple[HostReport, bool]:
        """(report, transient?) for one attempt."""
        from toolkit.services.audit import audit_server, dns_for_host

        start = time.perf_counter()
        try:
            remote = self.connector(spec)
        except WindnsError as exc:
            return self._error(spec, exc, start), bool(getattr(exc, "transient", False))
        try:
            with remote:
                zones = list(spec.zones or self.options.zones) or None
                dns = dns_for_host(spec, self.options.dns)
                if dns is not None and dns.shared is None:
                    dns = replace(dns, shared=self._views())
                host = audit_server(remote, self.policy, zones=zones, now=self.now, dns=dns)
        except Exception as exc:
            return self._error(spec, exc, start), bool(getattr(exc, "transient", False))
        if host.error is not None:
            return replace(host, server=spec.name, error=replace(host.error, server=spec.name)), (
                host.error.kind in _TRANSIENT_KINDS
            )
        return replace(host, server=spec.name), False

    def scan_host(self, spec: HostSpec) -> HostReport:
        """Audit one host with retries; never raises."""
        start = time.perf_counter()
        deadline = start + self.options.host_timeout if self.options.host_timeout else None
        attempt = 0
        while True:
            try:
                host, transient = self._audit_once(spec)
            except BaseException as exc:  # noqa: BLE001 - never let a worker die silently
                return self._error(spec, exc, start)
            if not transient or attempt >= self.options.retries or self._stop.is_set():
                return replace(host, duration=time.perf_counter() - start)
            delay = min(self.options.backoff_max, self.options.backoff * 2**attempt)
            delay *= random.uniform(0.5, 1.0)  # full jitter on the upper half
            if deadline is not None and time.perf_counter() + delay >= deadline:
                return replace(host, duration=time.perf_counter() - start)
            attempt += 1
            assert host.error is not None
            log.info(
                "%s: %s; retry %d/%d in %.1fs",
                spec.name,
                host.error.kind,
                attempt,
                self.options.retries,
                delay,
            )
            if self._stop.wait(delay):
                return replace(host, duration=time.perf_counter() - start)

    # -- the fleet -----------------------------------------------------------------------------------
    def _worker_pool(
        self, complete: Callable[[int, HostReport], tuple[int, HostSpec] | None]
    ) -> WorkerPool | None:
        """Worker processes for this scan, started and ready; None: threads in this process."""
        count = min(self.options.workers, self.options.concurrency, len(self.hosts))
        if count < 2 or self._stop.is_set() or not getattr(self.connector, "portable", False):
            return None
        transport_of = getattr(self.connector, "transport_of", None)
        transports = {transport_of(h) if transport_of else h.transport for h in self.hosts}
        if "fake" in transports:
            return None  # the simulated servers (and their writes) live in this process
        from toolkit.services.workers import start_pool

        return start_pool(self, count, complete, transports={t for t in transports if t})

    def run(self) -> ScanOutcome:
        opts = self.options
        t0 = time.perf_counter()
        started_at = datetime.now(UTC)
        total = len(self.hosts)
        # (inventory position, host), next host last; results are put back in inventory order
        pending = list(reversed(list(enumerate(self.hosts))))
        # Workers are daemon threads, not an executor's: a host abandoned at its deadline or at
        # the end of the grace time may sit in a hung call, and the process must be able to exit
        # without waiting for it (an executor's threads are joined at interpreter exit).
        # A worker that finishes a host starts the next one itself: the main thread (which also
        # writes each host to the history) is not on the path from one host to the next, so a
        # busy main thread does not leave slots idle. ``lock`` guards pending, running and closed.
        lock = threading.Lock()
        running: dict[int, tuple[HostSpec, float]] = {}  # inventory position -> (host, start)
        done: queue.SimpleQueue[tuple[int, HostReport]] = queue.SimpleQueue()
        closed = False
        results: list[tuple[int, HostReport]] = []
        abandoned: list[str] = []
        cut_off: list[tuple[int, str]] = []  # running when the grace time ran out
        grace_until: float | None = None
        if self.progress:
            self.progress.started(total)

        def take() -> tuple[int, HostSpec] | None:
            """The next host to start, registered as running (call with ``lock`` held)."""
            # Finished hosts wait in ``done`` for the main thread; past twice the concurrency,
            # stop starting hosts until it catches up, so memory stays bounded whatever the
            # fleet's size.
            if (
                not pending
                or len(running) >= opts.concurrency
                or len(running) + done.qsize() >= 2 * opts.concurrency
                or self._stop.is_set()
                or closed
            ):
                return None
            index, spec = pending.pop()
            running[index] = (spec, time.perf_counter())
            return index, spec

        def complete(index: int, host: HostReport) -> tuple[int, HostSpec] | None:
            """Hand a finished host to the main thread; the next host to start, if any."""
            with lock:
                if running.pop(index, None) is None:
                    return None  # past its deadline or the grace time: already reported as abandoned
                done.put((index, host))
                return take()

        def dispatch() -> None:
            with lock:
                batch = []
                while (nxt := take()) is not None:
                    if pool is None:
                        threading.Thread(
                            target=work, args=nxt, name=f"windns-scan-{nxt[0]}", daemon=True
                        ).start()
                    else:
                        batch.append(nxt)
            if pool is not None:
                for index, spec in batch:  # sent outside the lock: the pool calls complete() too
                    pool.submit(index, spec)

        def work(index: int, spec: HostSpec) -> None:
            nxt: tuple[int, HostSpec] | None = (index, spec)
            while nxt is not None:
                index, spec = nxt
                try:
                    host = self.scan_host(spec)
                except BaseException as exc:  # noqa: BLE001 - scan_host does not raise; if it did, report it
                    host = self._error(spec, exc, time.perf_counter())
                nxt = complete(index, host)

        def finish(index: int, host: HostReport) -> None:
            host = replace(host, listed_at=self.hosts[index].listing)
            if self.on_host is not None:
                self.on_host(host)
            # the server's text was for the history only; the inventory stays if the report needs it
            kept = replace(
                host, inventory=host.inventory if opts.keep_inventory else None, inventory_text=None
            )
            results.append((index, kept))
            if self.progress:
                self.progress.host_done(host, len(results), total)
            elif host.error is not None:
                log.warning("%s: %s: %s", host.server, host.error.kind, host.error.message)
            else:
                log.info("%s: %d findings (%.1fs)", host.server, len(host.findings), host.duration)

        # With worker processes, the threads run in them; ``complete`` is called here, from the
        # thread that reads each worker's results, which sends the next host to a worker.
        pool = self._worker_pool(complete)
        try:
            while True:
                if self._stop.is_set() and grace_until is None:
                    grace_until = time.perf_counter() + opts.grace
                    if pool is not None:
                        pool.stop(self._stop_reason)  # backoff waits end there as they do here
                    if pending:
                        log.warning(
                            "%s: not starting %d host(s); waiting up to %.0fs for %d running",
                            self._stop_reason,
                            len(pending),
                            opts.grace,
                            len(running),
                        )
                dispatch()  # the first hosts, and replacements for abandoned ones
                with lock:
                    if not running and done.empty() and (not pending or self._stop.is_set()):
                        break
                    limits = [s + opts.host_timeout for _, s in running.values()] if opts.host_timeout else []
                if grace_until is not None:
                    limits.append(grace_until)
                # Wake up now and then so a stop request is noticed promptly.
                timeout = min(0.2, max(0.0, min(limits) - time.perf_counter())) if limits else 0.2
                try:
                    finish(*done.get(timeout=timeout))
                    for _ in range(opts.concurrency):  # then what else is waiting, within reason
                        finish(*done.get_nowait())
                except queue.Empty:
                    pass
                now = time.perf_counter()
                if opts.host_timeout:
                    with lock:
                        late = [
                            (n, spec, s) for n, (spec, s) in running.items() if now - s >= opts.host_timeout
                        ]
                        for n, _, _ in late:
                            del running[n]
                    for n, spec, s in late:
                        abandoned.append(spec.name)
                        err = RemoteTimeout(
                            f"no answer within the per-host timeout of {opts.host_timeout:g}s"
                        )
                        finish(n, self._error(spec, err, s))
                if grace_until is not None and now >= grace_until:
                    with lock:
                        late_names = sorted((n, spec.name) for n, (spec, _) in running.items())
                        running.clear()
                    if late_names:
                        names = [name for _, name in late_names]
                        log.warning(
                            "grace time over: %d host(s) did not finish: %s", len(names), ", ".join(names)
                        )
                        abandoned.extend(names)
                        cut_off.extend(late_names)
        finally:
            with lock:
                closed = True
            if pool is not None:
                pool.close()  # worker processes end, even one with a host stuck in a call
            if self.progress:
                self.progress.finished()
        results.sort(key=lambda r: r[0])  # inventory order, whatever the completion order
        not_scanned = sorted([*((n, s.name) for n, s in pending), *cut_off])
        report = Report(
            hosts=tuple(h for _, h in results),
            generated_at=started_at,
            policy_name=self.policy.name if self.policy is not None else "baseline",
            duration=time.perf_counter() - t0,
            interrupted=self._stop.is_set() and bool(not_scanned),
            not_scanned=tuple(name for _, name in not_scanned),
            rules=RULE_BOOK,
        )
        return ScanOutcome(
            report, not_started=tuple(s.name for _, s in reversed(pending)), abandoned=tuple(abandoned)
        )


_TRANSIENT_KINDS = frozenset(cls.kind for cls in (ConnectError, RemoteTimeout))


def scan_hosts(
    hosts: Sequence[HostSpec],
    connector: Connector,
    policy: Policy | None = None,
    *,
    options: ScanOptions | None = None,
    on_host: Callable[[HostReport], None] | None = None,
) -> ScanOutcome:
    """Scan ``hosts`` and return the outcome (convenience wrapper around ``Scanner``)."""
    return Scanner(hosts, connector, policy, options=options, on_host=on_host).run()
