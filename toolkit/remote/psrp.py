"""PsrpRemote: the default transport, pypsrp's RunspacePool over WS-Management.

One runspace pool per host, opened on the first ``run()`` and reused for every script after it
(opening costs the authentication handshake, Create and a few Receives; a script then costs
Command + Receive + Signal). Scripts go in with ``add_script`` and their parameters with
``add_parameters``: values travel as typed CLIXML objects, never as script text.

The script must print one JSON string; a failed pipeline becomes ``CmdletError`` with the
Win32 code of the DnsServer cmdlet. Transport failures are mapped by ``toolkit.remote._errors``.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import requests
from pypsrp.exceptions import (
    AuthenticationError,
    FragmentError,
    SerializationError,
    WinRMError,
    WinRMTransportError,
    WSManFaultError,
)
from pypsrp.powershell import PowerShell, RunspacePool
from pypsrp.wsman import WSMan

from toolkit.errors import ConfigError, ProtocolError, RemoteError
from toolkit.remote import _envelope, _errors, _http, clientcert, kerberos
from toolkit.remote._psrp_strings import use_fast_strings
from toolkit.remote.base import (
    ClosingRemote,
    ConnectionOptions,
    RemoteResult,
    command_timed_out,
    parse_script_output,
)
from toolkit.remote.jea import SCRIPTS_NOT_ALLOWED, CmdletAnswer, CmdletFailure, Statement, scripts_refused
from toolkit.resources import script_text

__all__ = ["PsrpRemote", "default_pool", "default_wsman", "plain_params"]

log = logging.getLogger("windns.remote.psrp")

_errors.quiet_library_logger(
    "pypsrp.wsman",
    ("during WSMan request", "during initial authentication request", "Failed to parse WSManFault"),
)

_I32 = (-(2**31), 2**31 - 1)

WSManFactory = Callable[[ConnectionOptions], Any]
PoolFactory = Callable[[Any, ConnectionOptions], Any]
PowerShellFactory = Callable[[Any], Any]


class CommandDeadline(Exception):
    """Raised inside a Receive loop when the command's deadline has passed (internal)."""


class _WSMan(WSMan):
    """pypsrp's WSMan, with envelopes sized by the server's own ``MaxEnvelopeSizekb``, Receive
    retried on a WS-Management OperationTimeout fault until the command's deadline, and faults
    read with their deepest Windows text.

    pypsrp starts at 150 KiB and, once the server says it speaks PSRP 2.2 or later, moves to
    500 KiB without asking (``RunspacePool._process_session_capability`` calls
    ``update_max_payload_size(512000)``): a server configured for 150 KiB then refuses every
    request with fault 2150859025. Here the server's configuration is asked once (a Get of
    winrm/config, ``server_envelope_size``) before the pool is created, and no size above it is
    ever used; when the configuration cannot be read, 150 KiB.

    A Receive that times out means "nothing to say yet": pypsrp already retries it while a
    pipeline runs, but not while a pool opens, and never gives up. Here each Receive waits at most
    until ``deadline`` (``time.monotonic()``; None: no limit), after which ``CommandDeadline`` is
    raised. Read timeouts on a Receive are retried once (pypsrp retries five times with backoff up
    to a minute, too long for a fleet scan).
    """

    deadline: float | None = None
    #: the server's MaxEnvelopeSizekb x 1024 once asked (None: not yet)
    server_envelope: int | None = None

    def server_envelope_size(self) -> int:
        """The server's MaxEnvelopeSizekb in bytes, asked once; ``FALLBACK_ENVELOPE_SIZE`` when
        the configuration is refused (a user who is not an administrator) or holds no size."""
        if self.server_envelope is None:
            size: int | None = None
            asked, self.max_envelope_size = self.max_envelope_size, _envelope.CONFIG_GET_ENVELOPE
            try:
                size = _envelope.size_from_config(self.get_server_config())
                why = "no usable MaxEnvelopeSizekb in it"
            except WSManFaultError as exc:
                why = f"WSMan fault {_fault_code(exc) or exc.code}"
            except ET.ParseError:
                why = "XML that cannot be parsed"
            finally:
                self.max_envelope_size = asked
            if size is None:
                size = _envelope.FALLBACK_ENVELOPE_SIZE
                log.debug(
                    "%s: winrm/config not read (%s): envelopes of %d bytes", self.transport.server, why, size
                )
            self.server_envelope = size
        return self.server_envelope

    def update_max_payload_size(self, max_payload_size: int | None = None) -> None:
        """Size envelopes by the server: ``max_payload_size`` (pypsrp's 512000 guess) is capped
        at what the server accepts; None takes the server's size."""
        limit = self.server_envelope_size()
        size = limit if max_payload_size is None else min(max_payload_size, limit)
        super().update_max_payload_size(size)

    def receive(
        self,
        resource_uri: str,
        resource: ET.Element,
        option_set: Any = None,
        selector_set: Any = None,
        timeout: int | None = None,
    ) -> ET.Element:
        from pypsrp.wsman import NAMESPACES, WSManAction

        while True:
            wait = timeout
            if self.deadline is not None:
                remaining = self.deadline - time.monotonic()
                if remaining <= 0:
                    raise CommandDeadline()
                wait = max(1, min(int(timeout or self.operation_timeout), math.ceil(remaining)))
            try:
                res = self.invoke(
                    WSManAction.RECEIVE,
                    resource_uri,
                    resource,
                    option_set,
                    selector_set,
                    wait,
                    retries_on_read_timeout=1,
                )
            except WSManFaultError as exc:
                if _fault_code(exc) == _errors.WSMAN_OPERATION_TIMEOUT:
                    continue
                raise
            body = res.find("s:Body", namespaces=NAMESPACES)
            if body is None:
                raise ET.ParseError("a Receive response without a SOAP Body")
            return body

    @staticmethod
    def _parse_wsman_fault(xml_text: str) -> WSManFaultError:
        fault = WSMan._parse_wsman_fault(xml_text)
        details = _errors.fault_details(xml_text)
        if details is None or not details.text or details.text == fault.reason:
            return fault
        # pypsrp keeps the SOAP reason when the WSManFault message nests a ProviderFault
        args = list(fault.args)
        args[2] = details.text
        return WSManFaultError(*args)


