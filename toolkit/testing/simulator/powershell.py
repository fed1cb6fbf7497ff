"""PowerShell semantics for the script mirrors (``reads``, ``writes``, ``export``).

A mirror is a line-by-line transliteration of a ``ps_scripts/*.ps1``; where PowerShell does
something Python would not, the mirror calls one of these helpers instead of writing the Python
idiom, so that a script's gotcha is the mirror's gotcha too. Each helper names the PowerShell
documentation page (``about_*`` in MicrosoftDocs/PowerShell-Docs, reference/5.1) it follows;
what no page settles is listed as UNCONFIRMED in ``fixtures/README.md``.

Objects are dicts (a CIM instance's properties by name); PowerShell looks a property up by name
ignoring case (about_Properties), and so do ``member``/``has_member``/``prop``.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from toolkit.errors import CmdletError

__all__ = [
    "NotSimulated",
    "Param",
    "assign",
    "bind",
    "error_record",
    "has_member",
    "is_null_or_whitespace",
    "member",
    "prop",
    "ps_array",
    "ps_bool",
    "ps_foreach",
    "ps_guid",
    "ps_long",
    "ps_string",
    "select_first",
    "select_first_n",
    "strict_mode",
    "timespan_from_seconds",
]


class NotSimulated(CmdletError):
    """What the simulator cannot reproduce (``ConvertTo-Json`` at a depth no capture shows). Not a
    PowerShell error: a mirror lets it pass its script's ``catch`` blocks, so the run fails instead
    of printing a document Windows would not print."""


# -- arrays, foreach, pipelines ---------------------------------------------------------------
def ps_array(value: Any) -> list[Any]:
    """``@($value)``: an array holding the value; ``@($null)`` is an array of one ``$null``
    (about_Arrays, "array subexpression operator": it returns the result of the statements as
    an array, and ``$null`` is a value). A cmdlet's output is already a list here (what the
    pipeline carried): ``@(Get-X)`` of no output is ``@()``, so pass such a list as it is."""
    if value is None:
        return [None]
    if isinstance(value, list):
        return list(value)
    return [value]


def ps_foreach(value: Any) -> list[Any]:
    """What ``foreach ($x in $value)`` iterates: an array's elements, a scalar once, and
    ``$null`` not at all (about_Foreach; PowerShell 3.0 and later do not enter the loop for
    ``$null``)."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def select_first(output: Sequence[Any]) -> Any:
    """``... | Select-Object -First 1`` assigned to a variable: the first object, or ``$null``
    when the pipeline carried none (Select-Object, -First)."""
    return output[0] if output else None


def select_first_n(output: Sequence[Any], first: int) -> list[Any]:
    """``... | Select-Object -First <first>``: the first ``first`` objects; ``-First 0`` passes none.
    A negative count fails binding: ``[ValidateRange(0, int.MaxValue)]`` on First (PowerShell/
    PowerShell Select-Object.cs, the attribute with its 2006 Windows note "Allow zero"; that 5.1 has
    the same attribute and this error text: UNCONFIRMED)."""
    if first < 0:
        raise CmdletError(
            f"Cannot validate argument on parameter 'First'. The {first} argument is less than the minimum "
            "allowed range of 0. Supply an argument that is greater than or equal to 0 and then try the "
            "command again.",
            fully_qualified_error_id="ParameterArgumentValidationError,Microsoft.PowerShell.Commands."
            "SelectObjectCommand",
        )
    return list(output[:first])


def assign(output: Sequence[Any]) -> Any:
    """``$x = <pipeline>``: no output is ``$null``, one object is that object, more are an array
    (about_Assignment_Operators, "assigning multiple values")."""
    if not output:
        return None
    if len(output) == 1:
        return output[0]
    return list(output)


# -- members -----------------------------------------------------------------------------------
_STRICT: ContextVar[bool] = ContextVar("windns_strict_mode", default=False)


@contextlib.contextmanager
def strict_mode() -> Iterator[None]:
    """``Set-StrictMode -Version 2.0`` for the rest of the script (the change scripts set it;
    inventory.ps1 does not)."""
    token = _STRICT.set(True)
    try:
        yield
    finally:
        _STRICT.reset(token)


def _lookup(obj: Mapping[str, Any], name: str) -> tuple[bool, Any]:
    if name in obj:
        return True, obj[name]
    low = name.lower()
    for k, v in obj.items():
        if k.lower() == low:
            return True, v
    return False, None


def member(obj: Any, name: str) -> Any:
    """``$obj.PSObject.Properties[$name].Value`` or ``$null`` (the body of Get-WindnsMember
    without its null checks, which the projection twin writes out)."""
    if not isinstance(obj, Mapping):
        return None
    return _lookup(obj, name)[1]


def has_member(obj: Any, name: str) -> bool:
    """``$null -ne $obj.PSObject.Properties[$name]``."""
    return isinstance(obj, Mapping) and _lookup(obj, name)[0]


