"""Turning what pypsrp, pywinrm and requests raise into the toolkit's error tree.

Both transports share this: requests' connection, TLS and timeout errors, WS-Management faults
by code, HTTP statuses, the Win32 code of a failed cmdlet, and scrubbing a password out of any
text that came from a library before it becomes a message.

=====================================================  =================
requests ``SSLError``, ``ConnectionError``             ``ConnectError``
requests ``Timeout`` (connect or read)                 ``RemoteTimeout``
WSMan fault 2150858793 (OperationTimeout)              ``RemoteTimeout``
HTTP 401/403, authentication errors, WSMan fault 5     ``AuthError``
WSMan fault 2150858843 about the shell (shell gone)    ``ConnectError``
WSMan fault 2150858843 about a command (unknown id)    ``ProtocolError``
WSMan fault 2150859025 (envelope above the limit)      ``ProtocolError``
other WSMan faults (quota...), bad XML, fragments      ``ProtocolError``
=====================================================  =================

Windows sends 2150858843 (0x8033805B, subcode ``w:InvalidSelectors``) both for a shell that is
gone and for "a command identifier that does not exist" (a command that finished, or one the
client never started): only the first is worth a retry. Every fault keeps the Windows text, read
from the deepest ``WSManFault/Message`` (or ``ProviderFault``) of the fault body by
``fault_details`` when the library kept only the SOAP reason.
"""

from __future__ import annotations

import logging
import re
import socket
import ssl
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass

import requests

from toolkit.errors import AuthError, CmdletError, ConnectError, ProtocolError, RemoteError, RemoteTimeout
from toolkit.remote import redact

__all__ = [
    "WSMAN_ACCESS_DENIED",
    "WSMAN_ENVELOPE_TOO_LARGE",
    "WSMAN_OPERATION_TIMEOUT",
    "WSMAN_QUOTA_EXCEEDED",
    "WSMAN_SHELL_NOT_FOUND",
    "FaultDetails",
    "Scrubber",
    "auth_failed",
    "auth_rejected",
    "cmdlet_error",
    "fault_details",
    "hex_code",
    "http_status_error",
    "is_auth_library_error",
    "is_spnego_error",
    "quiet_library_logger",
    "requests_error",
    "win32_code",
    "wsman_fault_error",
]

WSMAN_ACCESS_DENIED = 5
WSMAN_OPERATION_TIMEOUT = 2150858793  # 0x80338029 ERROR_WSMAN_OPERATION_TIMEDOUT
WSMAN_SHELL_NOT_FOUND = 2150858843  # 0x8033805B invalid selectors: no such shell, or no such command
WSMAN_QUOTA_EXCEEDED = 2150859174  # 0x803381A6 maximum number of shells for this user
WSMAN_ENVELOPE_TOO_LARGE = 2150859025  # 0x80338111 a message above the server's MaxEnvelopeSizekb
_WSMAN_INVALID_RESOURCE = 2150858752  # 0x80338000 e.g. an unknown session configuration

_HRESULT_WIN32 = 0x80070000
_DNS_ERROR_NAME = re.compile(r"\bDNS_ERROR_[A-Z0-9_]+\b")
_WIN32_MESSAGE_ID = re.compile(r"^\s*WIN32\s+(\d+)\s*$", re.IGNORECASE)


class Scrubber:
    """Removes one secret from text that came from a library, before it becomes a message; the
    log filter (``toolkit.remote.redact``) learns it too, for the records the library writes."""

    def __init__(self, secret: str | None) -> None:
        self._secret = secret if secret and len(secret) >= 3 else None
        redact.remember_secret(self._secret)

    def __call__(self, text: object) -> str:
        out = " ".join(str(text).split())
        if self._secret:
            out = out.replace(self._secret, "***")
        return out


