"""Audit one server: collect the inventory through a Remote, normalise it, run the rules."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from toolkit.errors import WindnsError
from toolkit.findings import HostError, HostReport, Report
from toolkit.model import ServerInventory
from toolkit.remote.base import Remote

if TYPE_CHECKING:
    from toolkit.policy import Policy

__all__ = ["audit_inventory", "audit_server", "collect", "report_for"]


def collect(remote: Remote, zones: Sequence[str] | None = None) -> ServerInventory:
    """Run the inventory script once and normalise what it printed."""
    from toolkit.normalise import normalise_inventory

    params = {"ZoneName": list(zones)} if zones else {}
    result = remote.run("inventory", params)
    return normalise_inventory(result.data, source=f"{remote.host}:inventory")


def audit_inventory(
    inv: ServerInventory, policy: Policy | None = None, *, now: datetime | None = None
) -> HostReport:
    from toolkit.rules import evaluate

    findings, suppressed = evaluate(inv, policy, now=now)
    return HostReport(
        server=inv.server.name, inventory=inv, findings=tuple(findings), suppressed=tuple(suppressed)
    )


def audit_server(
    remote: Remote,
    policy: Policy | None = None,
    *,
    zones: Sequence[str] | None = None,
    now: datetime | None = None,
) -> HostReport:
    """Audit one server. A toolkit error becomes ``HostReport.error``; it is never raised."""
    start = time.perf_counter()
    try:
        inv = collect(remote, zones)
        report = audit_inventory(inv, policy, now=now)
    except WindnsError as exc:
        code = getattr(exc, "code", None)
        return HostReport(
            server=remote.host,
            error=HostError(server=remote.host, kind=exc.kind, message=exc.message, code=code),
            duration=time.perf_counter() - start,
        )
    return HostReport(
        server=report.server,
        inventory=report.inventory,
        findings=report.findings,
        suppressed=report.suppressed,
        duration=time.perf_counter() - start,
    )


def report_for(hosts: Sequence[HostReport], policy: Policy | None = None, *, duration: float = 0.0) -> Report:
    return Report(
        hosts=tuple(hosts),
        generated_at=datetime.now(UTC),
        policy_name=policy.name if policy is not None else "baseline",
        duration=duration,
    )
