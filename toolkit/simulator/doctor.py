"""The doctor's scripts on the simulated server: ``doctor_probe.ps1`` and ``raw_sample.ps1``.

Both depend on the PowerShell session the script runs in, not only on the server: a session
configuration may lack the DnsServer module (a JEA endpoint that does not expose it). The
front door that knows the session (``toolkit.fakeserver``) says so with ``session(...)``;
without it, a script runs in a full ``Microsoft.PowerShell`` session.

Facts about Windows these answers assume are cited where they are stated, or listed as
UNCONFIRMED in fixtures/README.md ("What the doctor's simulated answers assume").
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from toolkit.errors import CmdletError
from toolkit.simulator import ps51

if TYPE_CHECKING:
    from toolkit.simulator.server import SimulatedServer

__all__ = [
    "HANDLERS",
    "Session",
    "command_not_found",
    "current_session",
    "doctor_probe",
    "first_dnsserver_command",
    "raw_sample",
    "session",
]

DNSSERVER = "DnsServer"
#: Get-Module -ListAvailable DnsServer on Windows PowerShell 5.1: a Manifest module, version
#: 2.0.0.0 (PowerShell/PowerShell#12087, "'Get-Module DnsServer' on PS5").
MODULE_VERSION = "2.0.0.0"
MODULE_TYPE = "Manifest"
#: What Get-Command reports for a DnsServer cmdlet (UNCONFIRMED: the module's cmdlets are CDXML
#: functions of nested modules, reported under the DnsServer module).
COMMAND_TYPE = "Function"
DEFAULT_COMMANDS = (
    "Get-DnsServerSetting",
    "Get-DnsServerZone",
    "Get-DnsServerSigningKey",
    "Get-DnsServerDnsSecZoneSetting",
    "Get-DnsServerTrustAnchor",
    "Get-DnsServerTrustPoint",
)
_DNSSERVER_COMMAND = re.compile(r"\b[A-Z][a-z]+-DnsServer[A-Za-z]+\b")
#: The first DnsServer cmdlet each read script runs (where a session without the module stops it).
_FIRST_COMMAND = {"inventory": "Get-DnsServerSetting", "raw_sample": "Get-DnsServerZone"}


@dataclass(frozen=True, slots=True)
class Session:
    """The PowerShell session a script runs in. ``configuration_name`` is None outside a
    PowerShell remoting session (``powershell.exe`` started in a WinRS cmd shell)."""

    configuration_name: str | None = "Microsoft.PowerShell"
    dnsserver: bool = True
    language_mode: str = "FullLanguage"


_DEFAULT = Session()
_SESSION: ContextVar[Session | None] = ContextVar("simulator_session", default=None)


@contextlib.contextmanager
def session(value: Session) -> Iterator[None]:
    """Scripts run within this block run in ``value``."""
    token = _SESSION.set(value)
    try:
        yield
    finally:
        _SESSION.reset(token)


def current_session() -> Session:
    return _SESSION.get() or _DEFAULT


def first_dnsserver_command(script: str) -> str:
    """The DnsServer cmdlet a session without the module fails on first in ``script``."""
    known = _FIRST_COMMAND.get(script)
    if known:
        return known
    from toolkit.resources import script_text

    text = re.sub(r"<#.*?#>", "", script_text(script), flags=re.S)
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    m = _DNSSERVER_COMMAND.search(code)
    return m.group(0) if m else "Get-DnsServerZone"


def command_not_found(command: str) -> CmdletError:
    """What PowerShell raises for a command the session does not have: CommandNotFoundException,
    with the message of PowerShell's resource string of that name (5.1 wording: PowerShell/
    PowerShell#13281 shows the text before 7 changed "operable" to "executable")."""
    return CmdletError(
        f"The term '{command}' is not recognized as the name of a cmdlet, function, script file, or "
        "operable program. Check the spelling of the name, or if a path was included, verify that the "
        "path is correct and try again.",
        cmdlet=None,
        fully_qualified_error_id="CommandNotFoundException",
    )


def _names(value: Any, default: tuple[str, ...]) -> list[str]:
    if value is None:
        return list(default)
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _short_name(server: SimulatedServer) -> str:
    # $env:COMPUTERNAME: the NetBIOS name, upper case (UNCONFIRMED, fixtures/README.md).
    return server.name.split(".")[0].upper()


def _os_build(server: SimulatedServer) -> str:
    """The OS version ``major.minor.build`` from the fixture's DnsVersion (``10.0.20348``)."""
    version = str(server.state["Server"].get("DnsVersion") or "10.0.20348")
    parts = (version.split(".") + ["0", "0", "0"])[:3]
    return ".".join(parts)