def is_auth_library_error(exc: BaseException) -> bool:
    """Whether ``exc`` is pyspnego's, the gssapi/krb5 libraries' under it (a Kerberos ticket
    request failing raises ``krb5.Krb5Error`` or ``gssapi`` errors straight through pyspnego), or
    requests-credssp's."""
    if is_spnego_error(exc):
        return True
    module = type(exc).__module__ or ""
    return module.split(".")[0] in ("krb5", "gssapi", "requests_credssp")


def is_spnego_error(exc: BaseException) -> bool:
    """Whether ``exc`` is pyspnego's (Negotiate/NTLM/Kerberos failed), for either transport."""
    try:
        from spnego.exceptions import SpnegoError
    except ImportError:  # pragma: no cover - pyspnego comes with pypsrp and the NTLM support
        return False
    return isinstance(exc, SpnegoError)


# -- requests -------------------------------------------------------------------------------------
def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every exception inside it: causes, contexts, urllib3 reasons, exception args."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        e = stack.pop(0)
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        inner: list[object] = [getattr(e, "reason", None), e.__cause__, e.__context__, *e.args]
        stack.extend(i for i in inner if isinstance(i, BaseException))


def _reason(exc: BaseException) -> str:
    """The root cause of a requests error in a few words (no pool names, no retry noise)."""
    for e in _chain(exc):
        if isinstance(e, ssl.SSLCertVerificationError):
            return f"certificate verification failed ({e.verify_message or e.reason})"
        if isinstance(e, ssl.SSLError):
            return f"TLS error ({e.reason or e.strerror or type(e).__name__})"
        if isinstance(e, ConnectionRefusedError):
            return "connection refused"
        if isinstance(e, ConnectionResetError):
            return "connection reset by the server"
        if isinstance(e, ConnectionAbortedError | BrokenPipeError):
            return "connection closed by the server"
        if isinstance(e, socket.gaierror):
            return f"name resolution failed ({e.strerror})"
        if isinstance(e, TimeoutError | socket.timeout):
            return "timed out"
    deepest = list(_chain(exc))[-1]
    text = str(deepest) or type(deepest).__name__
    # urllib3's "<urllib3.connection.HTTPConnection object at 0x...>: Failed to ..." -> the reason only
    return re.sub(r"^<[^>]*>:\s*", "", text)


#: OpenSSL's reasons when the other end speaks plain HTTP to a TLS client hello
_PLAIN_HTTP_REASONS = ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "UNKNOWN_PROTOCOL", "HTTP_REQUEST")


def _plain_http(exc: BaseException) -> bool:
    for e in _chain(exc):
        if isinstance(e, ssl.SSLError) and not isinstance(e, ssl.SSLCertVerificationError):
            text = f"{e.reason or ''} {e}".upper()
            return any(r in text for r in _PLAIN_HTTP_REASONS)
    return False


#: the TLS alerts a server sends about the certificate the client presented
_CLIENT_CERT_ALERTS = (
    "ALERT_BAD_CERTIFICATE",
    "ALERT_UNSUPPORTED_CERTIFICATE",
    "ALERT_UNKNOWN_CA",
    "ALERT_CERTIFICATE_UNKNOWN",
    "ALERT_CERTIFICATE_EXPIRED",
    "ALERT_CERTIFICATE_REVOKED",
    "ALERT_CERTIFICATE_REQUIRED",
)


def _refused_our_certificate(exc: BaseException) -> bool:
    for e in _chain(exc):
        if isinstance(e, ssl.SSLError) and not isinstance(e, ssl.SSLCertVerificationError):
            text = f"{e.reason or ''} {e}".upper()
            return any(alert in text for alert in _CLIENT_CERT_ALERTS)
    return False


def _closed_in_handshake(exc: BaseException) -> bool:
    return any(isinstance(e, ssl.SSLEOFError) for e in _chain(exc))


