"""The Win32 DNS error catalogue: what 9104 means, and what to do about it.

Every Win32 code a DnsServer cmdlet reports (``FullyQualifiedErrorId`` ``"WIN32 9104,..."`` or
``Exception.ErrorData.error_Code``) is looked up here::

    >>> err = lookup("9104")
    >>> err.name, err.hex
    ('DNS_ERROR_NOT_ENOUGH_SIGNING_KEY_DESCRIPTORS', '0x2390')
    >>> describe_code(9104)
    'DNS_ERROR_NOT_ENOUGH_SIGNING_KEY_DESCRIPTORS (9104, 0x2390)'
    >>> describe_code(1234)
    'Win32 error 1234 (0x04D2)'

The catalogue holds the DNS RCODE errors 9001-9018, the DNSSEC errors 9101-9130, the zone errors
9601-9622, the record errors 9701/9711/9714 and ``ERROR_ACCESS_DENIED`` (5). Names and messages
are Microsoft's (``toolkit.catalogue_data``); the DNSSEC codes, and a few others an administrator
meets, also carry a cause, how to diagnose it and how to resolve it (``toolkit.catalogue_advice``).

The range bases of winerror.h (``DNS_ERROR_DNSSEC_BASE`` = 9100, ``..._RESPONSE_CODES_BASE`` =
9000, ``..._ZONE_BASE`` = 9600) are not errors: ``get`` returns None for them and ``lookup``
raises a ``ConfigError`` that says what they are.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from toolkit.catalogue_advice import EXPLANATIONS
from toolkit.catalogue_data import ALIASES, BASE_CONSTANTS, MESSAGES
from toolkit.errors import ConfigError, describe_code, win32_hex

__all__ = ["CATALOGUE", "Win32Error", "describe_code", "describe_win32", "get", "known_ranges", "lookup"]


@dataclass(frozen=True, slots=True)
class Win32Error:
    """One Win32 error: Microsoft's name and message, and (for the DNSSEC codes) our advice."""

    code: int
    name: str
    message: str
    cause: str | None = None
    diagnose: str | None = None
    resolve: str | None = None
    aliases: tuple[str, ...] = ()

    @property
    def hex(self) -> str:
        """The code as Windows tools print it: ``0x2390`` (at least four upper-case digits)."""
        return win32_hex(self.code)

    def __str__(self) -> str:
        return f"{self.name} ({self.code}, {self.hex}): {self.message}"


def _build() -> Mapping[int, Win32Error]:
    entries: dict[int, Win32Error] = {}
    for code, name, message in MESSAGES:
        cause, diagnose, resolve = EXPLANATIONS.get(code, (None, None, None))
        entries[code] = Win32Error(
            code=code,
            name=name,
            message=message,
            cause=cause,
            diagnose=diagnose,
            resolve=resolve,
            aliases=ALIASES.get(code, ()),
        )
    return MappingProxyType(entries)


#: Every known code, ascending. Read-only.
CATALOGUE: Mapping[int, Win32Error] = _build()

# Names are matched case-insensitively, with or without their "DNS_ERROR_" / "ERROR_" prefix.
_PREFIXES = ("DNS_ERROR_", "ERROR_")


def _name_keys(name: str) -> list[str]:
    keys = [name.upper()]
    keys.extend(name.upper()[len(p) :] for p in _PREFIXES if name.upper().startswith(p))
    return keys


def _name_index() -> dict[str, int]:
    index: dict[str, int] = {}
    named = [(e.code, n) for e in CATALOGUE.values() for n in (e.name, *e.aliases)]
    named += [(code, name) for code, (name, _) in BASE_CONSTANTS.items()]
    for code, name in named:
        for key in _name_keys(name):
            if index.setdefault(key, code) != code:  # pragma: no cover - guarded by a test
                raise RuntimeError(f"catalogue name {key} is ambiguous")
    return index


_BY_NAME = _name_index()

