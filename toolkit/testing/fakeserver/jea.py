"""The loopback endpoint's JEA configuration: NoLanguage, the read cmdlets of the role only.

A real JEA endpoint (``RestrictedRemoteServer`` session type, ``LanguageMode = 'NoLanguage'``)
refuses any script command: the pipeline fails with the ErrorRecord pypsrp recorded from Windows
(``test_psrp_with_jea_configuration.yml`` message 7): a ``ParseException``, "The syntax is not
supported by this runspace. This can occur if the runspace is in no-language mode.",
FullyQualifiedErrorId ``ScriptsNotAllowed``, category ParserError. Commands the role capability
file does not make visible are not found, as in any session. The visible ones are
``ROLE_CMDLETS``, the role capability file of ``docs/jea.md``.

Cmdlets run on the simulated server through the cmdlet fakes (``toolkit.testing.simulator.cmdlets``);
what they return goes back as CIM instances (type names
``Microsoft.Management.Infrastructure.CimInstance#root/Microsoft/Windows/DNS/<Class>``), with
TimeSpans and DateTimes as CLIXML ``TS`` and ``DT``. A cmdlet failure is a non-terminating error
record (a DnsServer cmdlet writes it and the next statement runs).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from psrpcore.types import (
    ErrorCategory,
    ErrorCategoryInfo,
    ErrorRecord,
    NETException,
    PSCustomObject,
    PSDateTime,
    PSDuration,
    add_note_property,
)

from toolkit.errors import CmdletError
from toolkit.testing.simulator import SimulatedServer
from toolkit.testing.simulator.cmdlets import Cmdlets, invoke

__all__ = [
    "NO_LANGUAGE_CONFIGURATION",
    "ROLE_CMDLETS",
    "UnknownCommand",
    "cim_object",
    "run_cmdlet",
    "scripts_not_allowed",
]

#: the loopback endpoint's JEA session configuration
NO_LANGUAGE_CONFIGURATION = "windns.JEA"

#: cmdlet -> the parameters the role allows (docs/jea.md, the read-only role capability file)
ROLE_CMDLETS: dict[str, frozenset[str]] = {
    "Get-DnsServerSetting": frozenset({"All"}),
    "Get-DnsServerZone": frozenset({"Name"}),
    "Get-DnsServerSigningKey": frozenset({"ZoneName", "KeyId"}),
    "Get-DnsServerDnsSecZoneSetting": frozenset({"ZoneName"}),
    "Get-DnsServerTrustPoint": frozenset(),
    "Get-DnsServerTrustAnchor": frozenset({"Name"}),
    "Get-CimInstance": frozenset({"ClassName"}),
}

_CLASSES = {
    "Get-DnsServerSetting": "DnsServerSetting",
    "Get-DnsServerSigningKey": "DnsServerSigningKey",
    "Get-DnsServerDnsSecZoneSetting": "DnsServerDnsSecZoneSetting",
    "Get-DnsServerTrustPoint": "DnsServerTrustPoint",
    "Get-DnsServerTrustAnchor": "DnsServerTrustAnchor",
}
_NO_LANGUAGE = (
    "The syntax is not supported by this runspace. This can occur if the runspace is in no-language mode."
)


class UnknownCommand(Exception):
    """A command the session does not make visible (CommandNotFoundException)."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"The term '{name}' is not recognized as the name of a cmdlet, function, script file, or "
            "operable program. Check the spelling of the name, or if a path was included, verify that "
            "the path is correct and try again."
        )
        self.name = name


def _runtime_error(
    message: str, exception_type: str, category: ErrorCategory, target: str, fqid: str
) -> ErrorRecord:
    """An ErrorRecord of a RuntimeException subclass, as the runspace reports one (recorded shape)."""
    exc = NETException(Message=message, HResult=-2146233087)
    exc.PSObject.type_names = [
        f"System.Management.Automation.{exception_type}",
        "System.Management.Automation.RuntimeException",
        "System.SystemException",
        "System.Exception",
        "System.Object",
    ]
    return ErrorRecord(
        Exception=exc,
        CategoryInfo=ErrorCategoryInfo(
            Category=category,
            Activity="",
            Reason=exception_type,
            TargetName=target,
            TargetType="String",
        ),
        TargetObject=target,
        FullyQualifiedErrorId=fqid,
    )


