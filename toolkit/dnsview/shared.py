"""Zone views shared by the hosts of one scan.

In a fleet, many Windows servers hold the same zones (an Active Directory-integrated zone is on
every domain controller that replicates it), and a scan with ``--dns-server`` asks one DNS
server about each of them for every host. What that server publishes for a zone is the same
whichever host's inventory named the zone, so a scan asks it once: ``SharedViews.view`` takes
the view of a (zone, server, parent, options) that another host's audit has taken, or waits for
the one being taken, or takes it. The parents' DNSKEY RRsets are shared the same way. A view
with a question the server gave no answer to (a timeout, an unreachable server) is not kept:
the next host asks again, as it would have without sharing.

One ``SharedViews`` lives as long as its scan; a worker process gets a fresh one (pickling
gives an empty cache), so the views are asked once per process.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import Future
from datetime import datetime
from typing import Any

from toolkit.dnsview.descriptors import NO_ANSWER_KINDS, ZoneDnsView
from toolkit.dnsview.query import DnsTarget, ParentKeys, QueryOptions, ZoneQuery, zone_view, zone_views
from toolkit.model import zone_key

__all__ = ["SharedViews"]

_Key = tuple[str, str, str | None, QueryOptions]


class SharedViews:
    """Zone views asked once per (zone, server, parent, options) for all the hosts of a scan."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._views: dict[_Key, Future[ZoneDnsView]] = {}
        #: the parents' DNSKEY RRsets, for every host's zones
        self.parent_keys = ParentKeys()
        #: the views this cache took itself (the others were shared)
        self.asked = 0

    def __reduce__(self) -> tuple[Any, ...]:
        return (SharedViews, ())

    def view(
        self,
        zone: str,
        server: DnsTarget,
        *,
        parent: DnsTarget | None,
        opts: QueryOptions,
        now: datetime | None = None,
    ) -> ZoneDnsView:
        """``zone_view`` of ``zone``, taken once for every host that asks the same of the same
        servers with the same options."""
        key: _Key = (zone_key(zone), str(server), str(parent) if parent is not None else None, opts)
        mine: Future[ZoneDnsView] = Future()
        with self._lock:
            pending = self._views.setdefault(key, mine)
            if pending is mine:
                self.asked += 1
        if pending is not mine:
            return pending.result()
        try:
            found = zone_view(zone, server, parent=parent, opts=opts, now=now, parent_keys=self.parent_keys)
        except BaseException as exc:
            with self._lock:
                del self._views[key]
            mine.set_exception(exc)
            raise
        if any(p.kind in NO_ANSWER_KINDS for p in found.problems):
            with self._lock:
                del self._views[key]  # the next host asks again
        mine.set_result(found)
        return found

    def views(self, queries: Sequence[ZoneQuery], opts: QueryOptions) -> list[ZoneDnsView]:
        """``zone_views`` of ``queries`` (at most ``opts.concurrency`` at a time), each through
        ``view``; results in input order."""
        return zone_views(queries, opts, parent_keys=self.parent_keys, view=self.view)
