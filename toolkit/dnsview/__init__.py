"""The outside-in DNSSEC view: what a server publishes over DNS, validated and described.

``zone_view`` / ``zone_views`` ask a server (and the parent, for DS) with dnspython; the
descriptors in ``toolkit.dnsview.descriptors`` are what the join rules in
``toolkit.rules.join_rules`` compare with the server's own view. ``toolkit.dnsview.bind`` runs a
real BIND ``named`` for the demo and the tests.
"""

from toolkit.dnsview.descriptors import (
    DnsProblem,
    DsRecord,
    Nsec3Params,
    PublishedKey,
    Signature,
    ZoneDnsView,
)
from toolkit.dnsview.query import (
    DnsTarget,
    QueryOptions,
    ZoneQuery,
    ask,
    parse_target,
    zone_view,
    zone_views,
)

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