def scripts_not_allowed(text: str) -> ErrorRecord:
    """The ErrorRecord a NoLanguage runspace fails a script pipeline with (recorded shape)."""
    return _runtime_error(
        _NO_LANGUAGE, "ParseException", ErrorCategory.ParserError, text, "ScriptsNotAllowed"
    )


def command_not_found(name: str) -> ErrorRecord:
    return _runtime_error(
        str(UnknownCommand(name)),
        "CommandNotFoundException",
        ErrorCategory.ObjectNotFound,
        name,
        "CommandNotFoundException",
    )


def _value(value: Any) -> Any:
    if isinstance(value, timedelta):
        return PSDuration(value)
    if isinstance(value, datetime):
        return PSDateTime(value)
    if isinstance(value, Mapping):
        obj = PSCustomObject()
        for k, v in value.items():
            add_note_property(obj, str(k), _value(v))
        return obj
    if isinstance(value, list | tuple):
        return [_value(v) for v in value]
    return value


def cim_object(cim_class: str | None, properties: Mapping[str, Any]) -> PSCustomObject:
    """A CIM instance as the DnsServer module writes it to the pipeline."""
    obj = PSCustomObject()
    if cim_class is not None:
        obj.PSObject.type_names = [
            f"Microsoft.Management.Infrastructure.CimInstance#root/Microsoft/Windows/DNS/{cim_class}",
            f"Microsoft.Management.Infrastructure.CimInstance#{cim_class}",
            "Microsoft.Management.Infrastructure.CimInstance",
            "System.Object",
        ]
    for name, value in properties.items():
        add_note_property(obj, name, _value(value))
    return obj


def _zone_class(record: Mapping[str, Any]) -> str:
    kind = str(record.get("ZoneType") or "")
    return {"Primary": "DnsServerPrimaryZone", "Secondary": "DnsServerSecondaryZone"}.get(
        kind, "DnsServerZone"
    )


def _bind(cmdlet: str, params: Mapping[str, Any]) -> dict[str, Any]:
    allowed = {p.lower(): p for p in ROLE_CMDLETS[cmdlet]}
    out: dict[str, Any] = {}
    for name, value in params.items():
        real = allowed.get(name.lower())
        if real is None:
            raise CmdletError(
                f"A parameter cannot be found that matches parameter name '{name}'.",
                cmdlet=cmdlet,
                fully_qualified_error_id=f"NamedParameterNotFound,{cmdlet}",
            )
        out[real] = value
    return out


def run_cmdlet(server: SimulatedServer, name: str, params: Mapping[str, Any]) -> list[PSCustomObject]:
    """Run one visible cmdlet on ``server``; UnknownCommand for any other, CmdletError for its
    failure."""
    cmdlet = next((c for c in ROLE_CMDLETS if c.lower() == name.lower()), None)
    if cmdlet is None:
        raise UnknownCommand(name)
    bound = _bind(cmdlet, params)
    ps = Cmdlets(server, "inventory")  # the inventory's reads: its injected faults apply
    with server.lock:
        if cmdlet == "Get-DnsServerSetting":
            records = ps.Get_DnsServerSetting_All()
        elif cmdlet == "Get-DnsServerTrustPoint":
            records = ps.Get_DnsServerTrustPoint()
        elif cmdlet == "Get-DnsServerTrustAnchor":
            records = ps.Get_DnsServerTrustAnchor(bound.get("Name"))
        elif cmdlet == "Get-CimInstance":
            if str(bound.get("ClassName", "")).lower() != "win32_operatingsystem":
                raise CmdletError(
                    "Invalid class", cmdlet=cmdlet, fully_qualified_error_id=f"HRESULT 0x80041010,{cmdlet}"
                )
            return [cim_object(None, r) for r in ps.Get_CimInstance_Win32_OperatingSystem()]
        else:
            records = invoke(ps, cmdlet, bound)
    if cmdlet == "Get-DnsServerZone":
        return [cim_object(_zone_class(r), r) for r in records]
    return [cim_object(_CLASSES[cmdlet], r) for r in records]
