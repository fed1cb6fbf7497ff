"""What a user types for a Win32 DNS error, and what ``windns explain`` prints for it.

Both from the catalogue's data alone (``toolkit.catalogue_data``, ``toolkit.catalogue_advice``),
with no entry objects built: ``windns explain 9104`` is answered without click
(``toolkit.console``), and this module and its data are all it imports. ``toolkit.catalogue``
builds its entries from the same data and finds them with ``code_of``::

    >>> code_of("0x2390"), code_of("not_enough_signing_key_descriptors")
    (9104, 9104)
    >>> explanation("9104").splitlines()[0]
    'DNS_ERROR_NOT_ENOUGH_SIGNING_KEY_DESCRIPTORS (9104, 0x2390)'
"""

from __future__ import annotations

import re

from toolkit.catalogue_advice import EXPLANATIONS
from toolkit.catalogue_data import ALIASES, BASE_CONSTANTS, MESSAGES
from toolkit.errors import ConfigError, win32_hex

__all__ = ["code_of", "explanation", "known_ranges"]

#: code -> (name, message), ascending
_ENTRIES: dict[int, tuple[str, str]] = {code: (name, message) for code, name, message in MESSAGES}

# Names are matched case-insensitively, with or without their "DNS_ERROR_" / "ERROR_" prefix.
_PREFIXES = ("DNS_ERROR_", "ERROR_")


def _name_keys(name: str) -> list[str]:
    keys = [name.upper()]
    keys.extend(name.upper()[len(p) :] for p in _PREFIXES if name.upper().startswith(p))
    return keys


def _name_index() -> dict[str, int]:
    index: dict[str, int] = {}
    named = [(code, n) for code, (name, _) in _ENTRIES.items() for n in (name, *ALIASES.get(code, ()))]
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


def known_ranges() -> str:
    """The known codes as compact ranges: ``5, 9001-9010, 9016-9018, 9101-9130, ...``."""
    codes = sorted(_ENTRIES)
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


def code_of(text: str) -> int:
    """The known code ``text`` names: a decimal code (``9104``), a hex code (``0x2390``, or the
    HRESULT form ``0x80072390``), a symbolic name in any case with or without its ``DNS_ERROR_``
    prefix, or PowerShell's ``WIN32 9104`` (a trailing ``,Cmdlet`` is ignored). Anything else,
    an unknown code among them, raises ``ConfigError`` with a one-line message
    (``toolkit.catalogue.lookup`` says more)."""
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
    if code in _ENTRIES:
        return code
    if code in BASE_CONSTANTS:
        name, what = BASE_CONSTANTS[code]
        raise ConfigError(
            f"{code} ({win32_hex(code)}) is {name}, {what}: "
            "a range base in winerror.h, not an error Windows reports"
        )
    raise ConfigError(f"unknown Win32 DNS error code {code} (known: {known_ranges()})")


def _suggest(token: str) -> str:
    """`` (did you mean DNS_ERROR_X?)`` for a near miss of a known name, else the known codes."""
    import difflib  # only for a name that is not in the catalogue

    names = {key: code for key, code in _BY_NAME.items() if code in _ENTRIES}
    close = difflib.get_close_matches(token.upper(), list(names), n=1, cutoff=0.8)
    if close:
        return f" (did you mean {_ENTRIES[names[close[0]]][0]}?)"
    return f" (known: {known_ranges()})"


def explanation(text: str) -> str:
    """What ``windns explain TEXT`` prints (without the last newline) for the code ``text`` names
    (as ``code_of`` reads it): name, code and hex code, Microsoft's message, then our cause,
    diagnosis and resolution where the catalogue has them. ``ConfigError`` as ``code_of``."""
    code = code_of(text)
    name, message = _ENTRIES[code]
    lines = [f"{name} ({code}, {win32_hex(code)})", message]
    advice = EXPLANATIONS.get(code, (None, None, None))
    for title, body in zip(("Cause", "Diagnose", "Resolve"), advice, strict=True):
        if body:
            lines.append(f"\n{title}:\n{body}")
    return "\n".join(lines)
