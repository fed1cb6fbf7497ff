"""The doctor's scripts' mirrors: ``ps_scripts/doctor_probe.ps1`` and ``ps_scripts/raw_sample.ps1``
transliterated line by line.

Every block below names the script lines it mirrors (``# doctor_probe.ps1 L58``, lines of the
``.ps1`` file) and calls the fakes where the script calls PowerShell: the session's automatic
variables and core cmdlets (``toolkit.testing.simulator.runspace``: ``$PSVersionTable``, ``Get-Module``,
``Get-Command``...), the DnsServer cmdlet fakes (``toolkit.testing.simulator.cmdlets``) and, where the raw
sample pipes their objects into ``ConvertTo-Json -Depth N``, the 5.1 printer
(``toolkit.testing.simulator.ps51.convert_to_json``). Both scripts depend on the session they run in, not
only on the server: the front door that knows it (``toolkit.testing.fakeserver``) says so with
``session(...)``.

Each script ends with ``Write-Output (ConvertTo-Json -InputObject $doc -Depth 5 -Compress)``; as the
other mirrors, the handler returns ``$doc`` and the front door prints it (nothing in either document
is deeper than 5, so the depth cuts nothing).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from toolkit.errors import CmdletError
from toolkit.testing.simulator import ps51
from toolkit.testing.simulator.cmdlets import Cmdlets, invoke
from toolkit.testing.simulator.mirror import mirrors
from toolkit.testing.simulator.powershell import (
    NotSimulated,
    Param,
    assign,
    bind,
    error_record,
    has_member,
    is_null_or_whitespace,
    member,
    prop,
    ps_array,
    ps_foreach,
    ps_long,
    ps_string,
    select_first,
    select_first_n,
)
from toolkit.testing.simulator.runspace import Runspace, Session, command_not_found, current_session, session

if TYPE_CHECKING:
    from toolkit.testing.simulator.server import SimulatedServer

__all__ = [
    "DEFAULT_COMMANDS",
    "HANDLERS",
    "Session",
    "command_not_found",
    "current_session",
    "doctor_probe",
    "first_dnsserver_command",
    "new_windns_sample_error",
    "raw_sample",
    "session",
]

_DNSSERVER_COMMAND = re.compile(r"\b[A-Z][a-z]+-DnsServer[A-Za-z]+\b")
#: The first DnsServer cmdlet each read script runs (where a session without the module stops it).
_FIRST_COMMAND = {"inventory": "Get-DnsServerSetting", "raw_sample": "Get-DnsServerZone"}


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


# == doctor_probe.ps1 ==========================================================================
_PROBE_PARAMS = (  # L18-L21 param([string[]]$ModuleName, [string[]]$CommandName)
    Param("ModuleName", "string[]"),
    Param("CommandName", "string[]"),
)
DEFAULT_COMMANDS = (  # L28-L32
    "Get-DnsServerSetting", "Get-DnsServerZone", "Get-DnsServerSigningKey",
    "Get-DnsServerDnsSecZoneSetting", "Get-DnsServerResourceRecord", "Get-DnsServerTrustAnchor",
    "Get-DnsServerTrustPoint",
)  # fmt: skip


# L35-L40 ConvertTo-WindnsProbeText
def convert_probe_text(value: Any) -> str | None:
    if value is None:
        return None
    text = ps_string(value)
    if len(text) == 0:
        return None
    return text


@mirrors("doctor_probe.ps1", sha256="0938607318b07ae7c7be687fb244fd606929745e3d5715d90c21c9bf541b3234")
def doctor_probe(server: SimulatedServer, params: Mapping[str, Any]) -> dict[str, Any]:
    """What ``doctor_probe.ps1`` prints: the session's PowerShell and whether DnsServer is there."""
    v, bound = bind("doctor_probe", params, _PROBE_PARAMS)
    ps = Runspace(server)

    # L26-L27 "Branch on whether a parameter was bound, never on its value"
    module_names: Any = ["DnsServer"]
    if "ModuleName" in bound:
        module_names = ps_array(v["ModuleName"])  # @($ModuleName): @($null) is one $null
    # L28-L33
    command_names: Any = list(DEFAULT_COMMANDS)
    if "CommandName" in bound:
        command_names = ps_array(v["CommandName"])

    # L44-L45
    edition = "Desktop"
    if "PSEdition" in ps.PSVersionTable:  # $PSVersionTable.ContainsKey('PSEdition')
        edition = ps_string(ps.PSVersionTable["PSEdition"])

    # L48
    language_mode = convert_probe_text(ps.LanguageMode)

    # L51-L54
    configuration_name = None
    sender = ps.PSSenderInfo
    if sender is not None and has_member(sender, "ConfigurationName"):
        configuration_name = convert_probe_text(prop(sender, "ConfigurationName"))

    # L56-L67
    modules: list[dict[str, Any]] = []
    for name in ps_foreach(module_names):  # L57
        if is_null_or_whitespace(name):  # L58
            continue
        # L59 foreach ($module in @(Get-Module -ListAvailable -Name $name))
        for module in ps_foreach(ps_array(ps.Get_Module_ListAvailable(ps_string(name)))):
            if module is None:  # L60
                continue
            modules.append(  # L61-L65
                {
                    "Name": convert_probe_text(prop(module, "Name")),
                    "Version": convert_probe_text(prop(module, "Version")),
                    "ModuleType": convert_probe_text(prop(module, "ModuleType")),
                }
            )

    # L69-L85
    commands: list[dict[str, Any]] = []
    for name in ps_foreach(command_names):  # L70
        if is_null_or_whitespace(name):  # L71
            continue
        command = None  # L72
        try:  # L73-L78: Get-Command -Name $name -ErrorAction Stop | Select-Object -First 1
            command = select_first(ps.Get_Command(ps_string(name)))
        except CmdletError:
            command = None
        # L79
        entry: dict[str, Any] = {
            "Name": name,
            "Found": command is not None,
            "CommandType": None,
            "ModuleName": None,
        }
        if command is not None:  # L80-L83
            entry["CommandType"] = convert_probe_text(prop(command, "CommandType"))
            entry["ModuleName"] = convert_probe_text(prop(command, "ModuleName"))
        commands.append(entry)

    # L87-L98
    return {
        "Schema": "windns.doctor.probe",
        "SchemaVersion": 1,
        "ComputerName": convert_probe_text(ps.env("COMPUTERNAME")),
        "PSVersion": convert_probe_text(ps.PSVersionTable["PSVersion"]),
        "PSEdition": edition,
        "OSVersion": convert_probe_text(ps.OSVersion_Version),
        "LanguageMode": language_mode,
        "ConfigurationName": configuration_name,
        "Modules": list(modules),  # $modules.ToArray()
        "Commands": list(commands),
    }


