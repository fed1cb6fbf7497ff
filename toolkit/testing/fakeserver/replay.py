"""A loopback WinRM endpoint that answers with recorded responses, in order.

The tests use it to put real Windows answers (``tests/data/wsman-recordings/``, response bodies
recorded from Windows hosts) in front of the real pypsrp and pywinrm clients: each request is
answered with the next recorded response for its WS-Management action, its ``RelatesTo`` set
to the request's ``MessageID`` and nothing else changed. The clients take shell and command
identifiers from the answers, so a recording from another host replays as it was.

``steps`` are answered in order; a request whose action is not the next step's is answered from
``fillers`` (a recorded SignalResponse or DeleteResponse, for the clean-up a client does that
the recording did not capture), or with a fault naming the mismatch, which the test then sees.
Authentication: any ``Authorization`` header is accepted (use Basic over HTTP in tests).

    with ReplayServer([recorded("test_psrp_receive_failure.0.xml"), ...]) as replay:
        ...  # ConnectionOptions(host="127.0.0.1", port=replay.port, ssl=False, auth="basic", ...)
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from toolkit.testing.fakeserver import wsman

__all__ = ["Recorded", "ReplayServer", "load_recorded"]

_RELATES_TO = re.compile(rb"(<a:RelatesTo>)[^<]*(</a:RelatesTo>)")
_ACTION = re.compile(rb"<a:Action>([^<]*)</a:Action>")
_SHELL = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/"
_TRANSFER = "http://schemas.xmlsoap.org/ws/2004/09/transfer/"
#: the request operation a response action answers
_ANSWERS = {
    _TRANSFER + "CreateResponse": "Create",
    _TRANSFER + "DeleteResponse": "Delete",
    _TRANSFER + "GetResponse": "Get",
    _SHELL + "CommandResponse": "Command",
    _SHELL + "ReceiveResponse": "Receive",
    _SHELL + "SendResponse": "Send",
    _SHELL + "SignalResponse": "Signal",
}


@dataclass(frozen=True)
class Recorded:
    """One recorded response: the operation it answered, its HTTP status and its body."""

    operation: str
    body: bytes
    status: int = 200
    name: str = ""


def load_recorded(path: Path, operation: str | None = None) -> Recorded:
    """A recorded response body from ``path``; a fault answers ``operation`` (required then: a
    fault body does not say which request it answered), any other body answers the operation
    its action names."""
    body = path.read_bytes()
    m = _ACTION.search(body)
    action = m.group(1).decode("ascii") if m else ""
    if action.endswith("/fault"):
        if operation is None:
            raise ValueError(f"{path.name} is a fault: say which operation it answers")
        return Recorded(operation, body, 500, path.name)
    answered = _ANSWERS.get(action)
    if answered is None:
        raise ValueError(f"{path.name}: unknown response action {action!r}")
    if operation is not None and operation != answered:
        raise ValueError(f"{path.name} answers {answered}, not {operation}")
    return Recorded(answered, body, 200, path.name)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length else b""
        if not data:
            self._send(200, b"")
            return
        try:
            request = wsman.parse_request(data)
        except wsman.WSManRequestError as exc:
            self._send(500, wsman.fault_envelope(2150858817, f"replay: {exc}"))
            return
        status, body = self.server.replay.answer(request)
        self._send(status, body)

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        if body:
            self.send_header("Content-Type", "application/soap+xml;charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    replay: ReplayServer


class ReplayServer:
    """Answers WS-Management requests with ``steps`` in order (see the module docstring)."""

    def __init__(self, steps: Iterable[Recorded], fillers: Mapping[str, Recorded] | None = None) -> None:
        self.steps = list(steps)
        self.fillers = dict(fillers or {})
        self.lock = threading.Lock()
        self.position = 0
        #: (operation, name of the recorded response served or "MISMATCH") per request, in order
        self.served: list[tuple[str, str]] = []
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def done(self) -> bool:
        """Whether every step was served."""
        with self.lock:
            return self.position >= len(self.steps)

    def answer(self, request: wsman.WSManRequest) -> tuple[int, bytes]:
        with self.lock:
            step: Recorded | None = None
            if self.position < len(self.steps) and self.steps[self.position].operation == request.operation:
                step = self.steps[self.position]
                self.position += 1
            elif request.operation in self.fillers:
                step = self.fillers[request.operation]
            if step is None:
                left = self.position < len(self.steps)
                expected = self.steps[self.position].operation if left else "nothing"
                self.served.append((request.operation, "MISMATCH"))
                return 500, wsman.fault_envelope(
                    2150858817,
                    f"replay: the recording expects {expected} next, the client sent {request.operation}",
                    relates_to=request.message_id,
                )
            self.served.append((request.operation, step.name))
        relates = request.message_id.encode("utf-8")
        body = _RELATES_TO.sub(lambda m: m.group(1) + relates + m.group(2), step.body, count=1)
        return step.status, body

    def start(self) -> ReplayServer:
        httpd = _Server(("127.0.0.1", 0), _Handler)
        httpd.replay = self
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
