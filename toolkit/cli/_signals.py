"""Stopping a long-running command (`fake-server`, `dns serve-demo`) cleanly on a signal.

Inside ``stop_on_signals()`` SIGINT (Ctrl-C), SIGTERM (``kill``, a service manager) and SIGHUP
(the terminal went away) all raise ``KeyboardInterrupt`` in the main thread, the one way the
command stops, so its ``finally`` blocks remove what it made. Only the first signal raises: the
ones after it are ignored until the block is left, so a second Ctrl-C or a SIGTERM arriving while
named is being stopped cannot cut the clean-up short. A signal ignored when the command started
(a shell's background job ignores SIGINT, ``nohup`` SIGHUP) stays ignored.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

__all__ = ["STOP_SIGNALS", "stop_on_signals"]

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextmanager
def stop_on_signals() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers belong to the main thread; an embedding caller handles them
        return
    saved: dict[signal.Signals, Any] = {}
    stopping = False

    def handler(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        if stopping:
            return
        stopping = True
        raise KeyboardInterrupt(signal.Signals(signum).name)

    for sig in STOP_SIGNALS:
        if signal.getsignal(sig) != signal.SIG_IGN:
            saved[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, previous in saved.items():
            signal.signal(sig, previous)
