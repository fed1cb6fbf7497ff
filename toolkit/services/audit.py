"""Audit one server: collect the inventory through a Remote, normalise it, run the rules.

With ``dns`` (``DnsViewOptions``), the audit also asks a DNS server over DNS what it serves for
each signed zone of the inventory (``toolkit.dnsview``) and runs the join rules over both views.
DNS trouble never costs the inventory: a server that does not answer, does not resolve or fails
in any other way becomes DNS001 findings beside everything the inventory found.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from toolkit.dnsview.descriptors import DnsProblem, ZoneDnsView
from toolkit.errors import ConfigError, WindnsError
from toolkit.findings import Finding, HostError, HostReport, Report, sort_findings
from toolkit.model import ServerInventory, Zone, zone_key
from toolkit.model.enums import ZoneType
from toolkit.remote.base import Remote
from toolkit.rules.registry import RULE_BOOK
from toolkit.services.key_tags import KeyTag, label_findings, zones_naming_keys
from toolkit.services.key_tags import key_tags as read_key_tags

if TYPE_CHECKING:
    from pathlib import Path

    from toolkit.dnsview.query import QueryOptions
    from toolkit.dnsview.shared import SharedViews
    from toolkit.fleet import HostSpec
    from toolkit.policy import Policy

log = logging.getLogger("windns.services.audit")

__all__ = [
    "DnsViewOptions",
    "audit_inventory",
    "audit_server",
    "check_views",
    "collect",
    "collect_dns",
    "dns_for_host",
    "load_saved",
    "report_for",
]


def _default_query() -> QueryOptions:
    from toolkit.dnsview.query import QueryOptions

    return QueryOptions()


@dataclass(frozen=True, slots=True)
class DnsViewOptions:
    """How to take the DNS view of an audited server.

    ``server``: ``ADDR[:PORT]`` (or a host name) to ask; None means the audited host's own
    address, port 53. ``ds_from``: where to ask for each zone's DS, the parent's server or a
    recursive resolver (None: ``server``). In a fleet scan, ``all_hosts`` False limits the view
    to hosts whose inventory entry names a ``dns_address``, and ``enabled`` False turns it off
    even for those.
    """

    server: str | None = None
    ds_from: str | None = None
    ask_ds: bool = True
    query: QueryOptions = field(default_factory=_default_query)
    enabled: bool = True
    all_hosts: bool = True
    #: the views a scan's hosts share (``toolkit.dnsview.shared``); None: each audit asks its own
    shared: SharedViews | None = field(default=None, compare=False)


def dns_for_host(spec: HostSpec, base: DnsViewOptions | None) -> DnsViewOptions | None:
    """The DNS view options for one fleet host: its ``dns_address`` wins, then ``base.server``,
    then its own address. Without ``base``, only hosts whose entry names a ``dns_address``."""
    base = base if base is not None else DnsViewOptions(all_hosts=False)
    if not base.enabled:
        return None
    if spec.dns_address:
        return replace(base, server=spec.dns_address)
    if not base.all_hosts:
        return None
    return replace(base, server=base.server or spec.address)


def load_saved(path: Path) -> ServerInventory:
    """An inventory saved before (``windns inventory -o``, or a script's JSON): ``--offline``."""
    from toolkit.normalise import load_file

    return load_file(path)


def check_views(
    views: Sequence[ZoneDnsView], policy: Policy | None = None, *, server: str
) -> tuple[list[Finding], list[Finding]]:
    """The join rules over zone views alone (no inventory): ``windns dns check``."""
    from toolkit.rules.join_engine import evaluate_join

    return evaluate_join(views, None, policy, server=server)


def collect(remote: Remote, zones: Sequence[str] | None = None) -> ServerInventory:
    """Run the inventory script once and normalise what it printed."""
    return _collect(remote, zones)[0]


def _collect(remote: Remote, zones: Sequence[str] | None) -> tuple[ServerInventory, str | None]:
    """The inventory, and the text the server printed for it (None when the Remote kept none).

    A JEA endpoint (``--jea``, or found so when it refuses the inventory script with
    ScriptsNotAllowed) is read with cmdlet commands instead (``toolkit.services.jea``); the same
    document, normaliser and self-check follow either way."""
    from toolkit.normalise import normalise_inventory
    from toolkit.normalise.selfcheck import ALL_ZONES
    from toolkit.remote.jea import JeaRefusal

    asked = list(zones) if zones else ALL_ZONES
    if getattr(remote, "jea", False) and hasattr(remote, "invoke_cmdlets"):
        return _collect_jea(remote, zones, asked)
    params = {"ZoneName": list(zones)} if zones else {}
    try:
        result = remote.run("inventory", params)
    except JeaRefusal as exc:
        if not hasattr(remote, "invoke_cmdlets"):
            raise
        log.warning(
            "%s: %s is a JEA endpoint (NoLanguage): reading it with cmdlet commands instead of the "
            "inventory script (--jea skips the attempt)",
            remote.host,
            exc.configuration,
        )
        remote.jea = True  # type: ignore[attr-defined]
        return _collect_jea(remote, zones, asked)
    inv = normalise_inventory(result.data, source=f"{remote.host}:inventory", asked=asked)
    return inv, result.raw or None


def _collect_jea(remote: Remote, zones: Sequence[str] | None, asked: object) -> tuple[ServerInventory, str]:
    from toolkit import jsontext
    from toolkit.normalise import normalise_inventory
    from toolkit.services.jea import CmdletRemote, collect_document

    assert hasattr(remote, "invoke_cmdlets")
    cmdlet_remote: CmdletRemote = remote  # type: ignore[assignment]
    doc = collect_document(cmdlet_remote, zones)
    inv = normalise_inventory(doc, source=f"{remote.host}:inventory (JEA cmdlets)", asked=asked)
    return inv, jsontext.dumps(doc)


def dns_zones(inv: ServerInventory) -> list[str]:
    """The zones worth asking over DNS: the signed primary zones."""

    def wanted(z: Zone) -> bool:
        return z.zone_type is ZoneType.PRIMARY and not z.is_auto_created and z.signed

    return [z.name for z in inv.zones if wanted(z)]


def _unanswered(zones: Sequence[str], server: str, kind: str, message: str) -> list[ZoneDnsView]:
    now = datetime.now(UTC)
    return [
        ZoneDnsView(
            zone=z.rstrip(".") + ".",
            server=server,
            queried_at=now,
            reachable=False,
            problems=(DnsProblem(f"{z.rstrip('.')}. SOA", server, kind, message),),
        )
        for z in zones
    ]


def collect_dns(inv: ServerInventory, opts: DnsViewOptions, *, host: str) -> list[ZoneDnsView]:
    """The DNS view of the inventory's signed zones; never raises for DNS trouble.

    The first zone is asked alone: when the server gives nothing at all (timeout, unreachable),
    the other zones are not asked again, and each gets the same problem (one DNS001 finding).
    """
    from toolkit.dnsview.query import ParentKeys, ZoneQuery, parse_target, zone_view, zone_views
    from toolkit.rules.join_checks import SERVER_DOWN_KINDS

    zones = dns_zones(inv)
    if not zones:
        return []
    where = opts.server or host
    try:
        target = parse_target(where)
        parent = parse_target(opts.ds_from) if opts.ds_from else target
    except ConfigError as exc:
        return _unanswered(zones, where, "unresolvable", exc.message)
    ds_from = parent if opts.ask_ds else None
    try:
        shared = opts.shared
        parent_keys = ParentKeys()  # a scan's hosts share theirs in ``shared``
        if shared is not None:
            first = shared.view(zones[0], target, parent=ds_from, opts=opts.query)
        else:
            first = zone_view(zones[0], target, parent=ds_from, opts=opts.query, parent_keys=parent_keys)
        down = not first.reachable and first.problems and first.problems[0].kind in SERVER_DOWN_KINDS
        if down:
            p = first.problems[0]
            return [first, *_unanswered(zones[1:], str(target), p.kind, p.message)]
        queries = [ZoneQuery(z, target, ds_from) for z in zones[1:]]
        if shared is not None:
            rest = shared.views(queries, opts.query)
        else:
            rest = zone_views(queries, opts.query, parent_keys=parent_keys)
    except Exception as exc:  # noqa: BLE001 - a DNS failure must never lose the inventory
        message = " ".join(f"{type(exc).__name__}: {exc}".split())
        return _unanswered(zones, str(target), "error", message)
    return [first, *rest]


def audit_inventory(
    inv: ServerInventory,
    policy: Policy | None = None,
    *,
    now: datetime | None = None,
    dns_views: Sequence[ZoneDnsView] | None = None,
    key_tags: Mapping[tuple[str, str], KeyTag] | None = None,
) -> HostReport:
    """Run the rules over an inventory, and the join rules over ``dns_views`` when given.

    ``now`` judges the inventory; the DNS views are judged as of when they were queried. Each
    finding that names a key gets its tag (from ``key_tags``, else the DNS views), type and
    algorithm in its evidence (``toolkit.services.key_tags.label_findings``).
    """
    from toolkit.rules import evaluate
    from toolkit.rules.join_engine import evaluate_join

    findings, suppressed = evaluate(inv, policy, now=now)
    if dns_views is not None:
        more, more_suppressed = evaluate_join(dns_views, inv, policy)
        findings = list(sort_findings([*findings, *more]))
        suppressed = list(sort_findings([*suppressed, *more_suppressed]))
    return HostReport(
        server=inv.server.name,
        inventory=inv,
        findings=label_findings(findings, inv, key_tags, dns_views),
        suppressed=label_findings(suppressed, inv, key_tags, dns_views),
    )


def _with_key_tags(remote: Remote, host: HostReport, views: Sequence[ZoneDnsView] | None) -> HostReport:
    """``host`` with the key tags of the zones whose findings name a key (one ``zone_dnskeys``
    call for all of them; none over a JEA endpoint, which runs no script: the notes say so)."""
    inv = host.inventory
    zones = zones_naming_keys([*host.findings, *host.suppressed])
    if inv is None or not zones:
        return host
    if getattr(remote, "jea", False):
        tags = {
            (zone_key(k.zone), k.key_id): KeyTag(None, "not read over a JEA endpoint")
            for k in inv.iter_keys()
        }
    else:
        tags = read_key_tags(remote, inv, zones)
    return replace(
        host,
        findings=label_findings(host.findings, inv, tags, views),
        suppressed=label_findings(host.suppressed, inv, tags, views),
    )


def audit_server(
    remote: Remote,
    policy: Policy | None = None,
    *,
    zones: Sequence[str] | None = None,
    now: datetime | None = None,
    dns: DnsViewOptions | None = None,
) -> HostReport:
    """Audit one server (with its DNS view when ``dns`` is given). A toolkit error becomes
    ``HostReport.error``; it is never raised."""
    start = time.perf_counter()
    try:
        inv, text = _collect(remote, zones)
        views = collect_dns(inv, dns, host=remote.host) if dns is not None and dns.enabled else None
        report = _with_key_tags(remote, audit_inventory(inv, policy, now=now, dns_views=views), views)
    except WindnsError as exc:
        return HostReport(
            server=remote.host,
            error=HostError.from_exception(remote.host, exc),
            duration=time.perf_counter() - start,
        )
    return HostReport(
        server=report.server,
        inventory=report.inventory,
        findings=report.findings,
        suppressed=report.suppressed,
        duration=time.perf_counter() - start,
        inventory_text=text,
    )


def report_for(hosts: Sequence[HostReport], policy: Policy | None = None, *, duration: float = 0.0) -> Report:
    return Report(
        hosts=tuple(hosts),
        generated_at=datetime.now(UTC),
        policy_name=policy.name if policy is not None else "baseline",
        duration=duration,
        rules=RULE_BOOK,
    )
