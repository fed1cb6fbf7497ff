"""JEA endpoints: what a NoLanguage session refuses, and the reads that work there.

A JEA session configuration (``RestrictedRemoteServer``, ``LanguageMode = 'NoLanguage'``) runs
only the commands its role capability file makes visible, and only as commands: any script text
fails with ``ScriptsNotAllowed``, "The syntax is not supported by this runspace. This can occur
if the runspace is in no-language mode." (pypsrp's recording ``test_psrp_with_jea_configuration``,
messages 6-7). Our ``ps_scripts/`` cannot run there; the audit then reads the server with cmdlet
pipelines instead (``toolkit.services.jea_audit``), and every other script names JEA and the fix
in one line (``scripts_refused``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from toolkit.errors import ProtocolError

__all__ = [
    "SCRIPTS_NOT_ALLOWED",
    "CmdletAnswer",
    "CmdletFailure",
    "JeaRefusal",
    "Statement",
    "scripts_refused",
]

#: one statement of a cmdlet pipeline: the cmdlet and its parameters (typed values, never text)
Statement = tuple[str, Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class CmdletFailure:
    """A cmdlet's error record, in the terms of the inventory's ``Errors`` entries."""

    cmdlet: str | None
    code: int | None
    message: str | None
    fully_qualified_error_id: str | None


@dataclass(frozen=True, slots=True)
class CmdletAnswer:
    """What one pipeline of cmdlet commands gave: the objects, in order, and the error records
    the cmdlets wrote (non-terminating: the statements after them ran)."""

    output: list[Any]
    errors: list[CmdletFailure] = field(default_factory=list)


#: the FullyQualifiedErrorId of a script refused by a NoLanguage runspace
SCRIPTS_NOT_ALLOWED = "ScriptsNotAllowed"


class JeaRefusal(ProtocolError):
    """The endpoint is a JEA (NoLanguage) endpoint and refused a script."""

    kind = "jea"

    def __init__(self, message: str, *, script: str, configuration: str, host: str | None = None) -> None:
        self.script = script
        self.configuration = configuration
        super().__init__(message, host=host)


def scripts_refused(script: str, configuration: str, *, host: str | None = None) -> JeaRefusal:
    """The one line for a script a NoLanguage endpoint refused: JEA named, and what to do."""
    return JeaRefusal(
        f"script {script}: the session configuration {configuration} is a JEA endpoint in NoLanguage mode "
        f"and refuses scripts (ScriptsNotAllowed); audit, keys list and zones list run there as cmdlet "
        f"commands (--jea), other commands need a full-language endpoint such as --configuration-name "
        f"Microsoft.PowerShell",
        script=script,
        configuration=configuration,
        host=host,
    )