def requests_error(
    exc: requests.RequestException,
    *,
    endpoint: str,
    connect_timeout: float,
    read_timeout: float,
    scrub: Scrubber,
    client_certificate: bool = False,
) -> RemoteError:
    """A requests exception (raised from inside either library) as a toolkit error.
    ``client_certificate``: the client presented one (certificate auth), so a TLS alert from the
    server is the server refusing it."""
    why = scrub(_reason(exc))
    if isinstance(exc, requests.exceptions.SSLError) and client_certificate and _refused_our_certificate(exc):
        return AuthError(
            f"{endpoint} refused the client certificate in the TLS handshake ({why}): it must be "
            "signed by a CA the server trusts and allow Client Authentication (extended key usage "
            "1.3.6.1.5.5.7.3.2)"
        )
    if isinstance(exc, requests.exceptions.SSLError) and client_certificate and _closed_in_handshake(exc):
        return AuthError(
            f"{endpoint} closed the TLS connection after the client certificate was presented ({why}): "
            "the server may have refused it (it must be signed by a CA the server trusts and allow "
            "Client Authentication)"
        )
    if isinstance(exc, requests.exceptions.SSLError) and _plain_http(exc):
        return ConnectError(
            f"TLS connection to {endpoint} failed: {why}: the port answers plain HTTP, not HTTPS "
            "(for an HTTP listener give --no-ssl; its default port is 5985)"
        )
    if isinstance(exc, requests.exceptions.SSLError):
        return ConnectError(
            f"TLS connection to {endpoint} failed: {why} "
            "(give the CA that signed the listener's certificate with --ca-bundle)"
        )
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return RemoteTimeout(f"connecting to {endpoint} timed out after {connect_timeout:g} s")
    if isinstance(exc, requests.exceptions.Timeout):
        return RemoteTimeout(f"no answer from {endpoint} within the read timeout of {read_timeout:g} s")
    if isinstance(exc, requests.exceptions.ProxyError):
        return ConnectError(f"proxy refused the connection to {endpoint}: {why}")
    if isinstance(exc, requests.exceptions.ConnectionError):
        return ConnectError(f"cannot talk to {endpoint}: {why}")
    if isinstance(exc, requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError):
        return ProtocolError(f"{endpoint} sent a broken HTTP response: {why}")
    return ConnectError(f"HTTP request to {endpoint} failed: {why}")


def auth_rejected(*, endpoint: str, auth: str, username: str | None) -> AuthError:
    """The server answered 401: one sentence for both transports, naming the authentication the
    user asked for (``--auth``), whatever the library made of it (pywinrm sends Negotiate as NTLM)."""
    if auth == "certificate":
        return AuthError(
            f"{endpoint} rejected the client certificate (certificate authentication, HTTP 401): no "
            "certificate mapping on the server takes it (its UPN and issuer must match a "
            "WSMan:\\localhost\\ClientCertificate entry, and certificate auth be enabled there)"
        )
    who = f"user {username}" if username else "the current user"
    return AuthError(f"{endpoint} rejected the credentials of {who} ({auth} authentication, HTTP 401)")


def auth_failed(*, endpoint: str, auth: str, detail: str) -> AuthError:
    """The client side of the handshake failed (pyspnego: no Kerberos ticket, NTLM refused...)."""
    return AuthError(f"{endpoint}: authentication failed ({auth}): {detail}")


def http_status_error(status: int, *, endpoint: str, auth: str, username: str | None) -> RemoteError:
    if status == 401:
        return auth_rejected(endpoint=endpoint, auth=auth, username=username)
    if status == 403:
        return AuthError(f"{endpoint} refused access (HTTP 403)")
    return ProtocolError(f"{endpoint} answered HTTP {status} without a WS-Management fault")


# -- WS-Management faults -------------------------------------------------------------------------
_FAULT_NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "f": "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
}


@dataclass(frozen=True, slots=True)
class FaultDetails:
    """What a WS-Management fault body says: the WSManFault code, the SOAP subcode
    (``w:TimedOut``, ``w:InvalidSelectors``), the most specific text and the FaultDetail URI."""

    code: int | None
    subcode: str | None
    text: str | None
    detail: str | None = None