def prop(obj: Any, name: str) -> Any:
    """``$obj.Name``: ``$null`` for a missing property, unless strict mode is on: then a missing
    property of an object, or any property of ``$null``, is an error (about_Set-StrictMode,
    Version 2.0: "Prohibits references to non-existent properties of an object"; that ``$null``
    counts is UNCONFIRMED)."""
    found, value = _lookup(obj, name) if isinstance(obj, Mapping) else (False, None)
    if not found and _STRICT.get():
        raise CmdletError(
            f"The property '{name}' cannot be found on this object. Verify that the property exists.",
            fully_qualified_error_id="PropertyNotFoundStrict",
        )
    return value


# -- conversions -------------------------------------------------------------------------------
def ps_string(value: Any) -> str:
    """``[string]$value`` (about_Type_Conversion): ``$null`` is ``''``, booleans ``True``/
    ``False``, a whole double without a fraction, an array its elements joined by spaces
    (``$OFS``, about_Preference_Variables)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return " ".join(ps_string(v) for v in value)
    return str(value)


def ps_long(value: Any) -> int:
    """``[long]$value``: numbers round half to even (.NET ``Convert.ToInt64``), text is parsed."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return round(value)
    try:
        return round(float(str(value).strip()))
    except ValueError:
        raise CmdletError(
            f'Cannot convert value "{value}" to type "System.Int64". Error: "Input string was not in a '
            'correct format."',
            fully_qualified_error_id="InvalidCastFromStringToInteger",
        ) from None


def ps_bool(value: Any) -> bool:
    """``[bool]$value`` (about_Booleans): ``$null``, 0, ``''`` and an empty array are false;
    any other text, even ``'False'``, is true."""
    if value is None:
        return False
    if isinstance(value, (bool, int, float)):
        return bool(value)
    if isinstance(value, str):
        return value != ""
    if isinstance(value, list):
        if len(value) == 1:
            return ps_bool(value[0])
        return len(value) > 0
    return True


def is_null_or_whitespace(value: Any) -> bool:
    """``[string]::IsNullOrWhiteSpace($value)`` (.NET String.IsNullOrWhiteSpace; the argument is
    converted to text first)."""
    return value is None or ps_string(value).strip() == ""


def timespan_from_seconds(seconds: float) -> timedelta:
    """``[TimeSpan]::FromSeconds($s)`` on .NET Framework (Windows PowerShell 5.1): the value is
    rounded to the nearest millisecond (TimeSpan.FromSeconds(Double), Remarks), and a value
    beyond TimeSpan's range is an OverflowException."""
    if math.isnan(seconds) or abs(seconds) > 922337203685.4775:
        raise CmdletError(
            "TimeSpan overflowed because the duration is too long.",
            fully_qualified_error_id="OverflowException",
        )
    return timedelta(milliseconds=round(seconds * 1000))


def ps_guid(value: Any) -> Any:
    """``[guid]$value``: text parsed as a GUID (braces, hyphens or none: .NET Guid.Parse), else
    the cast fails (about_Type_Conversion)."""
    import uuid

    try:
        return uuid.UUID(ps_string(value).strip())
    except ValueError:
        raise CmdletError(
            f'Cannot convert value "{ps_string(value)}" to type "System.Guid". Error: "Guid should contain '
            '32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)."',
            fully_qualified_error_id="InvalidCastParseTargetInvocation",
        ) from None


# -- times -------------------------------------------------------------------------------------
def iso(dt: datetime) -> str:
    """ISO 8601 UTC as PowerShell's ``ToUniversalTime().ToString('o')`` prints it."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


# -- errors --------------------------------------------------------------------------------------
class CimError(CmdletError):
    """A cmdlet's CimException: ``raw_message`` as ``$_.Exception.Message`` gives it, ``error_code``
    as ``$_.Exception.ErrorData.error_Code`` (REF section 2)."""

    def __init__(
        self, message: str, *, code: int | None, cmdlet: str, fully_qualified_error_id: str | None = None
    ) -> None:
        self.raw_message = message
        self.error_code = code
        fqid = fully_qualified_error_id or (f"WIN32 {code},{cmdlet}" if code is not None else None)
        super().__init__(message, code=code, cmdlet=cmdlet, fully_qualified_error_id=fqid)


def error_record(exc: CmdletError) -> dict[str, Any]:
    """The ``$_`` of a ``catch`` block for a failed cmdlet, as the members New-WindnsError reads:
    ``FullyQualifiedErrorId``, ``Exception.Message`` and, on a CimException,
    ``Exception.ErrorData.error_Code`` (reference section 2, CimJobException.cs)."""
    message = exc.args[0] if exc.args else str(exc)
    exception: dict[str, Any] = {"Message": message}
    if isinstance(exc, CimError):
        exception["Message"] = exc.raw_message
        exception["ErrorData"] = {"error_Code": exc.error_code} if exc.error_code is not None else None
    return {"FullyQualifiedErrorId": exc.fully_qualified_error_id, "Exception": exception}


# -- parameter binding ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Param:
    """One entry of a script's ``param()`` block."""

    name: str
    type: str  # "string", "string[]", "double", "int", "uint32", "uint16", "byte", "bool", "switch"
    mandatory: bool = False
    validate_set: tuple[str, ...] = ()
    default: Any = None  # ``[int]$Depth = 4``: the value when unbound (None: the type's own)


