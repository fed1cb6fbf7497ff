"""Cmdlet-level fakes: the DnsServer cmdlets the scripts call, over a simulated server's state.

The script mirrors (``reads``, ``writes``, ``export``) call these where the ``.ps1`` calls the
cmdlet, so what a mirror prints follows from what the script does with what the cmdlet returns,
never from what the script was meant to print. Each fake returns what the cmdlet writes to the
pipeline, as a list (empty when it writes nothing) of objects, each a dict of the properties the
CIM class declares; TimeSpans are ``timedelta``, DateTimes ``datetime`` (UTC). A failure raises
``CimError`` (a ``CmdletError``) with the Win32 code, the cmdlet, and the FullyQualifiedErrorId
``"WIN32 NNNN,<Cmdlet>"`` (reference section 2).

Sources, cited at each fact:
  PSD  = MicrosoftDocs/windows-powershell-docs docset/winserver2022-ps/DnsServer/<Cmdlet>.md
  MOF  = MicrosoftDocs/win32 desktop-src/DnsServerPSProv/<class>.md (at f0629c9a)
  REF  = the project's Windows DNSSEC reference, section given
  RAW  = fixtures/raw/<file> (captured-style, built from REF; not a live capture)
What no source settles is listed as UNCONFIRMED in fixtures/README.md ("What the simulator
assumes about Windows"); the comments here say UNCONFIRMED too.

The state is the fixture's (``SimulatedServer.state``): zones with ``SigningKeys`` and
``DnsSecSetting``, TimeSpans as seconds, times as ISO text. Writes change it in place.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from toolkit import dnssec_limits as lim
from toolkit.errors import CmdletError
from toolkit.model import zone_key
from toolkit.testing.simulator.powershell import CimError, iso
from toolkit.testing.simulator.runspace import DNSSERVER_COMMANDS, command_not_found, current_session

if TYPE_CHECKING:
    from toolkit.testing.simulator.server import SimulatedServer

__all__ = ["MESSAGES", "SPLAT", "CimError", "CimInstance", "Cmdlets", "invoke", "win32"]

KSK_TYPE, ZSK_TYPE = "KeySigningKey", "ZoneSigningKey"

# Win32 messages (REF section 3 = Microsoft's system error code list): error_WindowsErrorMessage.
MESSAGES = {
    9101: "Only the DNS server acting as the key master for the zone may perform this operation.",
    9102: "This operation is not allowed on a zone that is signed or has signing keys.",
    9103: "NSEC3 is not compatible with the RSA-SHA-1 algorithm. Choose a different algorithm or use NSEC.",
    9104: "The zone does not have enough signing keys. There must be at least one key signing key (KSK) "
    "and at least one zone signing key (ZSK).",
    9106: "The specified key size is not supported.",
    9112: "The specified key service provider cannot be opened by the DNS server.",
    9113: "The DNS server cannot accept any more signing keys with the specified algorithm and KSK flag "
    "value for this zone.",
    9114: "The specified rollover period is invalid.",
    9115: "The specified initial rollover offset is invalid.",
    9116: "The specified signing key is already in process of rolling over keys.",
    9117: "The specified signing key does not have a standby key to revoke.",
    9118: "This operation is not allowed on a zone signing key (ZSK).",
    9119: "This operation is not allowed on an active signing key.",
    9120: "The specified signing key is already queued for rollover.",
    9121: "This operation is not allowed on an unsigned zone.",
    9123: "The specified signature validity period is invalid.",
    9124: "The specified NSEC3 iteration count is higher than allowed by the minimum key length used in "
    "the zone.",
    9128: "The specified signing key is not waiting for parental DS update.",
    9130: "NSEC is not compatible with the NSEC3-RSA-SHA-1 algorithm. Choose a different algorithm or use "
    "NSEC3.",
    9611: "Invalid DNS zone type.",
}

# -- CIM classes: the properties each object carries (MOF syntax blocks) -----------------------
# MOF dnsserverzone.md: class DnsServerZone : DnsDomain
ZONE_PROPERTIES = (
    "DistinguishedName", "ZoneName", "ZoneType", "IsPaused", "IsDsIntegrated", "IsAutoCreated",
    "IsReverseLookupZone", "IsReadOnly", "IsShutdown",
)  # fmt: skip
# MOF dnsserverprimaryzone.md: DnsServerPrimaryZone adds these (ReplicationScope and IsSigned here)
PRIMARY_ZONE_PROPERTIES = ZONE_PROPERTIES + (
    "DirectoryPartitionName", "ReplicationScope", "ZoneFile", "Notify", "NotifyServers", "SecureSecondaries",
    "SecondaryServers", "DynamicUpdate", "IsWinsEnabled", "IsSigned", "AllowedDcForNsRecordsAutoCreation",
    "IsPluginEnabled", "IgnorePolicies",
)  # fmt: skip
# MOF dnsserversecondaryzone.md: DnsServerSecondaryZone adds these, and has no ReplicationScope and
# no IsSigned (also RAW ps51-zones.json / ps7-zones.json: the secondary carries neither).
SECONDARY_ZONE_PROPERTIES = ZONE_PROPERTIES + (
    "ZoneFile", "MasterServers", "IsWinsEnabled", "LastSuccessfulSoaCheck", "LastZoneTransferAttempt",
    "LastSuccessfulZoneTransfer", "LastZoneTransferResult", "IgnorePolicies",
)  # fmt: skip
# MOF dnsserversigningkey.md, plus IsRolloverEnabled: not in the MOF, shown by PowerShell (an
# extended member of the module; REF section 0 and 1.1).
KEY_PROPERTIES = (
    "ZoneName", "KeyId", "KeyType", "CurrentState", "KeyStorageProvider", "StoreKeysInAD", "CryptoAlgorithm",
    "KeyLength", "DnsKeySignatureValidityPeriod", "DSSignatureValidityPeriod", "ZoneSignatureValidityPeriod",
    "InitialRolloverOffset", "RolloverPeriod", "RolloverType", "NextRolloverAction", "LastRolloverTime",
    "NextRolloverTime", "CurrentRolloverStatus", "ActiveKey", "StandbyKey", "NextKey", "IsRolloverEnabled",
)  # fmt: skip
# MOF dnsserverdnsseczonesetting.md (IsSigned, NSec3CurrentSalt, CurrentRollingSkdGuid: 2012 R2+)
SETTING_PROPERTIES = (
    "ZoneName", "DenialOfExistence", "NSec3HashAlgorithm", "NSec3Iterations", "NSec3OptOut",
    "NSec3RandomSaltLength", "NSec3UserSalt", "DistributeTrustAnchor", "EnableRfc5011KeyRollover",
    "DSRecordGenerationAlgorithm", "DSRecordSetTtl", "DnsKeyRecordSetTtl", "SignatureInceptionOffset",
    "SecureDelegationPollingPeriod", "PropagationTime", "ParentHasSecureDelegation", "IsKeyMasterServer",
    "KeyMasterServer", "KeyMasterStatus", "IsSigned", "NSec3CurrentSalt", "CurrentRollingSkdGuid",
)  # fmt: skip
# MOF dnsservertrustpoint.md
TRUST_POINT_PROPERTIES = (
    "TrustPointName", "TrustPointState", "LastActiveRefreshTime", "NextActiveRefreshTime",
    "LastSuccessfulActiveRefreshTime", "LastActiveRefreshResult", "LastActiveRefreshResultDescription",
)  # fmt: skip
# MOF dnsservertrustanchor.md (TrustAnchorData: an embedded DnsServerResourceRecordData)
TRUST_ANCHOR_PROPERTIES = (
    "TrustAnchorName", "TrustAnchorType", "KeyTag", "TrustAnchorState", "EnteredStateTime", "NextStateTime",
    "TrustAnchorData",
)  # fmt: skip
# MOF dnsserversetting.md (the DNSSEC members; REF 1.7) and Get-DnsServerSetting's identity members
SERVER_SETTING_SPANS = ("MaximumSignatureScanPeriod", "MaximumTrustAnchorActiveRefreshInterval")

# -- rollover statuses: MOF dnsserversigningkey.md CurrentRolloverStatus (REF 1.1 splits the MOF's
# glued 5th/6th token). A fixture may carry another value on purpose, labelled in its Illustrates
# (dns5's "KskWaitingForCds", which no source lists: it shows the toolkit tolerating an unknown one).
ROLLOVER_STATUSES = (
    "NotRolling", "Queued", "RollStarted", "ZskWaitingForDnsKeyTtl", "ZskWaitingForMaxZoneTtl",
    "KskWaitingForDSUpdate", "KskWaitingForDSTtl", "KskWaitingForDnsKeyTtl",
    "WaitingForRFC5011RemoveHoldDown",
    "RollError",
)  # fmt: skip

_SPANS = frozenset(
    {
        "DnsKeySignatureValidityPeriod", "DSSignatureValidityPeriod", "ZoneSignatureValidityPeriod",
        "InitialRolloverOffset", "RolloverPeriod", "DSRecordSetTtl", "DnsKeyRecordSetTtl",
        "SignatureInceptionOffset", "SecureDelegationPollingPeriod", "PropagationTime",
        *SERVER_SETTING_SPANS,
    }
)  # fmt: skip
_TIMES = frozenset(
    {
        "LastRolloverTime", "NextRolloverTime", "EnteredStateTime", "NextStateTime", "LastActiveRefreshTime",
        "NextActiveRefreshTime", "LastSuccessfulActiveRefreshTime", "LastSuccessfulSoaCheck",
        "LastZoneTransferAttempt", "LastSuccessfulZoneTransfer",
    }
)  # fmt: skip


class CimInstance(dict[str, Any]):
    """A CIM instance a cmdlet writes: its properties by name, and beside them what ConvertTo-Json
    prints of it besides (``toolkit.testing.simulator.ps51``): its class (``CimSystemProperties.ClassName``)
    and the server it came from (``PSComputerName``)."""

    def __init__(self, properties: Mapping[str, Any], *, class_name: str, computer_name: str) -> None:
        super().__init__(properties)
        self.class_name = class_name
        self.computer_name = computer_name


P = ParamSpec("P")
R = TypeVar("R")


def _module_cmdlet(name: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A cmdlet of the DnsServer module: in a session without the module it is not a command, and
    calling it raises CommandNotFoundException (``runspace.command_not_found``)."""
    assert name in DNSSERVER_COMMANDS, name

    def wrap(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            if not current_session().dnsserver:
                raise command_not_found(name)
            return fn(*args, **kwargs)

        return run

    return wrap


#: Scripts that ``Faults.Inventory`` applies to (fixtures/README.md): the inventory and the doctor's
#: raw sample, the two scripts that list a server's zones for reading.
INVENTORY_FAULT_SCRIPTS = frozenset({"inventory", "raw_sample"})


def win32(code: int, cmdlet: str, message: str | None = None) -> CimError:
    """The error a DnsServer cmdlet raises for a Win32 code: FullyQualifiedErrorId
    ``"WIN32 <code>,<cmdlet>"`` (REF section 2, observed transcripts)."""
    return CimError(message or MESSAGES[code], code=code, cmdlet=cmdlet)


def _invalid(cmdlet: str, parameter: str, value: Any) -> CmdletError:
    """The cmdlet's own ValidateSet refusing a value (PSD "Accepted values"); no Win32 code."""
    return CmdletError(
        f"Cannot validate argument on parameter '{parameter}'. The argument \"{value}\" does not belong to "
        "the set specified by the ValidateSet attribute.",
        cmdlet=cmdlet,
        fully_qualified_error_id=f"ParameterArgumentValidationError,{cmdlet}",
    )


def _span(value: Any) -> timedelta | None:
    return None if value is None else timedelta(seconds=float(value))


def _time(value: Any) -> datetime | None:
    if value is None:
        return None
    d = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return d if d.tzinfo else d.replace(tzinfo=UTC)


def _cim(
    record: Mapping[str, Any], properties: Sequence[str], defaults: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A CIM instance of a class with ``properties``, its values from a fixture ``record``
    (TimeSpans as timedelta, times as datetime); a property the fixture does not give is $null."""
    out: dict[str, Any] = {}
    for name in properties:
        value = record[name] if name in record else (defaults or {}).get(name)
        if name in _SPANS:
            value = _span(value)
        elif name in _TIMES:
            value = _time(value)
        else:
            value = copy.deepcopy(value)
        out[name] = value
    return out


def _seconds(span: timedelta | None) -> float | None:
    return None if span is None else span.total_seconds()


def _norm_id(text: Any) -> str:
    return str(text).strip().strip("{}").lower()


def _pointer() -> str:
    # Key pointers look like {68550441-8E4D-4D99-921C-BC1807FFF7ED} (REF section 0).
    return "{" + str(uuid.uuid4()).upper() + "}"


def _pairs(keys: Any) -> list[tuple[str, str | None]]:
    return [(str(k.get("KeyType")), k.get("CurrentState")) for k in keys or []]


def _check(v: lim.Violation | None, cmdlet: str) -> None:
    if v is not None:
        raise win32(v.code, cmdlet)


class Cmdlets:
    """The DnsServer cmdlets (and the few others the scripts call) of one simulated server, for one
    script run. ``script`` names the running script (``Faults.Inventory`` applies to the
    inventory and the raw sample alone);
    ``files`` is the run's file system (the export writes a file, the script reads it back)."""

    def __init__(self, server: SimulatedServer, script: str) -> None:
        self.server = server
        self.script = script
        self.files: dict[str, dict[str, str]] = {}

    # -- state and faults ------------------------------------------------------------------
    @property
    def _state(self) -> dict[str, Any]:
        return self.server.state

    def _fault(self, cmdlet: str, zone: Mapping[str, Any] | None = None) -> None:
        """Raise the failure a fixture injects for ``cmdlet`` (fixtures/README.md, Faults): the
        zone's ``Faults[<cmdlet>]``, the server's ``Faults[<cmdlet>]``, or, while the inventory or
        the raw sample runs, ``Faults.Inventory`` at the cmdlet it names (default Get-DnsServerZone)."""
        found: Mapping[str, Any] | None = None
        if zone is not None:
            found = self.server.fault(zone, cmdlet)
        if found is None:
            found = self.server.fault(self._state, cmdlet)
        if found is None and self.script in INVENTORY_FAULT_SCRIPTS:
            inv = self.server.fault(self._state, "Inventory")
            if inv is not None and str(inv.get("Cmdlet") or "Get-DnsServerZone") == cmdlet:
                found = inv
        if found is None:
            return
        code = found.get("Code")
        raise CimError(
            str(found.get("Message") or "The operation failed."),
            code=int(code) if code is not None else None,
            cmdlet=str(found.get("Cmdlet") or cmdlet),
            fully_qualified_error_id=found.get("FullyQualifiedErrorId"),
        )

    def _zone(self, name: str, cmdlet: str) -> dict[str, Any]:
        # Zone names compare ignoring case and a trailing dot (DNS names; UNCONFIRMED for the cmdlets).
        z = self.server.find_zone(name)
        if z is None:
            # REF section 2, observed: "The zone X was not found on server Y.", WIN32 9601,Get-DnsServerZone
            # (the same code and text from the other cmdlets: UNCONFIRMED).
            raise win32(9601, cmdlet, f"The zone {name} was not found on server {self.server.name}.")
        return z

    def _primary(self, name: str, cmdlet: str) -> dict[str, Any]:
        """A zone a DNSSEC change may touch; another zone type is 9611 DNS_ERROR_INVALID_ZONE_TYPE
        (REF 3.3; that the DNSSEC cmdlets answer a secondary or auto-created zone so: UNCONFIRMED)."""
        z = self._zone(name, cmdlet)
        if str(z.get("ZoneType", "")).lower() != "primary" or z.get("IsAutoCreated"):
            raise win32(9611, cmdlet)
        return z

    def _key_master(self, z: Mapping[str, Any], cmdlet: str) -> None:
        # 9101 DNS_ERROR_KEYMASTER_REQUIRED (REF 3.1): only the key master changes keys and settings.
        setting = z.get("DnsSecSetting")
        if isinstance(setting, dict) and setting.get("IsKeyMasterServer") is False:
            raise win32(9101, cmdlet)

    def _find_key(self, z: Mapping[str, Any], key_id: Any, cmdlet: str) -> dict[str, Any]:
        want = _norm_id(key_id)
        for k in z.get("SigningKeys") or []:
            if _norm_id(k.get("KeyId")) == want:
                return k  # type: ignore[no-any-return]
        # UNCONFIRMED: the error for a key id the zone does not hold (a CIM "not found").
        raise CimError(
            f"The signing key {want} was not found in zone {z['ZoneName']} on server {self.server.name}.",
            code=None,
            cmdlet=cmdlet,
            fully_qualified_error_id=f"MiClientApiError_NotFound,{cmdlet}",
        )

    def _setting_record(self, z: dict[str, Any], *, create: bool) -> dict[str, Any]:
        """The zone's DnsSecSetting record; a zone never given one has Windows's defaults (REF 1.8;
        that an unconfigured zone reports the defaults: UNCONFIRMED)."""
        s = z.get("DnsSecSetting")
        if isinstance(s, dict):
            return s
        s = {"ZoneName": z["ZoneName"], **copy.deepcopy(lim.DEFAULT_DNSSEC_SETTING)}
        s.update(
            IsKeyMasterServer=True, KeyMasterServer=self.server.name, KeyMasterStatus="Online",
            IsSigned=bool(z.get("IsSigned")),
        )  # fmt: skip
        _refresh_salt(s)
        if create:
            z["DnsSecSetting"] = s
        return s

    # -- objects -----------------------------------------------------------------------------
    def _instance(self, properties: Mapping[str, Any], class_name: str) -> CimInstance:
        return CimInstance(properties, class_name=class_name, computer_name=self.server.name)

    def _zone_object(self, z: Mapping[str, Any]) -> CimInstance:
        kind = str(z.get("ZoneType", "")).lower()
        if kind == "primary":
            obj = _cim(z, PRIMARY_ZONE_PROPERTIES)
            obj["IsSigned"] = bool(z.get("IsSigned"))  # a boolean of every primary zone (MOF)
            return self._instance(obj, "DnsServerPrimaryZone")
        if kind == "secondary":
            return self._instance(_cim(z, SECONDARY_ZONE_PROPERTIES), "DnsServerSecondaryZone")
        # Stub, Forwarder, Cache: their own classes are not modelled; the DnsServerZone members only.
        return self._instance(_cim(z, ZONE_PROPERTIES), f"DnsServer{z.get('ZoneType') or ''}Zone")

    def _key_object(self, z: Mapping[str, Any], k: Mapping[str, Any]) -> CimInstance:
        obj = _cim({**k, "ZoneName": k.get("ZoneName") or z["ZoneName"]}, KEY_PROPERTIES)
        return self._instance(obj, "DnsServerSigningKey")

    def _setting_object(self, z: dict[str, Any]) -> CimInstance:
        s = self._setting_record(z, create=False)
        obj = _cim(s, SETTING_PROPERTIES)
        obj["ZoneName"] = s.get("ZoneName") or z["ZoneName"]
        return self._instance(obj, "DnsServerDnsSecZoneSetting")

    # -- reads -------------------------------------------------------------------------------
    @_module_cmdlet("Get-DnsServerZone")
    def Get_DnsServerZone(self, name: str | None = None) -> list[dict[str, Any]]:  # noqa: N802
        """PSD Get-DnsServerZone: every zone, TrustAnchors and auto-created ones included (RAW
        ps51-zones.json lists both; PSD Add-DnsServerSecondaryZone example 2 filters them out of
        this cmdlet's output), in the fixture's order (Windows's order: UNCONFIRMED); with -Name
        that zone, or 9601."""
        cmdlet = "Get-DnsServerZone"
        self._fault(cmdlet)
        if name is None:
            return [self._zone_object(z) for z in self._state["Zones"]]
        return [self._zone_object(self._zone(name, cmdlet))]

    @_module_cmdlet("Get-DnsServerSigningKey")
    def Get_DnsServerSigningKey(self, zone: str, key_id: Any = None) -> list[dict[str, Any]]:  # noqa: N802
        """PSD Get-DnsServerSigningKey -ZoneName [-KeyId Guid[]]: the zone's keys (CimInstance#
        DnsServerSigningKey[]). A zone without keys gives no output, signed or not (UNCONFIRMED:
        it could be an error)."""
        cmdlet = "Get-DnsServerSigningKey"
        z = self._zone(zone, cmdlet)
        self._fault(cmdlet, z)
        keys = z.get("SigningKeys") or []
        if key_id is None:
            return [self._key_object(z, k) for k in keys]
        return [self._key_object(z, self._find_key(z, i, cmdlet)) for i in _as_list(key_id)]

    @_module_cmdlet("Get-DnsServerDnsSecZoneSetting")
    def Get_DnsServerDnsSecZoneSetting(self, zone: str) -> list[dict[str, Any]]:  # noqa: N802
        """PSD Get-DnsServerDnsSecZoneSetting -ZoneName: one DnsServerDnsSecZoneSetting per zone."""
        cmdlet = "Get-DnsServerDnsSecZoneSetting"
        z = self._zone(zone, cmdlet)
        self._fault(cmdlet, z)
        return [self._setting_object(z)]

    @_module_cmdlet("Get-DnsServerSetting")
    def Get_DnsServerSetting_All(self) -> list[dict[str, Any]]:  # noqa: N802
        """PSD Get-DnsServerSetting -All: one DnsServerSetting (MOF dnsserversetting.md). The fixture's
        ``Server.DnsVersion`` "10.0.20348" is its MajorVersion, MinorVersion, BuildNumber."""
        self._fault("Get-DnsServerSetting")
        server = self._state["Server"]
        obj: dict[str, Any] = {"ComputerName": server.get("ComputerName")}
        version = str(server.get("DnsVersion") or "")
        parts = version.split(".")
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            obj.update(MajorVersion=int(parts[0]), MinorVersion=int(parts[1]), BuildNumber=int(parts[2]))
        for name, value in (server.get("Settings") or {}).items():
            obj[name] = _span(value) if name in SERVER_SETTING_SPANS else copy.deepcopy(value)
        return [obj]

    def Get_CimInstance_Win32_OperatingSystem(self) -> list[dict[str, Any]]:  # noqa: N802
        """Get-CimInstance -ClassName Win32_OperatingSystem: ``Caption`` and ``Version``, split from
        the fixture's ``Server.OsVersion`` ("Microsoft Windows Server 2022 Datacenter 10.0.20348")."""
        self._fault("Get-CimInstance")
        text = self._state["Server"].get("OsVersion")
        if text is None:
            return [{"Caption": None, "Version": None}]
        caption, _, version = str(text).rpartition(" ")
        if not version.replace(".", "").isdigit():
            caption, version = str(text), ""
        return [{"Caption": caption, "Version": version}]

    def _trust_anchors_zone(self, cmdlet: str) -> None:
        # Trust anchors and points live in the zone TrustAnchors (PSD Add-DnsServerResourceRecordDnsKey);
        # without it the cmdlet answers 9601 (UNCONFIRMED).
        if self.server.find_zone("TrustAnchors") is None:
            raise win32(9601, cmdlet, f"The zone TrustAnchors was not found on server {self.server.name}.")

    @_module_cmdlet("Get-DnsServerTrustPoint")
    def Get_DnsServerTrustPoint(self) -> list[dict[str, Any]]:  # noqa: N802
        """PSD Get-DnsServerTrustPoint: CimInstance#DnsServerTrustPoint[]."""
        cmdlet = "Get-DnsServerTrustPoint"
        self._fault(cmdlet)
        self._trust_anchors_zone(cmdlet)
        return [_cim(p, TRUST_POINT_PROPERTIES) for p in self._state.get("TrustPoints") or []]

    @_module_cmdlet("Get-DnsServerTrustAnchor")
    def Get_DnsServerTrustAnchor(self, name: str | None) -> list[dict[str, Any]]:  # noqa: N802
        """PSD Get-DnsServerTrustAnchor -Name (Required): the anchors of that name. The fixture writes
        an anchor's algorithm and digest type beside it; Windows has them in the embedded
        TrustAnchorData (MOF dnsservertrustanchor.md; RAW ps51-trust-anchors.json)."""
        cmdlet = "Get-DnsServerTrustAnchor"
        if name is None:  # -Name is mandatory (PSD): $null does not bind
            raise CmdletError(
                "Cannot bind argument to parameter 'Name' because it is null.",
                cmdlet=cmdlet,
                fully_qualified_error_id=f"ParameterArgumentValidationErrorNullNotAllowed,{cmdlet}",
            )
        self._fault(cmdlet)
        self._trust_anchors_zone(cmdlet)
        want = zone_key(name)
        out = []
        for a in self._state.get("TrustAnchors") or []:
            if zone_key(str(a.get("TrustAnchorName", ""))) != want:
                continue  # an anchor of another name (matching ignoring case and trailing dot: UNCONFIRMED)
            obj = _cim(a, TRUST_ANCHOR_PROPERTIES)
            # MOF DnsServerResourceRecordDnsKey / DnsServerResourceRecordDS (REF 1.6)
            data: dict[str, Any] = {"KeyTag": a.get("KeyTag"), "CryptoAlgorithm": a.get("CryptoAlgorithm")}
            if str(a.get("TrustAnchorType", "")).lower() == "ds":
                data.update(DigestType=a.get("DigestType"), Digest=a.get("Digest"))
            obj["TrustAnchorData"] = data
            out.append(obj)
        return out

    # -- keys ----------------------------------------------------------------------------------
    @_module_cmdlet("Add-DnsServerSigningKey")
    def Add_DnsServerSigningKey(  # noqa: N802
        self,
        zone: str,
        type: str | None = None,  # noqa: A002 - the cmdlet's parameter name (alias KeyType)
        crypto_algorithm: str | None = None,
        key_length: int | None = None,
        initial_rollover_offset: timedelta | None = None,
        dns_key_signature_validity_period: timedelta | None = None,
        ds_signature_validity_period: timedelta | None = None,
        zone_signature_validity_period: timedelta | None = None,
        rollover_period: timedelta | None = None,
        store_keys_in_ad: bool | None = None,
        key_storage_provider: str | None = None,
        pass_thru: bool = False,
    ) -> list[dict[str, Any]]:
        """PSD Add-DnsServerSigningKey; output only with -PassThru ("By default, this cmdlet does not
        generate any output"). Defaults and limits: REF 1.8 (toolkit.dnssec_limits)."""
        cmdlet = lim.CMDLETS["key_add"]
        z = self._primary(zone, cmdlet)
        self._key_master(z, cmdlet)
        key_type = lim.canonical(type or KSK_TYPE, (KSK_TYPE, ZSK_TYPE))
        if key_type is None:
            raise _invalid(cmdlet, "Type", type)
        alg = lim.canonical(crypto_algorithm or "RsaSha256", lim.ALGORITHMS)
        if alg is None:
            raise _invalid(cmdlet, "CryptoAlgorithm", crypto_algorithm)
        length = lim.default_key_length(alg, key_type) if key_length is None else int(key_length)
        _check(lim.check_key_length(alg, length), cmdlet)
        provider = lim.KEY_STORAGE_PROVIDERS[0]
        if key_storage_provider is not None:
            _check(lim.check_key_storage_provider(key_storage_provider), cmdlet)
            provider = lim.canonical(key_storage_provider, lim.KEY_STORAGE_PROVIDERS) or provider
        keys: list[dict[str, Any]] = z.setdefault("SigningKeys", [])
        _check(
            lim.check_key_count(
                [(str(k.get("KeyType")), str(k.get("CryptoAlgorithm"))) for k in keys], key_type, alg
            ),
            cmdlet,
        )
        period = _seconds(rollover_period)
        if period is None:
            period = float(lim.DEFAULT_ROLLOVER_DAYS[key_type] * lim.DAY)
        _check(lim.check_rollover_period(key_type, period), cmdlet)
        offset = _seconds(initial_rollover_offset) or 0.0
        _check(lim.check_initial_rollover_offset(offset), cmdlet)
        validity: dict[str, float] = {}
        for what, span, field in (
            ("DNSKEY", dns_key_signature_validity_period, "DnsKeySignatureValidityPeriod"),
            ("DS", ds_signature_validity_period, "DSSignatureValidityPeriod"),
            ("zone", zone_signature_validity_period, "ZoneSignatureValidityPeriod"),
        ):
            if span is not None:
                _check(lim.check_signature_validity(what, span.total_seconds()), cmdlet)
                validity[field] = span.total_seconds()
        setting = z.get("DnsSecSetting")
        denial = setting.get("DenialOfExistence") if isinstance(setting, dict) else None
        _check(lim.check_denial_compatible(denial, [alg]), cmdlet)
        if isinstance(setting, dict) and denial and str(denial).lower() == "nsec3":
            lengths = [int(k.get("KeyLength") or 0) for k in keys] + [length]
            _check(lim.check_nsec3_iterations(int(setting.get("NSec3Iterations") or 0), lengths), cmdlet)
        key: dict[str, Any] = {
            "ZoneName": z["ZoneName"],
            "KeyId": str(uuid.uuid4()),
            "KeyType": key_type,
            "CurrentState": "Active",
            "KeyStorageProvider": provider,
            # StoreKeysInAD "applies only to AD-integrated zones" (PSD); its default follows the zone.
            "StoreKeysInAD": bool(z.get("IsDsIntegrated"))
            if store_keys_in_ad is None
            else bool(store_keys_in_ad),
            "CryptoAlgorithm": alg,
            "KeyLength": length,
            "DnsKeySignatureValidityPeriod": validity.get(
                "DnsKeySignatureValidityPeriod", lim.DEFAULT_VALIDITY_HOURS["DnsKey"] * 3600.0
            ),
            "DSSignatureValidityPeriod": validity.get(
                "DSSignatureValidityPeriod", lim.DEFAULT_VALIDITY_HOURS["DS"] * 3600.0
            ),
            "ZoneSignatureValidityPeriod": validity.get(
                "ZoneSignatureValidityPeriod", lim.DEFAULT_VALIDITY_HOURS["Zone"] * 3600.0
            ),
            "InitialRolloverOffset": offset,
            "RolloverPeriod": period,
            # REF 1.1/1.8: DoubleSignature for a KSK, Prepublish for a ZSK (PowerShell shows "PrePublish")
            "RolloverType": "DoubleSignature" if key_type == KSK_TYPE else "PrePublish",
            "NextRolloverAction": "Normal",
            "LastRolloverTime": None,
            "NextRolloverTime": None,
            "CurrentRolloverStatus": "NotRolling",
            "ActiveKey": _pointer(),
            "StandbyKey": _pointer() if key_type == ZSK_TYPE else None,  # UNCONFIRMED: when a standby exists
            "NextKey": None,
            "IsRolloverEnabled": True,
        }
        self._schedule(key, offset)
        keys.append(key)
        self._setting_record(z, create=True)
        return [self._key_object(z, key)] if pass_thru else []

    @_module_cmdlet("Remove-DnsServerSigningKey")
    def Remove_DnsServerSigningKey(  # noqa: N802
        self, zone: str, key_id: Any, force: bool = False, pass_thru: bool = False
    ) -> list[dict[str, Any]]:
        """PSD Remove-DnsServerSigningKey: "cannot remove active signing keys from a signed zone"
        (9119); a signed zone keeps an active KSK and ZSK (9104)."""
        del force
        cmdlet = lim.CMDLETS["key_remove"]
        z = self._primary(zone, cmdlet)
        self._key_master(z, cmdlet)
        doomed = [self._find_key(z, i, cmdlet) for i in _as_list(key_id)]
        keys: list[dict[str, Any]] = z["SigningKeys"]
        remaining = [k for k in keys if all(k is not d for d in doomed)]
        if z.get("IsSigned"):
            _check(lim.check_signing_keys(_pairs(remaining)), cmdlet)
            for k in doomed:
                if str(k.get("CurrentState") or "Active").lower() != "retired":
                    raise win32(9119, cmdlet)
        out: list[dict[str, Any]] = [self._key_object(z, k) for k in doomed]
        z["SigningKeys"] = remaining
        if not remaining and not z.get("IsSigned"):
            z["DnsSecSetting"] = None  # UNCONFIRMED: an unsigned zone without keys keeps no settings
        return out if pass_thru else []

    @_module_cmdlet("Set-DnsServerSigningKey")
    def Set_DnsServerSigningKey(  # noqa: N802
        self,
        zone: str,
        key_id: str,
        rollover_period: timedelta | None = None,
        dns_key_signature_validity_period: timedelta | None = None,
        ds_signature_validity_period: timedelta | None = None,
        zone_signature_validity_period: timedelta | None = None,
        next_rollover_action: str | None = None,
        pass_thru: bool = False,
    ) -> list[dict[str, Any]]:
        """PSD Set-DnsServerSigningKey; NextRolloverAction Normal, RevokeStandby, Retire."""
        cmdlet = lim.CMDLETS["key_set"]
        z = self._primary(zone, cmdlet)
        self._key_master(z, cmdlet)
        key = self._find_key(z, key_id, cmdlet)
        changes: dict[str, Any] = {}
        if rollover_period is not None:
            _check(
                lim.check_rollover_period(str(key.get("KeyType")), rollover_period.total_seconds()), cmdlet
            )
            changes["RolloverPeriod"] = rollover_period.total_seconds()
        for what, span, field in (
            ("DNSKEY", dns_key_signature_validity_period, "DnsKeySignatureValidityPeriod"),
            ("DS", ds_signature_validity_period, "DSSignatureValidityPeriod"),
            ("zone", zone_signature_validity_period, "ZoneSignatureValidityPeriod"),
        ):
            if span is not None:
                _check(lim.check_signature_validity(what, span.total_seconds()), cmdlet)
                changes[field] = span.total_seconds()
        if next_rollover_action is not None:
            canon = lim.canonical(next_rollover_action, lim.NEXT_ROLLOVER_ACTIONS)
            if canon is None:
                raise _invalid(cmdlet, "NextRolloverAction", next_rollover_action)
            if canon == "RevokeStandby":
                if key.get("KeyType") == ZSK_TYPE:
                    raise win32(9118, cmdlet)  # RevokeStandby is RFC 5011, for KSKs
                if not key.get("StandbyKey"):
                    raise win32(9117, cmdlet)
            changes["NextRolloverAction"] = canon
        key.update(changes)
        if "RolloverPeriod" in changes:
            self._schedule(key)
        return [self._key_object(z, key)] if pass_thru else []

    def _schedule(self, key: dict[str, Any], offset: float = 0.0) -> None:
        # A model, not Windows: the next rollover is one period (or the first offset) from now.

        period = key.get("RolloverPeriod")
        if key.get("IsRolloverEnabled") and period:
            key["NextRolloverTime"] = iso(self.server.now + timedelta(seconds=offset or float(period)))
        else:
            key["NextRolloverTime"] = None

    def _rollover_key(self, zone: str, key_id: str, cmdlet: str) -> tuple[dict[str, Any], dict[str, Any]]:
        z = self._primary(zone, cmdlet)
        self._key_master(z, cmdlet)
        return z, self._find_key(z, key_id, cmdlet)

    @_module_cmdlet("Enable-DnsServerSigningKeyRollover")
    def Enable_DnsServerSigningKeyRollover(  # noqa: N802
        self,
        zone: str,
        key_id: str,
        rollover_period: timedelta | None = None,
        initial_rollover_offset: timedelta | None = None,
        force: bool = False,
        pass_thru: bool = False,
    ) -> list[dict[str, Any]]:
        """PSD Enable-DnsServerSigningKeyRollover."""
        del force
        cmdlet = lim.CMDLETS["key_rollover:enable"]
        z, key = self._rollover_key(zone, key_id, cmdlet)
        period = _seconds(rollover_period)
        if period is None:
            period = float(
                key.get("RolloverPeriod") or lim.DEFAULT_ROLLOVER_DAYS[str(key["KeyType"])] * lim.DAY
            )
        _check(lim.check_rollover_period(str(key["KeyType"]), period), cmdlet)
        offset = _seconds(initial_rollover_offset) or 0.0
        _check(lim.check_initial_rollover_offset(offset), cmdlet)
        key.update(IsRolloverEnabled=True, RolloverPeriod=period, InitialRolloverOffset=offset)
        self._schedule(key, offset)
        return [self._key_object(z, key)] if pass_thru else []

    @_module_cmdlet("Disable-DnsServerSigningKeyRollover")
    def Disable_DnsServerSigningKeyRollover(  # noqa: N802
        self, zone: str, key_id: str, force: bool = False, pass_thru: bool = False
    ) -> list[dict[str, Any]]:
        """PSD Disable-DnsServerSigningKeyRollover (how a disabled rollover shows in RolloverPeriod:
        UNCONFIRMED, REF 1.1; here $null)."""
        del force
        cmdlet = lim.CMDLETS["key_rollover:disable"]
        z, key = self._rollover_key(zone, key_id, cmdlet)
        key.update(IsRolloverEnabled=False, RolloverPeriod=None, NextRolloverTime=None)
        return [self._key_object(z, key)] if pass_thru else []

    @_module_cmdlet("Step-DnsServerSigningKeyRollover")
    def Step_DnsServerSigningKeyRollover(  # noqa: N802
        self, zone: str, key_id: str, force: bool = False, pass_thru: bool = False
    ) -> list[dict[str, Any]]:
        """PSD Step-DnsServerSigningKeyRollover: "forces a KSK rollover waiting for parent DS update";
        another status is 9128 DNS_ERROR_ROLLOVER_NOT_POKEABLE (REF 3.1)."""
        del force

        cmdlet = lim.CMDLETS["key_rollover:step"]
        z, key = self._rollover_key(zone, key_id, cmdlet)
        if not z.get("IsSigned"):
            raise win32(9121, cmdlet)
        status = str(key.get("CurrentRolloverStatus") or "NotRolling")
        if status.lower() != "kskwaitingfordsupdate":
            raise win32(9128, cmdlet)
        key.update(CurrentRolloverStatus="NotRolling", LastRolloverTime=iso(self.server.now))
        self._schedule(key)
        return [self._key_object(z, key)] if pass_thru else []

    @_module_cmdlet("Invoke-DnsServerSigningKeyRollover")
    def Invoke_DnsServerSigningKeyRollover(  # noqa: N802
        self, zone: str, key_id: Any, force: bool = False, pass_thru: bool = False
    ) -> list[dict[str, Any]]:
        """PSD Invoke-DnsServerSigningKeyRollover -KeyId Guid[]: 9120 when queued, 9116 when rolling,
        9121 on an unsigned zone (REF 3.1). A model: the rollover completes at once, a KSK then waits
        in KskWaitingForDSUpdate until stepped."""
        del force

        cmdlet = lim.CMDLETS["key_rollover:now"]
        out: list[dict[str, Any]] = []
        for one in _as_list(key_id):
            z, key = self._rollover_key(zone, one, cmdlet)
            if not z.get("IsSigned"):
                raise win32(9121, cmdlet)
            status = str(key.get("CurrentRolloverStatus") or "NotRolling").lower()
            if status == "queued":
                raise win32(9120, cmdlet)
            if status != "notrolling":
                raise win32(9116, cmdlet)
            key.update(LastRolloverTime=iso(self.server.now), ActiveKey=_pointer())
            if key.get("KeyType") == KSK_TYPE:
                key["CurrentRolloverStatus"] = "KskWaitingForDSUpdate"
            else:
                key.update(CurrentRolloverStatus="NotRolling", StandbyKey=_pointer())
            self._schedule(key)
            out.append(self._key_object(z, key))
        return out if pass_thru else []

    # -- zones ---------------------------------------------------------------------------------
    @_module_cmdlet("Invoke-DnsServerZoneSign")
    def Invoke_DnsServerZoneSign(  # noqa: N802
        self,
        zone: str,
        sign_with_default: bool = False,
        do_resign: bool = False,
        force: bool = False,
        pass_thru: bool = False,
    ) -> list[dict[str, Any]]:
        """PSD Invoke-DnsServerZoneSign: -SignWithDefault signs with a default KSK and ZSK; both
        switches on a signed zone drop the keys and re-sign with defaults (REF section 1). A zone
        with keys and no -DoResign is 9102; without an active KSK and ZSK 9104."""
        del force
        cmdlet = lim.CMDLETS["zone_sign"]
        z = self._primary(zone, cmdlet)
        self._key_master(z, cmdlet)
        if sign_with_default:
            if (z.get("IsSigned") or z.get("SigningKeys")) and not do_resign:
                raise win32(9102, cmdlet)
            master = z.get("DnsSecSetting") or {}
            z["SigningKeys"] = []
            z["DnsSecSetting"] = None
            setting = self._setting_record(z, create=True)
            for name in ("IsKeyMasterServer", "KeyMasterServer", "KeyMasterStatus"):
                if name in master:
                    setting[name] = master[name]
            for key_type in (KSK_TYPE, ZSK_TYPE):
                self.Add_DnsServerSigningKey(z["ZoneName"], type=key_type, crypto_algorithm="RsaSha256")
        else:
            if z.get("IsSigned") and not do_resign:
                raise win32(9102, cmdlet)
            keys = z.get("SigningKeys") or []
            _check(lim.check_signing_keys(_pairs(keys)), cmdlet)
            setting = z.get("DnsSecSetting") or {}
            denial = setting.get("DenialOfExistence") or lim.DEFAULT_DNSSEC_SETTING["DenialOfExistence"]
            _check(
                lim.check_denial_compatible(str(denial), [str(k.get("CryptoAlgorithm")) for k in keys]),
                cmdlet,
            )
            if str(denial).lower() == "nsec3":
                default = lim.DEFAULT_DNSSEC_SETTING["NSec3Iterations"]
                iterations = int(setting.get("NSec3Iterations", default) or 0)
                _check(
                    lim.check_nsec3_iterations(iterations, [int(k.get("KeyLength") or 0) for k in keys]),
                    cmdlet,
                )
        z["IsSigned"] = True
        self._setting_record(z, create=True)["IsSigned"] = True
        return [self._zone_object(z)] if pass_thru else []

    @_module_cmdlet("Invoke-DnsServerZoneUnsign")
    def Invoke_DnsServerZoneUnsign(  # noqa: N802
        self, zone: str, force: bool = False, pass_thru: bool = False
    ) -> list[dict[str, Any]]:
        """PSD Invoke-DnsServerZoneUnsign; an unsigned zone is 9121 (REF 3.1)."""
        del force
        cmdlet = lim.CMDLETS["zone_unsign"]
        z = self._primary(zone, cmdlet)
        self._key_master(z, cmdlet)
        if not z.get("IsSigned"):
            raise win32(9121, cmdlet)
        z["IsSigned"] = False
        if isinstance(z.get("DnsSecSetting"), dict):
            z["DnsSecSetting"]["IsSigned"] = False
        return [self._zone_object(z)] if pass_thru else []

    @_module_cmdlet("Set-DnsServerDnsSecZoneSetting")
    def Set_DnsServerDnsSecZoneSetting(  # noqa: N802
        self, zone: str, *, pass_thru: bool = False, **settings: Any
    ) -> list[dict[str, Any]]:
        """PSD Set-DnsServerDnsSecZoneSetting, parameters by their cmdlet names (DenialOfExistence,
        NSec3Iterations, NSec3OptOut, NSec3RandomSaltLength, NSec3UserSalt, DSRecordGenerationAlgorithm,
        DistributeTrustAnchor). NSEC/NSEC3 against the keys' algorithms: 9103/9130; iterations against
        the smallest key: 9124 (REF 1.8)."""
        cmdlet = lim.CMDLETS["zone_dnssec_set"]
        z = self._primary(zone, cmdlet)
        self._key_master(z, cmdlet)
        current = self._setting_record(z, create=True)
        s = copy.deepcopy(current)
        if settings.get("DenialOfExistence") is not None:
            d = lim.canonical(str(settings["DenialOfExistence"]), lim.DENIAL_VALUES)
            if d is None:
                raise _invalid(cmdlet, "DenialOfExistence", settings["DenialOfExistence"])
            s["DenialOfExistence"] = d
        if settings.get("NSec3Iterations") is not None:
            s["NSec3Iterations"] = int(settings["NSec3Iterations"])
        if settings.get("NSec3OptOut") is not None:
            s["NSec3OptOut"] = bool(settings["NSec3OptOut"])
        if settings.get("NSec3RandomSaltLength") is not None:
            length = int(settings["NSec3RandomSaltLength"])
            problem = lim.nsec3_salt_length_problem(length)
            if problem is not None and length != 0:
                low, high = lim.NSEC3_SALT_LENGTHS
                raise CmdletError(
                    f"Cannot validate argument on parameter 'NSec3RandomSaltLength'. The {length} argument "
                    f"is outside the allowed range of {low} to {high}. Supply an argument in that range and "
                    "then "
                    "try the command again.",
                    cmdlet=cmdlet,
                    fully_qualified_error_id=f"ParameterArgumentValidationError,{cmdlet}",
                )
            s["NSec3RandomSaltLength"] = length
            if length:
                s["NSec3UserSalt"] = lim.NO_SALT  # UNCONFIRMED: a random salt replaces the user salt
        if settings.get("NSec3UserSalt") is not None:
            s["NSec3UserSalt"] = str(settings["NSec3UserSalt"]) or lim.NO_SALT
        for name, allowed in (
            ("DSRecordGenerationAlgorithm", lim.DS_DIGESTS),
            ("DistributeTrustAnchor", ("None", "DnsKey")),
        ):
            values = settings.get(name)
            if values is not None:
                values = [values] if isinstance(values, str) else list(values)
                canon = [lim.canonical(str(v), allowed) for v in values]
                if not canon or any(c is None for c in canon):
                    raise _invalid(cmdlet, name, values)
                s[name] = [c for c in canon if c]
        keys = z.get("SigningKeys") or []
        algorithms = [str(k.get("CryptoAlgorithm")) for k in keys]
        _check(lim.check_denial_compatible(str(s.get("DenialOfExistence")), algorithms), cmdlet)
        if str(s.get("DenialOfExistence")).lower() == "nsec3":
            lengths = [int(k.get("KeyLength") or 0) for k in keys]
            _check(lim.check_nsec3_iterations(int(s.get("NSec3Iterations") or 0), lengths), cmdlet)
        _refresh_salt(s)
        current.clear()
        current.update(s)
        return [self._setting_object(z)] if pass_thru else []

    # -- export ----------------------------------------------------------------------------------
    @_module_cmdlet("Export-DnsServerDnsSecPublicKey")
    def Export_DnsServerDnsSecPublicKey(  # noqa: N802
        self,
        zone: str,
        path: str,
        digest_type: Sequence[str] | None = None,
        pass_thru: bool = False,
        force: bool = False,
    ) -> list[dict[str, Any]]:
        """PSD Export-DnsServerDnsSecPublicKey: writes ``Keyset-<zone>`` (DNSKEY) or ``Dsset-<zone>``
        (DS, with -DigestType) in -Path, and outputs the records (CimInstance#DnsServerResourceRecord)
        only with -PassThru ("By default, this cmdlet does not generate any output"). The records are
        the active KSKs' (UNCONFIRMED: which keys Windows exports); an unsigned zone is 9121
        (UNCONFIRMED). The file's text is zone-file lines (UNCONFIRMED)."""
        del force
        from toolkit.testing.simulator import keymaterial

        cmdlet = lim.CMDLETS["zone_export_keys"]
        z = self._primary(zone, cmdlet)
        if not z.get("IsSigned"):
            raise win32(9121, cmdlet)
        digests: list[str] = []
        for d in digest_type or []:
            canon = lim.canonical(str(d), ("Sha1", "Sha256", "Sha384"))
            if canon is None:
                raise _invalid(cmdlet, "DigestType", d)
            digests.append(canon)
        setting = z.get("DnsSecSetting") or {}
        ttl = float(setting.get("DnsKeyRecordSetTtl") or 3600)  # UNCONFIRMED: the DS records' TTL
        records: list[dict[str, Any]] = []
        lines: list[str] = []
        for key in z.get("SigningKeys") or []:
            if (
                key.get("KeyType") != KSK_TYPE
                or str(key.get("CurrentState") or "Active").lower() == "retired"
            ):
                continue
            data_list, text = keymaterial.records(str(z["ZoneName"]), key, int(ttl), digests)
            for data, kind in data_list:
                records.append(
                    {
                        "DistinguishedName": None,
                        "HostName": str(z["ZoneName"]),  # UNCONFIRMED: "@" or the zone name
                        "RecordType": kind,
                        "RecordClass": "IN",
                        "TimeToLive": timedelta(seconds=ttl),
                        "Timestamp": None,
                        "RecordData": data,
                    }
                )
            lines.extend(text)
        name = ("Dsset-" if digest_type else "Keyset-") + str(z["ZoneName"])
        self.files.setdefault(path, {})[name] = "\n".join(lines) + ("\n" if lines else "")
        return records if pass_thru else []

    # -- records --------------------------------------------------------------------------------
    @_module_cmdlet("Get-DnsServerResourceRecord")
    def Get_DnsServerResourceRecord(  # noqa: N802
        self, zone: str, name: str | None = None, rr_type: str | None = None
    ) -> list[dict[str, Any]]:
        """PSD Get-DnsServerResourceRecord -ZoneName -Name -RRType (CimInstance#DnsServerResourceRecord[]):
        only ``-RRType DnsKey`` at the apex is modelled (a NotImplementedError otherwise). The
        DNSKEY RRset is one record per signing key that is not retired, ZSKs and KSKs alike, the
        material ``Export-DnsServerDnsSecPublicKey`` gives for a KSK; an unsigned zone has none.
        Which keys appear, and RecordData's members: UNCONFIRMED (fixtures/README.md)."""
        from toolkit.testing.simulator import keymaterial

        cmdlet = "Get-DnsServerResourceRecord"
        if rr_type is None or rr_type.lower() != "dnskey" or (name or "@") not in ("@", ""):
            raise NotImplementedError(f"{cmdlet}: the simulator models -Name '@' -RRType DnsKey only")
        z = self._zone(zone, cmdlet)
        self._fault(cmdlet, z)
        if not z.get("IsSigned"):
            return []
        setting = z.get("DnsSecSetting") or {}
        ttl = float(setting.get("DnsKeyRecordSetTtl") or 3600)
        out: list[dict[str, Any]] = []
        for key in z.get("SigningKeys") or []:
            if str(key.get("CurrentState") or "Active").lower() == "retired":
                continue
            for data, kind in keymaterial.records(str(z["ZoneName"]), key, int(ttl), ())[0]:
                record = {
                    "DistinguishedName": None,
                    "HostName": "@",  # UNCONFIRMED: the apex as "@"
                    "RecordType": kind,
                    "RecordClass": "IN",
                    "TimeToLive": timedelta(seconds=ttl),
                    "Timestamp": None,
                    "RecordData": self._instance(data, "DnsServerResourceRecordDnsKey"),
                }
                out.append(self._instance(record, "DnsServerResourceRecord"))
        return out

    # -- the file system the export script uses (New-Item, Get-ChildItem, ReadAllText, Remove-Item)
    def New_Item_Directory(self, path: str) -> list[dict[str, Any]]:  # noqa: N802
        self.files[path] = {}
        return [{"FullName": path}]

    def Get_ChildItem_File(self, path: str) -> list[dict[str, Any]]:  # noqa: N802
        # Name order (Get-ChildItem on NTFS lists by name: UNCONFIRMED, and one file here anyway).
        return [{"FullName": f"{path}\\{n}", "Name": n} for n in sorted(self.files.get(path, {}))]

    def ReadAllText(self, full_name: str) -> str:  # noqa: N802
        directory, _, name = full_name.rpartition("\\")
        return self.files[directory][name]

    def Remove_Item(self, path: str) -> None:  # noqa: N802
        self.files.pop(path, None)


def _as_list(value: Any) -> list[Any]:
    """A value bound to an array parameter (Guid[], String[]): one value becomes an array of one
    (about_Parameters)."""
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


# -- splatting: ``Cmd @arguments`` / ``Cmd -Name value``, by the cmdlet's parameter names -------
# Parameters per the PSD SYNTAX blocks (the ones the scripts use); a name the cmdlet does not have
# fails binding as PowerShell's NamedParameterNotFound does. Aliases: PSD (Type alias KeyType).
_COMMON_WRITE = {"PassThru": "pass_thru"}
SPLAT: dict[str, tuple[str, dict[str, str]]] = {
    "Add-DnsServerSigningKey": ("Add_DnsServerSigningKey", {
        "ZoneName": "zone", "Type": "type", "KeyType": "type", "CryptoAlgorithm": "crypto_algorithm",
        "KeyLength": "key_length", "InitialRolloverOffset": "initial_rollover_offset",
        "DnsKeySignatureValidityPeriod": "dns_key_signature_validity_period",
        "DSSignatureValidityPeriod": "ds_signature_validity_period",
        "ZoneSignatureValidityPeriod": "zone_signature_validity_period", "RolloverPeriod": "rollover_period",
        "StoreKeysInAD": "store_keys_in_ad", "KeyStorageProvider": "key_storage_provider", **_COMMON_WRITE,
    }),
    "Remove-DnsServerSigningKey": ("Remove_DnsServerSigningKey", {
        "ZoneName": "zone", "KeyId": "key_id", "Force": "force", **_COMMON_WRITE,
    }),
    "Set-DnsServerSigningKey": ("Set_DnsServerSigningKey", {
        "ZoneName": "zone", "KeyId": "key_id", "RolloverPeriod": "rollover_period",
        "DnsKeySignatureValidityPeriod": "dns_key_signature_validity_period",
        "DSSignatureValidityPeriod": "ds_signature_validity_period",
        "ZoneSignatureValidityPeriod": "zone_signature_validity_period",
        "NextRolloverAction": "next_rollover_action", **_COMMON_WRITE,
    }),
    "Enable-DnsServerSigningKeyRollover": ("Enable_DnsServerSigningKeyRollover", {
        "ZoneName": "zone", "KeyId": "key_id", "RolloverPeriod": "rollover_period",
        "InitialRolloverOffset": "initial_rollover_offset", "Force": "force", **_COMMON_WRITE,
    }),
    "Disable-DnsServerSigningKeyRollover": ("Disable_DnsServerSigningKeyRollover", {
        "ZoneName": "zone", "KeyId": "key_id", "Force": "force", **_COMMON_WRITE,
    }),
    "Step-DnsServerSigningKeyRollover": ("Step_DnsServerSigningKeyRollover", {
        "ZoneName": "zone", "KeyId": "key_id", "Force": "force", **_COMMON_WRITE,
    }),
    "Invoke-DnsServerSigningKeyRollover": ("Invoke_DnsServerSigningKeyRollover", {
        "ZoneName": "zone", "KeyId": "key_id", "Force": "force", **_COMMON_WRITE,
    }),
    "Invoke-DnsServerZoneSign": ("Invoke_DnsServerZoneSign", {
        "ZoneName": "zone", "SignWithDefault": "sign_with_default", "DoResign": "do_resign", "Force": "force",
        **_COMMON_WRITE,
    }),
    "Invoke-DnsServerZoneUnsign": ("Invoke_DnsServerZoneUnsign", {
        "ZoneName": "zone", "Force": "force", **_COMMON_WRITE,
    }),
    "Set-DnsServerDnsSecZoneSetting": ("Set_DnsServerDnsSecZoneSetting", {
        "ZoneName": "zone", **{n: n for n in (
            "DenialOfExistence", "NSec3HashAlgorithm", "NSec3Iterations", "NSec3OptOut",
            "NSec3RandomSaltLength", "NSec3UserSalt", "DistributeTrustAnchor", "EnableRfc5011KeyRollover",
            "DSRecordGenerationAlgorithm", "DSRecordSetTtl", "DnsKeyRecordSetTtl", "SignatureInceptionOffset",
            "SecureDelegationPollingPeriod",
            "PropagationTime", "ParentHasSecureDelegation",
        )}, **_COMMON_WRITE,
    }),
    "Export-DnsServerDnsSecPublicKey": ("Export_DnsServerDnsSecPublicKey", {
        "ZoneName": "zone", "TrustPointName": "zone", "TrustAnchorName": "zone", "Path": "path",
        "DigestType": "digest_type", "Force": "force", **_COMMON_WRITE,
    }),
    "Get-DnsServerSigningKey": ("Get_DnsServerSigningKey", {"ZoneName": "zone", "KeyId": "key_id"}),
    "Get-DnsServerDnsSecZoneSetting": ("Get_DnsServerDnsSecZoneSetting", {"ZoneName": "zone"}),
    "Get-DnsServerZone": ("Get_DnsServerZone", {"Name": "name", "ZoneName": "name"}),
}  # fmt: skip


def invoke(ps: Cmdlets, cmdlet: str, arguments: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``<cmdlet> @arguments``: the fake called with the splatted parameters (names ignore case,
    about_Splatting / about_Parameters); its pipeline output."""
    method, names = SPLAT[cmdlet]
    lower = {k.lower(): v for k, v in names.items()}
    kwargs: dict[str, Any] = {}
    for name, value in arguments.items():
        target = lower.get(name.lower())
        if target is None:
            raise CmdletError(
                f"A parameter cannot be found that matches parameter name '{name}'.",
                cmdlet=cmdlet,
                fully_qualified_error_id=f"NamedParameterNotFound,{cmdlet}",
            )
        kwargs[target] = value
    result: list[dict[str, Any]] = getattr(ps, method)(**kwargs)
    return result


def _refresh_salt(s: dict[str, Any]) -> None:
    """NSec3CurrentSalt: the user salt when the random salt length is 0 (MS-DNSP 3.1.1.2.3:
    NSEC3UserSalt "MUST be ignored unless the NSEC3RandomSaltLength property is set to 0"), a random
    one otherwise; "-" for none (UNCONFIRMED)."""
    user = s.get("NSec3UserSalt")
    length = int(s.get("NSec3RandomSaltLength") or 0)
    if length > 0:
        s["NSec3CurrentSalt"] = hashlib.sha256(uuid.uuid4().bytes).hexdigest().upper()[: 2 * length]
    elif user and user != "-":
        s["NSec3CurrentSalt"] = user
    else:
        s["NSec3CurrentSalt"] = "-"