def _fault_code(exc: WSManFaultError) -> int | None:
    try:
        return int(exc.code)
    except (TypeError, ValueError, IndexError):
        return None


def _seconds(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def default_wsman(opts: ConnectionOptions) -> WSMan:
    """A pypsrp WSMan for ``opts``: certificate validation is the CA bundle path when one is
    given, else the boolean; Basic and certificate auth over HTTP send unencrypted (the options
    already refused Basic over HTTP unless allowed). Kerberos and CredSSP without their extra are
    a ConfigError naming the install command."""
    kerberos.require(opts)
    clientcert.check(opts)
    validate = opts.cert_validation
    # pypsrp hands this to requests' ``verify``: a CA bundle path works as well as a bool.
    kwargs: dict[str, Any] = {
        "cert_validation": opts.ca_bundle if opts.ca_bundle and validate else validate,
        "connection_timeout": _seconds(opts.connect_timeout),
        "read_timeout": _seconds(opts.read_timeout),
        "operation_timeout": _seconds(opts.operation_timeout),
        "encryption": "never" if not opts.ssl and opts.auth in ("basic", "certificate") else "auto",
    }
    if opts.auth == "certificate":
        kwargs["certificate_pem"] = opts.certificate_pem
        kwargs["certificate_key_pem"] = opts.certificate_key_pem
    if opts.auth in ("negotiate", "kerberos"):
        # HTTP/<server>, the SPN Windows' own WinRM client asks for (pypsrp's default is WSMAN/)
        kwargs["negotiate_service"] = kerberos.SERVICE
    wsman = _WSMan(
        opts.host,
        port=opts.effective_port,
        username=kerberos.spnego_username(opts),
        password=opts.password,
        ssl=opts.ssl,
        auth=opts.auth,
        **kwargs,
    )
    kerberos.use_negotiate_auth(wsman.transport)
    tune_transport(wsman.transport)
    return wsman


def tune_transport(transport: Any) -> None:
    """pypsrp's transport with its session tuned for a fleet (``_http``): the environment and
    the CA bundle read once."""
    build_session = transport._build_session

    def build() -> requests.Session:
        return _http.tune_session(build_session())

    transport._build_session = build


def default_pool(wsman: WSMan, opts: ConnectionOptions) -> RunspacePool:
    pool = RunspacePool(wsman, configuration_name=opts.configuration_name)
    use_fast_strings(pool)  # the same CLIXML, escaped without a Python call per character
    return pool


def plain_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Parameters as the plain values pypsrp serialises well: lists for tuples, and integers
    outside Int32 as text (pypsrp writes every int as I32; PowerShell binds the text to
    ``[long]`` parameters)."""

    def plain(value: Any) -> Any:
        if isinstance(value, bool) or value is None or isinstance(value, str | float):
            return value
        if isinstance(value, int):
            return value if _I32[0] <= value <= _I32[1] else str(value)
        if isinstance(value, Mapping):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [plain(v) for v in value]
        raise TypeError(f"parameter value of type {type(value).__name__} cannot travel to a script")

    return {str(k): plain(v) for k, v in (params or {}).items()}


class PsrpRemote(ClosingRemote):
    """A connection to one server through a reused pypsrp RunspacePool."""

    def __init__(
        self,
        opts: ConnectionOptions,
        *,
        wsman_factory: WSManFactory | None = None,
        pool_factory: PoolFactory | None = None,
        powershell_factory: PowerShellFactory | None = None,
    ) -> None:
        self.opts = opts
        self.host = opts.host
        self._wsman_factory = wsman_factory or default_wsman
        self._pool_factory = pool_factory or default_pool
        self._powershell_factory = powershell_factory or PowerShell
        self._scrub = _errors.Scrubber(opts.password)
        self._wsman: Any = None
        self._pool: Any = None
        self._lock = threading.Lock()
        self._deadline: float | None = None
        #: read with cmdlet commands, not scripts (--jea, or found when a script was refused)
        self.jea = opts.jea
        self.closed = False

    # -- the pool ---------------------------------------------------------------------------------
    def _open(self) -> Any:
        if self._pool is not None:
            return self._pool
        try:
            wsman = self._wsman_factory(self.opts)
        except ValueError as exc:  # pypsrp refusing a combination of options
            raise ConfigError(f"{self.host}: unusable connection options: {self._scrub(exc)}") from None
        self._wsman = wsman
        self._arm()
        try:
            if isinstance(wsman, _WSMan):
                # before the pool exists: its fragmenter takes the payload size at creation
                wsman.update_max_payload_size()
            try:
                pool = self._pool_factory(wsman, self.opts)
            except ValueError as exc:
                raise ConfigError(f"{self.host}: unusable connection options: {self._scrub(exc)}") from None
            pool.open()
        except BaseException:
            self._discard()
            raise
        self._pool = pool
        log.debug("%s: runspace pool opened (%s)", self.host, self.opts.configuration_name)
        mech = kerberos.mechanism_used(getattr(getattr(wsman, "transport", None), "session", None))
        if mech:
            log.info("%s: authenticated with %s (--auth %s)", self.host, mech, self.opts.auth)
        return pool

    def _discard(self) -> None:
        """Forget the pool without talking to the server (after a transport failure)."""
        wsman, self._wsman, self._pool = self._wsman, None, None
        if wsman is not None:
            try:
                wsman.close()
            except Exception as exc:  # noqa: BLE001 - closing a broken session must not hide the real error
                log.debug("%s: closing the HTTP session failed: %s", self.host, self._scrub(exc))

    # -- Remote -----------------------------------------------------------------------------------
    def run(self, script: str, params: Mapping[str, Any] | None = None) -> RemoteResult:
        text = script_text(script)
        values = plain_params(params)
        start = time.perf_counter()

        def build(ps: Any) -> None:
            ps.add_script(text)
            if values:
                ps.add_parameters(values)

        output, had_errors, errors = self._invoke(script, build)
        if had_errors and any(_text(getattr(r, "fq_error", None)) == SCRIPTS_NOT_ALLOWED for r in errors):
            raise scripts_refused(script, self.opts.configuration_name, host=self.host)
        if had_errors or (errors and not output):
            record = errors[-1] if had_errors else errors[0]
            err = self._cmdlet_error(record, script)
            err.host = self.host
            raise err
        for record in errors:  # non-terminating errors beside the answer: not lost, not fatal
            log.warning(
                "%s: script %s wrote an error beside its output: %s",
                self.host,
                script,
                self._scrub(self._cmdlet_error(record, script).detail),
            )
        raw = self._output_text(script, output)
        data = parse_script_output(script, raw, host=self.host)
        return RemoteResult(script=script, data=data, raw=raw, elapsed=time.perf_counter() - start)

    def invoke_cmdlets(self, statements: Sequence[Statement], *, label: str) -> CmdletAnswer:
        """Run ``statements`` (cmdlet name, typed parameters) as one PSRP pipeline of commands,
        one statement each (``add_cmdlet``, ``add_statement``): no script text, so a NoLanguage
        (JEA) endpoint runs it. The objects come back as pypsrp deserialised them; a cmdlet's
        non-terminating error is in ``errors``; a failed pipeline raises as ``run`` does."""
        if not statements:
            raise ValueError("no statement to run")

        def build(ps: Any) -> None:
            for i, (cmdlet, params) in enumerate(statements):
                if i:
                    ps.add_statement()
                ps.add_cmdlet(cmdlet)
                values = plain_params(params)
                if values:
                    ps.add_parameters(values)

        output, had_errors, errors = self._invoke(label, build)
        if had_errors:
            record = errors[-1] if errors else None
            if record is None:
                raise ProtocolError(f"{label}: the pipeline failed without an error record", host=self.host)
            err = self._cmdlet_error(record, label)
            err.host = self.host
            raise err
        return CmdletAnswer(output=output, errors=[self._failure(r) for r in errors])

    def _invoke(self, label: str, build: Callable[[Any], None]) -> tuple[list[Any], bool, list[Any]]:
        """One pipeline, built by ``build``, under the command timeout: (output, failed?, error
        records). Transport failures raise mapped; the deadline raises RemoteTimeout."""
        start = time.perf_counter()
        with self._lock:
            if self.closed:
                raise ProtocolError(f"script {label}: this connection is closed", host=self.host)
            ps: Any = None
            self._deadline = time.monotonic() + self.opts.command_timeout
            try:
                pool = self._open()
                self._arm()
                ps = self._powershell_factory(pool)
                build(ps)
                output = list(ps.invoke())
                had_errors = bool(ps.had_errors)
                errors = list(getattr(ps.streams, "error", []) or [])
                self._close_pipeline(ps)
            except CommandDeadline:
                self._stop(ps)
                raise command_timed_out(
                    label, self.opts.command_timeout, time.perf_counter() - start, host=self.host
                ) from None
            except RemoteError as exc:
                exc.host = exc.host or self.host
                raise
            except Exception as exc:
                mapped = self._map(exc)
                if mapped is None:
                    raise
                if not isinstance(mapped, ConfigError):
                    self._discard()
                    mapped.host = mapped.host or self.host
                raise mapped from exc
            finally:
                self._deadline = None
                self._arm()
        return output, had_errors, errors

    def _failure(self, record: Any) -> CmdletFailure:
        fqid, message, code, cmdlet = self._record_parts(record)
        return CmdletFailure(
            cmdlet=cmdlet or None,
            code=code,
            message=self._scrub(message) or None,
            fully_qualified_error_id=fqid,
        )

    def _arm(self) -> None:
        """Give the HTTP layer the current command's deadline (None: no command running)."""
        if self._wsman is not None:
            try:
                self._wsman.deadline = self._deadline
            except AttributeError:  # a WSMan that takes no deadline (a test double)
                pass

    def _stop(self, ps: Any) -> None:
        """A command ran past its deadline: signal it to stop (PSRP Ctrl+C), close the pool so
        nothing it left runs on, and forget the session. Each step is one bounded HTTP exchange;
        a failure only means the server was already beyond reach."""
        self._deadline = None
        self._arm()
        if ps is not None:
            try:
                ps.stop()
            except Exception as exc:  # noqa: BLE001 - the timeout is the news, not the failed signal
                log.debug("%s: signalling the command to stop failed: %s", self.host, self._scrub(exc))
        pool = self._pool
        if pool is not None:
            try:
                pool.close()
            except Exception as exc:  # noqa: BLE001
                log.debug("%s: closing the runspace pool failed: %s", self.host, self._scrub(exc))
        self._discard()

    def _close_pipeline(self, ps: Any) -> None:
        """Signal the pipeline closed; the answer is already in hand, so a failure here only
        costs the pool (the next run opens a new one)."""
        try:
            ps.close()
        except Exception as exc:  # noqa: BLE001
            log.debug("%s: closing the pipeline failed: %s", self.host, self._scrub(exc))
            self._discard()

    def _output_text(self, script: str, output: list[Any]) -> str:
        if not output:
            return ""
        bad = [type(o).__name__ for o in output if not isinstance(o, str)]
        if bad:
            raise ProtocolError(
                f"script {script} printed {', '.join(sorted(set(bad)))} objects; expected one JSON string",
                host=self.host,
            )
        return "\n".join(output)

    def _record_parts(self, record: Any) -> tuple[str | None, str, int | None, str]:
        """(FullyQualifiedErrorId, message, Win32 code, cmdlet) of a pypsrp ErrorRecord."""
        fqid = _text(getattr(record, "fq_error", None)) or None
        exc = getattr(record, "exception", None)
        props = _properties(exc)
        data = props.get("ErrorData")
        data_props = _properties(data)
        # PowerShell shows ErrorDetails.Message when a cmdlet set one, else the exception's message
        message = _text(getattr(record, "details_message", None)) or _text(props.get("Message"))
        if not message:
            message = _text(getattr(exc, "to_string", None)) or _text(getattr(record, "message", None))
        code = _errors.win32_code(
            fully_qualified_error_id=fqid,
            error_code=data_props.get("error_Code"),
            message_id=_text(props.get("MessageId")) or _text(data_props.get("MessageID")),
            hresult=props.get("HResult"),
            message=message,
        )
        cmdlet = _text(getattr(record, "command_name", None)) or _text(getattr(record, "activity", None))
        return fqid, message, code, cmdlet

    def _cmdlet_error(self, record: Any, script: str) -> RemoteError:
        """A pypsrp ErrorRecord as CmdletError with the Win32 code."""
        fqid, message, code, cmdlet = self._record_parts(record)
        return _errors.cmdlet_error(
            self._scrub(message),
            fully_qualified_error_id=fqid,
            cmdlet=cmdlet or None,
            code=code,
            script=script,
        )

    def _map(self, exc: BaseException) -> RemoteError | ConfigError | None:
        """A library exception as a toolkit error; None for anything that is not the transport's
        (a bug of ours must surface as itself)."""
        endpoint = self.opts.endpoint
        if isinstance(exc, requests.RequestException):
            return _errors.requests_error(
                exc,
                endpoint=endpoint,
                connect_timeout=self.opts.connect_timeout,
                read_timeout=self.opts.read_timeout,
                scrub=self._scrub,
                client_certificate=self.opts.auth == "certificate",
            )
        if isinstance(exc, AuthenticationError):
            return _errors.auth_rejected(endpoint=endpoint, auth=self.opts.auth, username=self.opts.username)
        if isinstance(exc, WSManFaultError):
            code = _fault_code(exc) or exc.code
            return _errors.wsman_fault_error(code, self._scrub(exc.reason), endpoint=endpoint)
        if isinstance(exc, WinRMTransportError):
            return _errors.http_status_error(
                int(exc.code), endpoint=endpoint, auth=self.opts.auth, username=self.opts.username
            )
        if isinstance(exc, SerializationError | FragmentError):
            return ProtocolError(f"{endpoint}: cannot read the PowerShell remoting data: {self._scrub(exc)}")
        if isinstance(exc, ET.ParseError):
            return ProtocolError(f"{endpoint} answered with XML that cannot be parsed ({self._scrub(exc)})")
        if isinstance(exc, WinRMError):
            return ProtocolError(f"{endpoint}: {type(exc).__name__}: {self._scrub(exc)}")
        if _errors.is_auth_library_error(exc):
            explained = kerberos.explain(exc, self.opts, endpoint=endpoint)
            if explained is not None:
                return explained
            return _errors.auth_failed(endpoint=endpoint, auth=self.opts.auth, detail=self._scrub(exc))
        if isinstance(exc, ValueError) and self._pool is None:
            return ConfigError(f"{self.host}: unusable connection options: {self._scrub(exc)}")
        return None

    def close(self) -> None:
        """Close the runspace pool (WSMan Delete) and the HTTP session; never raises."""
        with self._lock:
            self.closed = True
            pool = self._pool
            if pool is not None:
                try:
                    pool.close()
                except Exception as exc:  # noqa: BLE001 - the results are in hand; a failed close is not news
                    log.debug("%s: closing the runspace pool failed: %s", self.host, self._scrub(exc))
            self._discard()


def _text(value: Any) -> str:
    if value is None:
        return ""
    return " ".join(str(value).split())


def _properties(obj: Any) -> dict[str, Any]:
    """Adapted and extended (note) properties of a deserialised .NET object, merged."""
    if obj is None:
        return {}
    props: dict[str, Any] = {}
    for attr in ("adapted_properties", "extended_properties"):
        value = getattr(obj, attr, None)
        if isinstance(value, Mapping):
            props.update(value)
    return props
