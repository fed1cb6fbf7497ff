"""The WinRS ``cmd`` shell pywinrm uses: one command line, stdin, stdout/stderr, exit code.

Two command forms are understood, both ``powershell[.exe] ... -EncodedCommand <base64 UTF-16LE>``:

- the toolkit's fixed bootstrap (``ps_scripts/_winrm_bootstrap.ps1``, recognised by content):
  it reads one JSON document from stdin, ``{"script": base64(UTF-8 script), "params":
  base64(UTF-8 JSON)}``; the script is identified by content and run with those parameters;
- a script encoded on the command line itself (``Session.run_ps``): identified by content and
  run without parameters.

Output is the script's JSON on stdout and exit code 0; a failure is CLIXML on stderr, as
``powershell.exe`` writes it when its error stream is redirected, and exit code 1.
"""

from __future__ import annotations

import base64
import binascii
import json
import shlex
import threading
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from toolkit.testing.fakeserver.scripts import ErrorInfo, Outcome

__all__ = ["WinrsShell", "clixml_error", "parse_encoded_command"]

Runner = Callable[[str, Mapping[str, Any]], Outcome]
BootstrapCheck = Callable[[str], bool]


def parse_encoded_command(command_line: str) -> str | None:
    """The script text of a ``powershell -EncodedCommand`` command line, or None."""
    try:
        words = shlex.split(command_line, posix=False)
    except ValueError:
        words = command_line.split()
    if not words or words[0].strip('"').lower().rsplit("\\", 1)[-1] not in ("powershell", "powershell.exe"):
        return None
    for i, word in enumerate(words[1:-1], start=1):
        w = word.lower()
        # PowerShell accepts any unambiguous prefix of -EncodedCommand down to -e / -ec / -enc.
        if w.startswith(("-", "/")) and len(w) >= 2 and ("-encodedcommand".startswith(w) or w == "-ec"):
            try:
                return base64.b64decode(words[i + 1], validate=True).decode("utf-16-le")
            except (binascii.Error, UnicodeDecodeError):
                return None
    return None


def _clixml_escape(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\r", "_x000D_").replace("\n", "_x000A_")


def clixml_error(info: ErrorInfo, *, script_name: str = "") -> bytes:
    """The ``#< CLIXML`` error stream powershell.exe writes for an uncaught error record."""
    cmdlet = info.cmdlet or script_name or "powershell"
    reason = "CimException" if info.code is not None else "RuntimeException"
    lines = [
        f"{cmdlet} : {info.message}",
        "At line:1 char:1",
        f"+ {cmdlet}",
        "+ " + "~" * len(cmdlet),
        f"    + CategoryInfo          : {info.category}: ({info.target or ''}:) [{cmdlet}], {reason}",
        f"    + FullyQualifiedErrorId : {info.fully_qualified_error_id}",
        "",
    ]
    objs = "".join(f'<S S="Error">{_clixml_escape(line)}_x000D__x000A_</S>' for line in lines)
    doc = f'#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">{objs}</Objs>'
    return doc.encode("utf-8")


class Command:
    def __init__(self, command_id: str, command_line: str) -> None:
        self.command_id = command_id
        self.command_line = command_line
        self.stdin = bytearray()
        self.stdin_closed = False
        self.stdout: deque[bytes] = deque()
        self.stderr: deque[bytes] = deque()
        self.exit_code: int | None = None
        self.script_text: str | None = None


class WinrsShell:
    kind = "winrs"

    def __init__(
        self, shell_id: str, resource_uri: str, runner: Runner, is_bootstrap: BootstrapCheck
    ) -> None:
        self.shell_id = shell_id
        self.resource_uri = resource_uri
        self.runner = runner
        self.is_bootstrap = is_bootstrap
        self.lock = threading.Condition()
        self.commands: dict[str, Command] = {}
        self.scripts: list[str] = []  # script texts run (tests look at them)

    def command(self, command_id: str, command: str, arguments: list[str], chunk: int) -> None:
        line = " ".join([command, *arguments]).strip()
        cmd = Command(command_id, line)
        with self.lock:
            self.commands[command_id] = cmd
            text = parse_encoded_command(line)
            if text is None:
                name = line.split(" ", 1)[0] if line else ""
                self._finish(
                    cmd,
                    Outcome(
                        error=ErrorInfo(
                            f"'{name}' is not recognized as an internal or external command, "
                            "operable program or batch file.",
                            "CommandNotFoundException",
                            category="ObjectNotFound",
                        )
                    ),
                    chunk,
                )
            elif self.is_bootstrap(text):
                cmd.script_text = text  # waits for its stdin payload
            else:
                cmd.script_text = text
                self.scripts.append(text)
                self._finish(cmd, self.runner(text, {}), chunk)

    def send(self, command_id: str, data: bytes, end: bool, chunk: int) -> None:
        with self.lock:
            cmd = self.commands.get(command_id)
            if cmd is None or cmd.exit_code is not None:
                return
            cmd.stdin += data
            if end:
                cmd.stdin_closed = True
                self._finish(cmd, self._run_payload(bytes(cmd.stdin)), chunk)
            self.lock.notify_all()

    def _run_payload(self, raw: bytes) -> Outcome:
        try:
            payload = json.loads(raw.decode("utf-8-sig"))
            script = base64.b64decode(payload["script"]).decode("utf-8")
            params = (
                json.loads(base64.b64decode(payload["params"]).decode("utf-8"))
                if payload.get("params")
                else {}
            )
            if not isinstance(params, dict):
                raise ValueError("params is not an object")
        except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
            return Outcome(
                error=ErrorInfo(
                    f"The bootstrap could not read its input: {exc}",
                    "BootstrapInputInvalid,windns-fake-endpoint",
                    category="InvalidData",
                )
            )
        self.scripts.append(script)
        return self.runner(script, params)

    def _finish(self, cmd: Command, outcome: Outcome, chunk: int) -> None:
        if outcome.stalled:
            return  # no exit code ever: Receives time out until a Signal ends the command
        if outcome.output is not None:
            data = (outcome.output + "\r\n").encode("utf-8")
            for i in range(0, len(data), chunk):
                cmd.stdout.append(data[i : i + chunk])
            cmd.exit_code = 0
        else:
            assert outcome.error is not None
            cmd.stderr.append(clixml_error(outcome.error))
            cmd.exit_code = 1
        self.lock.notify_all()

    def receive(
        self, command_id: str, timeout: float
    ) -> tuple[list[tuple[str, bytes]], bool, int | None] | None:
        with self.lock:
            cmd = self.commands.get(command_id)
            if cmd is None:
                return [], True, 0
            self.lock.wait_for(lambda: cmd.exit_code is not None, timeout)
            if cmd.exit_code is None:
                return None
            streams: list[tuple[str, bytes]] = []
            if cmd.stdout:
                streams.append(("stdout", cmd.stdout.popleft()))
            elif cmd.stderr:
                streams.append(("stderr", cmd.stderr.popleft()))
            done = not cmd.stdout and not cmd.stderr
            return streams, done, cmd.exit_code

    def knows(self, command_id: str) -> bool:
        with self.lock:
            return command_id in self.commands

    def signal(self, command_id: str) -> None:
        with self.lock:
            self.commands.pop(command_id, None)
            self.lock.notify_all()

    def close(self) -> None:
        with self.lock:
            self.commands.clear()
            self.lock.notify_all()
