"""Which script a client sent, and what running it on a simulated server gives.

Scripts are recognised by content: the SHA-256 of the exact text (and of the text with
normalised line endings) of every ``ps_scripts/*.ps1``. A client cannot make the endpoint
run one script by sending another with a marker in it. The WinRM bootstrap
(``_winrm_bootstrap.ps1``) is recognised the same way.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolkit.errors import CmdletError
from toolkit.testing.fakeserver.faults import Fault
from toolkit.testing.simulator import SimulatedServer, doctor
from toolkit.testing.simulator.doctor import Session

__all__ = ["BOOTSTRAP", "ErrorInfo", "Outcome", "ScriptCatalogue", "Session", "error_info"]

BOOTSTRAP = "_winrm_bootstrap"

#: the scripts that only read (``--replay-reads`` may answer them again); any other script
#: run on a server drops that server's replayed answers
_READ_SCRIPTS = frozenset({"inventory", "zone_dnskeys", "zone_export_keys", "doctor_probe"})

#: extra scripts a caller (a benchmark) teaches the endpoint: text -> handler or None
ExtraScripts = Callable[[str], "Callable[[SimulatedServer, Mapping[str, Any]], Any] | None"]


def _digests(text: str) -> set[str]:
    forms = {text, text.lstrip("\ufeff"), text.replace("\r\n", "\n").lstrip("\ufeff").strip()}
    return {hashlib.sha256(f.encode("utf-8")).hexdigest() for f in forms}


@dataclass(frozen=True)
class ErrorInfo:
    """A PowerShell error record in the terms both shells need."""

    message: str
    fully_qualified_error_id: str
    cmdlet: str | None = None
    code: int | None = None
    category: str = "NotSpecified"
    target: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What a script run gives: its output, or its error record, or (``stalled``) nothing ever:
    the command runs until the client signals it to stop."""

    output: str | None = None
    error: ErrorInfo | None = None
    stalled: bool = False


def error_info(exc: CmdletError) -> ErrorInfo:
    """The error record a Windows cmdlet failure would carry, from the simulator's CmdletError."""
    text = exc.args[0] if exc.args else str(exc)
    if exc.cmdlet and text.startswith(f"{exc.cmdlet}: "):
        text = text[len(exc.cmdlet) + 2 :]
    if exc.code is not None:
        from toolkit.catalogue import describe_code

        prefix = f"{describe_code(exc.code)}: "
        if text.startswith(prefix):
            text = text[len(prefix) :]
    fqid = exc.fully_qualified_error_id or (
        f"WIN32 {exc.code},{exc.cmdlet}" if exc.code is not None else f"CmdletError,{exc.cmdlet or 'Unknown'}"
    )
    category = "ObjectNotFound" if exc.code in (9601, 9714) else "InvalidOperation"
    if exc.code == 5:
        category = "PermissionDenied"
    return ErrorInfo(
        message=text, fully_qualified_error_id=fqid, cmdlet=exc.cmdlet, code=exc.code, category=category
    )