_UNBOUND: dict[str, Any] = {
    # The value of a declared parameter the caller did not bind: PowerShell converts $null to
    # the declared type (about_Type_Conversion); an array type stays $null (about_Arrays).
    "string": "",
    "string[]": None,
    "double": 0.0,
    "int": 0,
    "uint32": 0,
    "uint16": 0,
    "byte": 0,
    "bool": False,
    "switch": False,
}
_NET_TYPES = {"int": "Int32", "uint32": "UInt32", "uint16": "UInt16", "byte": "Byte"}
_RANGES = {"int": (-(2**31), 2**31 - 1), "uint32": (0, 2**32 - 1), "uint16": (0, 2**16 - 1), "byte": (0, 255)}


def _binding_error(script: str, text: str, fqid: str) -> CmdletError:
    return CmdletError(text, cmdlet=script, fully_qualified_error_id=f"{fqid},{script}")


def _convert(script: str, p: Param, value: Any) -> Any:
    if p.type == "string":
        return ps_string(value)
    if p.type == "string[]":
        if value is None:
            return None
        return [ps_string(v) for v in (value if isinstance(value, list) else [value])]
    if p.type in ("bool", "switch"):
        # "Boolean parameters accept only Boolean values and numbers" (the binder's message).
        if isinstance(value, (bool, int, float)):
            return bool(value)
        raise _binding_error(
            script,
            f"Cannot process argument transformation on parameter '{p.name}'. Cannot convert value "
            f'"{value}" to type "System.Boolean". Boolean parameters accept only Boolean values and '
            "numbers, such as $True, $False, 1 or 0.",
            "ParameterArgumentTransformationError",
        )
    try:
        number = float(value) if not isinstance(value, bool) else float(int(value))
    except (TypeError, ValueError):
        number = math.nan
    if p.type == "double":
        if math.isnan(number) and not (isinstance(value, float) and math.isnan(value)):
            raise _binding_error(
                script,
                f"Cannot process argument transformation on parameter '{p.name}'. Cannot convert value "
                f'"{value}" to type "System.Double".',
                "ParameterArgumentTransformationError",
            )
        return number
    low, high = _RANGES[p.type]
    if math.isnan(number) or not low <= round(number) <= high:
        raise _binding_error(
            script,
            f"Cannot process argument transformation on parameter '{p.name}'. Cannot convert value "
            f'"{value}" to type "System.{_NET_TYPES[p.type]}".',
            "ParameterArgumentTransformationError",
        )
    return round(number)


def bind(
    script: str, params: Mapping[str, Any], spec: Sequence[Param]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Bind ``params`` to a script's ``param()`` block as PowerShell does for named arguments
    (about_Parameters; names ignore case, a name no parameter has is an error).

    Returns ``(variables, bound)``: every declared parameter's value (an unbound one converted
    from ``$null``), and ``$PSBoundParameters`` (about_Automatic_Variables), the bound ones only,
    by their declared names."""
    by_name = {p.name.lower(): p for p in spec}
    bound: dict[str, Any] = {}
    for given, value in params.items():
        p = by_name.get(given.lower())
        if p is None:
            raise _binding_error(
                script,
                f"A parameter cannot be found that matches parameter name '{given}'.",
                "NamedParameterNotFound",
            )
        converted = _convert(script, p, value)
        if p.mandatory and (converted is None or converted == "" or converted == []):
            # A mandatory parameter refuses $null and '' unless it says AllowNull/AllowEmptyString
            # (about_Functions_Advanced_Parameters, "AllowEmptyString validation attribute").
            raise _binding_error(
                script,
                f"Cannot bind argument to parameter '{p.name}' because it is an empty string.",
                "ParameterArgumentValidationErrorEmptyStringNotAllowed",
            )
        if p.validate_set:
            items = converted if isinstance(converted, list) else [converted]
            allowed = {a.lower() for a in p.validate_set}
            for item in items:
                if str(item).lower() not in allowed:
                    raise _binding_error(
                        script,
                        f"Cannot validate argument on parameter '{p.name}'. The argument \"{item}\" does not "
                        f'belong to the set "{",".join(p.validate_set)}" specified by the ValidateSet '
                        "attribute. Supply an argument that is in the set and then try the command again.",
                        "ParameterArgumentValidationError",
                    )
        bound[p.name] = converted
    missing = [p.name for p in spec if p.mandatory and p.name not in bound]
    if missing:
        raise _binding_error(
            script,
            "Cannot process command because of one or more missing mandatory parameters: "
            f"{' '.join(missing)}.",
            "MissingMandatoryParameter",
        )
    variables = {
        p.name: bound.get(p.name, _UNBOUND[p.type] if p.default is None else p.default) for p in spec
    }
    return variables, bound
