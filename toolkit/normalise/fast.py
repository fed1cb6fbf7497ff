"""Fast readers for the plain records of our own inventory document.

``inventory.ps1`` (and the simulator) print every record the same way: a JSON object with
exactly the cmdlet property names, enums as Windows spells them, TimeSpans as seconds, times as
``2026-11-24T10:00:00.0000000Z``, ``null`` for unset. For such a record the general readers of
``records`` spend most of their time on what raw cmdlet output needs: a ``Record`` view with
case-insensitive and CIM lookups, a JSON path string for every property, PSObject unwrapping,
five layers of calls per property and descriptor validation that repeats the checks.

Each reader here takes one record and either returns its descriptor, converting each value
after a type test, or returns None as soon as anything is not in the plain shape (a property
name it does not know or a missing one, a value of another type or spelling, a value out of
range). The caller then reads that record with the general reader, which accepts every shape
and, for a bad value, raises the NormaliseError naming its path. So a record gives the same
descriptor either way, and errors only ever come from the general readers: no path is built
here.

Zones are read zone by zone with ``zone_head``/``zone_settings``/``signing_key``; the server
record, trust anchors and trust points have their own readers (``server_info``,
``trust_anchor``, ``trust_point``). Every descriptor is built through its own constructor, so
its ``__post_init__`` checks hold for whatever is read here as for the general readers.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Any, Final, TypeVar

from toolkit.model.descriptors import (
    ServerDnssecSettings,
    ServerInfo,
    SigningKey,
    TrustAnchor,
    TrustPoint,
    Zone,
    ZoneDnssecSettings,
)
from toolkit.model.enums import (
    CryptoAlgorithm,
    DenialOfExistence,
    DsDigest,
    KeyMasterStatus,
    KeyState,
    KeyType,
    NextRolloverAction,
    ReplicationScope,
    RolloverStatus,
    RolloverType,
    TrustAnchorState,
    TrustAnchorType,
    WinEnum,
    ZoneType,
)
from toolkit.normalise.coerce import as_enum
from toolkit.normalise.records import UNKNOWN_ZONE_TYPE
from toolkit.normalise.table import KEY_COLUMNS

__all__ = [
    "NOT_PLAIN",
    "new_zone",
    "plain_time",
    "server_info",
    "key_values",
    "signing_key",
    "trust_anchor",
    "trust_point",
    "zone_head",
    "zone_settings",
]

T = TypeVar("T")
E = TypeVar("E", bound=WinEnum)


class NotPlain(Exception):
    """A value is not in the plain shape: the caller reads the record with the general reader."""


# The descriptors are built through their own (validating) constructors, positionally in field
# order. A value the constructor refuses (``ValueError``) sends the record to the general reader,
# which names the path.
new_key = SigningKey
new_settings = ZoneDnssecSettings
new_zone = Zone

#: The property names of each record as the inventory script prints them (docs/inventory-schema.md);
#: a key record's are the columns of the key table.
KEY_NAMES: Final = frozenset(KEY_COLUMNS)
SETTINGS_NAMES: Final = frozenset(
    (
        "ZoneName", "DenialOfExistence", "NSec3HashAlgorithm", "NSec3Iterations", "NSec3OptOut",
        "NSec3RandomSaltLength", "NSec3UserSalt", "NSec3CurrentSalt", "DistributeTrustAnchor",
        "EnableRfc5011KeyRollover", "DSRecordGenerationAlgorithm", "DSRecordSetTtl", "DnsKeyRecordSetTtl",
        "SignatureInceptionOffset", "SecureDelegationPollingPeriod", "PropagationTime",
        "ParentHasSecureDelegation", "IsKeyMasterServer", "KeyMasterServer", "KeyMasterStatus", "IsSigned",
    )
)  # fmt: skip
_KEY_COUNT: Final = len(KEY_NAMES)
_SETTINGS_COUNT: Final = len(SETTINGS_NAMES)
#: A zone's self-check count (``toolkit.normalise.selfcheck``): present only where the keys were read.
KEYS_LISTED: Final = "KeysListed"
ZONE_NAMES: Final = frozenset(
    (
        "ZoneName", "ZoneType", "IsSigned", "IsDsIntegrated", "IsReverseLookupZone", "IsAutoCreated",
        "ReplicationScope", "DnsSecSetting", "SigningKeys", "Errors", KEYS_LISTED,
    )
)  # fmt: skip


# -- values ---------------------------------------------------------------------------------------
# Each takes a JSON value and returns the Python value, or raises NotPlain. JSON null is None.


class Spellings(dict[Any, Any]):
    """Spelling -> member of one enum, looked up as ``table[value]``: JSON null is None, then the
    exact member values, then every other spelling met so far (``PrePublish`` for
    ``Prepublish``), read as ``as_enum`` reads it. A value that is not text raises NotPlain
    (an unhashable one, TypeError: the record readers catch both)."""

    __slots__ = ("cls",)

    def __init__(self, cls: type[WinEnum]) -> None:
        super().__init__(cls._value2member_map_)
        self[None] = None
        self.cls = cls

    def __missing__(self, value: Any) -> Any:
        if type(value) is not str:
            raise NotPlain
        member = as_enum(self.cls, value, "$")  # text is never an error: blank is None, unknown kept
        if (member is None or member.is_known) and len(self) < _SPELLINGS_MAX:
            self[value] = member  # not an unknown value: as_enum makes its pseudo-member afresh
        return member


_SPELLINGS_MAX = 256
KEY_TYPE = Spellings(KeyType)
ALGORITHM = Spellings(CryptoAlgorithm)
KEY_STATE = Spellings(KeyState)
ROLLOVER_TYPE = Spellings(RolloverType)
NEXT_ACTION = Spellings(NextRolloverAction)
ROLLOVER_STATUS = Spellings(RolloverStatus)
_DENIAL = Spellings(DenialOfExistence)
_DIGEST = Spellings(DsDigest)
_KEY_MASTER = Spellings(KeyMasterStatus)
ZONE_TYPE = Spellings(ZoneType)
SCOPE = Spellings(ReplicationScope)


def _span(value: Any) -> timedelta:
    """Whole seconds (an int, or a whole float below 2**53), not negative -> timedelta; anything
    else raises NotPlain (fractions take the general reader's exact route)."""
    kind = type(value)
    if kind is not int and kind is not float:  # bool is neither
        raise NotPlain
    if value < 0 or (kind is float and not (value.is_integer() and value < 2**53)):
        raise NotPlain
    try:
        return timedelta(seconds=int(value))
    except OverflowError:
        raise NotPlain from None


class _Spans(dict[Any, Any]):
    """Seconds -> timedelta, looked up as ``table[value]``: JSON null is None, and the spans met
    so far are kept (fleets repeat the same few periods and TTLs). ``_span`` says what is
    plain. 0 and 1 are not kept: JSON false and true, equal to 0 and 1 as dictionary keys,
    must miss to be refused (``__missing__`` gives 0 and 1 from ``_SMALL``)."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__({None: None})

    def __missing__(self, value: Any) -> timedelta:
        kind = type(value)  # 0 and 1 are not kept (JSON false and true are equal keys): looked up here
        if (kind is int or kind is float) and (value == 0 or value == 1):
            return _SMALL[int(value)]
        span = _span(value)
        if value != 0 and value != 1 and len(self) < _SPANS_MAX:
            self[value] = span
        return span


_SPANS_MAX = 1024
_SMALL: Final = (timedelta(0), timedelta(seconds=1))
_SPANS = _Spans()


def _str(value: Any) -> str | None:
    if value is None:
        return None
    if type(value) is not str:
        raise NotPlain
    return value if value.strip() else None


def _bool(value: Any) -> bool | None:
    if value is None or value is True or value is False:
        return value
    raise NotPlain


def _int(value: Any, lo: int, hi: int) -> int | None:
    if value is None:
        return None
    if type(value) is int and lo <= value <= hi:
        return value
    raise NotPlain


DOTNET_MIN: Final = datetime(1, 1, 1, tzinfo=UTC)
_fromisoformat = datetime.fromisoformat


def _time(value: Any) -> datetime | None:
    """The script's ToString('o') of a UTC time: ``2026-11-24T10:00:00.0000000Z``, 7 fraction
    digits (100 ns ticks) and Z.

    The shape is checked first, because fromisoformat alone takes forms the general reader does
    not: week and ordinal dates, no separators, a comma for the point, a character after the
    sixth fraction digit and, in newer Pythons, hour 24. With every separator in its place and
    only ASCII, fromisoformat reads the digit fields strictly, so checking the fraction's digits
    and the hour is what is left (a regular expression for the whole took 0.9 us,
    these index tests 0.3 us).
    """
    if value is None:
        return None
    if (
        type(value) is not str
        or len(value) != 28
        or value[27] != "Z"
        or value[19] != "."
        or value[10] != "T"
        or value[4] != "-"
        or value[7] != "-"
        or value[13] != ":"
        or value[16] != ":"
        or not value.isascii()
        or not value[20:27].isdigit()
        or value[11:13] > "23"
    ):
        raise NotPlain
    try:
        parsed = _fromisoformat(value)  # 7 fraction digits truncate to 6, as the general reader's
    except ValueError:  # a day or minute out of range, a letter in a field: the general reader names it
        raise NotPlain from None
    return None if parsed == DOTNET_MIN else parsed


#: What ``plain_time`` returns for a value that is not in the plain shape.
NOT_PLAIN: Final[Any] = object()


def plain_time(value: Any) -> Any:
    """``_time`` for a caller outside this module: the datetime (or None), else ``NOT_PLAIN``."""
    try:
        return _time(value)
    except NotPlain:
        return NOT_PLAIN


GUID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _zone_name(value: Any, zone: str) -> str:
    """A nested record's ZoneName: null means the enclosing zone; any other spelling (case,
    trailing dot, blank) goes to the general reader, as does a record without the member (the
    readers take only records with every name)."""
    if value is None:
        return zone
    if value == zone:
        return zone
    raise NotPlain


# -- records --------------------------------------------------------------------------------------
_KEY_VALUES: Final = itemgetter(*KEY_COLUMNS)


def signing_key(obj: Any, zone: str) -> SigningKey | None:
    """A plain ``SigningKeys[]`` record of zone ``zone`` -> SigningKey, else None."""
    if type(obj) is not dict or len(obj) != _KEY_COUNT:
        return None
    try:  # with the count, exactly the script's names (else KeyError)
        values = _KEY_VALUES(obj)
    except KeyError:
        return None
    return key_values(values, zone)


def key_values(values: tuple[Any, ...], zone: str) -> SigningKey | None:
    """A plain key record's values, in ``KEY_COLUMNS`` order (a row of a plain key table, or a
    record's members) -> SigningKey of zone ``zone``, else None."""
    try:
        (
            zone_name, key_id, key_type, current_state, provider, in_ad, algorithm, length,
            dnskey_validity, ds_validity, zone_validity, offset, period, rollover_type, action,
            last_time, next_time, status, active, standby, next_key, enabled,
        ) = values  # fmt: skip
        key_type = KEY_TYPE[key_type]
        algorithm = ALGORITHM[algorithm]
        if (
            key_type is None
            or algorithm is None
            or type(key_id) is not str
            or not GUID.fullmatch(key_id)  # braces, upper case: the general reader's canonical form
        ):
            return None
        return SigningKey(
            _zone_name(zone_name, zone),
            key_id,
            key_type,
            algorithm,
            _int(length, 1, 16384),
            KEY_STATE[current_state],
            _str(provider),
            _bool(in_ad),
            _SPANS[dnskey_validity],
            _SPANS[ds_validity],
            _SPANS[zone_validity],
            _SPANS[offset],
            _SPANS[period],
            ROLLOVER_TYPE[rollover_type],
            NEXT_ACTION[action],
            _time(last_time),
            _time(next_time),
            ROLLOVER_STATUS[status],
            _str(active),
            _str(standby),
            _str(next_key),
            _bool(enabled),
        )
    except (NotPlain, TypeError, ValueError):  # TypeError: an object or array for a key
        return None


