"""The single-cmdlet scripts of the naive baseline the fleet benchmark compares against.

A client that knows no better runs one cmdlet per ``run_ps`` call and pipes it to
``ConvertTo-Json``: the zone list, then ``Get-DnsServerZone -Name``,
``Get-DnsServerDnsSecZoneSetting -ZoneName`` and ``Get-DnsServerSigningKey -ZoneName`` for each
zone. ``naive_scripts`` teaches the loopback endpoint exactly these texts (``extra_scripts``;
``windns fake-server --naive-cmdlets``). Each handler says how many zones it reads (``zones``),
for the endpoint's server-time model.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from toolkit.testing.simulator import SimulatedServer

__all__ = ["NAIVE_CMDLETS", "naive_script", "naive_scripts"]

NAIVE_CMDLETS = (
    ("Get-DnsServerZone", "Name"),
    ("Get-DnsServerDnsSecZoneSetting", "ZoneName"),
    ("Get-DnsServerSigningKey", "ZoneName"),
)

_NAIVE = re.compile(
    r"^(Get-DnsServerZone|Get-DnsServerDnsSecZoneSetting|Get-DnsServerSigningKey)"
    r"(?: -(?:Name|ZoneName) '([^']*)')? \| ConvertTo-Json$"
)


def naive_script(cmdlet: str, parameter: str | None = None, zone: str | None = None) -> str:
    """The text the baseline sends (zone names are the benchmark's own, never user values)."""
    if parameter is None or zone is None:
        return f"{cmdlet} | ConvertTo-Json"
    return f"{cmdlet} -{parameter} '{zone}' | ConvertTo-Json"


class _Handler:
    def __init__(self, cmdlet: str, zone: str | None) -> None:
        self.cmdlet, self.zone = cmdlet, zone
        self.zones: int | None = 1 if zone is not None else None  # None: every zone

    def __call__(self, server: SimulatedServer, _params: Mapping[str, Any]) -> Any:
        if self.zone is None:
            if self.cmdlet != "Get-DnsServerZone":
                return []
            return [{"ZoneName": z["ZoneName"], "ZoneType": z.get("ZoneType")} for z in server.state["Zones"]]
        z = server.find_zone(self.zone) or {}
        if self.cmdlet == "Get-DnsServerZone":
            return {k: v for k, v in z.items() if not isinstance(v, list | dict)}
        if self.cmdlet == "Get-DnsServerDnsSecZoneSetting":
            return z.get("DnsSecSetting")
        return z.get("SigningKeys", [])


def naive_scripts(text: str) -> Callable[[SimulatedServer, Mapping[str, Any]], Any] | None:
    """The handler of one naive single-cmdlet script, or None for any other text."""
    m = _NAIVE.match(text.strip())
    if m is None:
        return None
    return _Handler(m.group(1), m.group(2))
