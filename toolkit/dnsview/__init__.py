"""The outside-in DNSSEC view: what a server publishes over DNS, validated and described.

``zone_view`` / ``zone_views`` ask a server (and the parent, for DS) with dnspython; the
descriptors in ``toolkit.dnsview.descriptors`` are what the join rules in
``toolkit.rules.join_rules`` compare with the server's own view. ``toolkit.testing.bind`` runs a
real BIND ``named`` for the demo and the tests.

The query functions are loaded on first use (dnspython's resolver and DNSSEC modules are not
needed by code that only reads the descriptors, such as the rule registry).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from toolkit.dnsview.descriptors import (
    DnsProblem,
    DsRecord,
    Nsec3Params,
    PublishedKey,
    Signature,
    ZoneDnsView,
)

if TYPE_CHECKING:
    from toolkit.dnsview.query import (
        DnsTarget,
        QueryOptions,
        ZoneQuery,
        ask,
        parse_target,
        zone_view,
        zone_views,
    )

_QUERY_NAMES = frozenset(
    {"DnsTarget", "QueryOptions", "ZoneQuery", "ask", "parse_target", "zone_view", "zone_views"}
)


def __getattr__(name: str) -> Any:
    if name in _QUERY_NAMES:
        from toolkit.dnsview import query

        return getattr(query, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DnsProblem",
    "DnsTarget",
    "DsRecord",
    "Nsec3Params",
    "PublishedKey",
    "QueryOptions",
    "Signature",
    "ZoneDnsView",
    "ZoneQuery",
    "ask",
    "parse_target",
    "zone_view",
    "zone_views",
]