def doctor_probe(server: SimulatedServer, params: Mapping[str, Any]) -> dict[str, Any]:
    """The ``doctor_probe`` script: the session's PowerShell and whether DnsServer is there."""
    s = current_session()
    build = _os_build(server)
    modules = []
    for name in _names(params.get("ModuleName"), (DNSSERVER,)):
        if s.dnsserver and name.lower() == DNSSERVER.lower():
            modules.append({"Name": DNSSERVER, "Version": MODULE_VERSION, "ModuleType": MODULE_TYPE})
    commands = []
    for name in _names(params.get("CommandName"), DEFAULT_COMMANDS):
        found = s.dnsserver and bool(_DNSSERVER_COMMAND.fullmatch(name))
        commands.append(
            {
                "Name": name,
                "Found": found,
                "CommandType": COMMAND_TYPE if found else None,
                "ModuleName": DNSSERVER if found else None,
            }
        )
    return {
        "Schema": "windns.doctor.probe",
        "SchemaVersion": 1,
        "ComputerName": _short_name(server),
        # Windows PowerShell 5.1 whose build is the OS build (UNCONFIRMED revision).
        "PSVersion": f"5.1.{build.split('.')[2]}.1",
        "PSEdition": "Desktop",  # about_PowerShell_Editions: 5.1 on .NET Framework
        "OSVersion": f"{build}.0",
        "LanguageMode": s.language_mode,
        "ConfigurationName": s.configuration_name,
        "Modules": modules,
        "Commands": commands,
    }


def _sample_error(stage: str, exc: CmdletError) -> dict[str, Any]:
    text = exc.args[0] if exc.args else str(exc)
    prefix = f"{exc.cmdlet}: " if exc.cmdlet else ""
    if prefix and text.startswith(prefix):
        text = text[len(prefix) :]
    if exc.code is not None:
        from toolkit.catalogue import describe_code

        head = f"{describe_code(exc.code)}: "
        if text.startswith(head):
            text = text[len(head) :]
    return {
        "Stage": stage,
        "Code": exc.code,
        "Message": text,
        "FullyQualifiedErrorId": exc.fully_qualified_error_id,
    }


def _fault_error(fault: Mapping[str, Any], cmdlet: str) -> CmdletError:
    code = fault.get("Code")
    return CmdletError(
        str(fault.get("Message") or "The operation failed."),
        code=int(code) if code is not None else None,
        cmdlet=cmdlet,
        fully_qualified_error_id=fault.get("FullyQualifiedErrorId")
        or (f"WIN32 {code},{cmdlet}" if code is not None else None),
    )


def _sample(command: str, zone: str | None, read: Callable[[], list[dict[str, Any]]]) -> dict[str, Any]:
    entry: dict[str, Any] = {"Command": command, "ZoneName": zone, "Count": None, "Json": None, "Error": None}
    try:
        if not current_session().dnsserver:
            raise command_not_found(command)
        objects = read()
    except CmdletError as exc:
        entry["Error"] = _sample_error(command, exc)
        return entry
    entry["Count"] = len(objects)
    if objects:
        # Piped into ConvertTo-Json: one object prints as an object, several as an array.
        entry["Json"] = ps51.to_json(objects[0] if len(objects) == 1 else objects)
    return entry


def raw_sample(server: SimulatedServer, params: Mapping[str, Any]) -> dict[str, Any]:
    """The ``raw_sample`` script: zones, and one zone's keys and setting, as 5.1 prints them."""
    depth = int(params.get("Depth", 4))
    if depth != 4:
        raise CmdletError(
            f"the simulated server prints raw samples at -Depth 4 only (asked for {depth})",
            cmdlet="ConvertTo-Json",
        )
    short = _short_name(server)
    computer = server.name

    def zones() -> list[dict[str, Any]]:
        fault = server.fault(server.state, "Inventory")
        if fault and str(fault.get("Cmdlet") or "Get-DnsServerZone") == "Get-DnsServerZone":
            raise _fault_error(fault, "Get-DnsServerZone")
        found = list(server.state["Zones"])
        if params.get("MaxZones") is not None:
            found = found[: max(0, int(params["MaxZones"]))]
        return [ps51.zone_object(z, computer) for z in found]

    samples = [_sample("Get-DnsServerZone", None, zones)]
    name = params.get("ZoneName")
    if name is not None:
        name = str(name)

        def keys() -> list[dict[str, Any]]:
            z = server.zone_or_error(name, "Get-DnsServerSigningKey")
            fault = server.fault(z, "Get-DnsServerSigningKey")
            if fault:
                raise _fault_error(fault, "Get-DnsServerSigningKey")
            return [ps51.key_object(k, short) for k in z.get("SigningKeys") or ()]

        def setting() -> list[dict[str, Any]]:
            z = server.zone_or_error(name, "Get-DnsServerDnsSecZoneSetting")
            fault = server.fault(z, "Get-DnsServerDnsSecZoneSetting")
            if fault:
                raise _fault_error(fault, "Get-DnsServerDnsSecZoneSetting")
            s = z.get("DnsSecSetting")
            return [ps51.setting_object(s, short)] if s is not None else []

        samples.append(_sample("Get-DnsServerSigningKey", name, keys))
        samples.append(_sample("Get-DnsServerDnsSecZoneSetting", name, setting))
    return {
        "Schema": "windns.doctor.raw-sample",
        "SchemaVersion": 1,
        "ZoneName": name,
        "Depth": depth,
        "Samples": samples,
    }


HANDLERS: dict[str, Callable[[SimulatedServer, Mapping[str, Any]], Any]] = {
    "doctor_probe": doctor_probe,
    "raw_sample": raw_sample,
}
