"""Worker processes for a fleet scan: the per-host CPU work on every core.

A scan's CPU work per host (the transport's XML, crypto and JSON parsing, normalise, rules)
runs under the interpreter lock, so threads alone use one core. ``Scanner`` with
``ScanOptions.workers`` above 1 starts a ``WorkerPool``: that many processes, each auditing the
hosts it is sent on threads of its own (``Scanner.scan_host``: the same connector, retries and
backoff as in one process), and sending back each ``HostReport`` (pickled) as the host finishes.
The scanning process keeps everything else: it picks the hosts to start (at most
``concurrency`` at once across the workers, each host to the worker with the fewest in hand),
enforces the per-host deadlines and the grace time, and is the one writer of the history and
the one renderer, so progress, streaming, interrupts and exit codes stay as they are.

The workers are started with the ``spawn`` method: a fresh interpreter each, which inherits no
thread, lock, open database or signal handler of the scanning process (``fork`` copies a
process whose other threads may hold locks; ``forkserver`` does not exist on Windows, and the
start-up it saves, an interpreter and its imports per worker, is paid once per scan, in
parallel). Their settings (connector, policy, options) travel through each worker's own pipe,
pickled, so a password appears in no process's arguments, environment or file.

A worker ignores SIGINT and SIGTERM: Ctrl-C reaches the whole process group, and stopping is
the scanning process's decision (it tells the workers, which end their backoff waits, and ends
them when the scan is over, even one whose thread is stuck in a hung call). A worker whose
scanning process has gone (its pipe closed) exits at once. A worker that dies mid-scan costs
the hosts it had in hand (each reported as an ``internal`` error); the others go to the rest.
Log records made in a worker are passed, redacted, to the scanning process's logging.

As with any spawned process, a worker imports the main module of the program that started it
(under another name): a program of its own that scans with ``workers`` above 1 must start its
scan under ``if __name__ == "__main__":``. The ``windns`` command does.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from toolkit.findings import HostError, HostReport
from toolkit.fleet import HostSpec

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

    from toolkit.policy import Policy
    from toolkit.services.scan import Connector, Scanner, ScanOptions

__all__ = ["START_METHOD", "WorkerPool", "default_workers", "start_pool"]

log = logging.getLogger("windns.scan")

#: how worker processes are started (see the module's documentation)
START_METHOD: Final = "spawn"
#: the longest wait for the workers to be ready (an interpreter and the toolkit's imports each)
START_TIMEOUT = 60.0
#: how long the end of a scan waits for workers to exit before killing them
CLOSE_WAIT = 2.0

Complete = Callable[[int, HostReport], "tuple[int, HostSpec] | None"]


def default_workers() -> int:
    """The cores this process may run on (``--workers``'s default)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True, slots=True)
class _Setup:
    """What a worker needs, sent through its pipe as its first message."""

    #: the scanning process's ``Scanner`` class: it travels by name, so this module needs no
    #: import of ``toolkit.services.scan`` (which imports this one)
    scanner_type: type[Scanner]
    connector: Connector
    policy: Policy | None
    options: ScanOptions
    now: datetime | None
    #: transport modules to import before saying ready
    imports: tuple[str, ...]
    #: the scanning process's logging levels: the root's and those set on named loggers
    root_level: int
    levels: dict[str, int] = field(default_factory=dict)
    #: passwords to redact from the worker's log records (the scanning process's own list)
    secrets: tuple[str, ...] = field(default=(), repr=False)


class _Worker:
    def __init__(self, number: int, process: BaseProcess, conn: Connection) -> None:
        self.number = number
        self.process = process
        self.conn = conn
        self.send_lock = threading.Lock()
        #: hosts sent and not yet answered (inventory position -> host), abandoned ones included:
        #: the threads busy in the worker; guarded by the pool's lock
        self.assigned: dict[int, HostSpec] = {}
        self.alive = True
        self.ready = threading.Event()
        self.ended = threading.Event()

    def send(self, message: tuple[Any, ...]) -> bool:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            with self.send_lock:
                self.conn.send_bytes(data)
        except (OSError, ValueError):  # the worker has gone (its relay thread reports it)
            return False
        return True


class WorkerPool:
    """The worker processes of one scan; see the module's documentation."""

    def __init__(self, scanner: Scanner, count: int, complete: Complete, transports: Iterable[str]) -> None:
        self.scanner = scanner
        self.count = count
        self.complete = complete
        self.transports = tuple(sorted(transports))
        self.workers: list[_Worker] = []
        self.lock = threading.Lock()
        self.closing = False

    # -- start ---------------------------------------------------------------------------------
    def start(self) -> bool:
        """Start the workers and wait until they are ready; False when none could start."""
        import multiprocessing

        ctx = multiprocessing.get_context(START_METHOD)
        setup = pickle.dumps(self._setup(), protocol=pickle.HIGHEST_PROTOCOL)
        for number in range(self.count):
            ours, theirs = ctx.Pipe(duplex=True)
            process = ctx.Process(target=worker_main, args=(theirs,), name=f"windns-scan-worker-{number}")
            process.daemon = True  # ended with the scanning process if it exits without close()
            try:
                with _stop_signals_blocked():
                    process.start()
            except OSError as exc:
                log.warning("cannot start scan worker process %d: %s", number, exc)
                ours.close()
                theirs.close()
                continue
            theirs.close()
            worker = _Worker(number, process, ours)
            self.workers.append(worker)
            threading.Thread(
                target=self._relay, args=(worker,), name=f"windns-scan-relay-{number}", daemon=True
            ).start()
            with worker.send_lock:
                try:
                    worker.conn.send_bytes(setup)
                except OSError:
                    pass  # it died at once: its relay thread sees the pipe closed
        deadline = time.monotonic() + START_TIMEOUT
        for worker in self.workers:
            # a stop request (Ctrl-C while the workers start) is seen within 0.2 s
            while not worker.ready.wait(0.2) and not worker.ended.is_set():
                if self.scanner.stopping or time.monotonic() >= deadline:
                    break
        late = [w for w in self.workers if not w.ready.is_set()]
        for worker in late:
            with self.lock:
                worker.alive = False
            if not self.scanner.stopping and not worker.ended.is_set():
                log.warning("scan worker process %d did not start within %.0fs", worker.number, START_TIMEOUT)
            _end(worker.process)
        ready = sum(1 for w in self.workers if w.ready.is_set())
        log.info("scanning with %d worker process(es)", ready)
        return ready > 0

    def _setup(self) -> _Setup:
        from dataclasses import replace

        from toolkit.remote import redact

        modules = {"psrp": "toolkit.remote.psrp", "winrm": "toolkit.remote.winrm"}
        root = logging.getLogger()
        levels = {
            name: logger.level
            for name, logger in logging.Logger.manager.loggerDict.items()
            if isinstance(logger, logging.Logger) and logger.level != logging.NOTSET
        }
        secrets = redact.remembered_secrets()
        fallback = getattr(self.scanner.connector, "fallback_password", None)
        if isinstance(fallback, str):
            secrets = (*secrets, fallback)
        return _Setup(
            scanner_type=type(self.scanner),
            connector=self.scanner.connector,
            policy=self.scanner.policy,
            options=replace(self.scanner.options, workers=1),
            now=self.scanner.now,
            imports=tuple(modules[t] for t in self.transports if t in modules),
            root_level=root.level,
            levels=levels,
            secrets=secrets,
        )

    # -- hosts ---------------------------------------------------------------------------------
    def submit(self, index: int, spec: HostSpec) -> None:
        """Send a host to the worker with the fewest in hand; with none left, fail it."""
        nxt: tuple[int, HostSpec] | None = (index, spec)
        while nxt is not None:
            index, spec = nxt
            with self.lock:
                live = [w for w in self.workers if w.alive and w.ready.is_set()]
                worker = min(live, key=lambda w: len(w.assigned)) if live else None
                if worker is not None:
                    worker.assigned[index] = spec
            if worker is not None:
                worker.send(("scan", index, spec))  # if it has just died, its relay fails the host
                return
            nxt = self.complete(index, _lost(spec, "no scan worker process is left"))

    def stop(self, reason: str) -> None:
        for worker in self._live():
            worker.send(("stop", reason))

    def _live(self) -> list[_Worker]:
        with self.lock:
            return [w for w in self.workers if w.alive]

    def close(self) -> None:
        """End every worker: at once if idle, killed after ``CLOSE_WAIT`` if stuck."""
        with self.lock:
            self.closing = True
        for worker in self.workers:
            worker.send(("close",))
        deadline = time.monotonic() + CLOSE_WAIT
        for worker in self.workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
        for worker in self.workers:
            _end(worker.process)  # its relay thread then reads the end of the pipe and closes it

    # -- results ---------------------------------------------------------------------------------
    def _relay(self, worker: _Worker) -> None:
        """Read one worker's messages until its pipe closes."""
        try:
            while True:
                try:
                    message = pickle.loads(worker.conn.recv_bytes())
                except (EOFError, OSError):
                    break
                kind = message[0]
                if kind == "done":
                    _, index, host = message
                    with self.lock:
                        worker.assigned.pop(index, None)
                    if not self.closing and (nxt := self.complete(index, host)) is not None:
                        self.submit(*nxt)
                elif kind == "log":
                    _log_record(message[1])
                elif kind == "ready":
                    worker.ready.set()
        finally:
            worker.conn.close()
            worker.ended.set()
            with self.lock:
                worker.alive = False
                lost = list(worker.assigned.items())
                worker.assigned.clear()
                closing = self.closing
        if closing or not lost:
            return
        worker.process.join(1.0)
        how = _exit_text(worker.process.exitcode)
        log.error(
            "scan worker process %d ended unexpectedly (%s) with %d host(s) in hand",
            worker.number,
            how,
            len(lost),
        )
        for index, spec in lost:
            nxt = self.complete(
                index, _lost(spec, f"the worker process scanning it ended unexpectedly ({how})")
            )
            if nxt is not None:
                self.submit(*nxt)


def start_pool(
    scanner: Scanner, count: int, complete: Complete, *, transports: Iterable[str] = ()
) -> WorkerPool | None:
    """A started pool of ``count`` workers, or None (threads then) when none could start."""
    pool = WorkerPool(scanner, count, complete, transports)
    try:
        started = pool.start()
    except (OSError, pickle.PicklingError, TypeError, AttributeError) as exc:
        # a connector or policy that cannot be pickled after all, or no process to be had
        log.warning("scan worker processes unavailable (%s): scanning with threads", type(exc).__name__)
        pool.close()
        return None
    if not started:
        if not scanner.stopping:
            log.warning("no scan worker process started: scanning with threads")
        pool.close()
        return None
    return pool


@contextlib.contextmanager
def _stop_signals_blocked() -> Iterator[None]:
    """SIGINT and SIGTERM held back (not lost) while a worker is started: it inherits the mask
    and ignores both before taking them again, so a Ctrl-C while it imports does not kill it."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no process group shares a Ctrl-C
        yield
        return
    from multiprocessing import resource_tracker

    # Starting a worker starts the resource tracker first if it is not running, and that start
    # unblocks both signals in this thread afterwards: have it running before blocking them.
    resource_tracker.ensure_running()
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _lost(spec: HostSpec, why: str) -> HostReport:
    return HostReport(server=spec.name, error=HostError(spec.name, "internal", why))


def _exit_text(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def _end(process: BaseProcess) -> None:
    if process.is_alive():
        process.kill()
        process.join(1.0)


def _log_record(fields: dict[str, Any]) -> None:
    record = logging.makeLogRecord(fields)
    logger = logging.getLogger(record.name)
    if logger.isEnabledFor(record.levelno):
        logger.handle(record)


# -- in the worker process -------------------------------------------------------------------------
class _PipeHandler(logging.Handler):
    """Sends each record (its message made, redacted) to the scanning process."""

    def __init__(self, send: Callable[[tuple[Any, ...]], None]) -> None:
        super().__init__()
        self._send = send

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if record.exc_info and not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            fields = {
                "name": record.name,
                "levelno": record.levelno,
                "levelname": record.levelname,
                "msg": record.getMessage(),
                "args": None,
                "exc_text": record.exc_text,
                "pathname": record.pathname,
                "lineno": record.lineno,
                "funcName": record.funcName,
                "created": record.created,
                "threadName": record.threadName,
                "processName": record.processName,
                "process": record.process,
            }
            self._send(("log", fields))
        except Exception:  # noqa: BLE001 - logging never takes a worker down
            self.handleError(record)


def worker_main(conn: Connection) -> None:
    """A worker process: audit the hosts the scanning process sends, send back each report."""
    for sig in _STOP_SIGNALS:
        with contextlib.suppress(ValueError, OSError):
            signal.signal(sig, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)  # blocked by the start (ignored now)
    channel = _Channel(conn)
    try:
        _serve(channel)
    except BaseException as exc:  # noqa: BLE001 - one line to the scanning process, no traceback here
        text = " ".join(f"{type(exc).__name__}: {exc}".split())
        channel.send(("log", {"name": log.name, "levelno": logging.ERROR, "levelname": "ERROR", "msg": text}))
        os._exit(1)


class _Channel:
    """The worker's end of its pipe: sends from any thread; any failure means the scanning
    process has gone, and the worker exits at once."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.lock = threading.Lock()

    def send(self, message: tuple[Any, ...]) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            with self.lock:
                self.conn.send_bytes(data)
        except (OSError, ValueError):
            os._exit(0)

    def receive(self) -> Any:
        try:
            data = self.conn.recv_bytes()
        except (EOFError, OSError):
            os._exit(0)
        return pickle.loads(data)


def _serve(channel: _Channel) -> None:
    setup: _Setup = channel.receive()
    _worker_logging(setup, channel.send)
    import importlib

    from toolkit.services import audit  # noqa: F401 - imported before the first host, not during it

    for module in setup.imports:
        importlib.import_module(module)
    scanner = setup.scanner_type((), setup.connector, setup.policy, options=setup.options, now=setup.now)

    def scan(index: int, spec: HostSpec) -> None:
        try:
            host = scanner.scan_host(spec)
        except BaseException as exc:  # noqa: BLE001 - scan_host does not raise; if it did, report it
            host = HostReport(server=spec.name, error=HostError.from_exception(spec.name, exc))
        try:
            channel.send(("done", index, host))
        except (pickle.PicklingError, TypeError, AttributeError, RecursionError) as exc:
            error = HostError.from_exception(spec.name, exc)
            channel.send(("done", index, HostReport(server=spec.name, error=error, duration=host.duration)))

    channel.send(("ready", os.getpid()))
    while True:
        message = channel.receive()
        kind = message[0]
        if kind == "scan":
            _, index, spec = message
            threading.Thread(
                target=scan, args=(index, spec), name=f"windns-scan-{index}", daemon=True
            ).start()
        elif kind == "stop":
            scanner.stop(message[1])
        elif kind == "close":
            os._exit(0)  # threads stuck in a hung call end with the process


def _worker_logging(setup: _Setup, send: Callable[[tuple[Any, ...]], None]) -> None:
    from toolkit.remote import redact

    for secret in setup.secrets:
        redact.remember_secret(secret)
    handler = _PipeHandler(send)
    redact.install(handler)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(setup.root_level)
    for name, level in setup.levels.items():
        logging.getLogger(name).setLevel(level)
