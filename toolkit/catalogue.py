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

Reading what a user typed for a code, and the text ``windns explain`` prints for it, are
``toolkit.catalogue_lookup``'s: neither needs the entries built here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from toolkit.catalogue_advice import EXPLANATIONS
from toolkit.catalogue_data import ALIASES, MESSAGES
from toolkit.catalogue_lookup import code_of, known_ranges
from toolkit.errors import describe_code, win32_hex

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


def get(code: int) -> Win32Error | None:
    """The catalogue entry for ``code``, or None when the code is not a known Win32 DNS error."""
    return CATALOGUE.get(code)


def describe_win32(code: int) -> str:
    """``DNS_ERROR_X (9104, 0x2390)`` when the catalogue knows the code, else ``1460 (0x05B4)``."""
    entry = CATALOGUE.get(code)
    if entry is not None:
        return f"{entry.name} ({code}, 0x{code:04X})"
    return f"{code} (0x{code:04X})"


def lookup(text: str) -> Win32Error:
    """The entry named by ``text``: a decimal code (``9104``), a hex code (``0x2390``, or the
    HRESULT form ``0x80072390``), a symbolic name in any case with or without its ``DNS_ERROR_``
    prefix (``DNS_ERROR_NOT_ENOUGH_SIGNING_KEY_DESCRIPTORS``, ``not_enough_signing_key_descriptors``,
    the old alias ``DNS_ERROR_INVALID_NSEC3_PARAMETERS``), or PowerShell's ``WIN32 9104`` (a
    trailing ``,Cmdlet`` as in ``FullyQualifiedErrorId`` is ignored).

    Anything else raises ``ConfigError`` with a one-line message.
    """
    return CATALOGUE[code_of(text)]
