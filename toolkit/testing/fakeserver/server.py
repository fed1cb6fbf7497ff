"""The loopback WinRM endpoint: one HTTP(S) listener per simulated server on 127.0.0.1.

``FakeWinrmServer(fleet)`` serves every server of a simulated fleet (by default the fleet
FakeRemote uses, so both front doors share one simulator). Each host has its own port, fault
plan and counters (HTTP exchanges, WSMan operations, captured request envelopes).

    with FakeWinrmServer(port_base=0) as fake:
        opts = fake.connection_options("dns1.demo.lab")   # 127.0.0.1:<port>, NTLM, test account
        with PsrpRemote(opts) as remote:
            remote.run("inventory", {})
"""

from __future__ import annotations

import base64
import binascii
import functools
import os
import socket
import ssl
import struct
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from toolkit.model import zone_key
from toolkit.testing.fakeserver import wsman
from toolkit.testing.fakeserver.auth import (
    AuthFailed,
    ConnectionAuth,
    Credentials,
    request_protocol,
    unwrap_message,
    wrap_message,
)
from toolkit.testing.fakeserver.certmap import CertificateMapper, CertificateMapping
from toolkit.testing.fakeserver.faults import WSMAN_FAULTS, Fault, FaultPlan, faults_from_fixture
from toolkit.testing.fakeserver.jea import NO_LANGUAGE_CONFIGURATION
from toolkit.testing.fakeserver.psrp_shell import PsrpShell
from toolkit.testing.fakeserver.scripts import ExtraScripts, Outcome, ScriptCatalogue, Session
from toolkit.testing.fakeserver.tls import SelfSignedCert, make_self_signed
from toolkit.testing.fakeserver.winrs_shell import WinrsShell
from toolkit.testing.simulator import Fleet, SimulatedServer

__all__ = ["NO_DNSSERVER_CONFIGURATION", "FakeWinrmServer", "HostEndpoint", "HostStats"]

#: A JEA-style session configuration whose sessions lack the DnsServer module.
NO_DNSSERVER_CONFIGURATION = "windns.JEA.NoDnsServer"

PSRP_PREFIX = "http://schemas.microsoft.com/powershell/"
CMD_URI = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"
SHELL_URI = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
CONFIG_URI = "http://schemas.microsoft.com/wbem/wsman/1/config"
_SHELL_NOT_FOUND = 2150858843
_INVALID_RESOURCE = 2150858752
_SOAP = "application/soap+xml;charset=UTF-8"


class HostStats:
    """What one host saw: HTTP exchanges (auth legs included), WSMan operations, requests, the
    mechanism of each completed handshake, and (captured) the authentication tokens both ways."""

    def __init__(self, capture: bool = True) -> None:
        self.lock = threading.Lock()
        self.capture = capture
        self.exchanges = 0
        self.operations: Counter[str] = Counter()
        self.mechanisms: Counter[str] = Counter()  # "ntlm", "kerberos", "basic" per handshake
        self.accounts: Counter[str] = Counter()  # requests run as the account a client certificate maps to
        self.auth_tokens: list[str] = []  # base64 tokens of Authorization / WWW-Authenticate
        self.requests: list[bytes] = []  # decrypted SOAP envelopes, in order
        self.scripts: list[str] = []  # text of every script the host was asked to run
        self.cmdlets: list[str] = []  # every command run in a NoLanguage (JEA) session
        self.envelope_refusals = 0  # requests refused for exceeding max_envelope_kb

    def reset(self) -> None:
        with self.lock:
            self.exchanges = 0
            self.operations.clear()
            self.mechanisms.clear()
            self.accounts.clear()
            self.auth_tokens.clear()
            self.requests.clear()
            self.scripts.clear()
            self.cmdlets.clear()
            self.envelope_refusals = 0

    @property
    def wire_text(self) -> str:
        """Every captured request envelope as text, decoded the way a packet capture reader would
        see the data inside: base64 payloads are decoded too (PSRP fragments, stdin)."""
        import re

        parts: list[str] = []
        with self.lock:
            requests = list(self.requests)
        for raw in requests:
            text = raw.decode("utf-8", "replace")
            parts.append(text)
            for blob in re.findall(r">([A-Za-z0-9+/=\s]{16,})<", text):
                try:
                    parts.append(base64.b64decode(blob).decode("utf-8", "replace"))
                except (binascii.Error, ValueError):
                    pass
        return "\n".join(parts)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    endpoint: HostEndpoint

    def finish_request(self, request: Any, client_address: Any) -> None:
        ctx = self.endpoint.owner.ssl_context
        if ctx is None:
            self.RequestHandlerClass(request, client_address, self)  # type: ignore[arg-type]
            return
        try:
            request.settimeout(10)
            wrapped = ctx.wrap_socket(request, server_side=True)
            wrapped.settimeout(None)
        except (ssl.SSLError, OSError):
            _close_after_alert(request)
            return
        try:
            self.RequestHandlerClass(wrapped, client_address, self)  # type: ignore[arg-type]
        finally:
            wrapped.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that went away, or a reset we made on purpose


