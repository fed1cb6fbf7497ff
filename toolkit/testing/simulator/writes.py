"""The change scripts' mirrors: ``ps_scripts/key_*.ps1`` and ``zone_sign``/``zone_unsign``/
``zone_dnssec_set`` transliterated line by line (``zone_export_keys`` is in ``export``).

Each handler binds the script's ``param()`` block (``powershell.bind``: names, types,
ValidateSet, Mandatory), turns on strict mode where the script does (``Set-StrictMode -Version
2.0``), builds the same ``$arguments`` hashtable and calls the cmdlet fake with it
(``cmdlets.invoke``: the splat), then projects what the script projects. Windows's validation
and its Win32 codes live in the cmdlet fakes (``toolkit.testing.simulator.cmdlets``); a refused change
raises ``CmdletError`` there and ends the script, as ``$ErrorActionPreference = 'Stop'`` does.
Line numbers are those of the ``.ps1`` file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from toolkit.testing.simulator import projection as pj
from toolkit.testing.simulator.cmdlets import Cmdlets, invoke
from toolkit.testing.simulator.mirror import mirrors
from toolkit.testing.simulator.powershell import (
    Param,
    assign,
    bind,
    ps_guid,
    select_first,
    strict_mode,
    timespan_from_seconds,
)

if TYPE_CHECKING:
    from toolkit.testing.simulator.server import SimulatedServer

__all__ = ["HANDLERS"]

KEY_TYPES = ("KeySigningKey", "ZoneSigningKey")


# -- key_add.ps1 --------------------------------------------------------------------------------
_KEY_ADD = (  # L10-L22
    Param("ZoneName", "string", mandatory=True),
    Param("KeyType", "string", mandatory=True, validate_set=KEY_TYPES),
    Param("CryptoAlgorithm", "string"),
    Param("KeyLength", "uint32"),
    Param("RolloverPeriodSeconds", "double"),
    Param("InitialRolloverOffsetSeconds", "double"),
    Param("DnsKeySignatureValidityPeriodSeconds", "double"),
    Param("DSSignatureValidityPeriodSeconds", "double"),
    Param("ZoneSignatureValidityPeriodSeconds", "double"),
    Param("StoreKeysInAD", "bool"),
    Param("KeyStorageProvider", "string"),
)


@mirrors("key_add.ps1", sha256="e4f317a7977a284f592165a16f552f2ee424e8dbf10fce026762e17a499da89f")
def key_add(server: SimulatedServer, params: Mapping[str, Any]) -> dict[str, Any]:
    v, bound = bind("key_add", params, _KEY_ADD)
    ps = Cmdlets(server, "key_add")
    with strict_mode():  # L26
        # L30 $arguments = @{ ZoneName = $ZoneName; Type = $KeyType; PassThru = $true }
        arguments: dict[str, Any] = {"ZoneName": v["ZoneName"], "Type": v["KeyType"], "PassThru": True}
        if "CryptoAlgorithm" in bound:  # L31
            arguments["CryptoAlgorithm"] = v["CryptoAlgorithm"]
        if "KeyLength" in bound:  # L32
            arguments["KeyLength"] = v["KeyLength"]
        spans = {  # L33-L39
            "RolloverPeriodSeconds": "RolloverPeriod",
            "InitialRolloverOffsetSeconds": "InitialRolloverOffset",
            "DnsKeySignatureValidityPeriodSeconds": "DnsKeySignatureValidityPeriod",
            "DSSignatureValidityPeriodSeconds": "DSSignatureValidityPeriod",
            "ZoneSignatureValidityPeriodSeconds": "ZoneSignatureValidityPeriod",
        }
        for name in spans:  # L40-L44
            if name in bound:
                arguments[spans[name]] = timespan_from_seconds(bound[name])
        if "StoreKeysInAD" in bound:  # L45
            arguments["StoreKeysInAD"] = v["StoreKeysInAD"]
        if "KeyStorageProvider" in bound:  # L46
            arguments["KeyStorageProvider"] = v["KeyStorageProvider"]
        # L48 $key = Add-DnsServerSigningKey @arguments | Select-Object -First 1
        key = select_first(invoke(ps, "Add-DnsServerSigningKey", arguments))
        return pj.convert_key(key)  # L49


# -- key_remove.ps1 -----------------------------------------------------------------------------
_KEY_REMOVE = (Param("ZoneName", "string", mandatory=True), Param("KeyId", "string[]", mandatory=True))


@mirrors("key_remove.ps1", sha256="21bf62e18aff674a276345eb9e1897d23b22bf02ab6def08cf2bc4a13c4d302c")
def key_remove(server: SimulatedServer, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    v, _ = bind("key_remove", params, _KEY_REMOVE)
    ps = Cmdlets(server, "key_remove")
    with strict_mode():  # L17
        ids = [ps_guid(i) for i in v["KeyId"]]  # L21 @($KeyId | ForEach-Object { [guid]$_ })
        # L22 @(Get-DnsServerSigningKey -ZoneName $ZoneName -KeyId $ids |
        #      ForEach-Object { ConvertTo-WindnsKey $_ })
        doomed = [
            pj.convert_key(k)
            for k in invoke(ps, "Get-DnsServerSigningKey", {"ZoneName": v["ZoneName"], "KeyId": ids})
        ]
        # L23 Remove-DnsServerSigningKey -ZoneName $ZoneName -KeyId $ids -Force | Out-Null
        invoke(ps, "Remove-DnsServerSigningKey", {"ZoneName": v["ZoneName"], "KeyId": ids, "Force": True})
        return doomed  # L24


# -- key_rollover.ps1 ---------------------------------------------------------------------------
_KEY_ROLLOVER = (  # L10-L16
    Param("Action", "string", mandatory=True, validate_set=("enable", "disable", "step", "now")),
    Param("ZoneName", "string", mandatory=True),
    Param("KeyId", "string", mandatory=True),
    Param("RolloverPeriodSeconds", "double"),
    Param("InitialRolloverOffsetSeconds", "double"),
)


@mirrors("key_rollover.ps1", sha256="c3204cfce62343e885d27c4fd99ccf9915b495c1a7d96813aec7c4f4fc8234cd")
def key_rollover(server: SimulatedServer, params: Mapping[str, Any]) -> dict[str, Any]:
    v, bound = bind("key_rollover", params, _KEY_ROLLOVER)
    ps = Cmdlets(server, "key_rollover")
    with strict_mode():  # L20
        key_id = ps_guid(v["KeyId"])  # L24
        zone = v["ZoneName"]
        action = str(
            v["Action"]
        ).lower()  # L25 switch ($Action): string cases match ignoring case (about_Switch)
        if action == "enable":  # L26-L35
            arguments: dict[str, Any] = {"ZoneName": zone, "KeyId": key_id, "Force": True}
            if "RolloverPeriodSeconds" in bound:
                arguments["RolloverPeriod"] = timespan_from_seconds(v["RolloverPeriodSeconds"])
            if "InitialRolloverOffsetSeconds" in bound:
                arguments["InitialRolloverOffset"] = timespan_from_seconds(v["InitialRolloverOffsetSeconds"])
            invoke(ps, "Enable-DnsServerSigningKeyRollover", arguments)
        elif action == "disable":  # L36
            invoke(
                ps, "Disable-DnsServerSigningKeyRollover", {"ZoneName": zone, "KeyId": key_id, "Force": True}
            )
        elif action == "step":  # L37
            invoke(ps, "Step-DnsServerSigningKeyRollover", {"ZoneName": zone, "KeyId": key_id, "Force": True})
        elif action == "now":  # L38 -KeyId @($id)
            invoke(
                ps, "Invoke-DnsServerSigningKeyRollover", {"ZoneName": zone, "KeyId": [key_id], "Force": True}
            )
        # L40 $key = Get-DnsServerSigningKey -ZoneName $ZoneName -KeyId $id | Select-Object -First 1
        key = select_first(invoke(ps, "Get-DnsServerSigningKey", {"ZoneName": zone, "KeyId": key_id}))
        return pj.convert_key(key)  # L41


# -- key_set.ps1 --------------------------------------------------------------------------------
_KEY_SET = (  # L10-L18
    Param("ZoneName", "string", mandatory=True),
    Param("KeyId", "string", mandatory=True),
    Param("RolloverPeriodSeconds", "double"),
    Param("DnsKeySignatureValidityPeriodSeconds", "double"),
    Param("DSSignatureValidityPeriodSeconds", "double"),
    Param("ZoneSignatureValidityPeriodSeconds", "double"),
    Param("NextRolloverAction", "string", validate_set=("Normal", "RevokeStandby", "Retire")),
)


@mirrors("key_set.ps1", sha256="3e0e6161b41ce3942d486b40bdcfea675df6a125cb39848f0e13910db692d44c")
def key_set(server: SimulatedServer, params: Mapping[str, Any]) -> dict[str, Any]:
    v, bound = bind("key_set", params, _KEY_SET)
    ps = Cmdlets(server, "key_set")
    with strict_mode():  # L22
        key_id = ps_guid(v["KeyId"])  # L26
        arguments: dict[str, Any] = {"ZoneName": v["ZoneName"], "KeyId": key_id, "PassThru": True}  # L27
        spans = {  # L28-L33
            "RolloverPeriodSeconds": "RolloverPeriod",
            "DnsKeySignatureValidityPeriodSeconds": "DnsKeySignatureValidityPeriod",
            "DSSignatureValidityPeriodSeconds": "DSSignatureValidityPeriod",
            "ZoneSignatureValidityPeriodSeconds": "ZoneSignatureValidityPeriod",
        }
        for name in spans:  # L34-L38
            if name in bound:
                arguments[spans[name]] = timespan_from_seconds(bound[name])
        if "NextRolloverAction" in bound:  # L39
            arguments["NextRolloverAction"] = v["NextRolloverAction"]
        invoke(ps, "Set-DnsServerSigningKey", arguments)  # L41 ... | Out-Null
        # L42 $key = Get-DnsServerSigningKey -ZoneName $ZoneName -KeyId $id | Select-Object -First 1
        key = select_first(
            invoke(ps, "Get-DnsServerSigningKey", {"ZoneName": v["ZoneName"], "KeyId": key_id})
        )
        return pj.convert_key(key)  # L43


# -- zone_dnssec_set.ps1 ------------------------------------------------------------------------
_ZONE_DNSSEC_SET = (  # L10-L19
    Param("ZoneName", "string", mandatory=True),
    Param("DenialOfExistence", "string", validate_set=("NSec", "NSec3")),
    Param("NSec3Iterations", "uint16"),
    Param("NSec3RandomSaltLength", "byte"),
    Param("NSec3UserSalt", "string"),
    Param("NSec3OptOut", "bool"),
    Param("DSRecordGenerationAlgorithm", "string[]", validate_set=("None", "Sha1", "Sha256", "Sha384")),
    Param("DistributeTrustAnchor", "string[]", validate_set=("None", "DnsKey")),
)


@mirrors("zone_dnssec_set.ps1", sha256="2d2baa671c0691bd426503dfbfb5f702fe31ead914f0aead4d5a5fb9845bd6c2")
def zone_dnssec_set(server: SimulatedServer, params: Mapping[str, Any]) -> dict[str, Any]:
    v, bound = bind("zone_dnssec_set", params, _ZONE_DNSSEC_SET)
    ps = Cmdlets(server, "zone_dnssec_set")
    with strict_mode():  # L23
        arguments: dict[str, Any] = {"ZoneName": v["ZoneName"], "PassThru": True}  # L27
        for name in (  # L28-L31
            "DenialOfExistence", "NSec3Iterations", "NSec3RandomSaltLength", "NSec3UserSalt",
            "NSec3OptOut", "DSRecordGenerationAlgorithm", "DistributeTrustAnchor",
        ):  # fmt: skip
            if name in bound:
                arguments[name] = bound[name]
        # L34-L36: a user salt without a salt length takes effect with a random salt length of 0
        if "NSec3UserSalt" in bound and "NSec3RandomSaltLength" not in bound:
            arguments["NSec3RandomSaltLength"] = 0
        invoke(ps, "Set-DnsServerDnsSecZoneSetting", arguments)  # L37 ... | Out-Null
        # L38 $setting = Get-DnsServerDnsSecZoneSetting -ZoneName $ZoneName | Select-Object -First 1
        setting = select_first(invoke(ps, "Get-DnsServerDnsSecZoneSetting", {"ZoneName": v["ZoneName"]}))
        return pj.convert_zone_setting(setting)  # L39


# -- zone_sign.ps1 / zone_unsign.ps1 ------------------------------------------------------------
_ZONE_SIGN = (
    Param("ZoneName", "string", mandatory=True),
    Param("SignWithDefault", "switch"),
    Param("DoResign", "switch"),
)


@mirrors("zone_sign.ps1", sha256="e3713be12d5858a9043be36de079aed756344784a6a2e4c755671d5f7782a0c3")
def zone_sign(server: SimulatedServer, params: Mapping[str, Any]) -> dict[str, Any]:
    v, bound = bind("zone_sign", params, _ZONE_SIGN)
    ps = Cmdlets(server, "zone_sign")
    with strict_mode():  # L19
        arguments: dict[str, Any] = {"ZoneName": v["ZoneName"], "Force": True}  # L23
        if "SignWithDefault" in bound:  # L24
            arguments["SignWithDefault"] = v["SignWithDefault"]
        if "DoResign" in bound:  # L25
            arguments["DoResign"] = v["DoResign"]
        invoke(ps, "Invoke-DnsServerZoneSign", arguments)  # L26 ... | Out-Null
        zone = assign(
            invoke(ps, "Get-DnsServerZone", {"Name": v["ZoneName"]})
        )  # L27 $zone = Get-DnsServerZone -Name
        return pj.convert_zone(zone)  # L28


_ZONE_UNSIGN = (Param("ZoneName", "string", mandatory=True),)


@mirrors("zone_unsign.ps1", sha256="175bceda8b255b0441f75c20519b2126722e48929f5caad4b7440c02157891ee")
def zone_unsign(server: SimulatedServer, params: Mapping[str, Any]) -> dict[str, Any]:
    v, _ = bind("zone_unsign", params, _ZONE_UNSIGN)
    ps = Cmdlets(server, "zone_unsign")
    with strict_mode():  # L16
        invoke(ps, "Invoke-DnsServerZoneUnsign", {"ZoneName": v["ZoneName"], "Force": True})  # L20
        zone = assign(invoke(ps, "Get-DnsServerZone", {"Name": v["ZoneName"]}))  # L21
        return pj.convert_zone(zone)  # L22


HANDLERS: dict[str, Callable[[SimulatedServer, Mapping[str, Any]], Any]] = {
    "key_add": key_add,
    "key_remove": key_remove,
    "key_set": key_set,
    "key_rollover": key_rollover,
    "zone_sign": zone_sign,
    "zone_unsign": zone_unsign,
    "zone_dnssec_set": zone_dnssec_set,
}
