"""The simulator mirrors the scripts: each handler is a transliteration of one ``ps_scripts/*.ps1``,
marked with the hash of the script text it was read against, and a script's mistake is the
mirror's mistake too, so the toolkit's own checks are tested against what the script would print.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from toolkit.errors import ProtocolError
from toolkit.resources import expand_includes, ps_scripts_dir, script_text
from toolkit.services.audit import collect
from toolkit.testing.fake_remote import FakeRemote
from toolkit.testing.simulator import Fleet, reads
from toolkit.testing.simulator.mirror import MIRRORS, script_sha256
from toolkit.testing.simulator.powershell import ps_array, ps_foreach
from toolkit.testing.simulator.server import _registry

NEW_CONDITION = "if ($PSBoundParameters.ContainsKey('ZoneName')) {"
OLD_CONDITION = "if (@($ZoneName).Count -gt 0) {"


def test_every_handler_mirrors_the_script_as_it_is_now() -> None:
    handlers = _registry()
    assert set(MIRRORS) == set(handlers)
    for name, handler in handlers.items():
        mirror = MIRRORS[name]
        assert mirror.script == f"{name}.ps1" and mirror.handler == handler.__name__
        actual = script_sha256(name)
        assert actual == mirror.sha256, (
            f"{mirror.script} changed (sha256 {actual}); re-read its mirror {mirror.handler}() in "
            f"{mirror.module} and update the hash"
        )


def test_the_hash_covers_the_shared_parts() -> None:
    # inventory.ps1 includes _projection.ps1: the hash is of the text sent, the part expanded.
    text = script_text("inventory")
    assert "\n# windns:include _projection.ps1\n" not in text and "function ConvertTo-WindnsKey" in text
    assert hashlib.sha256(text.encode()).hexdigest() == MIRRORS["inventory"].sha256


def test_powershell_array_and_foreach_semantics() -> None:
    # @($null) is an array of one $null (about_Arrays); foreach over $null runs zero times (about_Foreach)
    assert ps_array(None) == [None] and len(ps_array(None)) == 1
    assert ps_array([]) == [] and ps_array("a") == ["a"] and ps_array(["a", "b"]) == ["a", "b"]
    assert ps_foreach(None) == [] and ps_foreach("a") == ["a"]


def _old_branch(bound: Any, zone_name: Any) -> bool:
    """The old line 160, transliterated: ``if (@($ZoneName).Count -gt 0) {``."""
    del bound
    return len(ps_array(zone_name)) > 0


def test_the_old_zone_branch_is_caught_by_the_self_check(
    fleet: Fleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The script with its zone branch put back to the old condition is a change the hash guard
    # above would catch: the mirror then has to be re-read.
    path = ps_scripts_dir() / "inventory.ps1"
    original = path.read_text(encoding="utf-8-sig")
    assert original.count(NEW_CONDITION) == 2  # the zone branch, and the self-check's own copy
    old = original.replace(NEW_CONDITION, OLD_CONDITION, 1)  # the zone branch only
    old_text = expand_includes(old, ps_scripts_dir())
    assert hashlib.sha256(old_text.encode()).hexdigest() != MIRRORS["inventory"].sha256

    server = fleet.get("dns1")
    listed = len(server.state["Zones"])
    assert listed > 0
    # With the script's condition, a full audit (no ZoneName sent) returns every zone.
    inv = collect(FakeRemote(server))
    assert len(inv.zones) == listed
    # With the old one transliterated: no ZoneName, $ZoneName is $null, @($null).Count is 1, the
    # named-zones branch runs and its foreach over $null runs zero times; the self-check, written
    # apart from the branch, still counts what the server listed.
    monkeypatch.setattr(reads, "zone_branch", _old_branch)
    doc = FakeRemote(server).run("inventory", {}).data
    assert doc["Zones"] == [] and doc["Errors"] == [] and doc["Check"]["ZonesListed"] == listed
    with pytest.raises(ProtocolError, match=rf"the server listed {listed} zones, the inventory holds 0"):
        collect(FakeRemote(server))
