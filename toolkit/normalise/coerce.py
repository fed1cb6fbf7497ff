"""Coercers: one JSON value (as PowerShell printed it) -> one Python value, or NormaliseError.

Every coercer takes ``(value, path)`` and returns ``None`` for JSON ``null`` (callers decide
whether a field is required). ``path`` is the JSON path of ``value`` (``$.Zones[3].KeyLength``)
and is the only thing an error names besides a short reason, so a user can find the bad field.

The shapes accepted are those of the windns-toolkit reference, section 4 ("ConvertTo-Json
shapes"): our inventory script projects seconds and ISO 8601 UTC, but an admin's own
``Get-DnsServerSigningKey | ConvertTo-Json`` from Windows PowerShell 5.1 or PowerShell 7 carries
.NET TimeSpan objects, ``\\/Date(ms)\\/`` strings, PSObject-wrapped Guids and arrays.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, NoReturn, TypeVar, cast

from toolkit.errors import NormaliseError
from toolkit.model.enums import WinEnum

__all__ = [
    "as_bool",
    "as_datetime",
    "as_enum",
    "as_enums",
    "as_guid",
    "as_int",
    "as_items",
    "as_salt",
    "as_str",
    "as_str_tuple",
    "as_timedelta",
    "describe",
    "fail",
]

E = TypeVar("E", bound=WinEnum)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DOTNET_MIN = datetime(1, 1, 1, tzinfo=UTC)
# A "{value: ...}" PSObject wrapper never nests deeper than this in real output; the bound keeps
# hostile input from recursing.
_MAX_UNWRAP = 4


def fail(path: str, message: str) -> NoReturn:
    raise NormaliseError(message, path=path)


def describe(value: Any) -> str:
    """A short, one-line picture of a JSON value for an error message."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + '..."'


def _is_number(value: Any) -> bool:
    # JSON true/false arrive as bool, a subclass of int: never a number here.
    return isinstance(value, int | float) and not isinstance(value, bool)


def _unwrap(value: Any, path: str, *names: str) -> Any:
    """Strip PSObject wrappers: ``{"value": x, ...}`` (5.1/7 pipeline objects, reference 4)."""
    if not isinstance(value, dict):
        return value
    for _ in range(_MAX_UNWRAP):
        if not isinstance(value, dict):
            return value
        for name in ("value", *names):
            if name in value:
                value = value[name]
                break
        else:
            return value
    fail(path, "wrapped too deeply")


# -- scalars ------------------------------------------------------------------------------------
def as_str(value: Any, path: str) -> str | None:
    """Text; blank is None.

    Why: Windows prints unset string properties (``ActiveKey``, ``StandbyKey``) blank
    (reference 1.1 "or blank"), and our script turns blank into ``null``; both mean "unset".
    A 5.1 PSObject-wrapped string arrives as ``{"value": "..."}`` (reference 4).
    """
    value = _unwrap(value, path)
    if value is None:
        return None
    if not isinstance(value, str):
        fail(path, f"expected a string, got {describe(value)}")
    return value if value.strip() else None


def as_salt(value: Any, path: str) -> str | None:
    """NSec3UserSalt: Windows shows ``-`` when no user salt is set (reference 1.2)."""
    text = as_str(value, path)
    return None if text is None or text.strip() == "-" else text


def as_bool(value: Any, path: str) -> bool | None:
    """JSON true/false; also "True"/"False" and 0/1.

    Why: CIM booleans are JSON booleans in both engines (reference 4), but values re-read from
    ``Format-List``/CSV exports or older tooling arrive as the text PowerShell prints (``True``,
    reference 1.1 ``IsRolloverEnabled``) or as 0/1.
    """
    value = _unwrap(value, path)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    fail(path, f"expected true or false, got {describe(value)}")


def as_int(value: Any, path: str, *, lo: int | None = None, hi: int | None = None) -> int | None:
    """A whole number within ``[lo, hi]``.

    Why: CIM Uint8/16/32 (``KeyLength``, ``NSec3Iterations``, ``KeyTag``; reference 1.1, 1.2, 1.5)
    are JSON numbers; Json.NET may print a whole double as ``2048.0``, so integral floats pass.
    Text is refused: a number that arrives as text means the wrong field or a broken export.
    """
    value = _unwrap(value, path)
    if value is None:
        return None
    if not _is_number(value):
        fail(path, f"expected an integer, got {describe(value)}")
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            fail(path, f"expected an integer, got {describe(value)}")
        value = int(value)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        bounds = f"from {lo} to {hi}" if lo is not None and hi is not None else "in range"
        fail(path, f"expected an integer {bounds}, got {value}")
    return int(value)


_GUID_RE = re.compile(
    r"^\s*(\{)?([0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12})(\})?\s*$"
)


