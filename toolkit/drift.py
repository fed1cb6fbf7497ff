"""What changed between two stored scans: findings, keys, settings, host health.

A finding is identified by (host, rule, zone, key): its message may change from one scan to the
next ("due 3 days ago" / "due 4 days ago") without being a new finding. A key is identified by its
key id; a key present in both scans is *rolled* when its active key changed or its last rollover
time moved to after the earlier scan. Settings are the zone DNSSEC settings, the server DNSSEC
settings and each key's configuration (length, algorithm, rollover period and type, validity
periods, storage).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TextIO

from toolkit.findings import Finding, HostError
from toolkit.model import ServerInventory, SigningKey, zone_key

if TYPE_CHECKING:
    from toolkit.history import History, ScanRecord

__all__ = ["Drift", "KeyChange", "SettingChange", "diff_inventories", "diff_scans", "render_drift"]

_KEY_SETTINGS = (
    "algorithm",
    "key_length",
    "key_storage_provider",
    "store_keys_in_ad",
    "dnskey_signature_validity",
    "ds_signature_validity",
    "zone_signature_validity",
    "rollover_period",
    "rollover_type",
    "is_rollover_enabled",
)


@dataclass(frozen=True, slots=True)
class KeyChange:
    host: str
    zone: str
    key_type: str
    key_id: str
    change: str  # added | removed | rolled
    detail: str = ""
    algorithm: str = ""  # as Windows spells it, as every output does


@dataclass(frozen=True, slots=True)
class SettingChange:
    host: str
    zone: str | None
    setting: str
    old: Any
    new: Any


@dataclass(frozen=True, slots=True)
class Drift:
    a: ScanRecord
    b: ScanRecord
    new: tuple[Finding, ...] = ()
    resolved: tuple[Finding, ...] = ()
    unchanged: tuple[Finding, ...] = ()
    keys: tuple[KeyChange, ...] = ()
    settings: tuple[SettingChange, ...] = ()
    newly_failing: tuple[HostError, ...] = ()
    recovered: tuple[str, ...] = ()
    hosts_added: tuple[str, ...] = ()
    hosts_removed: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(
            self.new
            or self.resolved
            or self.keys
            or self.settings
            or self.newly_failing
            or self.recovered
            or self.hosts_added
            or self.hosts_removed
        )

    def as_dict(self) -> dict[str, Any]:
        def f(x: Finding) -> dict[str, Any]:
            t = x.target
            return {
                "rule_id": x.rule_id,
                "severity": x.severity.label,
                "server": t.server,
                "zone": t.zone,
                "key_id": t.key_id,
                "key_tag": key_tag if isinstance(key_tag := x.evidence.get("key_tag"), int) else None,
                "key_algorithm": x.evidence.get("key_algorithm") if t.key_id else None,
                "message": x.message,
            }

        return {
            "a": self.a.as_dict(),
            "b": self.b.as_dict(),
            "findings": {
                "new": [f(x) for x in self.new],
                "resolved": [f(x) for x in self.resolved],
                "unchanged": len(self.unchanged),
            },
            "keys": {
                c: [dataclasses.asdict(k) for k in self.keys if k.change == c]
                for c in ("added", "removed", "rolled")
            },
            "settings_changed": [
                {
                    "host": s.host,
                    "zone": s.zone,
                    "setting": s.setting,
                    "old": _plain(s.old),
                    "new": _plain(s.new),
                }
                for s in self.settings
            ],
            "hosts": {
                "newly_failing": [
                    {"server": e.server, "kind": e.kind, "message": e.message} for e in self.newly_failing
                ],
                "recovered": list(self.recovered),
                "added": list(self.hosts_added),
                "removed": list(self.hosts_removed),
            },
        }


def _plain(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, timedelta):
        return v.total_seconds()
    if isinstance(v, enum.Enum):
        return v.value
    if isinstance(v, tuple):
        return [_plain(x) for x in v]
    return v


def _fid(host: str, f: Finding) -> tuple[str, str, str, str]:
    return (host.lower(), f.rule_id, zone_key(f.target.zone or ""), f.target.key_id or "")


def _keys(inv: ServerInventory) -> dict[str, SigningKey]:
    return {k.key_id: k for k in inv.iter_keys()}


def _rolled_since(old: datetime | None, new: datetime | None, since: datetime | None) -> bool:
    """A rollover happened between two scans: the last rollover time moved, and to a time after
    the earlier scan was collected (a time that moves but stays before it is the clock of the
    one reporting it, e.g. a simulated server whose times are relative to its start)."""
    if new is None or old == new:
        return False
    return since is None or new > since


def diff_inventories(
    host: str, a: ServerInventory, b: ServerInventory
) -> tuple[list[KeyChange], list[SettingChange]]:
    keys: list[KeyChange] = []
    settings: list[SettingChange] = []
    ka, kb = _keys(a), _keys(b)
    for kid in sorted(kb.keys() - ka.keys()):
        k = kb[kid]
        keys.append(KeyChange(host, k.zone, k.key_type.short, kid, "added", algorithm=k.algorithm.value))
    for kid in sorted(ka.keys() - kb.keys()):
        k = ka[kid]
        keys.append(KeyChange(host, k.zone, k.key_type.short, kid, "removed", algorithm=k.algorithm.value))
    for kid in sorted(ka.keys() & kb.keys()):
        old, new = ka[kid], kb[kid]
        what = []
        if _rolled_since(old.last_rollover_time, new.last_rollover_time, a.collected_at):
            what.append(f"last rollover {_plain(old.last_rollover_time)} -> {_plain(new.last_rollover_time)}")
        if old.active_key != new.active_key:
            what.append("active key changed")
        if what:
            keys.append(
                KeyChange(
                    host, new.zone, new.key_type.short, kid, "rolled", "; ".join(what), new.algorithm.value
                )
            )
        for name in _KEY_SETTINGS:
            ov, nv = getattr(old, name), getattr(new, name)
            if ov != nv:
                settings.append(SettingChange(host, new.zone, f"key {kid}.{name}", ov, nv))
    sa, sb = a.server.settings, b.server.settings
    for fld in dataclasses.fields(sa):
        ov, nv = getattr(sa, fld.name), getattr(sb, fld.name)
        if ov != nv:
            settings.append(SettingChange(host, None, fld.name, ov, nv))
    za = {zone_key(z.name): z for z in a.zones}
    zb = {zone_key(z.name): z for z in b.zones}
    for name in sorted(za.keys() | zb.keys()):
        old_z, new_z = za.get(name), zb.get(name)
        if old_z is None or new_z is None:
            either = old_z or new_z
            settings.append(
                SettingChange(
                    host,
                    either.name if either is not None else name,
                    "zone",
                    "present" if old_z else "absent",
                    "present" if new_z else "absent",
                )
            )
            continue
        if old_z.signed != new_z.signed:
            settings.append(SettingChange(host, new_z.name, "signed", old_z.signed, new_z.signed))
        ds_a, ds_b = old_z.dnssec, new_z.dnssec
        if ds_a is None or ds_b is None:
            if (ds_a is None) != (ds_b is None):
                settings.append(SettingChange(host, new_z.name, "dnssec", ds_a is not None, ds_b is not None))
            continue
        for fld in dataclasses.fields(ds_a):
            if fld.name in ("zone", "nsec3_current_salt"):
                continue
            ov, nv = getattr(ds_a, fld.name), getattr(ds_b, fld.name)
            if ov != nv:
                settings.append(SettingChange(host, new_z.name, fld.name, ov, nv))
    return keys, settings


def diff_scans(history: History, a_id: int, b_id: int) -> Drift:
    """Compare stored scans ``a_id`` (before) and ``b_id`` (after)."""
    rec_a, rec_b = history.get(a_id), history.get(b_id)
    hosts_a = {h.server.lower(): h for h in history.hosts(a_id)}
    hosts_b = {h.server.lower(): h for h in history.hosts(b_id)}
    fa, fb = history.findings(a_id), history.findings(b_id)

    def active(found: Mapping[str, list[Finding]]) -> dict[tuple[str, str, str, str], list[Finding]]:
        out: dict[tuple[str, str, str, str], list[Finding]] = {}
        for host, items in found.items():
            for f in items:
                if not f.suppressed:
                    out.setdefault(_fid(host, f), []).append(f)
        return out

    # Only hosts audited in both scans can say whether a finding is new or resolved.
    both_ok = {n for n in hosts_a.keys() & hosts_b.keys() if hosts_a[n].ok and hosts_b[n].ok}
    ia, ib = active(fa), active(fb)
    new: list[Finding] = []
    resolved: list[Finding] = []
    unchanged: list[Finding] = []
    for fid in sorted(ia.keys() | ib.keys()):
        la, lb = ia.get(fid, []), ib.get(fid, [])
        n = min(len(la), len(lb))
        unchanged.extend(lb[:n])
        if fid[0] in both_ok or (fid[0] not in hosts_a):
            new.extend(lb[n:])
        if fid[0] in both_ok or (fid[0] not in hosts_b):
            resolved.extend(la[n:])
    keys: list[KeyChange] = []
    settings: list[SettingChange] = []
    for name in sorted(both_ok):
        inv_a, inv_b = hosts_a[name].inventory(), hosts_b[name].inventory()
        if inv_a is not None and inv_b is not None:
            k, s = diff_inventories(hosts_b[name].server, inv_a, inv_b)
            keys.extend(k)
            settings.extend(s)
    failing = tuple(
        hosts_b[n].error
        for n in sorted(hosts_b)
        if hosts_b[n].error is not None and (n not in hosts_a or hosts_a[n].ok)
    )
    return Drift(
        a=rec_a,
        b=rec_b,
        new=tuple(new),
        resolved=tuple(resolved),
        unchanged=tuple(unchanged),
        keys=tuple(keys),
        settings=tuple(settings),
        newly_failing=tuple(e for e in failing if e is not None),
        recovered=tuple(
            hosts_b[n].server for n in sorted(hosts_b) if hosts_b[n].ok and n in hosts_a and not hosts_a[n].ok
        ),
        hosts_added=tuple(hosts_b[n].server for n in sorted(hosts_b.keys() - hosts_a.keys())),
        hosts_removed=tuple(hosts_a[n].server for n in sorted(hosts_a.keys() - hosts_b.keys())),
    )


def render_drift(d: Drift, out: TextIO) -> None:
    """Plain-text drift report; what came from a server is shown with ``for_terminal``."""
    from toolkit.render.common import target_label
    from toolkit.safetext import for_terminal

    def w(line: str) -> None:  # one line, ending in a newline
        out.write(for_terminal(line[:-1]) + "\n")

    w(
        f"Scan {d.a.id} ({d.a.started:%Y-%m-%d %H:%M}Z, {d.a.status}) -> "
        f"scan {d.b.id} ({d.b.started:%Y-%m-%d %H:%M}Z, {d.b.status})\n"
    )
    w(f"Findings: {len(d.new)} new, {len(d.resolved)} resolved, {len(d.unchanged)} unchanged\n")
    for label, items in (("new", d.new), ("resolved", d.resolved)):
        for f in items:
            w(f"  {label:<9}{f.severity.label.upper():<9}{f.rule_id:<9}{target_label(f)}: {f.message}\n")
    by = {c: [k for k in d.keys if k.change == c] for c in ("added", "removed", "rolled")}
    w(f"Keys: {len(by['added'])} added, {len(by['removed'])} removed, {len(by['rolled'])} rolled\n")
    for c in ("added", "removed", "rolled"):
        for k in by[c]:
            extra = f" ({k.detail})" if k.detail else ""
            # an inventory holds no DNSKEY: the tag is not known here (windns keys list reads it)
            w(f"  {c:<9}{k.host} / {k.zone} {k.key_type} tag not read, {k.algorithm}, id {k.key_id}{extra}\n")
    w(f"Settings changed: {len(d.settings)}\n")
    for s in d.settings:
        where = f"{s.host} / {s.zone}" if s.zone else s.host
        w(f"  {where}: {s.setting}: {_plain(s.old)} -> {_plain(s.new)}\n")
    w(
        f"Hosts: {len(d.newly_failing)} newly failing, {len(d.recovered)} recovered, "
        f"{len(d.hosts_added)} added, {len(d.hosts_removed)} removed\n"
    )
    for e in d.newly_failing:
        w(f"  failing  {e.server}: {e.kind}: {e.message}\n")
    for name in d.recovered:
        w(f"  recovered {name}\n")
    for name in d.hosts_added:
        w(f"  added    {name}\n")
    for name in d.hosts_removed:
        w(f"  removed  {name}\n")
    if not d.changed:
        w("No changes.\n")
