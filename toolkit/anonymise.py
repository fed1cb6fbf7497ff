"""Consistent stand-ins for the names, key ids and addresses of a server's answers.

``windns doctor --capture`` writes what a server printed into a bundle meant for a bug report;
before that, every zone name, host name, key GUID, distinguished name and IP address in it is
replaced, the same original by the same stand-in throughout the bundle:

- zones become ``zone1.example``, ``zone2.example``...; a zone under another zone keeps that
  relation (``sub.corp.example`` -> ``zone2.zone1.example``), a reverse zone its ``in-addr.arpa``
  or ``ip6.arpa`` suffix; well-known names (``.``, ``TrustAnchors``, ``0/127/255.in-addr.arpa``)
  and labels (``_msdcs``, ``DomainDnsZones``, ``ForestDnsZones``) stay;
- host names: the first label becomes ``host1``..., the rest is a domain like a zone
  (``DNS1.corp.example`` -> ``HOST1.zone1.example``, the short ``DNS1`` -> ``HOST1``); the case of
  an all-capitals original is kept;
- a domain written as a DN (``DC=corp,DC=example``) is replaced as that domain;
- GUIDs, in every spelling (braces or none, upper or lower case), by
  ``00000000-0000-4000-8000-00000000000N`` spelled like the original;
- IPv4 and IPv6 addresses by documentation addresses (192.0.2.0/24, 198.51.100.0/24,
  203.0.113.0/24, 2001:db8::/32); loopback and unspecified addresses stay.

Names are learnt from the structured answers (``learn_*``), then the texts are rewritten as
they were printed (``text``), so a file keeps its layout; ``leftovers`` finds any original still
present in a text's decoded strings (an escaped spelling the rewrite could not see), and
``document`` rewrites a parsed document instead. ``replacements()`` is the local-only manifest.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from toolkit.model import zone_key

__all__ = ["WELL_KNOWN_ZONES", "Anonymiser", "Replacement", "strings_of"]

WELL_KNOWN_ZONES = frozenset(
    {
        ".",
        "trustanchors",
        "0.in-addr.arpa",
        "127.in-addr.arpa",
        "255.in-addr.arpa",
        "in-addr.arpa",
        "ip6.arpa",
    }
)
_WELL_KNOWN_LABELS = frozenset({"_msdcs", "domaindnszones", "forestdnszones", "_tcp", "_udp", "_sites"})
#: first labels that say nothing about a site and would hit ordinary words if replaced
_COMMON_LABELS = frozenset({"dns", "localhost", "server", "windows", "microsoft", "domain", "root", "local"})
_REVERSE_SUFFIXES = ("in-addr.arpa", "ip6.arpa")
_NAME_CHARS = r"\w-"  # letters (any script), digits, underscore, hyphen
_GUID = r"\{?[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}?"
_IPV4 = r"(?<![0-9.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?![0-9.])"
_IPV6 = r"(?<![0-9A-Fa-f:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![0-9A-Fa-f:.])"
_DOC_V4 = ("192.0.2.", "198.51.100.", "203.0.113.")


@dataclass(frozen=True, slots=True)
class Replacement:
    kind: str  # zone, domain, host, guid, address
    original: str
    replacement: str


def _name_key(name: str) -> str:
    return zone_key(name.strip())


def _is_name(text: str) -> bool:
    return bool(re.fullmatch(r"[\w-]+(?:\.[\w-]+)*\.?", text.strip()))


def _capitals(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters)


def _spell_like(original: str, replacement: str) -> str:
    """``replacement`` in the capitals of ``original``: all, the first label's (``DNS1.corp.example``
    -> ``HOST1.zone1.example``), or none."""
    if _capitals(original):
        return replacement.upper()
    head, dot, rest = replacement.partition(".")
    if dot and _capitals(original.partition(".")[0]):
        return f"{head.upper()}.{rest}"
    return replacement


def strings_of(value: Any) -> Iterator[str]:
    """Every string of a parsed JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield str(k)
            yield from strings_of(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from strings_of(v)


class Anonymiser:
    """Learns the names of a bundle, then rewrites its texts with the same stand-ins throughout."""

    def __init__(self, *, keep: Iterable[str] = ()) -> None:
        self._zones: set[str] = set()
        self._domains: set[str] = set()
        self._hosts: set[str] = set()
        self._fqdns: set[str] = set()
        self._addresses: set[str] = set()
        self._keep = {k.lower() for k in keep}
        self._built = False
        self._names: dict[str, str] = {}  # lower-case name or DN -> stand-in (lower case)
        self._kinds: dict[str, str] = {}
        self._labels: dict[str, str] = {}  # host first label -> stand-in
        self._guids: dict[str, str] = {}  # lower-case hex with dashes -> stand-in
        self._ips: dict[str, str] = {}
        self._spellings: dict[tuple[str, str], str] = {}  # (kind, original as seen) -> stand-in as written
        self._pattern: re.Pattern[str] | None = None

    # -- learning ---------------------------------------------------------------------------------
    def add_zone(self, name: Any) -> None:
        if isinstance(name, str) and name.strip() and _is_name(name):
            key = _name_key(name)
            if key and key not in WELL_KNOWN_ZONES:
                self._zones.add(key)
                self._built = False

    def add_host(self, name: Any) -> None:
        """A computer name, short (``DNS1``) or full (``DNS1.corp.example``)."""
        if not isinstance(name, str) or not name.strip():
            return
        text = name.strip().rstrip(".")
        if self._is_address(text):
            self.add_address(text)
            return
        if not _is_name(text):
            return
        first, _, rest = text.partition(".")
        if first.lower() not in _COMMON_LABELS | _WELL_KNOWN_LABELS:
            self._hosts.add(first.lower())
        if "." in rest:  # a single-label suffix ("local") is left alone
            self._domains.add(rest.lower())
            self._fqdns.add(text.lower())
        self._built = False

    def add_address(self, text: Any) -> None:
        if isinstance(text, str) and self._is_address(text.strip()):
            self._addresses.add(text.strip())

    def keep(self, *texts: str) -> None:
        """Strings that look like addresses but are not (a module version such as 2.0.0.0)."""
        self._keep.update(t.lower() for t in texts if t)

    def learn_inventory(self, doc: Any) -> None:
        """Names in our inventory document (docs/inventory-schema.md), any schema version."""
        if not isinstance(doc, Mapping):
            return
        server = doc.get("Server")
        if isinstance(server, Mapping):
            self.add_host(server.get("ComputerName"))
        for zone in doc.get("Zones") or ():
            if isinstance(zone, Mapping):
                self.add_zone(zone.get("ZoneName"))
                setting = zone.get("DnsSecSetting")
                if isinstance(setting, Mapping):
                    self.add_host(setting.get("KeyMasterServer"))
                for key in zone.get("SigningKeys") or ():
                    if isinstance(key, Mapping):
                        self.add_zone(key.get("ZoneName"))
        keys = doc.get("Keys")
        if isinstance(keys, Mapping):
            for name in keys.get("ZoneName") or ():
                self.add_zone(name)
        for anchor in doc.get("TrustAnchors") or ():
            if isinstance(anchor, Mapping):
                self.add_zone(anchor.get("TrustAnchorName"))
        for point in doc.get("TrustPoints") or ():
            if isinstance(point, Mapping):
                self.add_zone(point.get("TrustPointName"))
        request = doc.get("Request")
        if isinstance(request, Mapping):
            for name in request.get("ZoneName") or ():
                self.add_zone(name)

    def learn_probe(self, doc: Any) -> None:
        if not isinstance(doc, Mapping):
            return
        self.add_host(doc.get("ComputerName"))
        for module in doc.get("Modules") or ():
            if isinstance(module, Mapping) and isinstance(module.get("Version"), str):
                self.keep(module["Version"])

    def learn_cmdlet_output(self, value: Any) -> None:
        """Names in raw DnsServer cmdlet output (``... | ConvertTo-Json``): zones, servers,
        directory partitions and addresses of zone, key, setting, anchor and point objects."""
        for record in value if isinstance(value, list) else [value]:
            if not isinstance(record, Mapping):
                continue
            for member in ("ZoneName", "TrustAnchorName", "TrustPointName"):
                self.add_zone(record.get(member))
            for member in ("PSComputerName", "KeyMasterServer", "ComputerName"):
                self.add_host(record.get(member))
            system = record.get("CimSystemProperties")
            if isinstance(system, Mapping):
                self.add_host(system.get("ServerName"))
            partition = record.get("DirectoryPartitionName")
            if isinstance(partition, str) and "." in partition:
                self.add_host(partition)  # DomainDnsZones.<domain>: the label is well known
            for member in ("MasterServers", "NotifyServers", "SecondaryServers", "LocalMasters"):
                items = record.get(member)
                if isinstance(items, Mapping):
                    items = items.get("value")
                for item in items if isinstance(items, list) else [items]:
                    self.add_address(item)

    # -- the stand-ins ------------------------------------------------------------------------------
    def _is_address(self, text: str) -> bool:
        try:
            ipaddress.ip_address(text)
        except ValueError:
            return False
        return True

    def _build(self) -> None:
        if self._built:
            return
        names: dict[str, str] = {}
        kinds: dict[str, str] = {}
        pool = self._zones | self._domains
        taken = pool | self._hosts  # a stand-in never spells an original
        counters = {"zone": 0, "domain": 0}

        def number(prefix: str, suffix: str = "") -> str:
            while True:
                counters[prefix] += 1
                value = f"{prefix}{counters[prefix]}"
                if f"{value}{suffix}" not in taken and value not in taken:
                    return value

        def stand_in(key: str, kind: str) -> str:
            if key in names:
                return names[key]
            labels = key.split(".")
            suffixes = (".".join(labels[i:]) for i in range(1, len(labels)))
            parent = next((p for p in suffixes if p in pool), None)
            reverse = next((r for r in _REVERSE_SUFFIXES if key.endswith("." + r)), None)
            if reverse is not None:
                value = f"{number('zone', '.' + reverse)}.{reverse}"
            elif parent is not None:
                base = stand_in(parent, kinds.get(parent, kind))
                head = labels[0] if labels[0] in _WELL_KNOWN_LABELS else number("zone", "." + base)
                value = f"{head}.{base}"
            else:
                prefix = "zone" if kind == "zone" else "domain"
                value = f"{number(prefix, '.example')}.example"
            names[key] = value
            kinds[key] = kind
            return value

        for key in sorted(pool, key=lambda k: (k.count("."), k)):
            stand_in(key, "zone" if key in self._zones else "domain")
        # A domain also spelled as a distinguished name: DC=corp,DC=example.
        for key, value in list(names.items()):
            if "." in key and not key.endswith(_REVERSE_SUFFIXES):
                names[_dn(key)] = _dn(value)
                kinds[_dn(key)] = "dn"
        self._labels = {}
        n = 0
        for label in sorted(self._hosts):
            n += 1
            while f"host{n}" in taken:
                n += 1
            self._labels[label] = f"host{n}"
        # A full host name is one name too (the manifest shows it whole): label and domain replaced.
        for fqdn in self._fqdns:
            if fqdn not in names:
                first, _, rest = fqdn.partition(".")
                names[fqdn] = f"{self._labels.get(first, first)}.{names[rest]}"
                kinds[fqdn] = "host"
        self._names, self._kinds = names, kinds
        for a in sorted(self._addresses):
            self._ip(a)
        literals = sorted({*names, *self._labels}, key=len, reverse=True)
        spelled = "|".join(re.escape(x) for x in literals)
        alternatives = [
            rf"(?P<name>(?<![{_NAME_CHARS}])(?:{spelled})(?![{_NAME_CHARS}]))" if literals else None,
            rf"(?P<guid>(?<![0-9A-Fa-f-]){_GUID}(?![0-9A-Fa-f-]))",
            rf"(?P<v4>{_IPV4})",
            rf"(?P<v6>{_IPV6})",
        ]
        self._pattern = re.compile("|".join(a for a in alternatives if a), re.IGNORECASE)
        self._built = True

    def _guid(self, text: str) -> str:
        hexpart = text.strip("{}").lower()
        value = self._guids.get(hexpart)
        if value is None:
            value = self._guids[hexpart] = f"00000000-0000-4000-8000-{len(self._guids) + 1:012x}"
        out = value.upper() if any(c.isupper() for c in text) else value
        if text.startswith("{"):
            out = "{" + out + "}"
        self._spellings[("guid", text)] = out
        return out

    def _ip(self, text: str) -> str | None:
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            return None
        if text.lower() in self._keep or address.is_loopback or address.is_unspecified:
            return None
        key = address.compressed
        value = self._ips.get(key)
        if value is None:
            n = sum(1 for v in self._ips if ":" not in v) if address.version == 4 else 0
            if address.version == 4:
                block, host = divmod(n, 254)
                value = f"{_DOC_V4[block % len(_DOC_V4)]}{host + 1}"
            else:
                value = f"2001:db8::{sum(1 for v in self._ips if ':' in v) + 1:x}"
            self._ips[key] = value
        self._spellings[("address", text)] = value
        return value

    def _replace(self, m: re.Match[str]) -> str:
        text = m.group(0)
        if m.group("guid"):
            return self._guid(text)
        if m.group("v4") or m.group("v6"):
            return self._ip(text) or text
        key = text.lower()
        if key in self._names:
            value = self._names[key]
            if self._kinds[key] == "dn":
                out = re.sub(r"^dc=|,dc=", lambda d: d.group(0).replace("dc", text[:2]), value)
            elif self._kinds[key] == "host" and key.partition(".")[0] not in self._labels:
                # a first label kept as it is (DomainDnsZones): only the domain is replaced
                first, _, rest = text.partition(".")
                out = f"{first}.{_spell_like(rest, value.partition('.')[2])}"
            else:
                out = _spell_like(text, value)
            self._spellings[(self._kinds[key], text)] = out
            return out
        out = _spell_like(text, self._labels[key])
        self._spellings[("host", text)] = out
        return out

    # -- rewriting ----------------------------------------------------------------------------------
    def text(self, text: str) -> str:
        """``text`` with every learnt name, every GUID and every address replaced."""
        self._build()
        assert self._pattern is not None
        return self._pattern.sub(self._replace, text)

    def document(self, value: Any) -> Any:
        """A parsed JSON value with every string (keys too) rewritten by ``text``."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.text(str(k)): self.document(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.document(v) for v in value]
        return value

    def originals(self) -> list[str]:
        """Every original this anonymiser replaces or would replace (lower case)."""
        self._build()
        return sorted({*self._names, *self._labels, *self._guids, *self._ips})

    def leftovers(self, text: str) -> list[str]:
        """Originals still present in ``text``'s decoded strings (``text`` is JSON), or in the
        text itself when it is not JSON."""
        self._build()
        try:
            haystack = "\n".join(strings_of(json.loads(text)))
        except ValueError:
            haystack = text
        low = haystack.lower()
        found = []
        for original in self.originals():
            if original in self._ips:
                continue  # checked below, by address
            boundary = r"0-9a-f-" if original in self._guids else _NAME_CHARS
            if re.search(rf"(?<![{boundary}]){re.escape(original)}(?![{boundary}])", low):
                found.append(original)
        for m in re.finditer(rf"{_IPV4}|{_IPV6}", haystack):
            try:
                key = ipaddress.ip_address(m.group(0)).compressed
            except ValueError:
                continue
            if key in self._ips:
                found.append(m.group(0))
        return found

    def replacements(self) -> list[Replacement]:
        """What was replaced, each spelling seen once: the local-only manifest."""
        return [
            Replacement(kind, original, replacement)
            for (kind, original), replacement in sorted(
                self._spellings.items(), key=lambda i: (i[0][0], i[0][1])
            )
        ]

    def counts(self) -> dict[str, int]:
        self._build()
        zones = sum(1 for k, v in self._kinds.items() if v == "zone")
        domains = sum(1 for k, v in self._kinds.items() if v == "domain")
        return {
            "zones": zones,
            "domains": domains,
            "hosts": len(self._labels),
            "guids": len(self._guids),
            "addresses": len(self._ips),
        }


def _dn(name: str) -> str:
    return ",".join(f"dc={label}" for label in name.split("."))