def as_guid(value: Any, path: str) -> str | None:
    """A GUID as lower-case text without braces.

    Why: the ETS ``KeyId`` prints as a bare lower-case GUID, key pointers as ``{UPPER}``
    (reference 0 and 1.1), and PowerShell 7 serialises a pipeline (PSObject-wrapped) Guid as
    ``{"value": "...", "Guid": "..."}`` (reference 4, PowerShell/PowerShell#26635).
    """
    value = _unwrap(value, path, "Guid")
    if value is None:
        return None
    if isinstance(value, str):
        m = _GUID_RE.match(value)
        if m and bool(m.group(1)) == bool(m.group(3)):
            return str(uuid.UUID(hex=m.group(2).replace("-", "")))
    fail(path, f"expected a GUID, got {describe(value)}")


# -- TimeSpan -----------------------------------------------------------------------------------
# .NET TimeSpan text: "c" format [d.]hh:mm[:ss[.fffffff]], and "g" format d:hh:mm:ss[.fffffff].
_TIMESPAN_RES = (
    re.compile(r"^\s*(?:(\d+)\.)?(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?\s*$"),
    re.compile(r"^\s*(\d+):(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?\s*$"),
)
_TICKS_PER_MICROSECOND = 10


def _seconds(value: float | int, path: str) -> timedelta:
    if isinstance(value, float) and not math.isfinite(value):
        fail(path, f"expected a duration, got {describe(value)}")
    if value < 0:
        fail(path, f"expected a duration that is not negative, got {describe(value)}")
    if type(value) is int or (type(value) is float and value.is_integer() and value < 2**53):
        # Whole seconds (what the inventory script prints) are exact without the Decimal route.
        try:
            return timedelta(seconds=int(value))
        except OverflowError:
            fail(path, f"duration out of range: {describe(value)}")
    try:
        # Decimal of the shortest repr: 0.1 s is 100000 us exactly, not 99999.99... (round trip).
        micro = int((Decimal(repr(value)) * 1_000_000).to_integral_value())
        return timedelta(microseconds=micro)
    except (OverflowError, InvalidOperation):
        fail(path, f"duration out of range: {describe(value)}")


def as_timedelta(value: Any, path: str) -> timedelta | None:
    """A .NET TimeSpan as ``timedelta``.

    Accepts (reference 4, "TimeSpan" row, and 1.1 "PS value shape"):
    - seconds as a number: what our inventory script projects (``TotalSeconds``);
    - the TimeSpan object both engines print, ``{Ticks, Days, ..., TotalSeconds}`` (PS 7 adds
      ``Microseconds``/``Nanoseconds``/``Total...``). ``Ticks`` (100 ns) is exact, whereas the
      ``Total*`` members are doubles, so Ticks is preferred, then TotalSeconds, then the parts;
    - TimeSpan text ``d.hh:mm:ss[.fffffff]`` / ``hh:mm:ss`` (``755.00:00:00``), which is what a
      TimeSpan becomes beyond ``-Depth`` (its ToString, reference 4 "Depth").
    Negative spans are refused: no DNSSEC interval is negative.
    """
    value = _unwrap(value, path)
    if value is None:
        return None
    if isinstance(value, bool):
        fail(path, f"expected a duration, got {describe(value)}")
    if _is_number(value):
        return _seconds(value, path)
    if isinstance(value, str):
        m = _TIMESPAN_RES[0].match(value) or _TIMESPAN_RES[1].match(value)
        if not m:
            fail(path, f"expected a duration (seconds or d.hh:mm:ss), got {describe(value)}")
        days, hours, minutes, secs, frac = m.groups()
        if int(hours) > 23 or int(minutes) > 59 or (secs is not None and int(secs) > 59):
            fail(path, f"expected a duration (seconds or d.hh:mm:ss), got {describe(value)}")
        ticks = int((frac or "0").ljust(7, "0"))
        try:
            return timedelta(
                days=int(days or 0),
                hours=int(hours),
                minutes=int(minutes),
                seconds=int(secs or 0),
                microseconds=ticks // _TICKS_PER_MICROSECOND,
            )
        except OverflowError:
            fail(path, f"duration out of range: {describe(value)}")
    if isinstance(value, dict):
        if "Ticks" in value:
            ticks_value = as_int(value["Ticks"], f"{path}.Ticks", lo=0)
            if ticks_value is not None:
                try:
                    return timedelta(microseconds=ticks_value // _TICKS_PER_MICROSECOND)
                except OverflowError:
                    fail(f"{path}.Ticks", f"duration out of range: {ticks_value}")
        if "TotalSeconds" in value and value["TotalSeconds"] is not None:
            total = value["TotalSeconds"]
            if not _is_number(total):
                fail(f"{path}.TotalSeconds", f"expected a number, got {describe(total)}")
            return _seconds(total, f"{path}.TotalSeconds")
        parts = {k: value.get(k) for k in ("Days", "Hours", "Minutes", "Seconds", "Milliseconds")}
        if any(v is not None for v in parts.values()):
            n = {k: as_int(v, f"{path}.{k}", lo=0) or 0 for k, v in parts.items()}
            try:
                return timedelta(
                    days=n["Days"],
                    hours=n["Hours"],
                    minutes=n["Minutes"],
                    seconds=n["Seconds"],
                    milliseconds=n["Milliseconds"],
                )
            except OverflowError:
                fail(path, "duration out of range")
        fail(path, "expected a TimeSpan object with Ticks or TotalSeconds")
    fail(path, f"expected a duration, got {describe(value)}")


# -- DateTime -----------------------------------------------------------------------------------
_MS_DATE_RE = re.compile(r"^\s*\\?/Date\((-?\d+)([+-]\d{4})?\)\\?/\s*$")
_ISO_RE = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?\s*$",
    re.IGNORECASE,
)


