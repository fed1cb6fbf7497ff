"""The PowerShell remoting shell: PSRP over WS-Management, through psrpcore's server classes.

One ``PsrpShell`` per WSMan shell = one runspace pool. Create carries the first PSRP fragments
(SessionCapability + InitRunspacePool) in ``creationXml``; Command carries CreatePipeline;
Send carries any further fragments; Receive returns what psrpcore queued, cut to the client's
MaxEnvelopeSize; Signal terminates a pipeline; Delete closes the pool.

A pipeline's first command is the script text; its parameters arrive as typed CLIXML values.
The script is identified by content (``ScriptCatalogue``), run on the simulated server, and
its JSON printed as one string object. A cmdlet failure becomes an ErrorRecord whose
FullyQualifiedErrorId is "WIN32 NNNN,Cmdlet" and whose exception is a CimException carrying
``ErrorData`` (an MSFT_WmiError with ``error_Code``), as the DnsServer module's CIM cmdlets do.
"""

from __future__ import annotations

import base64
import threading
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import psrpcore
from psrpcore.types import (
    ErrorCategory,
    ErrorCategoryInfo,
    ErrorRecord,
    NETException,
    PSCustomObject,
    PSInvocationState,
    PSUInt,
    PSUInt16,
    add_note_property,
)

from toolkit.testing.fakeserver.scripts import ErrorInfo, Outcome

__all__ = ["PsrpShell", "plain_value"]

#: runs a script: (script text, params) -> Outcome
Runner = Callable[[str, Mapping[str, Any]], Outcome]
#: runs one visible cmdlet: (name, params) -> output objects; UnknownCommand, CmdletError
CmdletRunner = Callable[[str, Mapping[str, Any]], list[Any]]

_ERROR_MODES = ("failed", "stream")