# == raw_sample.ps1 ============================================================================
_SAMPLE_PARAMS = (  # L19-L23 param([string]$ZoneName, [int]$MaxZones, [int]$Depth = 4)
    Param("ZoneName", "string"),
    Param("MaxZones", "int"),
    Param("Depth", "int", default=4),
)
_FQID_CODE = re.compile(
    r"^WIN32 (\d+),", re.IGNORECASE
)  # -match is case-insensitive (about_Comparison_Operators)


# L27-L46 New-WindnsSampleError([string]$Stage, $Record)
def new_windns_sample_error(stage: str, record: Any) -> dict[str, Any]:
    code: int | None = None
    message: str | None = None
    fqid: str | None = None
    if record is not None:
        fqid = ps_string(prop(record, "FullyQualifiedErrorId"))  # [string]: $null would be ''
        exception = prop(record, "Exception")
        if exception is not None:
            message = ps_string(prop(exception, "Message"))
            # L37-L41 $data = $Record.Exception.PSObject.Properties['ErrorData'] ... .Value
            if has_member(exception, "ErrorData") and member(exception, "ErrorData") is not None:
                data = member(exception, "ErrorData")
                if has_member(data, "error_Code") and member(data, "error_Code") is not None:
                    code = ps_long(member(data, "error_Code"))
    # L44 ($fqid -match '^WIN32 (\d+),'): $null -match is false
    if code is None and fqid is not None:
        m = _FQID_CODE.match(fqid)
        if m:
            code = ps_long(m.group(1))
    return {"Stage": stage, "Code": code, "Message": message, "FullyQualifiedErrorId": fqid}


