"""Keeping authentication material out of log output.

At debug level the WinRM libraries log their authentication handshakes: pyspnego writes every
NTLM, SPNEGO, GSSAPI, SSPI and CredSSP token it sends and receives (``NTLM step output:
TlRMTVNTUAADAAAA...``: a Type 2 challenge and the Type 3 answer to it can be cracked offline for
the password), pywinrm's bundled requests_kerberos writes the ``Authorization: Negotiate ...``
header. ``SecretFilter`` on a log handler rewrites such records before they are written:

* the token of a handshake record (``... step input:``/``step output:``, ``TSRequest input:``);
* any base64 NTLMSSP message (at any of the three byte alignments, so one wrapped in SPNEGO too);
* base64 SPNEGO and Kerberos tokens (DER: ``YII...``, ``oY...``, ``oR...``);
* the credential of an ``Authorization``/``WWW-Authenticate`` header value (Negotiate, NTLM,
  Kerberos, Basic, CredSSP, Bearer) wherever such a value is written;
* the passwords the process was given (``remember_secret``).

The rest of a record stays: the marker ``<redacted>`` replaces the secret only, so a debug log
still tells which step of the handshake failed.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import threading

__all__ = [
    "MARK",
    "SecretFilter",
    "forget_secrets",
    "install",
    "redact",
    "remember_secret",
    "remembered_secrets",
]

MARK = "<redacted>"

_B64 = "A-Za-z0-9+/"
_RUN = rf"(?<![{_B64}])[{_B64}]{{16,}}={{0,2}}"
_RUNS = re.compile(_RUN)
# "NTLMSSP\0" in base64 at byte offsets 0, 1 and 2 of the encoded text
_NTLMSSP = ("TlRMTVNTUA", "5UTE1TU1A", "OVExNU1NQ")
_NTLMSSP_HEX = re.compile(r"(?i)4e544c4d53535000[0-9a-f]*")
# a handshake record: "NTLM step input: <token>", "CredSSP TSRequest output: <token>"
_STEP = re.compile(r"(?i)\b((?:step|TSRequest)[ \t]+(?:input|output)[ \t]*[:=][ \t]*)([^\s'\",]+)")
_SCHEMES = "Negotiate|NTLM|Kerberos|Basic|CredSSP|Bearer"
_HEADER = re.compile(
    r"(?i)\b((?:proxy-)?authorization|www-authenticate)((?:[ \t]+header)?['\"]?[ \t]*[:=][ \t]*['\"]?)"
    rf"({_SCHEMES})[ \t]+([^\s'\",}}]+)"
)
_SCHEME_TOKEN = re.compile(rf"(?i)\b({_SCHEMES})([ \t]+)([{_B64}._~-]+=*)")
_TOKEN_CHARS = re.compile(r"[0-9+/=]")
#: DER tags that open a GSS-API/SPNEGO/Kerberos token: InitialContextToken, NegTokenInit,
#: NegTokenResp, AP-REQ, AP-REP
_DER_TAGS = frozenset({0x60, 0xA0, 0xA1, 0x6E, 0x6F})

_SECRETS: set[str] = set()
_LOCK = threading.Lock()


def remember_secret(secret: str | None) -> None:
    """Redact ``secret`` (a password) from every record a ``SecretFilter`` sees from now on."""
    if secret and len(secret) >= 3:
        with _LOCK:
            _SECRETS.add(secret)


def remembered_secrets() -> tuple[str, ...]:
    """The secrets remembered so far (for a worker process that must redact them too)."""
    with _LOCK:
        return tuple(_SECRETS)


def forget_secrets() -> None:
    """Forget every remembered secret (a test starting afresh)."""
    with _LOCK:
        _SECRETS.clear()


def _decode(run: str) -> bytes | None:
    text = run.rstrip("=")
    text = text[: len(text) - len(text) % 4] if len(text) % 4 == 1 else text
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def _is_der_token(run: str) -> bool:
    """A base64 run that decodes to a DER GSS-API/SPNEGO/Kerberos token (whole or cut short)."""
    if run.startswith(("YII", "oY")):
        return True
    if run[0] not in "Yob":
        return False
    raw = _decode(run)
    if raw is None or len(raw) < 4 or raw[0] not in _DER_TAGS:
        return False
    first = raw[1]
    if first < 0x80:
        length, head = first, 2
    elif 0x81 <= first <= 0x84:
        n = first - 0x80
        length, head = int.from_bytes(raw[2 : 2 + n], "big"), 2 + n
    else:
        return False
    return head + length == len(raw) or (len(run) >= 48 and head + length > len(raw))


def _redact_run(m: re.Match[str]) -> str:
    run = m.group(0)
    if any(sig in run for sig in _NTLMSSP) or _is_der_token(run):
        return MARK
    return run


def _is_credential(scheme: str, token: str) -> bool:
    """Whether ``token`` after an auth scheme name is a credential rather than a word of prose."""
    if scheme.lower() == "basic":
        raw = _decode(token) if re.fullmatch(rf"[{_B64}]+=*", token) else None
        return raw is not None and b":" in raw
    return len(token) >= 40 or (len(token) >= 12 and bool(_TOKEN_CHARS.search(token)))


def _redact_scheme(m: re.Match[str]) -> str:
    scheme, space, token = m.groups()
    return f"{scheme}{space}{MARK}" if _is_credential(scheme, token) else m.group(0)


def redact(text: str) -> str:
    """``text`` with every authentication token, header credential and known password replaced."""
    with _LOCK:
        secrets = sorted(_SECRETS, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MARK)
    text = _STEP.sub(lambda m: m.group(1) + MARK if m.group(2) != MARK else m.group(0), text)
    text = _HEADER.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3)} {MARK}", text)
    text = _SCHEME_TOKEN.sub(_redact_scheme, text)
    text = _RUNS.sub(_redact_run, text)
    return _NTLMSSP_HEX.sub(MARK, text)


class SecretFilter(logging.Filter):
    """Rewrites a record's message, traceback and stack with ``redact``; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record: logging reports it as it always does
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install(handler: logging.Handler) -> None:
    """Put a ``SecretFilter`` on ``handler`` (once)."""
    if not any(isinstance(f, SecretFilter) for f in handler.filters):
        handler.addFilter(SecretFilter())
