"""WinrmRemote: the second transport, pywinrm's WinRS cmd shell.

One cmd shell per host, opened on the first ``run()`` and reused. Each run starts::

    powershell.exe -NoProfile -NonInteractive -EncodedCommand <ps_scripts/_winrm_bootstrap.ps1>

(the bootstrap's exact text, UTF-16LE base64, the same for every call) and sends one line of
JSON on stdin: ``{"script": base64(script text), "params": base64(JSON parameters)}``. The
bootstrap builds a scriptblock from the script text and splats the parameters onto it, so no
user value is ever PowerShell source, and the command line stays short whatever the script.

stdout is the script's JSON; a failure arrives as CLIXML on stderr with a non-zero exit code and
becomes ``CmdletError`` with the Win32 code from the FullyQualifiedErrorId.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import os
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from typing import Any

import requests
import xmltodict
from winrm.exceptions import (
    AuthenticationError,
    WinRMError,
    WinRMOperationTimeoutError,
    WinRMTransportError,
    WSManFaultError,
)
from winrm.protocol import Protocol
from winrm.transport import Transport

from toolkit.errors import ConfigError, ProtocolError, RemoteError
from toolkit.remote import _envelope, _errors, _http, clientcert, kerberos
from toolkit.remote._clixml import parse_error_view, parse_stderr
from toolkit.remote.base import (
    ClosingRemote,
    ConnectionOptions,
    RemoteResult,
    command_timed_out,
    parse_script_output,
)
from toolkit.resources import script_text

__all__ = [
    "BOOTSTRAP",
    "MAX_COMMAND_LINE",
    "WinrmRemote",
    "bootstrap_command",
    "default_protocol",
    "encode_payload",
]

log = logging.getLogger("windns.remote.winrm")

BOOTSTRAP = "_winrm_bootstrap"
#: cmd.exe's limit on one command line; the bootstrap command must stay below it
MAX_COMMAND_LINE = 8191
_EXECUTABLE = "powershell.exe"
_UTF8_CODEPAGE = 65001
#: bytes of stdin per Send request at most: well inside a 150 KiB envelope once base64-encoded
_STDIN_CHUNK = 96 * 1024
#: room for the SOAP header and the Send body around the base64 stdin of one Send
_SEND_OVERHEAD = 8 * 1024

ProtocolFactory = Callable[[ConnectionOptions], Any]

_AUTH = {
    # pywinrm has no SPNEGO: Negotiate goes as NTLM (Kerberos must be asked for by name).
    "negotiate": "ntlm",
    "ntlm": "ntlm",
    "kerberos": "kerberos",
    "basic": "basic",
    "credssp": "credssp",
    "certificate": "certificate",
}


def bootstrap_command() -> tuple[str, list[str]]:
    """The command and arguments that start the bootstrap (no user value in them)."""
    encoded = base64.b64encode(script_text(BOOTSTRAP).encode("utf-16-le")).decode("ascii")
    return _EXECUTABLE, ["-NoProfile", "-NonInteractive", "-EncodedCommand", encoded]


def encode_payload(script: str, params: Mapping[str, Any] | None) -> bytes:
    """The one stdin line for the bootstrap: the script text and the JSON parameters, each base64."""
    params_json = json.dumps(dict(params or {}), ensure_ascii=False, separators=(",", ":"))
    doc = {
        "script": base64.b64encode(script_text(script).encode("utf-8")).decode("ascii"),
        "params": base64.b64encode(params_json.encode("utf-8")).decode("ascii"),
    }
    return (json.dumps(doc, separators=(",", ":")) + "\r\n").encode("ascii")


def _ca_trust_path(opts: ConnectionOptions) -> str | None:
    """Explicit for pywinrm (it warns when it falls back to the environment by itself): the CA
    bundle given, else the one requests would take from the environment, else the default."""
    if opts.ca_bundle:
        return opts.ca_bundle
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or None


def _proxy(endpoint: str) -> str | None:
    """The environment's proxy for ``endpoint``, made explicit (pywinrm warns otherwise); None
    disables proxies."""
    proxies = requests.utils.get_environ_proxies(endpoint)
    scheme = endpoint.split(":", 1)[0]
    value = proxies.get(scheme) or proxies.get("all")
    return str(value) if value else None


class CommandDeadline(Exception):
    """The command's deadline passed while it was still running (internal)."""


class OperationTimedOut(WinRMOperationTimeoutError):
    """pywinrm's OperationTimeout, with the Windows text of the fault (pywinrm drops it)."""

    def __init__(self, text: str | None) -> None:
        super().__init__(text or "")
        self.text = text