# L48-L50 New-WindnsSample([string]$Command, [string]$Zone)
def new_windns_sample(command: Any, zone: Any) -> dict[str, Any]:
    # Both parameters are [string]: $null passed to a [string] parameter becomes '' ("by design",
    # PowerShell/PowerShell#4616), so the zone listing's sample says ZoneName ''.
    return {
        "Command": ps_string(command),
        "ZoneName": ps_string(zone),
        "Count": None,
        "Json": None,
        "Error": None,
    }


# L52-L57 Set-WindnsSampleJson($Sample, $Objects); $Depth is the script's (dynamic scope)
def set_windns_sample_json(sample: dict[str, Any], objects: Any, depth: int) -> None:
    # L54 @($Objects | Where-Object { $null -ne $_ }): piping enumerates an array; $null is one $null
    items = [o for o in ps_array(objects) if o is not None]
    sample["Count"] = len(items)  # L55 [long]$items.Count
    if len(items) > 0:  # L56 [string]($items | ConvertTo-Json -Depth $Depth)
        sample["Json"] = ps_string(assign(ps51.convert_to_json(items, depth)))


@mirrors("raw_sample.ps1", sha256="ca81665694b1430dacd3283f25782dfde9fb2893b72662bffbe9dea2a6e6e57d")
def raw_sample(server: SimulatedServer, params: Mapping[str, Any]) -> dict[str, Any]:
    """What ``raw_sample.ps1`` prints: zones, and one zone's keys and setting, as 5.1 prints them."""
    v, bound = bind("raw_sample", params, _SAMPLE_PARAMS)
    zone_name, max_zones, depth = v["ZoneName"], v["MaxZones"], v["Depth"]
    ps = Cmdlets(server, "raw_sample")

    samples: list[dict[str, Any]] = []  # L59

    # L61-L70
    zones = new_windns_sample("Get-DnsServerZone", None)
    try:
        found = ps_array(ps.Get_DnsServerZone())  # L63 @(Get-DnsServerZone)
        if "MaxZones" in bound:  # L64 @($found | Select-Object -First $MaxZones)
            found = ps_array(select_first_n(found, max_zones))
        set_windns_sample_json(zones, found, depth)  # L65
    except NotSimulated:
        raise  # not a PowerShell error: the simulator stops here, past the script's catch
    except CmdletError as exc:  # L67-L69
        zones["Error"] = new_windns_sample_error("Get-DnsServerZone", error_record(exc))
    samples.append(zones)

    # L72-L92
    zone = None
    if "ZoneName" in bound:
        zone = zone_name
        keys = new_windns_sample("Get-DnsServerSigningKey", zone_name)  # L75-L82
        try:
            set_windns_sample_json(
                keys, ps_array(invoke(ps, "Get-DnsServerSigningKey", {"ZoneName": zone_name})), depth
            )
        except NotSimulated:
            raise
        except CmdletError as exc:
            keys["Error"] = new_windns_sample_error("Get-DnsServerSigningKey", error_record(exc))
        samples.append(keys)

        setting = new_windns_sample("Get-DnsServerDnsSecZoneSetting", zone_name)  # L84-L91
        try:
            set_windns_sample_json(
                setting,
                ps_array(invoke(ps, "Get-DnsServerDnsSecZoneSetting", {"ZoneName": zone_name})),
                depth,
            )
        except NotSimulated:
            raise
        except CmdletError as exc:
            setting["Error"] = new_windns_sample_error("Get-DnsServerDnsSecZoneSetting", error_record(exc))
        samples.append(setting)

    # L94-L100
    return {
        "Schema": "windns.doctor.raw-sample",
        "SchemaVersion": 1,
        "ZoneName": zone,
        "Depth": depth,
        "Samples": list(samples),  # $samples.ToArray()
    }


HANDLERS: dict[str, Callable[[SimulatedServer, Mapping[str, Any]], Any]] = {
    "doctor_probe": doctor_probe,
    "raw_sample": raw_sample,
}