def _texts(value: Any) -> tuple[str, ...]:
    # String[]: null is empty, blank items are dropped (as_str_tuple); a lone string or a
    # PSObject-wrapped array goes to the general reader.
    if value is None:
        return ()
    if type(value) is not list:
        raise NotPlain
    for item in value:
        if type(item) is not str:
            raise NotPlain
    return tuple(item for item in value if item.strip())


def _digests(value: Any) -> tuple[DsDigest, ...]:
    if value is None:
        return ()
    if type(value) is not list:
        raise NotPlain
    return tuple(member for member in map(_DIGEST.__getitem__, value) if member is not None)


def _salt(value: Any) -> str | None:
    text = _str(value)
    return None if text is None or text.strip() == "-" else text


def zone_settings(obj: Any, zone: str) -> ZoneDnssecSettings | None:
    """A plain ``DnsSecSetting`` record of zone ``zone`` -> ZoneDnssecSettings, else None."""
    if type(obj) is not dict or len(obj) != _SETTINGS_COUNT:
        return None
    try:  # as in signing_key: the count and every name read
        return new_settings(
            _zone_name(obj["ZoneName"], zone),
            _DENIAL[obj["DenialOfExistence"]],
            _str(obj["NSec3HashAlgorithm"]),
            _int(obj["NSec3Iterations"], 0, 65535),
            _bool(obj["NSec3OptOut"]),
            _int(obj["NSec3RandomSaltLength"], 0, 255),
            _salt(obj["NSec3UserSalt"]),
            _str(obj["NSec3CurrentSalt"]),
            _texts(obj["DistributeTrustAnchor"]),
            _bool(obj["EnableRfc5011KeyRollover"]),
            _digests(obj["DSRecordGenerationAlgorithm"]),
            _SPANS[obj["DSRecordSetTtl"]],
            _SPANS[obj["DnsKeyRecordSetTtl"]],
            _SPANS[obj["SignatureInceptionOffset"]],
            _SPANS[obj["SecureDelegationPollingPeriod"]],
            _SPANS[obj["PropagationTime"]],
            _bool(obj["ParentHasSecureDelegation"]),
            _bool(obj["IsKeyMasterServer"]),
            _str(obj["KeyMasterServer"]),
            _KEY_MASTER[obj["KeyMasterStatus"]],
            _bool(obj["IsSigned"]),
        )
    except (NotPlain, TypeError, KeyError, ValueError):
        return None