def plain_value(value: Any) -> Any:
    """A deserialised CLIXML value as plain JSON-able Python (what the script's param() receives)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_value(v) for v in value]
    props = getattr(getattr(value, "PSObject", None), "extended_properties", None)
    if props:
        return {p.name: plain_value(p.get_value(value)) for p in props}
    return str(value)


def _error_record(info: ErrorInfo) -> ErrorRecord:
    exc = NETException(Message=info.message, HResult=-2146233088)
    if info.code is not None:
        exc.PSObject.type_names = [
            "Microsoft.Management.Infrastructure.CimException",
            "System.SystemException",
            "System.Exception",
            "System.Object",
        ]
        data = PSCustomObject()
        data.PSObject.type_names = [
            "Microsoft.Management.Infrastructure.CimInstance#root/Microsoft/Windows/DNS/MSFT_WmiError",
            "Microsoft.Management.Infrastructure.CimInstance#MSFT_WmiError",
            "Microsoft.Management.Infrastructure.CimInstance",
            "System.Object",
        ]
        add_note_property(data, "error_Code", PSUInt(info.code))
        add_note_property(data, "error_Type", PSUInt16(1))
        add_note_property(data, "error_WindowsErrorMessage", info.message)
        add_note_property(data, "Message", info.message)
        add_note_property(data, "MessageID", f"WIN32 {info.code}")
        add_note_property(exc, "ErrorData", data)
        add_note_property(exc, "NativeErrorCode", "Failed")
    else:
        exc.PSObject.type_names = [
            "System.Management.Automation.RuntimeException",
            "System.SystemException",
            "System.Exception",
            "System.Object",
        ]
    category = getattr(ErrorCategory, info.category, ErrorCategory.NotSpecified)
    return ErrorRecord(
        Exception=exc,
        CategoryInfo=ErrorCategoryInfo(
            Category=category,
            Activity=info.cmdlet or "",
            Reason="CimException" if info.code is not None else "RuntimeException",
            TargetName=info.target or "",
            TargetType="",
        ),
        TargetObject=info.target,
        FullyQualifiedErrorId=info.fully_qualified_error_id,
    )


class PsrpShell:
    """One runspace pool (one WSMan shell on the PowerShell resource URI)."""

    kind = "psrp"

    def __init__(
        self,
        shell_id: str,
        resource_uri: str,
        runner: Runner,
        *,
        error_mode: str = "failed",
        cmdlet_runner: CmdletRunner | None = None,
    ) -> None:
        if error_mode not in _ERROR_MODES:
            raise ValueError(f"error_mode must be one of {_ERROR_MODES}")
        #: set for a NoLanguage (JEA) session: scripts are refused, commands run through it
        self.cmdlet_runner = cmdlet_runner
        self.shell_id = shell_id
        self.resource_uri = resource_uri
        self.runner = runner
        self.error_mode = error_mode
        self.pool = psrpcore.ServerRunspacePool()
        self.lock = threading.Condition()
        # PSRP payload bytes waiting for a Receive, per target (None = the pool itself)
        self._queues: dict[uuid.UUID | None, deque[bytes]] = {}
        self._done: set[uuid.UUID] = set()
        self.commands: list[str] = []  # script texts seen (tests look at them)

    # -- input -----------------------------------------------------------------------------
    def feed(self, data: bytes, max_chunk: int) -> None:
        """Give the pool PSRP bytes from the client and act on every complete message."""
        with self.lock:
            self.pool.receive_data(psrpcore.PSRPPayload(data, psrpcore.StreamType.default, None))
            while True:
                event = self.pool.next_event()
                if event is None:
                    break
                if isinstance(event, psrpcore.CreatePipelineEvent):
                    pid = event.pipeline_id
                    assert pid is not None
                    self._run_pipeline(self.pool.pipeline_table[pid], event.pipeline)
            self._drain(max_chunk)
            self.lock.notify_all()

    def add_pipeline(self, command_id: str) -> None:
        with self.lock:
            psrpcore.ServerPipeline(self.pool, uuid.UUID(command_id))

    def _run_pipeline(self, pipeline: psrpcore.ServerPipeline, ps: psrpcore.PowerShell) -> None:
        pipeline.start()
        if self.cmdlet_runner is not None:
            self._run_no_language(pipeline, ps, self.cmdlet_runner)
            self._done.add(pipeline.pipeline_id)
            return
        if not ps.commands:
            outcome = Outcome(error=ErrorInfo("empty pipeline", "EmptyPipeline,windns-fake-endpoint"))
            text = ""
        else:
            cmd = ps.commands[0]
            text = str(cmd.command_text)
            self.commands.append(text)
            params: dict[str, Any] = {}
            for name, value in cmd.parameters:
                if name:
                    params[str(name)] = plain_value(value)
            outcome = self.runner(text, params)
        if outcome.stalled:
            return  # running until a Signal stops it; Receives meanwhile time out
        if outcome.output is not None:
            pipeline.write_output(outcome.output)
            pipeline.complete()
        else:
            assert outcome.error is not None
            record = _error_record(outcome.error)
            if self.error_mode == "stream":
                pipeline.write_error(
                    record.Exception,
                    category_info=record.CategoryInfo,
                    target_object=record.TargetObject,
                    fully_qualified_error_id=record.FullyQualifiedErrorId,
                )
                pipeline.complete()
            else:
                # $ErrorActionPreference = 'Stop': the error terminates the pipeline.
                pipeline._change_state(PSInvocationState.Failed, error=record)
        self._done.add(pipeline.pipeline_id)

    def _run_no_language(
        self, pipeline: psrpcore.ServerPipeline, ps: psrpcore.PowerShell, run: CmdletRunner
    ) -> None:
        """A NoLanguage session: any script fails the pipeline (ScriptsNotAllowed); each command
        runs in turn, its failure a non-terminating error; an invisible one fails the pipeline."""
        from toolkit.errors import CmdletError
        from toolkit.testing.fakeserver.jea import UnknownCommand, command_not_found, scripts_not_allowed
        from toolkit.testing.fakeserver.scripts import error_info

        script = next((c for c in ps.commands if c.is_script), None)
        if script is not None:
            self.commands.append(str(script.command_text))
            pipeline._change_state(
                PSInvocationState.Failed, error=scripts_not_allowed(str(script.command_text))
            )
            return
        for cmd in ps.commands:
            name = str(cmd.command_text)
            self.commands.append(name)
            params = {str(n): plain_value(v) for n, v in cmd.parameters if n}
            try:
                output = run(name, params)
            except UnknownCommand:
                pipeline._change_state(PSInvocationState.Failed, error=command_not_found(name))
                return
            except CmdletError as exc:
                record = _error_record(error_info(exc))
                pipeline.write_error(
                    record.Exception,
                    category_info=record.CategoryInfo,
                    target_object=record.TargetObject,
                    fully_qualified_error_id=record.FullyQualifiedErrorId,
                )
                continue
            for obj in output:
                pipeline.write_output(obj)
        pipeline.complete()

    def _drain(self, max_chunk: int) -> None:
        while True:
            payload = self.pool.data_to_send(max_chunk)
            if payload is None:
                return
            self._queues.setdefault(payload.pipeline_id, deque()).append(payload.data)

    # -- output ----------------------------------------------------------------------------
    def receive(self, command_id: str | None, budget: int, timeout: float) -> tuple[list[bytes], bool] | None:
        """Up to ``budget`` bytes queued for the pool or a pipeline; None when nothing came in
        ``timeout`` seconds (the caller answers with an operation-timeout fault)."""
        target = uuid.UUID(command_id) if command_id else None
        with self.lock:
            self.lock.wait_for(lambda: bool(self._queues.get(target)) or (target in self._done), timeout)
            queue = self._queues.get(target)
            chunks: list[bytes] = []
            size = 0
            while queue and (not chunks or size + len(queue[0]) <= budget):
                chunk = queue.popleft()
                chunks.append(chunk)
                size += len(chunk)
            done = target is not None and target in self._done and not queue
            if not chunks and not done:
                return None
            return chunks, done

    def knows(self, command_id: str) -> bool:
        """Whether ``command_id`` names a pipeline of this pool (running, or done and not yet
        signalled closed)."""
        try:
            pid = uuid.UUID(command_id)
        except ValueError:
            return False
        with self.lock:
            return pid in self.pool.pipeline_table and (
                pid in self._done or pid in self._queues or self._running(pid)
            )

    def _running(self, pid: uuid.UUID) -> bool:
        pipeline = self.pool.pipeline_table.get(pid)
        return pipeline is not None and pipeline.state == PSInvocationState.Running

    def signal(self, command_id: str) -> None:
        with self.lock:
            pid = uuid.UUID(command_id)
            pipeline = self.pool.pipeline_table.get(pid)
            if pipeline is not None:
                if pipeline.state == PSInvocationState.Running:
                    pipeline.stop()
                pipeline.close()
            self._queues.pop(pid, None)
            self._done.discard(pid)

    def close(self) -> None:
        with self.lock:
            self._queues.clear()
            self.lock.notify_all()


def decode_creation_xml(body_text: str | None) -> bytes:
    return base64.b64decode(body_text or "")
