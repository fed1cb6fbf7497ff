"""The loopback endpoint's server-time model and the naive baseline's single-cmdlet scripts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from toolkit.resources import demo_fixtures_dir, script_text
from toolkit.testing.fakeserver import scripts as scripts_mod
from toolkit.testing.fakeserver.naive import NAIVE_CMDLETS, naive_script, naive_scripts
from toolkit.testing.fakeserver.scripts import ScriptCatalogue
from toolkit.testing.simulator import SimulatedServer


@pytest.fixture
def server() -> SimulatedServer:
    doc = json.loads((demo_fixtures_dir() / "dns1.json").read_text(encoding="utf-8"))
    doc.pop("Faults", None)
    return SimulatedServer(doc)


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    calls: list[float] = []
    monkeypatch.setattr(scripts_mod.time, "sleep", calls.append)
    return calls


def test_no_model_no_sleep(server: SimulatedServer, slept: list[float]) -> None:
    out = ScriptCatalogue().run(server, script_text("inventory"), {})
    assert out.output is not None and slept == []


def test_inventory_costs_a_call_and_every_zone(server: SimulatedServer, slept: list[float]) -> None:
    cat = ScriptCatalogue()
    cat.call_seconds, cat.zone_seconds = 0.5, 0.25
    out = cat.run(server, script_text("inventory"), {})
    assert out.output is not None
    assert slept == [pytest.approx(0.5 + 0.25 * len(server.state["Zones"]))]


def test_output_is_compact_as_the_scripts_print_it(server: SimulatedServer, slept: list[float]) -> None:
    out = ScriptCatalogue().run(server, script_text("inventory"), {})
    assert out.output is not None and "\n" not in out.output
    assert json.loads(out.output)["Zones"]


def test_naive_scripts_answer_and_cost_one_zone_each(server: SimulatedServer, slept: list[float]) -> None:
    cat = ScriptCatalogue(extra=naive_scripts)
    cat.call_seconds, cat.zone_seconds = 0.5, 0.25
    listed = cat.run(server, naive_script("Get-DnsServerZone"), {})
    assert listed.output is not None
    names = [z["ZoneName"] for z in json.loads(listed.output)]
    assert names == [z["ZoneName"] for z in server.state["Zones"]]
    answers: list[Any] = []
    for cmdlet, param in NAIVE_CMDLETS:
        out = cat.run(server, naive_script(cmdlet, param, names[0]), {})
        assert out.output is not None and out.error is None
        answers.append(json.loads(out.output))
    assert answers[0]["ZoneName"] == names[0]
    assert slept == [pytest.approx(0.5 + 0.25 * len(names))] + [pytest.approx(0.75)] * 3


def test_other_text_is_not_a_naive_script() -> None:
    assert naive_scripts("Get-DnsServerZone | ConvertTo-Json; Remove-Item x") is None
    assert naive_scripts(naive_script("Get-DnsServerSigningKey", "ZoneName", "a.example")) is not None


# -- --replay-reads: a read answered again from its first run, until a write --------------------
@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The scripts the simulator itself ran (not replayed)."""
    ran: list[str] = []
    real = SimulatedServer.run

    def run(self: SimulatedServer, script: str, params: Any = None) -> Any:
        ran.append(script)
        return real(self, script, params)

    monkeypatch.setattr(SimulatedServer, "run", run)
    return ran


def _signed_zone(server: SimulatedServer) -> str:
    return next(str(z["ZoneName"]) for z in server.state["Zones"] if z.get("SigningKeys"))


def _keys(out: Any, zone: str) -> int:
    assert out.output is not None, out.error
    entry = next(z for z in json.loads(out.output)["Zones"] if z["ZoneName"] == zone)
    return int(entry["KeysListed"])


def test_replay_is_off_by_default(server: SimulatedServer, runs: list[str]) -> None:
    cat = ScriptCatalogue()
    first, second = (cat.run(server, script_text("inventory"), {}) for _ in range(2))
    assert first.output == second.output and runs == ["inventory", "inventory"]


def test_replay_answers_a_read_again_without_the_simulator(server: SimulatedServer, runs: list[str]) -> None:
    cat = ScriptCatalogue()
    cat.replay_reads = True
    first = cat.run(server, script_text("inventory"), {})
    again = [cat.run(server, script_text("inventory"), {}) for _ in range(3)]
    assert runs == ["inventory"]
    assert all(a.output == first.output for a in again)


def test_replay_keeps_the_modelled_server_time(server: SimulatedServer, slept: list[float]) -> None:
    cat = ScriptCatalogue()
    cat.replay_reads = True
    cat.call_seconds, cat.zone_seconds = 0.5, 0.25
    for _ in range(2):
        cat.run(server, script_text("inventory"), {})
    assert slept == [pytest.approx(0.5 + 0.25 * len(server.state["Zones"]))] * 2


def test_replay_tells_parameters_servers_and_sessions_apart(server: SimulatedServer, runs: list[str]) -> None:
    from toolkit.testing.simulator.doctor import Session

    cat = ScriptCatalogue()
    cat.replay_reads = True
    zone = _signed_zone(server)
    other = SimulatedServer(json.loads(json.dumps(server.state)))
    cat.run(server, script_text("inventory"), {})
    cat.run(server, script_text("zone_dnskeys"), {"ZoneName": zone})
    cat.run(other, script_text("inventory"), {})
    cat.run(server, script_text("inventory"), {}, session=Session(configuration_name="windns.Audit"))
    assert runs == ["inventory", "zone_dnskeys", "inventory", "inventory"]


def test_a_write_drops_the_servers_replies(server: SimulatedServer, runs: list[str]) -> None:
    cat = ScriptCatalogue()
    cat.replay_reads = True
    zone = _signed_zone(server)
    before = _keys(cat.run(server, script_text("inventory"), {}), zone)
    added = cat.run(server, script_text("key_add"), {"ZoneName": zone, "KeyType": "ZoneSigningKey"})
    assert added.error is None, added.error
    after = _keys(cat.run(server, script_text("inventory"), {}), zone)
    assert after == before + 1
    assert runs == ["inventory", "key_add", "inventory"]


def test_a_fault_is_never_replayed(server: SimulatedServer, runs: list[str]) -> None:
    from toolkit.testing.fakeserver.faults import Fault

    cat = ScriptCatalogue()
    cat.replay_reads = True
    good = cat.run(server, script_text("inventory"), {})
    odd = cat.run(server, script_text("inventory"), {}, Fault(kind="non_json"))
    assert odd.output != good.output and runs == ["inventory", "inventory"]