ZoneHead = tuple[str, ZoneType, bool | None, bool, bool, bool, ReplicationScope | None]


def zone_head(obj: Any) -> ZoneHead | None:
    """A plain ``Zones[]`` record's own properties, in ``Zone`` field order from ``name`` to
    ``replication_scope``, else None; also None when its ``SigningKeys`` or ``Errors`` are
    present but not arrays (null, a lone record, a PSObject wrapper: the general reader's)."""
    if type(obj) is not dict or not ZONE_NAMES.issuperset(obj):
        return None
    get = obj.get
    name = get("ZoneName")
    if type(name) is not str or not name.strip():
        return None
    if type(get("SigningKeys", [])) is not list or type(get("Errors", [])) is not list:
        return None
    try:
        return (
            name,
            ZONE_TYPE[get("ZoneType")] or UNKNOWN_ZONE_TYPE,
            _bool(get("IsSigned")),
            bool(_bool(get("IsDsIntegrated"))),
            bool(_bool(get("IsReverseLookupZone"))),
            bool(_bool(get("IsAutoCreated"))),
            SCOPE[get("ReplicationScope")],
        )
    except (NotPlain, TypeError, ValueError):
        return None


# -- the server, trust anchors and points ----------------------------------------------------------
_SERVER_NAMES: Final = frozenset(("ComputerName", "OsVersion", "DnsVersion", "Settings"))
_SERVER_SETTINGS_NAMES: Final = frozenset(
    ("EnableDnsSec", "EnableOnlineSigning", "MaximumSignatureScanPeriod",
     "MaximumTrustAnchorActiveRefreshInterval", "RootTrustAnchorsURL")
)  # fmt: skip
_ANCHOR_NAMES: Final = frozenset(
    ("TrustAnchorName", "TrustAnchorType", "KeyTag", "TrustAnchorState", "EnteredStateTime",
     "NextStateTime", "CryptoAlgorithm", "DigestType")
)  # fmt: skip
_POINT_NAMES: Final = frozenset(
    ("TrustPointName", "TrustPointState", "LastActiveRefreshTime", "NextActiveRefreshTime",
     "LastSuccessfulActiveRefreshTime", "LastActiveRefreshResult", "LastActiveRefreshResultDescription")
)  # fmt: skip
_ANCHOR_TYPE = Spellings(TrustAnchorType)
_ANCHOR_STATE = Spellings(TrustAnchorState)
_new_server_settings = ServerDnssecSettings
_new_server = ServerInfo
_new_anchor = TrustAnchor
_new_point = TrustPoint