def _clean(text: str | None) -> str | None:
    out = " ".join((text or "").split())
    return out or None


def fault_details(xml_text: str | bytes | None) -> FaultDetails | None:
    """The fault in a SOAP response body, or None when it is not one.

    The text is the innermost message Windows gave: a ``WSManFault`` may wrap a ``ProviderFault``
    that wraps another ``WSManFault`` (``test_psrp_is_alive_invalid_selectors.yml`` of pypsrp's
    recordings) or holds plain text (``The parameter is incorrect.``); the SOAP Reason is the
    fallback.
    """
    if not xml_text:
        return None
    try:
        root = ET.fromstring(xml_text)
    except ET.ParseError:
        return None
    fault = root.find("s:Body/s:Fault", _FAULT_NS)
    if fault is None:
        return None
    subcode = _clean(fault.findtext("s:Code/s:Subcode/s:Value", None, _FAULT_NS))
    reason = _clean(fault.findtext("s:Reason/s:Text", None, _FAULT_NS))
    detail = _clean(fault.findtext("s:Detail/w:FaultDetail", None, _FAULT_NS))
    code: int | None = None
    text: str | None = None
    node = fault.find("s:Detail/f:WSManFault", _FAULT_NS)
    while node is not None:
        try:
            code = int(node.attrib.get("Code", ""))
        except ValueError:
            pass
        message = node.find("f:Message", _FAULT_NS)
        if message is None:
            break
        provider = message.find("f:ProviderFault", _FAULT_NS)
        text = _clean(message.text) or text
        if provider is None:
            break
        text = _clean(provider.text) or text
        node = provider.find("f:WSManFault", _FAULT_NS)
    return FaultDetails(code=code, subcode=subcode, text=text or reason, detail=detail)


def hex_code(number: int) -> str:
    """``2150858843`` -> ``0x8033805B``: the form Windows documents its WinRM errors in."""
    return f"0x{number & 0xFFFFFFFF:08X}"


def wsman_fault_error(code: int | str | None, reason: str | None, *, endpoint: str) -> RemoteError:
    """A WSManFault (HTTP 500 with a fault body) by its code, the Windows text kept."""
    detail = " ".join((reason or "no reason given").split())
    try:
        number = int(code) if code is not None else None
    except (TypeError, ValueError):
        number = None
    if number == WSMAN_ACCESS_DENIED:
        return AuthError(
            f"{endpoint}: access denied by the WinRM service (WSMan fault 5: {detail}); the account needs "
            "rights on the session configuration (Remote Management Users or the JEA role)"
        )
    if number == WSMAN_OPERATION_TIMEOUT:
        return RemoteTimeout(
            f"{endpoint}: the server did not finish within the operation timeout "
            f"(WSMan fault {number} {hex_code(number)}: {detail})"
        )
    if number == WSMAN_QUOTA_EXCEEDED:
        return ProtocolError(f"{endpoint}: the WinRM service refused a new shell (quota exceeded: {detail})")
    if number == WSMAN_SHELL_NOT_FOUND:
        shown = f"WSMan fault {number} {hex_code(number)}: {detail}"
        if "command identifier" in detail.lower():
            # "...a command identifier that does not exist": the command finished or was never
            # started; the shell is fine and asking again gives the same answer.
            return ProtocolError(f"{endpoint}: the server no longer knows the command ({shown})")
        return ConnectError(
            f"{endpoint}: the remote shell is gone, the WinRM service may have restarted ({shown})"
        )
    if number == _WSMAN_INVALID_RESOURCE:
        return ProtocolError(f"{endpoint}: {detail}")
    if number == WSMAN_ENVELOPE_TOO_LARGE:
        return ProtocolError(
            f"{endpoint}: the server refused a message as larger than its MaxEnvelopeSizekb setting, which "
            "is below the size it reported, or the 150 KiB used when its configuration cannot be read "
            f"(WSMan fault {number} {hex_code(number)}: {detail})"
        )
    shown = (
        f"WSMan fault {number} {hex_code(number)}"
        if number is not None
        else f"WSMan fault {code or '(no code)'}"
    )
    return ProtocolError(f"{endpoint}: {shown}: {detail}")


