"""The key export script's mirror: ``ps_scripts/zone_export_keys.ps1`` line by line.

The script asks ``Export-DnsServerDnsSecPublicKey`` to write its file into a private temporary
directory with ``-PassThru`` (without it the cmdlet prints nothing, PSD), projects the records
with its own ``ConvertTo-WindnsRecord`` (this script does not include ``_projection.ps1``), reads
the file back and deletes the directory. The file system is the run's (``Cmdlets.files``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from toolkit.testing.simulator.cmdlets import Cmdlets, invoke
from toolkit.testing.simulator.mirror import mirrors
from toolkit.testing.simulator.powershell import Param, bind, prop, ps_array, ps_string, strict_mode

if TYPE_CHECKING:
    from toolkit.testing.simulator.server import SimulatedServer

__all__ = ["HANDLERS", "convert_record"]

_RECORD_DATA = ("KeyTag", "KeyFlags", "KeyProtocol", "CryptoAlgorithm", "SecureEntryPoint", "ZoneKey",
                "Base64Data", "DigestType", "Digest")  # fmt: skip


# zone_export_keys.ps1 L21-L43 ConvertTo-WindnsRecord
def convert_record(record: Any) -> dict[str, Any]:
    data = prop(record, "RecordData")
    names = [
        str(n).lower() for n in (data or {})
    ]  # @($data.PSObject.Properties | ForEach-Object { $_.Name })
    projected: dict[str, Any] = {}
    for name in _RECORD_DATA:
        if name.lower() in names:  # $names -contains $name: ignores case (about_Comparison_Operators)
            value = prop(data, name)
            # $value -is [bool] -or [int] -or [uint16] -or $null: kept; anything else as [string]
            if value is None or isinstance(value, (bool, int)):
                projected[name] = value
            else:
                projected[name] = ps_string(value)
    ttl = prop(record, "TimeToLive")
    return {
        "HostName": ps_string(prop(record, "HostName")),
        "RecordType": ps_string(prop(record, "RecordType")),
        # [double]$Record.TimeToLive.TotalSeconds
        "TimeToLive": ttl.total_seconds()
        if isinstance(ttl, timedelta)
        else float(prop(ttl, "TotalSeconds") or 0),
        "RecordData": projected,
    }


_PARAMS = (  # L12-L15
    Param("ZoneName", "string", mandatory=True),
    Param("DigestType", "string[]", validate_set=("Sha1", "Sha256", "Sha384")),
)


@mirrors("zone_export_keys.ps1", sha256="0fc1f5d29b6e16802af3f7bb34d452f3ee4ce89e5df599bbe0e5c527c0362dd0")
def zone_export_keys(server: SimulatedServer, params: Mapping[str, Any]) -> dict[str, Any]:
    v, bound = bind("zone_export_keys", params, _PARAMS)
    ps = Cmdlets(server, "zone_export_keys")
    with strict_mode():  # L19
        # L45 Join-Path ([System.IO.Path]::GetTempPath()) ('windns-' + [guid]::NewGuid().ToString('N'))
        directory = "C:\\Windows\\TEMP\\windns-" + uuid.uuid4().hex
        ps.New_Item_Directory(directory)  # L46
        try:
            # L49 $arguments = @{ ZoneName = $ZoneName; Path = $directory; Force = $true; PassThru = $true }
            arguments: dict[str, Any] = {
                "ZoneName": v["ZoneName"],
                "Path": directory,
                "Force": True,
                "PassThru": True,
            }
            kind = "DnsKey"  # L50
            if "DigestType" in bound:  # L51-L54
                arguments["DigestType"] = v["DigestType"]
                kind = "DS"
            # L55 @(Export-DnsServerDnsSecPublicKey @arguments | ForEach-Object { ConvertTo-WindnsRecord $_ })
            records = [convert_record(r) for r in invoke(ps, "Export-DnsServerDnsSecPublicKey", arguments)]
            # L56-L58 @(Get-ChildItem -LiteralPath $directory -File | ForEach-Object {
            #     [System.IO.File]::ReadAllText($_.FullName) }) -join "`n"
            text = "\n".join(
                ps_array([ps.ReadAllText(f["FullName"]) for f in ps.Get_ChildItem_File(directory)])
            )
            return {"ZoneName": v["ZoneName"], "Kind": kind, "Records": records, "File": text}  # L59-L60
        finally:
            ps.Remove_Item(directory)  # L63


HANDLERS: dict[str, Callable[[SimulatedServer, Mapping[str, Any]], Any]] = {
    "zone_export_keys": zone_export_keys,
}