class _Protocol(Protocol):
    """pywinrm's Protocol with envelopes sized by the server's ``MaxEnvelopeSizekb`` (pywinrm
    always asks for 150 KiB), keeping the text of an OperationTimeout fault.

    ``learn_envelope_size`` asks the server's configuration once (a Get of winrm/config, as
    pypsrp does); a server at 500 KiB then answers large outputs in a third of the Receives, and
    one configured lower is never sent more than it accepts. Until then, and when the
    configuration cannot be read, 150 KiB.
    """

    max_envelope_size = _envelope.FALLBACK_ENVELOPE_SIZE

    def learn_envelope_size(self) -> int:
        """Ask the server's MaxEnvelopeSizekb and use it for every later request; the fallback
        when the Get is refused (a user who is not an administrator) or holds no size."""
        message_id = uuid.uuid4()
        req = {
            "env:Envelope": self.build_wsman_header(
                action=_envelope.GET_ACTION, resource_uri=_envelope.CONFIG_URI, message_id=message_id
            )
        }
        req["env:Envelope"]["env:Header"]["w:MaxEnvelopeSize"]["#text"] = str(_envelope.CONFIG_GET_ENVELOPE)
        req["env:Envelope"]["env:Body"] = {}
        size: int | None = None
        try:
            size = _envelope.size_from_config(ET.fromstring(self.send_message(xmltodict.unparse(req))))
            why = "no usable MaxEnvelopeSizekb in it"
        except WSManFaultError as exc:
            why = f"WSMan fault {exc.wsman_fault_code or exc.code}"
        except ET.ParseError:
            why = "XML that cannot be parsed"
        if size is None:
            size = _envelope.FALLBACK_ENVELOPE_SIZE
            log.debug(
                "%s: winrm/config not read (%s): envelopes of %d bytes", self.transport.endpoint, why, size
            )
        self.max_envelope_size = size
        return size

    def build_wsman_header(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        header: dict[str, Any] = super().build_wsman_header(*args, **kwargs)
        header["env:Header"]["w:MaxEnvelopeSize"]["#text"] = str(self.max_envelope_size)
        return header

    def send_message(self, message: str) -> bytes:
        try:
            return super().send_message(message)
        except WinRMOperationTimeoutError as exc:
            # raised inside pywinrm's ``except WinRMTransportError``: the fault body is its context
            context = exc.__context__
            details = _errors.fault_details(getattr(context, "response_text", None))
            raise OperationTimedOut(details.text if details else None) from None


class _KerberosAuth(kerberos.NegotiateAuth):
    """pypsrp's pyspnego Negotiate auth, with the two calls pywinrm's Encryption makes."""

    winrm_encryption_available = True

    def wrap_winrm(self, host: str, message: bytes) -> tuple[bytes, bytes]:
        result = self.contexts[host].wrap_winrm(message)
        return result.data, result.header

    def unwrap_winrm(self, host: str, message: bytes, header: bytes) -> bytes:
        data: bytes = self.contexts[host].unwrap_winrm(header, message)
        return data


class _KerberosTransport(Transport):
    """pywinrm's Transport with Kerberos through pyspnego (the ``kerberos`` extra) instead of
    pykerberos: the same HTTP Negotiate exchange pypsrp makes, a password, keytab or chosen
    credential cache as well as the default cache, and WinRM message encryption over HTTP."""

    spnego_username: Any = None

    def build_session(self) -> requests.Session:
        if self.session is None and self.auth_method == "credssp":
            session = super().build_session()
            kerberos.close_on_failed_handshake(session.auth)
            return session
        if self.session is not None or self.auth_method != "kerberos":
            return super().build_session()
        # build the plain session (proxies, certificate validation), then put our auth on it
        self.auth_method = "plaintext"
        try:
            session = super().build_session()
        finally:
            self.auth_method = "kerberos"
        wrap = self.message_encryption == "always" or (
            self.message_encryption == "auto" and not self.endpoint.lower().startswith("https")
        )
        session.auth = _KerberosAuth(
            username=self.spnego_username,
            password=self.password,
            auth_provider="kerberos",
            service=kerberos.SERVICE,
            send_cbt=self.send_cbt,
            wrap_required=wrap,
        )
        if wrap:
            self.setup_encryption(session)
        return session


def default_protocol(opts: ConnectionOptions) -> Protocol:
    kerberos.require(opts)
    clientcert.check(opts)
    read_timeout = max(2, math.ceil(opts.read_timeout))
    operation_timeout = min(max(1, int(opts.operation_timeout)), read_timeout - 1)
    kwargs: dict[str, Any] = {
        "transport": _AUTH[opts.auth],
        # explicit, None included: pywinrm warns when it takes the CA trust from the environment itself
        "ca_trust_path": _ca_trust_path(opts),
    }
    if opts.auth == "certificate":
        kwargs["cert_pem"] = opts.certificate_pem
        kwargs["cert_key_pem"] = opts.certificate_key_pem
    protocol = _Protocol(
        opts.endpoint,
        username=opts.username,
        password=opts.password,
        server_cert_validation="validate" if opts.cert_validation else "ignore",
        read_timeout_sec=read_timeout,
        operation_timeout_sec=operation_timeout,
        proxy=_proxy(opts.endpoint),
        **kwargs,
    )
    if opts.auth in ("kerberos", "credssp"):
        transport = protocol.transport
        transport.__class__ = _KerberosTransport
        assert isinstance(transport, _KerberosTransport)
        transport.spnego_username = kerberos.spnego_username(opts)
    tune_transport(protocol.transport, ntlm=_AUTH[opts.auth] == "ntlm")
    return protocol


#: pywinrm builds a session without a proxy with ``proxies={"no_proxy": "*"}``, and requests
#: resolves that by setting and deleting ``os.environ["no_proxy"]`` around its check, which is not
#: thread-safe (requests issue #4997): two hosts' sessions built at once could delete it twice, a
#: ``KeyError`` that failed the host. The sessions of one process are built one at a time.
_BUILD_LOCK = threading.Lock()


def tune_transport(transport: Any, *, ntlm: bool) -> None:
    """pywinrm's transport with the session tuned for a fleet (``_http``): the environment and
    the CA bundle read once, and for NTLM the password's hashes derived once."""
    build_session = transport.build_session

    def build() -> requests.Session:
        if transport.session is not None:  # pywinrm asks for it on every request: tuned already
            session: requests.Session = build_session()
            return session
        name = transport.username
        if ntlm:  # requests-ntlm's auth, made in build_session, takes the hashes
            transport.username = _http.ntlm_credentials(name, transport.password)
        try:
            with _BUILD_LOCK:  # the environment is read (and written by requests) in here
                built = build_session()
            return _http.tune_session(built)
        finally:
            transport.username = name

    transport.build_session = build


class WinrmRemote(ClosingRemote):
    """A connection to one server through a reused pywinrm cmd shell."""

    def __init__(self, opts: ConnectionOptions, *, protocol_factory: ProtocolFactory | None = None) -> None:
        self.opts = opts
        self.host = opts.host
        self._protocol_factory = protocol_factory or default_protocol
        self._scrub = _errors.Scrubber(opts.password)
        self._protocol: Any = None
        self._shell_id: str | None = None
        self._lock = threading.Lock()
        self.closed = False

    # -- the shell --------------------------------------------------------------------------------
    def _open(self) -> tuple[Any, str]:
        if self._protocol is not None and self._shell_id is not None:
            return self._protocol, self._shell_id
        try:
            protocol = self._protocol_factory(self.opts)
        except (ValueError, WinRMError) as exc:
            raise ConfigError(f"{self.host}: unusable connection options: {self._scrub(exc)}") from None
        self._protocol = protocol
        if isinstance(protocol, _Protocol):
            protocol.learn_envelope_size()
        shell_id = protocol.open_shell(noprofile=True, codepage=_UTF8_CODEPAGE)
        self._shell_id = str(shell_id)
        log.debug("%s: cmd shell opened", self.host)
        mech = kerberos.mechanism_used(getattr(getattr(protocol, "transport", None), "session", None))
        if mech:
            log.info("%s: authenticated with %s (--auth %s)", self.host, mech, self.opts.auth)
        return protocol, self._shell_id

    def _discard(self) -> None:
        """Forget the shell without talking to the server (after a transport failure)."""
        protocol, self._protocol, self._shell_id = self._protocol, None, None
        session = getattr(getattr(protocol, "transport", None), "close_session", None)
        if callable(session):
            try:
                session()
            except Exception as exc:  # noqa: BLE001 - must not hide the real error
                log.debug("%s: closing the HTTP session failed: %s", self.host, self._scrub(exc))

    # -- Remote -----------------------------------------------------------------------------------
    def run(self, script: str, params: Mapping[str, Any] | None = None) -> RemoteResult:
        payload = encode_payload(script, params)
        command, arguments = bootstrap_command()
        start = time.perf_counter()
        deadline = time.monotonic() + self.opts.command_timeout
        with self._lock:
            if self.closed:
                raise ProtocolError(f"script {script}: this connection is closed", host=self.host)
            try:
                protocol, shell_id = self._open()
                command_id = protocol.run_command(shell_id, command, arguments)
                step = _stdin_chunk(protocol)
                for at in range(0, len(payload), step):
                    chunk, last = payload[at : at + step], at + step >= len(payload)
                    protocol.send_command_input(shell_id, command_id, chunk, end=last)
                stdout, stderr, exit_code = self._output(protocol, shell_id, command_id, deadline)
                self._cleanup(protocol, shell_id, command_id)
            except CommandDeadline:
                self._stop(protocol, shell_id, command_id)
                raise command_timed_out(
                    script, self.opts.command_timeout, time.perf_counter() - start, host=self.host
                ) from None
            except RemoteError as exc:
                exc.host = exc.host or self.host
                raise
            except Exception as exc:
                mapped = self._map(exc)
                if mapped is None:
                    raise
                self._discard()
                mapped.host = mapped.host or self.host
                raise mapped from exc
        out = _decode(stdout)
        if exit_code != 0:
            raise self._failure(script, _decode(stderr), exit_code, out)
        if stderr:
            log.debug("%s: %s wrote on stderr: %s", self.host, script, self._scrub(_decode(stderr))[:500])
        data = parse_script_output(script, out, host=self.host)
        return RemoteResult(script=script, data=data, raw=out, elapsed=time.perf_counter() - start)

    def _output(
        self, protocol: Any, shell_id: str, command_id: str, deadline: float
    ) -> tuple[bytes, bytes, int]:
        """pywinrm's ``get_command_output`` with an end: Receive until the command is done, each
        Receive asking the server to answer within what is left of the deadline, and
        ``CommandDeadline`` once it has passed (pywinrm itself retries OperationTimeout forever)."""
        stdout: list[bytes] = []
        stderr: list[bytes] = []
        base = getattr(protocol, "operation_timeout_sec", None)
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise CommandDeadline()
                if isinstance(base, int):
                    protocol.operation_timeout_sec = max(1, min(base, math.ceil(remaining)))
                try:
                    out, err, exit_code, done = protocol.get_command_output_raw(shell_id, command_id)
                except WinRMOperationTimeoutError:
                    continue  # "still running": ask again, within the deadline
                stdout.append(out)
                stderr.append(err)
                if done:
                    return b"".join(stdout), b"".join(stderr), int(exit_code)
        finally:
            if isinstance(base, int):
                protocol.operation_timeout_sec = base

    def _stop(self, protocol: Any, shell_id: str, command_id: str) -> None:
        """The command ran past its deadline: Signal terminate (pywinrm's cleanup_command), then
        close the shell; one bounded exchange each, failures only logged."""
        self._cleanup(protocol, shell_id, command_id)
        if self._protocol is not None and self._shell_id is not None:
            try:
                protocol.close_shell(shell_id, close_session=False)
            except Exception as exc:  # noqa: BLE001 - the timeout is the news
                log.debug("%s: closing the shell failed: %s", self.host, self._scrub(exc))
        self._discard()

    def _cleanup(self, protocol: Any, shell_id: str, command_id: str) -> None:
        try:
            protocol.cleanup_command(shell_id, command_id)
        except Exception as exc:  # noqa: BLE001 - the output is already in hand
            log.debug("%s: cleaning up the command failed: %s", self.host, self._scrub(exc))
            self._discard()

    def _failure(self, script: str, stderr: str, exit_code: int, stdout: str) -> RemoteError:
        """What a non-zero exit means: the script's error record from stderr, as a CmdletError
        (with the Win32 code), or a ProtocolError when the bootstrap could not run the script."""
        streams = parse_stderr(stderr)
        view = parse_error_view(streams.error or streams.lines("text"))
        if view is None:
            if stdout.strip():
                tail = self._scrub(stdout)[-200:]
            elif "<Obj" in stderr:
                tail = "stderr held only progress records, no error"
            else:
                tail = "nothing on stderr"
            return ProtocolError(f"script {script} ended with exit code {exit_code} ({tail})", host=self.host)
        if not streams.error and view.fully_qualified_error_id is None:
            # plain text, no PowerShell error record: powershell.exe (or cmd.exe) itself failed
            text = self._scrub(" ".join(streams.lines("text")))[-300:]
            return ProtocolError(
                f"script {script} ended with exit code {exit_code}; "
                f"stderr (not a PowerShell error record): {text}",
                host=self.host,
            )
        fqid = view.fully_qualified_error_id
        if fqid and fqid.split(",", 1)[0] in ("BootstrapInputInvalid", "ScriptNotRecognized"):
            return ProtocolError(f"script {script}: {self._scrub(view.message)} ({fqid})", host=self.host)
        code = _errors.win32_code(fully_qualified_error_id=fqid, message=view.message)
        err = _errors.cmdlet_error(
            self._scrub(view.message),
            fully_qualified_error_id=fqid,
            cmdlet=view.cmdlet,
            code=code,
            script=script,
        )
        err.host = self.host
        return err

    def _map(self, exc: BaseException) -> RemoteError | None:
        endpoint = self.opts.endpoint
        if isinstance(exc, requests.RequestException):
            return _errors.requests_error(
                exc,
                endpoint=endpoint,
                connect_timeout=self.opts.read_timeout,  # pywinrm has one timeout for both
                read_timeout=self.opts.read_timeout,
                scrub=self._scrub,
                client_certificate=self.opts.auth == "certificate",
            )
        if isinstance(exc, WinRMOperationTimeoutError):
            text = getattr(exc, "text", None)
            return _errors.wsman_fault_error(
                _errors.WSMAN_OPERATION_TIMEOUT,
                self._scrub(text) if text else "OperationTimeout, no text kept",
                endpoint=endpoint,
            )
        if isinstance(exc, AuthenticationError) or _no_ntlm_challenge(exc):
            return _errors.auth_rejected(endpoint=endpoint, auth=self.opts.auth, username=self.opts.username)
        if isinstance(exc, WSManFaultError):
            # pywinrm keeps the SOAP reason ("...invalid selectors..."); Windows says what happened
            # in the WSManFault message ("...a command identifier that does not exist...").
            details = _errors.fault_details(getattr(exc, "response", None))
            reason = details.text if details is not None and details.text else exc.reason
            return _errors.wsman_fault_error(exc.wsman_fault_code, self._scrub(reason), endpoint=endpoint)
        if isinstance(exc, WinRMTransportError):
            return _errors.http_status_error(
                int(exc.code), endpoint=endpoint, auth=self.opts.auth, username=self.opts.username
            )
        if isinstance(exc, ET.ParseError | StopIteration):
            return ProtocolError(f"{endpoint} answered with XML that cannot be parsed ({self._scrub(exc)})")
        if isinstance(exc, WinRMError):
            return ProtocolError(f"{endpoint}: {self._scrub(exc)}")
        if _errors.is_auth_library_error(exc):
            explained = kerberos.explain(exc, self.opts, endpoint=endpoint)
            if explained is not None:
                return explained
        if _errors.is_auth_library_error(exc) or isinstance(exc, PermissionError):
            # requests_ntlm raises PermissionError when the server offers no NTLM challenge
            return _errors.auth_failed(endpoint=endpoint, auth=self.opts.auth, detail=self._scrub(exc))
        return None

    def close(self) -> None:
        """Close the cmd shell (WSMan Delete) and the HTTP session; never raises."""
        with self._lock:
            self.closed = True
            protocol, shell_id = self._protocol, self._shell_id
            if protocol is not None and shell_id is not None:
                try:
                    protocol.close_shell(shell_id)
                except Exception as exc:  # noqa: BLE001 - the results are in hand
                    log.debug("%s: closing the shell failed: %s", self.host, self._scrub(exc))
            self._discard()


def _stdin_chunk(protocol: Any) -> int:
    """Bytes of stdin per Send: base64 of them and the Send around it fit the envelope size."""
    size = getattr(protocol, "max_envelope_size", _envelope.FALLBACK_ENVELOPE_SIZE)
    if not isinstance(size, int):
        size = _envelope.FALLBACK_ENVELOPE_SIZE
    return max(1024, min(_STDIN_CHUNK, (size - _SEND_OVERHEAD) // 4 * 3))


def _no_ntlm_challenge(exc: BaseException) -> bool:
    """requests_ntlm's PermissionError for a 401 that carries no NTLM challenge: the server refused
    the first message outright (pypsrp meets the same answer as AuthenticationError)."""
    return isinstance(exc, PermissionError) and "challenge" in str(exc)


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    return data.decode("utf-8", "replace")