# -- cmdlet failures ------------------------------------------------------------------------------
def win32_code(
    *,
    fully_qualified_error_id: str | None = None,
    error_code: object = None,
    message_id: str | None = None,
    hresult: object = None,
    message: str | None = None,
) -> int | None:
    """The Win32 code of a failed DnsServer cmdlet, from the best evidence the record carries.

    In order: ``FullyQualifiedErrorId`` "WIN32 9601,Get-DnsServerZone"; the CimException's
    ``ErrorData.error_Code``; its ``MessageId`` "WIN32 9601"; an HResult in the
    HRESULT_FROM_WIN32 form 0x8007xxxx (other HResults are not Win32 codes); a
    ``DNS_ERROR_...`` name in the message.
    """
    from toolkit.errors import parse_win32_code

    code, _ = parse_win32_code(fully_qualified_error_id)
    if code is not None:
        return code
    if isinstance(error_code, int) and not isinstance(error_code, bool) and error_code > 0:
        return error_code
    if isinstance(error_code, str) and error_code.strip().isdigit() and int(error_code) > 0:
        return int(error_code)
    if message_id:
        m = _WIN32_MESSAGE_ID.match(message_id)
        if m is not None:
            return int(m.group(1))
    if isinstance(hresult, int) and not isinstance(hresult, bool):
        unsigned = hresult & 0xFFFFFFFF
        if unsigned & 0xFFFF0000 == _HRESULT_WIN32 and unsigned & 0xFFFF:
            return unsigned & 0xFFFF
    if message:
        from toolkit.catalogue import lookup
        from toolkit.errors import ConfigError

        for name in _DNS_ERROR_NAME.findall(message):
            try:
                return lookup(name).code
            except ConfigError:
                continue
    return None


def cmdlet_error(
    message: str,
    *,
    fully_qualified_error_id: str | None,
    cmdlet: str | None = None,
    code: int | None = None,
    script: str,
) -> CmdletError:
    """A failed cmdlet (or script) as ``CmdletError``: cmdlet name from the FullyQualifiedErrorId
    when the record did not name it, one line, the FQID kept on the exception."""
    from toolkit.errors import parse_win32_code

    fq_code, fq_cmdlet = parse_win32_code(fully_qualified_error_id)
    cmdlet = cmdlet or fq_cmdlet
    code = code if code is not None else fq_code
    text = " ".join((message or "").split()) or f"script {script} failed"
    if fully_qualified_error_id and code is None and fully_qualified_error_id not in text:
        text = f"{text} ({fully_qualified_error_id})"
    return CmdletError(text, code=code, cmdlet=cmdlet, fully_qualified_error_id=fully_qualified_error_id)


# -- library logging ------------------------------------------------------------------------------
class _DemoteHandledErrors(logging.Filter):
    """pypsrp logs ERROR records (with tracebacks) for failures it then raises, which we turn
    into one-line toolkit errors. Demote those records to DEBUG so a CLI at its default level
    prints the one line only; with debug logging on they still appear."""

    def __init__(self, patterns: tuple[str, ...]) -> None:
        super().__init__()
        self.patterns = patterns

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        text = str(record.msg)
        if not any(p in text for p in self.patterns):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        record.exc_info, record.exc_text = None, None
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


def quiet_library_logger(name: str, patterns: tuple[str, ...]) -> None:
    """Install the demoting filter on logger ``name`` once."""
    logger = logging.getLogger(name)
    if not any(isinstance(f, _DemoteHandledErrors) for f in logger.filters):
        logger.addFilter(_DemoteHandledErrors(patterns))
