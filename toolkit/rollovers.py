"""The rollover calendar: every signing key's next rollover across the fleet, sorted by date.

Each key gets one ``RolloverEntry`` with a ``state``:

- ``stuck``: the rollover is in ``RollError``, or a KSK has waited for the parent's DS update
  (``KskWaitingForDSUpdate``) longer than the policy's ``ksk-ds-wait-max``;
- ``overdue``: the next rollover time is in the past and the key is not rolling;
- ``rolling``: a rollover is in progress;
- ``unknown``: the key reports a rollover status this toolkit does not know (a newer Windows, or
  a damaged key): neither taken for a rollover in progress nor for none;
- ``scheduled``: the next rollover is in the future;
- ``disabled``: automatic rollover is off (no next time).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from toolkit.model import ServerInventory, SigningKey
from toolkit.model.enums import RolloverStatus

if TYPE_CHECKING:
    from toolkit.policy import Policy

__all__ = ["STATES", "RolloverEntry", "rollover_calendar"]

STATES = ("stuck", "overdue", "rolling", "unknown", "scheduled", "disabled")
DEFAULT_DS_WAIT_MAX = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class RolloverEntry:
    server: str
    zone: str
    key_type: str
    key_id: str
    algorithm: str
    next_time: datetime | None
    last_time: datetime | None
    status: str | None
    state: str
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "server": self.server,
            "zone": self.zone,
            "key_type": self.key_type,
            "key_id": self.key_id,
            "algorithm": self.algorithm,
            "next_rollover": self.next_time.isoformat().replace("+00:00", "Z") if self.next_time else None,
            "last_rollover": self.last_time.isoformat().replace("+00:00", "Z") if self.last_time else None,
            "status": self.status,
            "state": self.state,
            "detail": self.detail,
        }


def _days(td: timedelta) -> str:
    days = td.total_seconds() / 86400
    return f"{days:.0f}d" if days >= 1 else f"{td.total_seconds() / 3600:.0f}h"


def _entry(server: str, key: SigningKey, now: datetime, ds_wait_max: timedelta) -> RolloverEntry:
    status = key.current_rollover_status
    nxt = key.next_rollover_time
    state, detail = "scheduled", ""
    if status is RolloverStatus.ROLL_ERROR:
        state, detail = "stuck", "rollover is in RollError"
    elif status is RolloverStatus.KSK_WAITING_FOR_DS_UPDATE:
        since = nxt or key.last_rollover_time
        if since is None:
            state, detail = "rolling", "waiting for the parent's DS update (since unknown)"
        elif now - since > ds_wait_max:
            state = "stuck"
            detail = (
                f"waiting {_days(now - since)} for the parent's DS update "
                f"(policy allows {_days(ds_wait_max)})"
            )
        else:
            state, detail = "rolling", f"waiting {_days(now - since)} for the parent's DS update"
    elif status is not None and not status.is_known:
        state, detail = "unknown", f"rollover status {status.value!r} is unknown to this toolkit"
    elif status is not None and status.is_rolling:
        state, detail = "rolling", f"rollover in progress ({status.value})"
    elif not key.rollover_enabled or nxt is None:
        state, detail = "disabled", "automatic rollover is off"
    elif nxt < now:
        state, detail = "overdue", f"due {_days(now - nxt)} ago"
    else:
        detail = f"in {_days(nxt - now)}"
    return RolloverEntry(
        server=server,
        zone=key.zone,
        key_type=key.key_type.short,
        key_id=key.key_id,
        algorithm=key.algorithm.value,  # as Windows spells it, as every output does
        next_time=nxt,
        last_time=key.last_rollover_time,
        status=status.value if status is not None else None,
        state=state,
        detail=detail,
    )


def rollover_calendar(
    inventories: Mapping[str, ServerInventory] | Iterable[tuple[str, ServerInventory]],
    *,
    within: timedelta | None = None,
    now: datetime | None = None,
    policy: Policy | None = None,
    include_disabled: bool = False,
) -> list[RolloverEntry]:
    """Every key's next rollover, soonest first; stuck and overdue keys are always included.

    ``within`` keeps scheduled rollovers due in that window (and everything stuck, overdue,
    rolling or of unknown status); ``None`` keeps all. Keys without automatic rollover appear only with
    ``include_disabled``.
    """
    now = now or datetime.now(UTC)
    ds_wait_max = policy.thresholds.ksk_ds_wait_max if policy is not None else DEFAULT_DS_WAIT_MAX
    items = inventories.items() if isinstance(inventories, Mapping) else inventories
    try:
        horizon = now + within if within is not None else None
    except OverflowError:  # a window past the last representable time keeps everything
        horizon = None
    out: list[RolloverEntry] = []
    for server, inv in items:
        for key in inv.iter_keys():
            e = _entry(server, key, now, ds_wait_max)
            if e.state == "disabled" and not include_disabled:
                continue
            late = horizon is not None and e.next_time is not None and e.next_time > horizon
            if late and e.state == "scheduled":
                continue
            out.append(e)
    far = datetime.max.replace(tzinfo=UTC)
    out.sort(key=lambda e: (e.next_time or far, e.server.lower(), e.zone.lower(), e.key_type, e.key_id))
    return out
