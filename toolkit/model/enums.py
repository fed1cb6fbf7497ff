"""Windows DnsServer enum strings as tolerant Python enums.

The DnsServer CIM classes carry every "enum" as a plain string (see the reference, section 1.1):
``KeySigningKey``, ``RsaSha256``, ``KskWaitingForDSUpdate`` ... A newer Windows may send a value
we have never seen. Parsing must not crash on it, so each enum here accepts unknown text and
returns a *pseudo-member* whose ``value`` is the raw text and whose ``is_known`` is False (the
trick dnspython's ``dns.enum`` uses for unknown rdata types). Rules can then report it.

Lookups are case-insensitive: PowerShell shows ``PrePublish`` where the MOF says ``Prepublish``,
``NSec3`` where the MOF says ``NSEC3``.
"""

from __future__ import annotations

import enum
from typing import Any, Self

import dns.dnssectypes

__all__ = [
    "CryptoAlgorithm",
    "algorithm_label",
    "DenialOfExistence",
    "DsDigest",
    "KeyMasterStatus",
    "KeyState",
    "KeyType",
    "NextRolloverAction",
    "ReplicationScope",
    "RolloverStatus",
    "RolloverType",
    "TrustAnchorState",
    "TrustAnchorType",
    "WinEnum",
    "ZoneType",
]


class WinEnum(enum.StrEnum):
    """Base for Windows enum strings: case-insensitive, tolerant of unknown values."""

    @classmethod
    def _aliases(cls) -> dict[str, str]:
        """Extra spellings (lower-case) mapped to a canonical member value."""
        return {}

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if not isinstance(value, str):
            return None
        key = value.strip().lower()
        for member in cls:
            if member.value.lower() == key:
                return member
        alias = cls._aliases().get(key)
        if alias is not None:
            return cls(alias)
        # Unknown value: a pseudo-member that keeps the raw text (not cached, not iterable).
        pseudo = str.__new__(cls, value)
        pseudo._name_ = "UNKNOWN"
        pseudo._value_ = value
        return pseudo

    @classmethod
    def parse(cls, value: str) -> Self:
        return cls(value)

    @property
    def is_known(self) -> bool:
        return self._name_ != "UNKNOWN"


class KeyType(WinEnum):
    KSK = "KeySigningKey"
    ZSK = "ZoneSigningKey"

    @classmethod
    def _aliases(cls) -> dict[str, str]:
        return {"ksk": "KeySigningKey", "zsk": "ZoneSigningKey"}

    @property
    def short(self) -> str:
        return self.name if self.is_known else self.value


class KeyState(WinEnum):
    ACTIVE = "Active"
    RETIRED = "Retired"


class CryptoAlgorithm(WinEnum):
    RSASHA1 = "RsaSha1"
    RSASHA1_NSEC3 = "RsaSha1NSec3"
    RSASHA256 = "RsaSha256"
    RSASHA512 = "RsaSha512"
    ECDSAP256SHA256 = "ECDsaP256Sha256"
    ECDSAP384SHA384 = "ECDsaP384Sha384"

    @classmethod
    def _aliases(cls) -> dict[str, str]:
        # DNS mnemonics and numbers, so a user can type --algorithm RSASHA256 or 8.
        out: dict[str, str] = {}
        for member in cls:
            num = _ALG_NUMBERS[member.value]
            out[dns.dnssectypes.Algorithm(num).name.lower()] = member.value
            out[str(num)] = member.value
        return out

    @property
    def number(self) -> dns.dnssectypes.Algorithm | None:
        """The DNSSEC algorithm number (RFC 8624 registry), None for an unknown name."""
        num = _ALG_NUMBERS.get(self.value)
        return dns.dnssectypes.Algorithm(num) if num is not None else None

    @property
    def mnemonic(self) -> str:
        n = self.number
        return n.name if n is not None else self.value

    @property
    def is_rsa(self) -> bool:
        return self.value.lower().startswith("rsa")

    @property
    def is_sha1(self) -> bool:
        return self in (CryptoAlgorithm.RSASHA1, CryptoAlgorithm.RSASHA1_NSEC3)