_WIN32_PREFIX = re.compile(r"^WIN32\s+", re.IGNORECASE)
_DECIMAL = re.compile(r"^\d{1,10}$")
_HEX = re.compile(r"^0x([0-9A-F]{1,8})$", re.IGNORECASE)
_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$", re.IGNORECASE)
# HRESULT_FROM_WIN32: 0x8007xxxx carries the Win32 code in its low 16 bits.
_HRESULT_WIN32 = 0x80070000


def get(code: int) -> Win32Error | None:
    """The catalogue entry for ``code``, or None when the code is not a known Win32 DNS error."""
    return CATALOGUE.get(code)


def describe_win32(code: int) -> str:
    """``DNS_ERROR_X (9104, 0x2390)`` when the catalogue knows the code, else ``1460 (0x05B4)``."""
    entry = CATALOGUE.get(code)
    if entry is not None:
        return f"{entry.name} ({code}, 0x{code:04X})"
    return f"{code} (0x{code:04X})"


def known_ranges() -> str:
    """The known codes as compact ranges: ``5, 9001-9010, 9016-9018, 9101-9130, ...``."""
    codes = sorted(CATALOGUE)
    parts: list[str] = []
    start = prev = codes[0]
    for code in [*codes[1:], None]:
        if code is not None and code == prev + 1:
            prev = code
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if code is not None:
            start = prev = code
    return ", ".join(parts)


def lookup(text: str) -> Win32Error:
    """The entry named by ``text``: a decimal code (``9104``), a hex code (``0x2390``, or the
    HRESULT form ``0x80072390``), a symbolic name in any case with or without its ``DNS_ERROR_``
    prefix (``DNS_ERROR_NOT_ENOUGH_SIGNING_KEY_DESCRIPTORS``, ``not_enough_signing_key_descriptors``,
    the old alias ``DNS_ERROR_INVALID_NSEC3_PARAMETERS``), or PowerShell's ``WIN32 9104`` (a
    trailing ``,Cmdlet`` as in ``FullyQualifiedErrorId`` is ignored).

    Anything else raises ``ConfigError`` with a one-line message.
    """
    raw = " ".join(str(text).split())
    token = _WIN32_PREFIX.sub("", raw).split(",", 1)[0].strip()
    if not token:
        raise ConfigError(f"not a Win32 error code or name: {raw!r}")
    code: int | None = None
    if _DECIMAL.match(token):
        code = int(token)
    elif m := _HEX.match(token):
        code = int(m.group(1), 16)
        if code & 0xFFFF0000 == _HRESULT_WIN32:
            code &= 0xFFFF
    elif _NAME.match(token):
        found = _BY_NAME.get(token.upper())
        if found is None:
            raise ConfigError(f"unknown Win32 DNS error name {token}{_suggest(token)}")
        code = found
    else:
        raise ConfigError(
            f"not a Win32 error code or name: {raw!r} (use a decimal code such as 9104, "
            "a hex code such as 0x2390, or a name such as DNS_ERROR_NOT_ENOUGH_SIGNING_KEY_DESCRIPTORS)"
        )
    err = CATALOGUE.get(code)
    if err is not None:
        return err
    if code in BASE_CONSTANTS:
        name, what = BASE_CONSTANTS[code]
        raise ConfigError(
            f"{code} ({win32_hex(code)}) is {name}, {what}: "
            "a range base in winerror.h, not an error Windows reports"
        )
    raise ConfigError(f"unknown Win32 DNS error code {code} (known: {known_ranges()})")


def _suggest(token: str) -> str:
    """`` (did you mean DNS_ERROR_X?)`` for a near miss of a known name, else the known codes."""
    names = {key: code for key, code in _BY_NAME.items() if code in CATALOGUE}
    close = difflib.get_close_matches(token.upper(), list(names), n=1, cutoff=0.8)
    if close:
        return f" (did you mean {CATALOGUE[names[close[0]]].name}?)"
    return f" (known: {known_ranges()})"
