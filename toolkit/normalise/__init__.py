"""Normalise: raw JSON (our inventory document, or DnsServer cmdlet output) -> descriptors.

Descriptors (``toolkit.model``) never see JSON; this package is the only place that does. It
reads our ``windns.inventory`` document (docs/inventory-schema.md) and the JSON an admin saves
with ``Get-DnsServer... | ConvertTo-Json`` from Windows PowerShell 5.1 or PowerShell 7, and
writes the inventory document back (``dump_inventory``). Bad input raises NormaliseError
naming the JSON path (``$.Zones[3].SigningKeys[0].KeyLength: expected an integer, got "abc"``),
except that in our inventory document a bad value costs only its record: it becomes an error of
its zone or server, with the same text, and the rest is read (see ``inventory``).

Modules: ``coerce`` (one JSON value -> one Python value), ``cim`` (a record view that looks
through CIM adapter members), ``records`` (one record -> one descriptor), ``fast`` (the same for
the plain records our script prints, without the general machinery), ``inventory`` (our
document both ways), ``cmdlet`` (raw cmdlet output), ``files`` (encodings and JSON errors).
"""

from toolkit.normalise.cmdlet import normalise_document
from toolkit.normalise.files import load_file
from toolkit.normalise.inventory import dump_inventory, normalise_inventory
from toolkit.normalise.records import (
    server_info_from_json,
    signing_key_from_json,
    trust_anchor_from_json,
    trust_point_from_json,
    zone_error_from_json,
    zone_from_json,
    zone_settings_from_json,
)

__all__ = [
    "dump_inventory",
    "load_file",
    "normalise_document",
    "normalise_inventory",
    "server_info_from_json",
    "signing_key_from_json",
    "trust_anchor_from_json",
    "trust_point_from_json",
    "zone_error_from_json",
    "zone_from_json",
    "zone_settings_from_json",
]