def _exactly(obj: Any, names: frozenset[str]) -> bool:
    return type(obj) is dict and len(obj) == len(names) and names.issuperset(obj)


def server_info(obj: Any) -> ServerInfo | None:
    """A plain ``Server`` record (name, versions, ``Settings`` an object or null) -> ServerInfo."""
    if not _exactly(obj, _SERVER_NAMES):
        return None
    try:
        name = _str(obj["ComputerName"])
        given = obj["Settings"]
        if name is None:
            return None
        if given is None:
            settings = ServerDnssecSettings()
        elif _exactly(given, _SERVER_SETTINGS_NAMES):
            settings = _new_server_settings(
                _bool(given["EnableDnsSec"]),
                _bool(given["EnableOnlineSigning"]),
                _SPANS[given["MaximumSignatureScanPeriod"]],
                _SPANS[given["MaximumTrustAnchorActiveRefreshInterval"]],
                _str(given["RootTrustAnchorsURL"]),
            )
        else:
            return None
        return _new_server(name, _str(obj["OsVersion"]), _str(obj["DnsVersion"]), settings)
    except (NotPlain, TypeError, ValueError):
        return None


def trust_anchor(obj: Any) -> TrustAnchor | None:
    """A plain ``TrustAnchors[]`` record (``CryptoAlgorithm``/``DigestType`` lifted to the top,
    as the script prints them) -> TrustAnchor, else None."""
    if not _exactly(obj, _ANCHOR_NAMES):
        return None
    try:
        name = _str(obj["TrustAnchorName"])
        anchor_type = _ANCHOR_TYPE[obj["TrustAnchorType"]]
        state = _ANCHOR_STATE[obj["TrustAnchorState"]]
        if name is None or anchor_type is None or state is None:
            return None
        return _new_anchor(
            name,
            anchor_type,
            state,
            _int(obj["KeyTag"], 0, 65535),
            ALGORITHM[obj["CryptoAlgorithm"]],
            _DIGEST[obj["DigestType"]],
            _time(obj["EnteredStateTime"]),
            _time(obj["NextStateTime"]),
        )
    except (NotPlain, TypeError, ValueError):
        return None


def trust_point(obj: Any) -> TrustPoint | None:
    """A plain ``TrustPoints[]`` record -> TrustPoint, else None."""
    if not _exactly(obj, _POINT_NAMES):
        return None
    try:
        name = _str(obj["TrustPointName"])
        state = _ANCHOR_STATE[obj["TrustPointState"]]
        if name is None or state is None:
            return None
        return _new_point(
            name,
            state,
            _time(obj["LastActiveRefreshTime"]),
            _time(obj["NextActiveRefreshTime"]),
            _time(obj["LastSuccessfulActiveRefreshTime"]),
            _int(obj["LastActiveRefreshResult"], 0, 2**32 - 1),
            _str(obj["LastActiveRefreshResultDescription"]),
        )
    except (NotPlain, TypeError, ValueError):
        return None
