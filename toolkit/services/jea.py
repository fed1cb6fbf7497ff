"""The inventory of a server behind a JEA endpoint, read with cmdlet commands, no script.

``inventory.ps1`` cannot run in a NoLanguage session, so the same reads are sent as PSRP
commands (``PsrpRemote.invoke_cmdlets``: ``add_cmdlet`` with typed parameters, several
statements per pipeline) and the objects that come back are projected and assembled into the
same document by ``toolkit.normalise.clixml``, self-check counts included. The pipelines:

1. ``Get-CimInstance -ClassName Win32_OperatingSystem`` (optional: a role may not expose it; its
   failure is recorded as the script records it);
2. ``Get-DnsServerZone; Get-DnsServerSetting -All; Get-DnsServerZone``: the zones, the server,
   and the second listing the self-check counts (the setting object marks where one listing
   ends and the other begins); with zone names, ``Get-DnsServerZone -Name`` per name instead;
3. per 10 DNSSEC zones, ``Get-DnsServerSigningKey -ZoneName z; Get-DnsServerDnsSecZoneSetting
   -ZoneName z`` for each: each zone's keys, then its one settings object. A batch in which a
   cmdlet wrote an error is read again zone by zone, so every error lands on its zone;
4. ``Get-DnsServerTrustPoint``, then ``Get-DnsServerTrustAnchor -Name`` per trust point.

A server of 20 zones costs five pipelines. Which cmdlets and parameters the role must make
visible is ``docs/jea.md``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from toolkit.errors import CmdletError, RemoteError
from toolkit.normalise.clixml import InventoryBuilder, cim_class, properties
from toolkit.remote.jea import CmdletAnswer, CmdletFailure, Statement

__all__ = ["ZONE_BATCH", "CmdletRemote", "collect_document"]

log = logging.getLogger("windns.services.jea")

#: DNSSEC zones per pipeline of key and settings reads
ZONE_BATCH = 10


class CmdletRemote(Protocol):
    host: str

    def invoke_cmdlets(self, statements: Sequence[Statement], *, label: str) -> CmdletAnswer: ...


def _is(obj: Any, cls: str, member: str) -> bool:
    found = cim_class(obj)
    if found is not None:
        return found == cls
    return member in properties(obj)


def _entry(stage: str, f: CmdletFailure) -> dict[str, Any]:
    return InventoryBuilder.error(stage, f.code, f.message, f.fully_qualified_error_id)


def _raise(failure: CmdletFailure, host: str) -> None:
    raise CmdletError(
        failure.message or "the cmdlet failed",
        code=failure.code,
        cmdlet=failure.cmdlet,
        fully_qualified_error_id=failure.fully_qualified_error_id,
        host=host,
    )


def collect_document(remote: CmdletRemote, zones: Sequence[str] | None = None) -> dict[str, Any]:
    """The ``windns.inventory`` document of the server behind ``remote``, read with cmdlets."""
    run: Callable[[Sequence[Statement], str], CmdletAnswer] = lambda st, label: remote.invoke_cmdlets(  # noqa: E731
        st, label=label
    )
    b = InventoryBuilder(asked=list(zones) if zones else None)

    # 1. the operating system (optional)
    os_version: str | None = None
    try:
        answer = run([("Get-CimInstance", {"ClassName": "Win32_OperatingSystem"})], "jea:os")
        if answer.errors:
            b.errors.append(_entry("Get-CimInstance Win32_OperatingSystem", answer.errors[0]))
        elif answer.output:
            os_version = InventoryBuilder.os_version(answer.output[0])
    except CmdletError as exc:  # not visible in this role: recorded, as the script records it
        b.errors.append(
            InventoryBuilder.error(
                "Get-CimInstance Win32_OperatingSystem", exc.code, exc.detail, exc.fully_qualified_error_id
            )
        )

    # 2. the server and the zones
    zone_objects: list[Any] = []
    if b.asked is None:
        answer = run(
            [("Get-DnsServerZone", {}), ("Get-DnsServerSetting", {"All": True}), ("Get-DnsServerZone", {})],
            "jea:zones",
        )
        if answer.errors:
            _raise(answer.errors[0], remote.host)
        at = next(
            (i for i, o in enumerate(answer.output) if _is(o, "DnsServerSetting", "EnableOnlineSigning")),
            None,
        )
        if at is None:
            raise RemoteError(f"{remote.host}: Get-DnsServerSetting -All returned nothing")
        zone_objects = [o for o in answer.output[:at] if o is not None]
        b.set_server(answer.output[at], os_version, None)
        b.set_listing([o for o in answer.output[at + 1 :] if o is not None])
        entries = [InventoryBuilder.zone_entry(z) for z in zone_objects]
    else:
        answer = run([("Get-DnsServerSetting", {"All": True})], "jea:server")
        if answer.errors or not answer.output:
            if answer.errors:
                _raise(answer.errors[0], remote.host)
            raise RemoteError(f"{remote.host}: Get-DnsServerSetting -All returned nothing")
        b.set_server(answer.output[0], os_version, None)
        entries = []
        named: list[tuple[str, Any]] = []
        for name in b.asked:
            answer = run([("Get-DnsServerZone", {"Name": name})], f"jea:zone {name}")
            if answer.errors:
                failure = _entry("Get-DnsServerZone", answer.errors[0])
                if failure["Code"] != 9601:  # a zone that is not there is an answer; anything else is not
                    _raise(answer.errors[0], remote.host)
                named.append((name, failure))
            elif answer.output:
                named.append((name, answer.output[0]))
        # the zones in the order asked, missing ones as entries carrying 9601
        for name, found in named:
            if isinstance(found, dict) and "Stage" in found:
                entries.append({"__missing__": name, "failure": found})
            else:
                entries.append(InventoryBuilder.zone_entry(found))

    # 3. keys and DNSSEC settings of the DNSSEC zones
    relevant = [e for e in entries if "__missing__" not in e and InventoryBuilder.dnssec_relevant(e)]
    read: dict[int, tuple[list[Any] | None, Any, list[dict[str, Any]]]] = {}
    for start in range(0, len(relevant), ZONE_BATCH):
        batch = relevant[start : start + ZONE_BATCH]
        got = _batch(run, batch)
        if got is None:
            got = [_one(run, e) for e in batch]
        for e, result in zip(batch, got, strict=True):
            read[id(e)] = result

    for e in entries:
        if "__missing__" in e:
            b.missing_zone(e["__missing__"], e["failure"])
            continue
        keys, setting, errors = read.get(id(e), (None, None, []))
        signed = bool(e.get("IsSigned"))
        if not (signed or keys):
            setting = None  # the script reads settings only for zones that use DNSSEC
        b.add_zone(e, keys=keys, setting=setting, errors=errors)

    # 4. trust points and anchors
    points_read = False
    answer = run([("Get-DnsServerTrustPoint", {})], "jea:trust points")
    if answer.errors:
        failure = _entry("Get-DnsServerTrustPoint", answer.errors[0])
        if failure["Code"] == 9601:  # no TrustAnchors zone: there are none
            points_read = True
        else:
            b.errors.append(failure)
    else:
        from toolkit.normalise.clixml import trust_point

        b.points = [trust_point(p) for p in answer.output if p is not None]
        points_read = True
    if points_read and b.points:
        from toolkit.normalise.clixml import trust_anchor

        statements = [("Get-DnsServerTrustAnchor", {"Name": p["TrustPointName"]}) for p in b.points]
        answer = run(statements, "jea:trust anchors")
        b.anchors = [trust_anchor(a) for a in answer.output if a is not None]
        b.errors.extend(_entry("Get-DnsServerTrustAnchor", f) for f in answer.errors)
    elif not points_read:
        b.errors.append(
            {
                "Stage": "Get-DnsServerTrustAnchor",
                "Code": None,
                "Message": "Trust anchors not read: the trust points they belong to could not be listed.",
                "FullyQualifiedErrorId": None,
            }
        )
    return b.document()


def _batch(
    run: Callable[[Sequence[Statement], str], CmdletAnswer], batch: Sequence[dict[str, Any]]
) -> list[tuple[list[Any] | None, Any, list[dict[str, Any]]]] | None:
    """Keys and settings of ``batch`` in one pipeline; None when the answer cannot be split by
    zone with certainty (a cmdlet wrote an error, or the objects do not line up)."""
    statements: list[Statement] = []
    for e in batch:
        statements.append(("Get-DnsServerSigningKey", {"ZoneName": e["ZoneName"]}))
        statements.append(("Get-DnsServerDnsSecZoneSetting", {"ZoneName": e["ZoneName"]}))
    answer = run(statements, f"jea:keys of {len(batch)} zones")
    if answer.errors:
        return None
    out: list[tuple[list[Any] | None, Any, list[dict[str, Any]]]] = []
    keys: list[Any] = []
    for obj in answer.output:
        if _is(obj, "DnsServerDnsSecZoneSetting", "DenialOfExistence"):
            out.append((keys, obj, []))
            keys = []
        else:
            keys.append(obj)
    if keys or len(out) != len(batch):
        return None
    return out


def _one(
    run: Callable[[Sequence[Statement], str], CmdletAnswer], e: dict[str, Any]
) -> tuple[list[Any] | None, Any, list[dict[str, Any]]]:
    """One zone read alone: its keys, then (when it uses DNSSEC) its settings, errors its own."""
    zone = e["ZoneName"]
    errors: list[dict[str, Any]] = []
    keys: list[Any] | None = None
    answer = run([("Get-DnsServerSigningKey", {"ZoneName": zone})], f"jea:keys of {zone}")
    if answer.errors:
        errors.append(_entry("Get-DnsServerSigningKey", answer.errors[0]))
    else:
        keys = list(answer.output)
    setting = None
    if e.get("IsSigned") or keys:
        answer = run([("Get-DnsServerDnsSecZoneSetting", {"ZoneName": zone})], f"jea:settings of {zone}")
        if answer.errors:
            errors.append(_entry("Get-DnsServerDnsSecZoneSetting", answer.errors[0]))
        elif answer.output:
            setting = answer.output[0]
    return keys, setting, errors