def _iso(text: str, path: str) -> datetime | None:
    m = _ISO_RE.match(text)
    if m is None:
        return None
    year, month, day, hour, minute, second, frac, offset = m.groups()
    try:
        naive = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second or 0),
            int((frac or "0")[:6].ljust(6, "0")),
        )
        if offset is None or offset.upper() == "Z":
            return naive.replace(tzinfo=UTC)
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        shift = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
        if shift >= timedelta(hours=24):
            fail(path, f"bad UTC offset in {describe(text)}")
        return (naive - sign * shift).replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        fail(path, f"not a valid date and time: {describe(text)}")


def as_datetime(value: Any, path: str) -> datetime | None:
    """A timestamp as timezone-aware UTC ``datetime``.

    Accepts (reference 4, "DateTime" rows):
    - ``/Date(1326441600000)/``: Windows PowerShell 5.1 (JavaScriptSerializer), milliseconds since
      the Unix epoch, always UTC; the JSON text ``"\\/Date(...)\\/"`` decodes to this. A
      ``+0100`` suffix (WCF style) only says which zone the writer was in: ms stay UTC.
    - ISO 8601 (PowerShell 7 and our script): ``Z``, ``+01:00`` offsets, 7 fraction digits
      (100 ns ticks; truncated to microseconds). No offset (a DateTime of kind Unspecified) is
      read as UTC, as our script always projects UTC.
    - a PSObject-wrapped DateTime ``{"value": ..., "DisplayHint": 2, "DateTime": "..."}`` (5.1).
    ``DateTime.MinValue`` (0001-01-01) is Windows' "never" and becomes None, as in the script.
    """
    value = _unwrap(value, path)
    if value is None:
        return None
    if isinstance(value, dict) and "DateTime" in value:
        fail(path, "only the display text of a date is present (DateTime); re-export with -Depth 4")
    if not isinstance(value, str):
        fail(path, f"expected a date and time, got {describe(value)}")
    m = _MS_DATE_RE.match(value)
    if m is not None:
        try:
            result = _EPOCH + timedelta(milliseconds=int(m.group(1)))
        except OverflowError:
            fail(path, f"date out of range: {describe(value)}")
    else:
        parsed = _iso(value, path)
        if parsed is None:
            fail(path, f"expected an ISO 8601 or /Date(ms)/ date, got {describe(value)}")
        result = parsed
    return None if result == _DOTNET_MIN else result


# -- enums and arrays ---------------------------------------------------------------------------
def as_enum(cls: type[E], value: Any, path: str) -> E | None:
    """A Windows enum string as a tolerant enum (unknown text kept, never a crash).

    Why: DnsServer "enum" fields are CIM strings, so both engines print text (reference 0 and
    4). A number here means a .NET enum was serialised (ConvertTo-Json turns those into
    numbers) and its meaning cannot be known from the number alone: refuse it, naming the path.
    """
    value = _unwrap(value, path)
    if value is None:
        return None
    if _is_number(value):
        fail(
            path,
            f"numeric value {describe(value)} for {cls.__name__}; DnsServer enums are strings "
            "(a .NET enum was serialised as a number)",
        )
    if not isinstance(value, str):
        fail(path, f"expected a {cls.__name__} string, got {describe(value)}")
    member = cls._value2member_map_.get(value)  # an exact spelling: skip Enum's call machinery
    if member is not None:
        return cast(E, member)
    if not value.strip():
        return None
    return cls(value)


def as_items(value: Any, path: str) -> list[tuple[Any, str]]:
    """Array items with their paths; a lone value is a one-item array.

    Why: PowerShell unrolls one-element arrays (a lone string where String[] was meant,
    reference 4 "single results are not arrays"), and Windows PowerShell 5.1 prints a
    PSObject-wrapped array as ``{"value": [...], "Count": n}``.
    """
    if isinstance(value, dict) and isinstance(value.get("value"), list):
        return [(v, f"{path}.value[{i}]") for i, v in enumerate(value["value"])]
    if value is None:
        return []
    if isinstance(value, list):
        return [(v, f"{path}[{i}]") for i, v in enumerate(value)]
    return [(value, path)]


def as_str_tuple(value: Any, path: str) -> tuple[str, ...]:
    """String[] (``DistributeTrustAnchor``): null is empty; null or blank items are dropped."""
    out: list[str] = []
    for item, item_path in as_items(value, path):
        text = as_str(item, item_path)
        if text is not None:
            out.append(text)
    return tuple(out)


def as_enums(cls: type[E], value: Any, path: str) -> tuple[E, ...]:
    """String[] of enum text (``DSRecordGenerationAlgorithm``), as :func:`as_str_tuple`."""
    out: list[E] = []
    for item, item_path in as_items(value, path):
        member = as_enum(cls, item, item_path)
        if member is not None:
            out.append(member)
    return tuple(out)
