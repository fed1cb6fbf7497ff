"""A zone's profile: what profile-only rules read of it, so zones that share one share their hits.

Most zones of a server are configured alike: Windows signs each with the same defaults, and an
admin who changes one setting usually changes it everywhere. They then differ only in what
names them: the zone's name, its keys' ids and version references, when each key last rolled
over and rolls next, and the NSEC3 salt Windows drew for it. A rule declared
``Rule(profile_only=True)`` promises to read nothing of those (and nothing of the zone's read
errors): its hits on a zone follow from the zone's profile and from what is the same for every
zone of one evaluation (the server's inventory, the thresholds, the time of judging). The engine
(``toolkit.rules.engine``) judges such rules once per profile within one evaluation and gives
the other zones of that profile the same hits, each key's hit moved to the key in the same
position. ``tests/test_rules_cache.py`` holds the result to judging every zone afresh, on
zones cloned with other names, ids, times and salts.

Every descriptor field not listed below is part of the profile, so a field added later makes
profiles differ more often, never share wrongly.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import fields
from typing import Any, Final

from toolkit.model import SigningKey, Zone, ZoneDnssecSettings

__all__ = ["IDENTITY", "zone_profile"]

#: Per descriptor, the fields that tell one zone or key from another: left out of the profile.
IDENTITY: Final[dict[type, frozenset[str]]] = {
    Zone: frozenset({"name", "dnssec", "keys", "errors"}),  # settings and keys: their own parts below
    ZoneDnssecSettings: frozenset({"zone", "nsec3_current_salt"}),
    SigningKey: frozenset(
        {
            "zone",
            "key_id",
            "active_key",
            "standby_key",
            "next_key",
            "last_rollover_time",
            "next_rollover_time",
        }
    ),
}


def _reader(cls: type) -> Callable[[Any], tuple[object, ...]]:
    """A function returning the tuple of ``cls``'s fields outside ``IDENTITY``, generated as
    ``return (o.a, o.b, ...)``: Python specialises each slot read, which ``attrgetter``, reading
    by name, does not (0.3 against 0.65 us a key). The names are our descriptors' field names,
    as in ``toolkit.normalise.fast._unchecked``."""
    names = [f.name for f in fields(cls) if f.name not in IDENTITY[cls]]
    namespace: dict[str, Any] = {}
    exec(f"def read(o):\n    return ({', '.join(f'o.{n}' for n in names)},)\n", namespace)
    read: Callable[[Any], tuple[object, ...]] = namespace["read"]
    read.__qualname__ = read.__name__ = f"{cls.__name__}_profile"
    return read


_ZONE, _SETTINGS, _KEY = _reader(Zone), _reader(ZoneDnssecSettings), _reader(SigningKey)


def zone_profile(zone: Zone) -> Hashable | None:
    """The zone's profile (equal for zones that differ only in the ``IDENTITY`` fields), or None
    for a zone whose hits must not be shared: one the inventory could not fully read. (A
    descriptor built by hand with a list where a tuple belongs gives an unhashable profile: the
    engine then judges that zone on its own.)"""
    if zone.errors:
        return None
    s = zone.dnssec
    return (_ZONE(zone), None if s is None else _SETTINGS(s), tuple(map(_KEY, zone.keys)))
