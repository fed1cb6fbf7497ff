"""The PowerShell session a script runs in, and the fakes of what the doctor's scripts ask it.

``doctor_probe.ps1`` reads the session, not the DNS server: ``$PSVersionTable``,
``$ExecutionContext.SessionState.LanguageMode``, ``$PSSenderInfo``, ``$env:COMPUTERNAME``,
``[System.Environment]::OSVersion``, ``Get-Module -ListAvailable -Name`` and ``Get-Command -Name``.
``Runspace`` answers those for one script run, in the session the front door says the script
runs in (``session(...)``; ``toolkit.testing.fakeserver`` knows it): without it, a full
``Microsoft.PowerShell`` session with the DnsServer module. A session configuration may lack the
module (a JEA endpoint that does not expose it); then the DnsServer cmdlet fakes
(``toolkit.testing.simulator.cmdlets``) raise ``command_not_found`` too.

Objects are dicts of the members the scripts read (about_Properties: names ignore case). A .NET
``Version`` and an enum value are held as the text ``[string]`` makes of them (``2.0.0.0``,
``Manifest``), which is all the probe does with them.

Each fact about Windows here cites its source, or is listed as UNCONFIRMED in fixtures/README.md
("What the doctor's simulated answers assume").
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from toolkit.errors import CmdletError

if TYPE_CHECKING:
    from toolkit.testing.simulator.server import SimulatedServer

__all__ = [
    "CORE_COMMANDS",
    "DNSSERVER",
    "DNSSERVER_COMMANDS",
    "Runspace",
    "Session",
    "command_not_found",
    "current_session",
    "session",
    "wildcard",
]


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


# -- what the session holds ---------------------------------------------------------------------
DNSSERVER = "DnsServer"
#: ``Get-Module -ListAvailable DnsServer`` on Windows PowerShell 5.1: a Manifest module, version
#: 2.0.0.0 (the output quoted in PowerShell/PowerShell#12087, "'Get-Module DnsServer' on PS5").
DNSSERVER_MODULE: dict[str, Any] = {"Name": DNSSERVER, "Version": "2.0.0.0", "ModuleType": "Manifest"}
#: The DnsServer module's commands the simulator knows: the DNSSEC cmdlets of Microsoft's DnsServer
#: reference (the list of fixtures/reference/dnsserver-cmdlets.json, built from
#: MicrosoftDocs/windows-powershell-docs; tests/test_simulator_doctor.py compares the two). The real
#: module has more (zones, records, policies...): a name outside this list is reported missing (a
#: model limit, fixtures/README.md).
DNSSERVER_COMMANDS = (
    "Add-DnsServerResourceRecordDS", "Add-DnsServerResourceRecordDnsKey", "Add-DnsServerSigningKey",
    "Add-DnsServerTrustAnchor", "Disable-DnsServerSigningKeyRollover", "Enable-DnsServerSigningKeyRollover",
    "Export-DnsServerDnsSecPublicKey", "Get-DnsServerDnsSecZoneSetting", "Get-DnsServerResourceRecord",
    "Get-DnsServerSetting", "Get-DnsServerSigningKey", "Get-DnsServerTrustAnchor", "Get-DnsServerTrustPoint",
    "Get-DnsServerZone", "Import-DnsServerResourceRecordDS", "Import-DnsServerTrustAnchor",
    "Invoke-DnsServerSigningKeyRollover", "Invoke-DnsServerZoneSign", "Invoke-DnsServerZoneUnsign",
    "Remove-DnsServerSigningKey", "Remove-DnsServerTrustAnchor", "Reset-DnsServerZoneKeyMasterRole",
    "Set-DnsServerDnsSecZoneSetting", "Set-DnsServerSetting", "Set-DnsServerSigningKey",
    "Show-DnsServerKeyStorageProvider", "Step-DnsServerSigningKeyRollover", "Test-DnsServerDnsSecZoneSetting",
    "Update-DnsServerTrustPoint",
)  # fmt: skip
#: How Get-Command reports a DnsServer cmdlet (UNCONFIRMED: the module's cmdlets are CDXML
#: functions of its nested modules, reported under the DnsServer module).
DNSSERVER_COMMAND_TYPE = "Function"
#: The Windows PowerShell 5.1 cmdlets the scripts call, by module: the folder of each one's page in
#: MicrosoftDocs/PowerShell-Docs reference/5.1/<Module>/<Cmdlet>.md (the pages
#: fixtures/reference/core-cmdlets-5.1.json was built from; tests/test_simulator_doctor.py compares
#: the two). Every session of the simulator has them, CommandType Cmdlet.
CORE_COMMANDS = {
    "ConvertFrom-Json": "Microsoft.PowerShell.Utility", "ConvertTo-Json": "Microsoft.PowerShell.Utility",
    "ForEach-Object": "Microsoft.PowerShell.Core", "Get-ChildItem": "Microsoft.PowerShell.Management",
    "Get-CimInstance": "CimCmdlets", "Get-Command": "Microsoft.PowerShell.Core",
    "Get-Module": "Microsoft.PowerShell.Core", "Join-Path": "Microsoft.PowerShell.Management",
    "New-Item": "Microsoft.PowerShell.Management", "New-Object": "Microsoft.PowerShell.Utility",
    "Out-Null": "Microsoft.PowerShell.Core", "Remove-Item": "Microsoft.PowerShell.Management",
    "Select-Object": "Microsoft.PowerShell.Utility", "Set-StrictMode": "Microsoft.PowerShell.Core",
    "Where-Object": "Microsoft.PowerShell.Core", "Write-Output": "Microsoft.PowerShell.Utility",
}  # fmt: skip

_WILDCARD_CHARS = frozenset("*?[")


def wildcard(pattern: str) -> re.Pattern[str]:
    """A PowerShell wildcard pattern as a regular expression: ``*`` any run, ``?`` one character,
    ``[a-c]`` a range or set, a backtick escapes the next character; matching ignores case
    (about_Wildcards; -Name of Get-Module and Get-Command: "Wildcard characters are permitted")."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "`" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(ch))
            else:
                out.append("[" + pattern[i + 1 : end].replace("\\", "\\\\") + "]")
                i = end
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def _has_wildcard(name: str) -> bool:
    return any(c in _WILDCARD_CHARS for c in name)


class Runspace:
    """The session a script of ``server`` runs in, as the doctor's scripts read it."""

    def __init__(self, server: SimulatedServer) -> None:
        self.server = server
        self.session = current_session()

    # -- automatic variables and .NET members ------------------------------------------------
    def _os_build(self) -> tuple[str, str, str]:
        """The OS ``major.minor.build`` from the fixture's DnsVersion (``10.0.20348``)."""
        version = str(self.server.state["Server"].get("DnsVersion") or "10.0.20348")
        major, minor, build = (version.split(".") + ["0", "0", "0"])[:3]
        return major, minor, build

    @property
    def PSVersionTable(self) -> dict[str, Any]:  # noqa: N802 - the variable's name
        """``$PSVersionTable`` of Windows PowerShell 5.1: PSEdition ``Desktop`` (about_PowerShell_Editions:
        5.1 on .NET Framework, and the key exists from 5.1 on); PSVersion ``5.1.<OS build>.1``
        (UNCONFIRMED: the revision is invented)."""
        return {"PSVersion": f"5.1.{self._os_build()[2]}.1", "PSEdition": "Desktop"}

    @property
    def LanguageMode(self) -> str:  # noqa: N802
        """``$ExecutionContext.SessionState.LanguageMode``: readable in FullLanguage and
        ConstrainedLanguage sessions (about_Language_Modes); the session's."""
        return self.session.language_mode

    @property
    def PSSenderInfo(self) -> dict[str, Any] | None:  # noqa: N802
        """``$PSSenderInfo``: "available only in PSSessions" (about_Automatic_Variables), so ``$null``
        in the powershell.exe a WinRS cmd shell starts; in a PSRP session its ConfigurationName is
        the session configuration's name (UNCONFIRMED)."""
        if self.session.configuration_name is None:
            return None
        return {"ConfigurationName": self.session.configuration_name}

    def env(self, name: str) -> str | None:
        """``$env:<name>``; COMPUTERNAME is the first label of the server's name in capitals
        (UNCONFIRMED)."""
        if name.lower() == "computername":
            return self.server.name.split(".")[0].upper()
        return None

    @property
    def OSVersion_Version(self) -> str:  # noqa: N802
        """``[System.Environment]::OSVersion.Version``: the fixture's DnsVersion with ``.0`` appended
        (UNCONFIRMED)."""
        return ".".join((*self._os_build(), "0"))

    # -- cmdlets ----------------------------------------------------------------------------------
    def _modules(self) -> list[dict[str, Any]]:
        # The module list the session can load: the DnsServer module where the session has it
        # (the simulator models no other module; fixtures/README.md).
        return [dict(DNSSERVER_MODULE)] if self.session.dnsserver else []

    def Get_Module_ListAvailable(self, name: str) -> list[dict[str, Any]]:  # noqa: N802
        """``Get-Module -ListAvailable -Name <name>``: the modules whose name matches (wildcards
        permitted, Get-Module -Name); none is no output and no error (UNCONFIRMED)."""
        pattern = wildcard(name)
        return [m for m in self._modules() if pattern.fullmatch(str(m["Name"]))]

    def _commands(self) -> list[dict[str, Any]]:
        commands = [
            {"Name": n, "CommandType": "Cmdlet", "ModuleName": module} for n, module in CORE_COMMANDS.items()
        ]
        if self.session.dnsserver:
            commands += [
                {"Name": n, "CommandType": DNSSERVER_COMMAND_TYPE, "ModuleName": DNSSERVER}
                for n in DNSSERVER_COMMANDS
            ]
        return commands

    def Get_Command(self, name: str) -> list[dict[str, Any]]:  # noqa: N802
        """``Get-Command -Name <name>``: the commands whose name matches (wildcards permitted,
        Get-Command -Name). A name without wildcards that matches nothing is an error,
        CommandNotFoundException (UNCONFIRMED: its FullyQualifiedErrorId); a pattern that matches
        nothing is no output (UNCONFIRMED)."""
        pattern = wildcard(name)
        found = [c for c in self._commands() if pattern.fullmatch(str(c["Name"]))]
        if not found and not _has_wildcard(name):
            exc = command_not_found(name)
            exc.fully_qualified_error_id = (
                "CommandNotFoundException,Microsoft.PowerShell.Commands.GetCommandCommand"
            )
            raise exc
        return found
