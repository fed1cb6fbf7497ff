"""The write cycle on the throw-away zone, step by step, through the `windns` commands.

``write_cycle`` takes two callables, so the same steps run against a real server
(tests/windows/test_windows_writes.py) and against the simulator (tests/test_windows_suite.py,
which keeps these steps honest where there is no Windows):

- ``cli(*args)`` runs one `windns` command against the server and returns click's ``Result``;
- ``read()`` reads the zone back through the library (one inventory run for that zone).

Every step checks its effect in what the server reports afterwards, not only the exit code.

The order is Windows's: Remove-DnsServerSigningKey "cannot remove active signing keys from a
signed zone" (docset/winserver2022-ps/DnsServer/Remove-DnsServerSigningKey.md), so the cycle
first shows the toolkit's guard refusing that (9119, nothing sent), then unsigns the zone and
removes the key from the unsigned zone, which that page says the cmdlet is for.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from click.testing import Result

from toolkit.findings import EXIT_REFUSED
from toolkit.model import SigningKey, Zone

__all__ = ["Cli", "Read", "write_cycle"]

Cli = Callable[..., Result]
Read = Callable[[], Zone]


def _ok(res: Result, step: str) -> Any:
    assert res.exit_code == 0, f"{step}: exit {res.exit_code}\n{res.output}"
    text = res.stdout.strip()
    return json.loads(text) if text.startswith(("[", "{")) else None


def _key(zone: Zone, key_id: str) -> SigningKey:
    found = [k for k in zone.keys if k.key_id == key_id]
    assert found, f"key {key_id} is not in {zone.name}: {[k.key_id for k in zone.keys]}"
    return found[0]


def _rollover_marks(key: SigningKey) -> tuple[object, ...]:
    """What a rollover changes: its status, its times, the key pointers."""
    return (
        key.current_rollover_status,
        key.last_rollover_time,
        key.next_rollover_time,
        key.active_key,
        key.standby_key,
        key.next_key,
    )


def write_cycle(cli: Cli, read: Read, zone: str) -> None:
    """Sign with defaults, add a ZSK, list it, roll it, remove it, unsign; each step checked."""
    start = read()
    assert not start.signed and not start.keys, f"{zone} must start unsigned and without keys"

    # 1. zone sign --defaults: Invoke-DnsServerZoneSign -SignWithDefault, "one Zone Signing Keys
    #    (ZSK) and one Key Signing Key (KSK) using default DNS Security (DNSSEC) settings"
    #    (docset/winserver2022-ps/DnsServer/Invoke-DnsServerZoneSign.md)
    record = _ok(cli("zone", "sign", zone, "--defaults", "--format", "json"), "zone sign --defaults")
    assert record is not None and record.get("IsSigned") is True, record
    signed = read()
    assert signed.signed
    assert (len(signed.ksks), len(signed.zsks)) == (1, 1), [k.key_type for k in signed.keys]
    (first_zsk,) = signed.zsks

    # 2. keys add --type ZSK: the toolkit completes the algorithm from the zone's keys
    rows = _ok(cli("keys", "add", "--zone", zone, "--type", "ZSK", "--format", "json"), "keys add")
    assert isinstance(rows, list) and len(rows) == 1, rows
    added = rows[0]
    new_id = added["key_id"]
    assert added["key_type"] == "ZSK"
    assert added["algorithm"]["name"] == first_zsk.algorithm.value
    after_add = read()
    assert {k.key_id for k in after_add.zsks} == {first_zsk.key_id, new_id}
    assert after_add.signed

    # 3. keys list --zone: the listing shows exactly the keys the zone holds, the new ZSK among them
    listed = _ok(cli("keys", "list", "--zone", zone, "--format", "json"), "keys list")
    by_id = {row["key_id"]: row for row in listed}
    assert set(by_id) == {k.key_id for k in after_add.keys}
    assert by_id[new_id]["key_type"] == "ZSK" and by_id[new_id]["zone"].lower() == zone.lower()

    # 4. keys rollover now: Invoke-DnsServerSigningKeyRollover "initiates rollover of input keys"
    #    (docset/winserver2022-ps/DnsServer/Invoke-DnsServerSigningKeyRollover.md); "step" is for a
    #    KSK waiting for its DS, which a ZSK never does
    before_roll = _rollover_marks(_key(after_add, new_id))
    rolled = _ok(cli("keys", "rollover", "now", "--zone", zone, new_id, "--format", "json"), "rollover now")
    assert [row["key_id"] for row in rolled] == [new_id]
    assert _rollover_marks(_key(read(), new_id)) != before_roll, "the rollover changed nothing on the key"

    # 5. keys remove on the signed zone: the guard refuses (9119) and sends nothing
    res = cli("keys", "remove", "--zone", zone, new_id, "--yes")
    assert res.exit_code == EXIT_REFUSED, f"exit {res.exit_code}\n{res.output}"
    assert "9119" in res.output, res.output
    assert new_id in {k.key_id for k in read().keys}

    # 6. zone unsign: Invoke-DnsServerZoneUnsign; the keys stay with the zone
    record = _ok(cli("zone", "unsign", zone, "--yes", "--format", "json"), "zone unsign")
    assert record is not None and record.get("IsSigned") is False, record
    unsigned = read()
    assert not unsigned.signed
    assert new_id in {k.key_id for k in unsigned.keys}

    # 7. keys remove the added ZSK from the unsigned zone
    _ok(cli("keys", "remove", "--zone", zone, new_id, "--yes"), "keys remove")
    rest = read()
    assert new_id not in {k.key_id for k in rest.keys}
    assert first_zsk.key_id in {k.key_id for k in rest.keys}

    # 8. the default keys go too: the zone ends as it started, unsigned and without keys
    _ok(cli("keys", "remove", "--zone", zone, *[k.key_id for k in rest.keys], "--yes"), "keys remove (rest)")
    end = read()
    assert not end.signed and not end.keys, [k.key_id for k in end.keys]