def _close_after_alert(sock: socket.socket) -> None:
    """Close a connection whose TLS handshake failed so the client reads the alert OpenSSL sent:
    with TLS 1.3 the client may already have written its request (a client certificate is
    checked after the client's handshake ends), and closing with that unread would reset the
    connection and lose the alert."""
    try:
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(2)
        while sock.recv(65536):
            pass
    except OSError:
        pass
    finally:
        sock.close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        owner = self.server.endpoint.owner
        peer = (
            self.connection.getpeercert(binary_form=True)
            if isinstance(self.connection, ssl.SSLSocket)
            else None
        )
        self.auth = ConnectionAuth(
            owner.credentials,
            methods=owner.auth_methods,
            cbt=owner.channel_binding,
            peer_certificate=peer,
            mapper=owner.certificate_mapper,
        )

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass

    def _reply(
        self,
        status: int,
        body: bytes = b"",
        *,
        encrypt: bool = False,
        headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        content_type = _SOAP
        if encrypt and body:
            protocol = request_protocol(self.headers.get("Content-Type", ""))
            content_type, body = wrap_message(self.auth.context, body, protocol)
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if body:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _record_auth(self, authorization: str | None) -> None:
        if not authorization or " " not in authorization.strip():
            return
        stats = self.server.endpoint.stats
        with stats.lock:
            if stats.capture:
                stats.auth_tokens.append(authorization.strip().partition(" ")[2])

    def _reset(self) -> None:
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def do_POST(self) -> None:
        ep = self.server.endpoint
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with ep.stats.lock:
            ep.stats.exchanges += 1
        delay = ep.faults.latency()
        if delay:
            time.sleep(delay)
        if ep.faults.take(None, ["http401"]):
            self._reply(401, headers=self.auth.challenge_headers())
            return
        authorization = self.headers.get("Authorization")
        try:
            ok, headers = self.auth.check(authorization)
        except AuthFailed:
            self.auth.context = None
            self._reply(401, headers=self.auth.challenge_headers())
            return
        finally:
            self._record_auth(authorization)
        with ep.stats.lock:
            if self.auth.completed:
                ep.stats.mechanisms[self.auth.completed] += 1
            if self.auth.completed == "certificate" and self.auth.certificate_account:
                ep.stats.accounts[self.auth.certificate_account] += 1
            if ep.stats.capture:
                ep.stats.auth_tokens += [v.partition(" ")[2] for _, v in headers if " " in v]
        if not ok:
            self._reply(401, headers=headers)
            return
        encrypted = self.headers.get("Content-Type", "").lower().startswith("multipart/encrypted")
        if encrypted:
            if not self.auth.can_wrap:
                self._reply(400)
                return
            try:
                body = unwrap_message(self.auth.context, body)
            except Exception:  # noqa: BLE001 - any decryption failure is a bad request
                self._reply(400)
                return
        if not body:  # the blank request a client sends to set up message encryption
            self._reply(200, headers=headers)
            return
        try:
            request = wsman.parse_request(body)
        except wsman.WSManRequestError as exc:
            self._reply(
                500, wsman.fault_envelope(2150858817, f"Bad WS-Management request: {exc}"), encrypt=encrypted
            )
            return
        with ep.stats.lock:
            ep.stats.operations[request.operation] += 1
            if ep.stats.capture:
                ep.stats.requests.append(body)
        status, response = ep.answer(request, self, len(body))
        if status == 0:  # reset or hang: nothing to send
            return
        self._reply(status, response, encrypt=encrypted, headers=headers)


class HostEndpoint:
    """One simulated server behind one port."""

    def __init__(self, owner: FakeWinrmServer, simulated: SimulatedServer, port: int) -> None:
        self.owner = owner
        self.simulated = simulated
        self.port = port
        self.faults = FaultPlan(faults_from_fixture(simulated.faults))
        self.stats = HostStats(owner.capture)
        self.shells: dict[str, PsrpShell | WinrsShell] = {}
        self.lock = threading.Lock()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def name(self) -> str:
        return self.simulated.name

    @property
    def listening(self) -> bool:
        return self._httpd is not None

    @property
    def url(self) -> str:
        scheme = "https" if self.owner.tls else "http"
        return f"{scheme}://{self.owner.bind}:{self.port}/wsman"

    def start(self) -> None:
        if self._httpd is not None:
            return
        if self.faults.has("refuse"):
            if not self.port:
                self.port = _free_port(self.owner.bind)
            return
        httpd = _HTTPServer((self.owner.bind, self.port), _Handler)
        httpd.endpoint = self
        self.port = httpd.server_address[1]
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"fake-winrm-{self.name}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        with self.lock:
            shells, self.shells = list(self.shells.values()), {}
        for shell in shells:
            shell.close()

    def set_faults(self, faults: Iterable[Fault]) -> None:
        """Replace this host's faults; ``refuse`` takes effect at once (the listener goes)."""
        self.faults.set(faults)
        if self.faults.has("refuse") and self._httpd is not None:
            self.stop()
        elif not self.faults.has("refuse") and self._httpd is None and self.owner.running:
            self.start()

    def run_script(self, text: str, params: Mapping[str, Any], configuration: str | None = None) -> Outcome:
        """Run a script in a PSRP session of ``configuration``, or (None) in the powershell.exe a
        WinRS cmd shell starts, which is no remoting session."""
        with self.stats.lock:
            self.stats.scripts.append(text)
        session = self.owner.session_for(configuration)
        return self.owner.catalogue.run(self.simulated, text, params, self.faults.script_fault(), session)

    def run_cmdlet(self, name: str, params: Mapping[str, Any]) -> list[Any]:
        """Run one command in a NoLanguage (JEA) session: a visible cmdlet of the role only."""
        from toolkit.testing.fakeserver.jea import run_cmdlet

        with self.stats.lock:
            self.stats.cmdlets.append(name)
        return run_cmdlet(self.simulated, name, params)

    # -- WS-Management --------------------------------------------------------------------
    def answer(self, req: wsman.WSManRequest, handler: _Handler, size: int = 0) -> tuple[int, bytes]:
        limit = self.owner.max_envelope_kb * 1024
        if size > limit or req.max_envelope_size > limit:
            # stricter than MS-WSMAN 3.1.4.1.9 (which lowers a MaxEnvelopeSize above the setting):
            # a client that asks for more than the server's MaxEnvelopeSizekb, or sends a larger
            # envelope, is refused, so that tests see a client assuming a bigger limit
            with self.stats.lock:
                self.stats.envelope_refusals += 1
            return self._fault(req, wsman.ENVELOPE_LIMIT_CODE, wsman.ENVELOPE_LIMIT_TEXT)
        fault = self.faults.take(req.operation, ["reset", "hang", "truncate", *WSMAN_FAULTS])
        if fault is not None:
            if fault.kind == "reset":
                handler._reset()
                return 0, b""
            if fault.kind == "hang":
                self.owner.stopping.wait(fault.seconds or 600.0)
                handler._reset()
                return 0, b""
            if fault.kind in WSMAN_FAULTS:
                code, message = WSMAN_FAULTS[fault.kind]
                return 500, wsman.fault_envelope(code, message, relates_to=req.message_id)
        status, body = self._dispatch(req)
        if fault is not None and fault.kind == "truncate":
            return 200, body[: max(1, len(body) // 2)]
        return status, body

    def _fault(self, req: wsman.WSManRequest, code: int, message: str) -> tuple[int, bytes]:
        return 500, wsman.fault_envelope(code, message, relates_to=req.message_id)

    def _command_not_found(self, req: wsman.WSManRequest) -> tuple[int, bytes]:
        """A Receive for a command the shell does not know (finished and signalled, or never
        started): 2150858843 with Windows's words, as recorded (test_psrp_receive_failure.yml#3)."""
        return 500, wsman.fault_envelope(
            _SHELL_NOT_FOUND,
            wsman.COMMAND_NOT_FOUND_TEXT,
            reason="The WS-Management service cannot process the request because the request contained "
            "invalid selectors for the resource. ",
            relates_to=req.message_id,
        )

    def _dispatch(self, req: wsman.WSManRequest) -> tuple[int, bytes]:
        op, uri = req.operation, req.resource_uri
        if op == "Get":
            if uri.rstrip("/") == CONFIG_URI:
                return 200, wsman.config_response(req, self.owner.max_envelope_kb)
            shell = self.shells.get(req.shell_id or "")
            if shell is not None:
                return 200, wsman.shell_state_response(req, shell.shell_id, shell.resource_uri)
            return self._fault(req, _INVALID_RESOURCE, f"The resource URI {uri} is not supported for Get.")
        if op == "Create":
            return self._create(req)
        shell = self.shells.get(req.shell_id or "")
        if shell is None:
            return self._fault(
                req,
                _SHELL_NOT_FOUND,
                f"The request for the Windows Remote Shell with ShellId {req.shell_id} failed "
                "because the shell was not found on the server.",
            )
        body = req.body
        budget = max(4096, (req.max_envelope_size - 4096) * 3 // 4)
        if op == "Delete":
            with self.lock:
                self.shells.pop(shell.shell_id, None)
            shell.close()
            return 200, wsman.envelope(req)
        if op == "Signal":
            cid = body.attrib.get("CommandId", "") if body is not None else ""
            shell.signal(cid)
            return 200, wsman.envelope(req, wsman.element("rsp", "SignalResponse"))
        if op == "Command":
            assert body is not None
            cid = (body.attrib.get("CommandId") or str(uuid.uuid4())).upper()
            command = (body.findtext("rsp:Command", "", wsman.NS) or "").strip()
            arguments = [a.text or "" for a in body.findall("rsp:Arguments", wsman.NS)]
            if isinstance(shell, PsrpShell):
                shell.add_pipeline(cid)
                shell.feed(b"".join(base64.b64decode(a) for a in arguments), budget)
            else:
                shell.command(cid, command, arguments, budget)
            return 200, wsman.command_response(req, cid)
        if op == "Send":
            assert body is not None
            for stream in body.findall("rsp:Stream", wsman.NS):
                data = base64.b64decode(stream.text or "")
                if isinstance(shell, PsrpShell):
                    shell.feed(data, budget)
                else:
                    end = stream.attrib.get("End", "false").lower() == "true"
                    shell.send(stream.attrib.get("CommandId", "").upper(), data, end, budget)
            return 200, wsman.envelope(req, wsman.element("rsp", "SendResponse"))
        # Receive
        desired = body.find("rsp:DesiredStream", wsman.NS) if body is not None else None
        receive_cid = desired.attrib.get("CommandId") if desired is not None else None
        wait = min(req.operation_timeout, self.owner.receive_wait)
        if isinstance(shell, PsrpShell):
            if receive_cid is not None and not shell.knows(receive_cid):
                return self._command_not_found(req)
            got = shell.receive(receive_cid, budget, wait)
            if got is None:
                return self._fault(req, wsman.OPERATION_TIMEOUT_CODE, WSMAN_FAULTS["operation_timeout"][1])
            chunks, done = got
            streams = [("stdout", b"".join(chunks))] if chunks else []
            return 200, wsman.receive_response(req, streams, command_id=receive_cid, done=done, exit_code=0)
        if receive_cid is None:
            return self._fault(req, _INVALID_RESOURCE, "Receive on a cmd shell needs a CommandId.")
        if not shell.knows(receive_cid.upper()):
            return self._command_not_found(req)
        result = shell.receive(receive_cid.upper(), wait)
        if result is None:
            return self._fault(req, wsman.OPERATION_TIMEOUT_CODE, WSMAN_FAULTS["operation_timeout"][1])
        streams, done, code = result
        return 200, wsman.receive_response(req, streams, command_id=receive_cid, done=done, exit_code=code)

    def _create(self, req: wsman.WSManRequest) -> tuple[int, bytes]:
        uri = req.resource_uri
        body = req.body
        shell_id = ((body.attrib.get("ShellId") if body is not None else None) or str(uuid.uuid4())).upper()
        budget = max(4096, (req.max_envelope_size - 4096) * 3 // 4)
        shell: PsrpShell | WinrsShell
        if uri.startswith(PSRP_PREFIX):
            config = uri[len(PSRP_PREFIX) :]
            if config.lower() not in {c.lower() for c in self.owner.configuration_names}:
                return self._fault(
                    req,
                    _INVALID_RESOURCE,
                    f"The WS-Management service cannot process the request. Cannot find the {config} "
                    f"session configuration in the WSMan: drive on the {self.name} computer.",
                )
            name = next(c for c in self.owner.configuration_names if c.lower() == config.lower())
            no_language = name.lower() in self.owner.no_language
            shell = PsrpShell(
                shell_id,
                uri,
                functools.partial(self.run_script, configuration=name),
                error_mode=self.owner.error_mode,
                cmdlet_runner=self.run_cmdlet if no_language else None,
            )
            creation = body.find("pwsh:creationXml", wsman.NS) if body is not None else None
            if creation is not None and creation.text:
                shell.feed(base64.b64decode(creation.text), budget)
        elif uri == CMD_URI:
            shell = WinrsShell(shell_id, uri, self.run_script, self.owner.catalogue.is_bootstrap)
        else:
            return self._fault(
                req, _INVALID_RESOURCE, f"The resource URI {uri} is not supported by this endpoint."
            )
        with self.lock:
            self.shells[shell_id] = shell
        return 200, wsman.create_response(req, shell_id, uri, psrp=isinstance(shell, PsrpShell))


def _free_port(bind: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((bind, 0))
        port: int = s.getsockname()[1]
        return port


class FakeWinrmServer:
    """A fleet of simulated Windows DNS servers behind real WinRM, one port per server."""

    def __init__(
        self,
        fleet: Fleet | None = None,
        *,
        fixtures: Path | None = None,
        servers: Iterable[str] | None = None,
        bind: str = "127.0.0.1",
        port_base: int = 0,
        tls: bool = False,
        credentials: Credentials | None = None,
        auth_methods: Iterable[str] = ("negotiate", "basic"),
        configuration_names: Iterable[str] = (
            "Microsoft.PowerShell",
            NO_LANGUAGE_CONFIGURATION,
            NO_DNSSERVER_CONFIGURATION,
        ),
        without_dnsserver: Iterable[str] = (NO_DNSSERVER_CONFIGURATION,),
        no_language: Iterable[str] = (NO_LANGUAGE_CONFIGURATION,),
        max_envelope_kb: int = 500,
        error_mode: str = "failed",
        extra_scripts: ExtraScripts | None = None,
        capture: bool = True,
        receive_wait: float = 5.0,
        faults: Mapping[str, Iterable[Fault]] | None = None,
        scripts_dir: Path | None = None,
        keytab: Path | None = None,
        client_ca: Path | None = None,
        certificate_mappings: Iterable[CertificateMapping] = (),
        call_seconds: float = 0.0,
        zone_seconds: float = 0.0,
        replay_reads: bool = False,
    ) -> None:
        if fleet is None:
            from toolkit.testing.fake_remote import load_fleet

            fleet = load_fleet(fixtures)
        self.fleet = fleet
        self.bind = bind
        self.port_base = port_base
        self.tls = tls
        self.credentials = credentials or Credentials()
        #: the HTTP/<name> service key for Kerberos (Negotiate and the Kerberos scheme accept it)
        self.keytab = keytab
        methods = {m.lower() for m in auth_methods}
        if keytab is not None:
            methods |= {"negotiate", "kerberos"}
        mappings = tuple(certificate_mappings)
        #: client certificates: the CAs whose certificates the TLS handshake takes, and the
        #: WSMan:\localhost\ClientCertificate table mapping them to accounts (``certmap``)
        self.client_ca = client_ca
        self.certificate_mapper: CertificateMapper | None = None
        if mappings or client_ca is not None:
            if not tls or client_ca is None:
                raise ValueError("certificate authentication needs tls=True and a client_ca")
            self.certificate_mapper = CertificateMapper(client_ca, mappings)
            methods.add("certificate")
        if "credssp" in methods and not tls:
            raise ValueError("the loopback endpoint offers CredSSP over HTTPS only")
        self.auth_methods = frozenset(methods)
        self.configuration_names = tuple(configuration_names)
        self.without_dnsserver = frozenset(c.lower() for c in without_dnsserver)
        #: NoLanguage (JEA) configurations: scripts refused, the role's cmdlets only
        self.no_language = frozenset(c.lower() for c in no_language)
        self.max_envelope_kb = max_envelope_kb
        self.error_mode = error_mode
        self.capture = capture
        self.receive_wait = receive_wait
        self.catalogue = ScriptCatalogue(scripts_dir, extra=extra_scripts)
        self.catalogue.call_seconds = call_seconds
        self.catalogue.zone_seconds = zone_seconds
        self.catalogue.replay_reads = replay_reads
        self.stopping = threading.Event()
        self.running = False
        self.cert: SelfSignedCert | None = None
        self.ssl_context: ssl.SSLContext | None = None
        self.credentials_file: Path | None = None
        wanted = {s.lower() for s in servers} if servers is not None else None
        self.endpoints: dict[str, HostEndpoint] = {}
        matched: set[str] = set()
        for i, sim in enumerate(fleet):
            names = {sim.name.lower(), sim.name.split(".")[0].lower()}
            if wanted is not None and not names & wanted:
                continue
            matched |= names
            self.endpoints[sim.name.lower()] = HostEndpoint(self, sim, port_base + i if port_base else 0)
        unknown = sorted(wanted - matched) if wanted is not None else []
        if unknown:
            known = ", ".join(sim.name for sim in fleet)
            raise KeyError(f"no such simulated server: {', '.join(unknown)} (there are: {known})")
        for name, plan in (faults or {}).items():
            self.endpoint(name).faults.set(plan)

    def session_for(self, configuration: str | None) -> Session:
        """The PowerShell session a script runs in: a PSRP session of ``configuration`` (with or
        without the DnsServer module), or none (None: powershell.exe in a WinRS cmd shell)."""
        if configuration is None:
            return Session(configuration_name=None)
        return Session(
            configuration_name=configuration, dnsserver=configuration.lower() not in self.without_dnsserver
        )

    @property
    def channel_binding(self) -> bytes | None:
        return self.cert.channel_binding if self.cert is not None else None

    def start(self) -> FakeWinrmServer:
        if self.running:
            return self
        self.stopping.clear()
        try:
            self.credentials_file = self.credentials.install()
            if self.keytab is not None:
                # the acceptor (gssapi through pyspnego) reads the service key from this keytab
                os.environ["KRB5_KTNAME"] = f"FILE:{self.keytab}"
            if self.tls and self.cert is None:
                self.cert = make_self_signed()
                self.ssl_context = self.cert.server_context()
            if self.ssl_context is not None and self.client_ca is not None:
                # ask for a client certificate; one from another CA fails the handshake. TLS 1.2:
                # the certificate is checked inside the handshake, so the client reads the alert
                # (with TLS 1.3 it is checked after the client's handshake ends, and the client
                # may see the connection close instead)
                self.ssl_context.maximum_version = ssl.TLSVersion.TLSv1_2
                self.ssl_context.verify_mode = ssl.CERT_OPTIONAL
                self.ssl_context.load_verify_locations(cafile=str(self.client_ca))
            for ep in self.endpoints.values():
                ep.start()
        except BaseException:
            self.stop()
            raise
        self.running = True
        return self

    def stop(self) -> None:
        """Stop every endpoint, then delete what start() wrote: the credentials file (passwords in
        the clear) and a certificate made here (its private key)."""
        self.stopping.set()
        for ep in self.endpoints.values():
            ep.stop()
        self.running = False
        if self.credentials_file is not None:
            self.credentials_file = None
            self.credentials.release()
        if self.cert is not None and self.cert.owned_dir is not None:
            self.cert.remove()
            self.cert, self.ssl_context = None, None

    def __enter__(self) -> FakeWinrmServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def endpoint(self, name: str) -> HostEndpoint:
        key = zone_key(name)
        ep = self.endpoints.get(key)
        if ep is None:
            matches = [e for k, e in self.endpoints.items() if k.split(".")[0] == key.split(".")[0]]
            if len(matches) != 1:
                raise KeyError(f"no simulated server {name!r} behind this endpoint")
            ep = matches[0]
        return ep

    def __iter__(self) -> Any:
        return iter(self.endpoints.values())

    def connection_options(self, name: str, **overrides: Any) -> Any:
        """``ConnectionOptions`` that reach ``name`` through this endpoint with the test account."""
        from toolkit.remote.base import ConnectionOptions

        ep = self.endpoint(name)
        kwargs: dict[str, Any] = {
            "host": self.bind,
            "port": ep.port,
            "ssl": self.tls,
            "auth": "ntlm",
            "username": self.credentials.username,
            "password": self.credentials.password,
            "ca_bundle": str(self.cert.cert_file) if self.cert is not None else None,
            "connect_timeout": 5.0,
            "read_timeout": 30.0,
            "operation_timeout": 20.0,
        }
        kwargs.update(overrides)
        return ConnectionOptions(**kwargs)