# Wire numbers from the Windows SDK header (reference section 1.6) = IANA registry.
_ALG_NUMBERS: dict[str, int] = {
    "RsaSha1": 5,
    "RsaSha1NSec3": 7,
    "RsaSha256": 8,
    "RsaSha512": 10,
    "ECDsaP256Sha256": 13,
    "ECDsaP384Sha384": 14,
}


_WINDOWS_NAMES: dict[int, str] = {number: name for name, number in _ALG_NUMBERS.items()}


def algorithm_label(number: int) -> str:
    """How every output spells DNSSEC algorithm ``number``: as the Windows cmdlets print it
    (``RsaSha256``, ``ECDsaP256Sha256``: what Get-DnsServerSigningKey shows and
    Add-DnsServerSigningKey takes), else, for an algorithm Windows does not sign with (a DNS
    view of another server), its IANA mnemonic (``ED25519``), else the number itself."""
    name = _WINDOWS_NAMES.get(number)
    if name is not None:
        return name
    try:
        return dns.dnssectypes.Algorithm(number).name
    except ValueError:
        return str(number)


class RolloverType(WinEnum):
    DOUBLE_SIGNATURE = "DoubleSignature"
    PREPUBLISH = "Prepublish"


class NextRolloverAction(WinEnum):
    NORMAL = "Normal"
    REVOKE_STANDBY = "RevokeStandby"
    RETIRE = "Retire"


class RolloverStatus(WinEnum):
    NOT_ROLLING = "NotRolling"
    QUEUED = "Queued"
    ROLL_STARTED = "RollStarted"
    ZSK_WAITING_FOR_DNSKEY_TTL = "ZskWaitingForDnsKeyTtl"
    ZSK_WAITING_FOR_MAXZONE_TTL = "ZskWaitingForMaxZoneTtl"
    KSK_WAITING_FOR_DS_UPDATE = "KskWaitingForDSUpdate"
    KSK_WAITING_FOR_DS_TTL = "KskWaitingForDSTtl"
    KSK_WAITING_FOR_DNSKEY_TTL = "KskWaitingForDnsKeyTtl"
    WAITING_FOR_RFC5011_REMOVE_HOLD_DOWN = "WaitingForRFC5011RemoveHoldDown"
    ROLL_ERROR = "RollError"

    @property
    def is_rolling(self) -> bool:
        """A rollover is under way: a known status past NotRolling and Queued. A status this
        toolkit does not know is not taken for one (MS-DNSP 2.2.6.2.3: dwCurrentRolloverStatus
        "MUST be set to one of the following values"; a value outside them says nothing)."""
        return self.is_known and self not in (RolloverStatus.NOT_ROLLING, RolloverStatus.QUEUED)


class DenialOfExistence(WinEnum):
    NSEC = "NSec"
    NSEC3 = "NSec3"


class DsDigest(WinEnum):
    NONE = "None"
    SHA1 = "Sha1"
    SHA256 = "Sha256"
    SHA384 = "Sha384"

    @property
    def number(self) -> dns.dnssectypes.DSDigest | None:
        num = {"Sha1": 1, "Sha256": 2, "Sha384": 4}.get(self.value)
        return dns.dnssectypes.DSDigest(num) if num is not None else None


class KeyMasterStatus(WinEnum):
    ONLINE = "Online"
    OFFLINE = "Offline"


class ZoneType(WinEnum):
    PRIMARY = "Primary"
    SECONDARY = "Secondary"
    STUB = "Stub"
    FORWARDER = "Forwarder"
    CACHE = "Cache"


class ReplicationScope(WinEnum):
    FOREST = "Forest"
    DOMAIN = "Domain"
    LEGACY = "Legacy"
    CUSTOM = "Custom"
    NONE = "None"


class TrustAnchorType(WinEnum):
    DNSKEY = "DnsKey"
    DS = "DS"


class TrustAnchorState(WinEnum):
    INITIALIZED = "Initialized"
    DS_PENDING = "DSPending"
    DS_INVALID = "DSInvalid"
    ADD_PENDING = "AddPending"
    VALID = "Valid"
    MISSING = "Missing"
    REVOKED = "Revoked"
    DELETED = "Deleted"
    # Not in the MOF list but shown by Get-DnsServerTrustPoint for the root (reference 1.5).
    ACTIVE = "Active"
