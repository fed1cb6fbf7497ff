"""The rollover calendar: states, window, order."""

from __future__ import annotations

from datetime import timedelta

from rules_fixtures import NOW, D, inventory, key, zone

from toolkit.model import ServerInventory
from toolkit.model.enums import RolloverStatus
from toolkit.policy import load_policy, parse_policy
from toolkit.rollovers import rollover_calendar


def _fleet() -> dict[str, ServerInventory]:
    z1 = zone(
        "a.example",
        keys=(
            key("KSK", 1, zone="a.example", next_rollover_time=NOW + 100 * D),
            key("ZSK", 2, zone="a.example", next_rollover_time=NOW + 5 * D),
        ),
    )
    z2 = zone(
        "b.example",
        keys=(
            key("KSK", 3, zone="b.example", next_rollover_time=NOW - 3 * D),  # overdue
            key(
                "ZSK",
                4,
                zone="b.example",
                next_rollover_time=NOW + 20 * D,
                current_rollover_status=RolloverStatus.ROLL_ERROR,
            ),  # stuck
        ),
    )
    z3 = zone(
        "c.example",
        keys=(
            key(
                "KSK",
                5,
                zone="c.example",
                next_rollover_time=NOW - 10 * D,
                current_rollover_status=RolloverStatus.KSK_WAITING_FOR_DS_UPDATE,
            ),  # stuck (> 7d)
            key(
                "KSK",
                6,
                zone="c.example",
                next_rollover_time=NOW - 2 * D,
                current_rollover_status=RolloverStatus.KSK_WAITING_FOR_DS_UPDATE,
            ),  # rolling, within limit
            key(
                "ZSK",
                7,
                zone="c.example",
                is_rollover_enabled=False,
                rollover_period=None,
                next_rollover_time=None,
            ),
        ),
    )
    return {"dns1": inventory(z1), "dns2": inventory(z2, z3)}


def test_states_and_order() -> None:
    entries = rollover_calendar(_fleet(), now=NOW)
    got = [(e.server, e.zone, e.key_id[-1], e.state) for e in entries]
    assert got == [
        ("dns2", "c.example", "5", "stuck"),
        ("dns2", "b.example", "3", "overdue"),
        ("dns2", "c.example", "6", "rolling"),
        ("dns1", "a.example", "2", "scheduled"),
        ("dns2", "b.example", "4", "stuck"),
        ("dns1", "a.example", "1", "scheduled"),
    ]
    times = [e.next_time for e in entries]
    assert times == sorted(t for t in times if t is not None)
    stuck = next(e for e in entries if e.key_id.endswith("5"))
    assert (
        "10d" in stuck.detail and stuck.status == "KskWaitingForDSUpdate" and stuck.algorithm == "RsaSha256"
    )


def test_window_keeps_problems_and_drops_far_rollovers() -> None:
    entries = rollover_calendar(_fleet(), now=NOW, within=timedelta(days=30))
    ids = {e.key_id[-1] for e in entries}
    assert ids == {"2", "3", "4", "5", "6"}  # key 1 (100 days out) dropped; stuck/overdue kept


def test_window_past_the_last_representable_time_keeps_everything() -> None:
    fleet = _fleet()
    assert rollover_calendar(fleet, now=NOW, within=timedelta.max) == rollover_calendar(fleet, now=NOW)


def test_disabled_keys_only_on_request_and_policy_limit_applies() -> None:
    fleet = _fleet()
    assert "7" not in {e.key_id[-1] for e in rollover_calendar(fleet, now=NOW)}
    everything = rollover_calendar(fleet, now=NOW, include_disabled=True)
    assert [e.state for e in everything if e.key_id.endswith("7")] == ["disabled"]
    lenient = parse_policy('extends = "baseline"\n[thresholds]\nksk-ds-wait-max = "30d"\n', "p.toml")
    assert lenient.thresholds.ksk_ds_wait_max == 30 * D
    states = {e.key_id[-1]: e.state for e in rollover_calendar(fleet, now=NOW, policy=lenient)}
    assert states["5"] == "rolling"
    assert {e.key_id[-1]: e.state for e in rollover_calendar(fleet, now=NOW, policy=load_policy())}[
        "5"
    ] == "stuck"
    row = everything[0].as_dict()
    assert row["next_rollover"].endswith("Z") and row["state"] == "stuck"