class ScriptCatalogue:
    """The scripts of ``ps_scripts/`` by content hash."""

    def __init__(self, scripts_dir: Path | None = None, *, extra: ExtraScripts | None = None) -> None:
        from toolkit.resources import expand_includes, ps_scripts_dir

        directory = scripts_dir or ps_scripts_dir()
        self._names: dict[str, str] = {}
        self._bootstrap: set[str] = set()
        for path in sorted(directory.glob("*.ps1")):
            if path.stem.startswith("_") and path.stem != BOOTSTRAP:
                continue  # a shared part (``_projection.ps1``), never sent on its own
            # What a client sends: the bundled scripts with their shared parts included.
            text = expand_includes(path.read_text(encoding="utf-8-sig"), directory)
            digests = _digests(text)
            if path.stem == BOOTSTRAP:
                self._bootstrap |= digests
            else:
                for d in digests:
                    self._names[d] = path.stem
        self.extra = extra
        #: the modelled server-side time of a script run: a fixed cost per call plus a cost per
        #: zone it reads (set by ``windns fake-server --call-time/--zone-time``; zero by default)
        self.call_seconds = 0.0
        self.zone_seconds = 0.0
        #: ``windns fake-server --replay-reads`` (the benchmarks): a read script run again on a
        #: server no write script has run on since, with the same parameters in the same
        #: session, answers the text its first run printed instead of running the simulator
        #: again. The loopback server's CPU is an artefact of the test (against Windows it is the
        #: servers' own); this takes most of it off the cores the client shares with it.
        self.replay_reads = False
        self._replies: dict[tuple[int, int, str, Session, str], str] = {}
        #: per server, how many times a write made its replies stale: a read that began before a
        #: write stores its reply under the older count, where no later read looks
        self._writes: dict[int, int] = {}
        self._replies_lock = threading.Lock()

    def server_time(self, server: SimulatedServer, params: Mapping[str, Any], zones: int | None) -> float:
        """The modelled time of one call: ``call_seconds`` plus ``zone_seconds`` per zone read.
        ``zones`` None: the call reads one zone when it names one (``ZoneName`` or ``Name``), else
        every zone of the server (the inventory)."""
        if not self.call_seconds and not self.zone_seconds:
            return 0.0
        if zones is None:
            zones = 1 if ("ZoneName" in params or "Name" in params) else len(server.state.get("Zones", []))
        return self.call_seconds + self.zone_seconds * zones

    def _model_time(self, server: SimulatedServer, params: Mapping[str, Any], zones: int | None) -> None:
        modelled = self.server_time(server, params, zones)
        if modelled:
            time.sleep(modelled)

    def _reply_key(
        self, server: SimulatedServer, name: str, params: Mapping[str, Any], fault: Fault | None
    ) -> tuple[int, int, str, Session, str] | None:
        """The replay key of a read script's run, or None when it is not replayed."""
        if not self.replay_reads or fault is not None or name not in _READ_SCRIPTS:
            return None
        with self._replies_lock:
            writes = self._writes.get(id(server), 0)
        session = doctor.current_session()
        return (id(server), writes, name, session, json.dumps(params, sort_keys=True, default=str))

    def forget_replies(self, server: SimulatedServer) -> None:
        """Drop ``server``'s replayed answers (a write script is about to change its state)."""
        with self._replies_lock:
            self._writes[id(server)] = self._writes.get(id(server), 0) + 1
            for key in [k for k in self._replies if k[0] == id(server)]:
                del self._replies[key]

    @property
    def names(self) -> list[str]:
        return sorted(set(self._names.values()))

    def identify(self, text: str) -> str | None:
        for d in _digests(text):
            name = self._names.get(d)
            if name:
                return name
        return None

    def is_bootstrap(self, text: str) -> bool:
        return bool(self._bootstrap & _digests(text))

    def run(
        self,
        server: SimulatedServer,
        text: str,
        params: Mapping[str, Any],
        fault: Fault | None = None,
        session: Session | None = None,
    ) -> Outcome:
        """Run the script ``text`` with ``params`` on ``server`` in ``session`` (default: a full
        Microsoft.PowerShell session): its output, or its error record."""
        with doctor.session(session or doctor.Session()):
            return self._run(server, text, params, fault)

    def _run(
        self,
        server: SimulatedServer,
        text: str,
        params: Mapping[str, Any],
        fault: Fault | None,
    ) -> Outcome:
        if fault is not None and fault.kind == "stall":
            return Outcome(stalled=True)
        name = self.identify(text)
        handler = None
        if name is None and self.extra is not None:
            handler = self.extra(text)
        if name is None and handler is None:
            return Outcome(
                error=ErrorInfo(
                    message="The script sent to this endpoint is not one of the windns-toolkit scripts "
                    "(ps_scripts/); this endpoint only runs those, recognised by content.",
                    fully_qualified_error_id="ScriptNotRecognized,windns-fake-endpoint",
                    category="PermissionDenied",
                )
            )
        reply_key = None
        try:
            if handler is not None:
                with server.lock:
                    data = handler(server, dict(params))
            else:
                assert name is not None
                if name not in doctor.HANDLERS and not doctor.current_session().dnsserver:
                    # A session without the DnsServer module: the script's first cmdlet is unknown.
                    command = doctor.first_dnsserver_command(name)
                    return Outcome(
                        error=ErrorInfo(
                            message=doctor.command_not_found(command).message,
                            fully_qualified_error_id="CommandNotFoundException",
                            category="ObjectNotFound",
                            target=command,
                        )
                    )
                reply_key = self._reply_key(server, name, params, fault)
                if reply_key is not None:
                    with self._replies_lock:
                        replayed = self._replies.get(reply_key)
                    if replayed is not None:
                        self._model_time(server, params, None)
                        return Outcome(output=replayed)
                elif self.replay_reads:
                    self.forget_replies(server)
                data = server.run(name, dict(params))
        except CmdletError as exc:
            return Outcome(error=error_info(exc))
        self._model_time(server, params, getattr(handler, "zones", None))
        if fault is not None and fault.kind == "non_json":
            return Outcome(output="WARNING: output truncated by a profile script\r\n{ this is not JSON")
        # every script prints its document with ConvertTo-Json -Compress, which "omits white space
        # and indented formatting" (Microsoft: ConvertTo-Json, -Compress): one line
        out = json.dumps(data, separators=(",", ":"))
        if reply_key is not None:
            with self._replies_lock:
                self._replies[reply_key] = out
        if fault is not None and fault.kind == "large_output":
            pad = max(0, int(fault.size_mb * 1024 * 1024) - len(out))
            out = out + "\n" + " " * pad if not out.startswith(("{", "[")) else out[0] + " " * pad + out[1:]
        return Outcome(output=out)
