"""The DNS view against a real BIND serving the demo fleet's zones, refereed by BIND's own tools.

Needs named, dnssec-signzone, dnssec-verify, delv and dig (Debian: bind9 bind9-utils
bind9-dnsutils). Missing tools fail the tests with a clear message; set WINDNS_SKIP_BIND=1 to
skip them explicitly.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.bind_fixtures import require_bind as _require_bind
from toolkit.dnsview import QueryOptions, ZoneDnsView, ZoneQuery, parse_target, zone_view, zone_views
from toolkit.findings import Severity
from toolkit.model import SigningKey, Zone, ZoneDnssecSettings
from toolkit.model.enums import CryptoAlgorithm, DenialOfExistence, KeyType, RolloverStatus, ZoneType
from toolkit.rules.join_engine import evaluate_join
from toolkit.testing.bind import BindServer, KeySpec, ZoneSpec, which
from toolkit.testing.bind_demo import DRIFT


@pytest.fixture(scope="module")
def views(demo_bind: tuple[BindServer, list[ZoneSpec]]) -> dict[str, ZoneDnsView]:
    server, specs = demo_bind
    t = parse_target(server.address)
    got = zone_views([ZoneQuery(s.name, t, t) for s in specs], QueryOptions(timeout=2, concurrency=8))
    return {v.zone.rstrip(".") or ".": v for v in got}


def _self_valid(v: ZoneDnsView) -> bool:
    return v.signed and all(s.valid for s in v.signatures) and bool(v.signing_tags("DNSKEY"))


def _chain_valid(name: str, views: dict[str, ZoneDnsView], parents: dict[str, str | None]) -> bool:
    v = views[name]
    if not _self_valid(v):
        return False
    parent = parents.get(name if name == "." else name + ".")
    if parent is None:
        return True
    return bool(v.chain_ok) and _chain_valid(parent.rstrip(".") or ".", views, parents)


def test_demo_zones_served_with_the_inside_shape(views: dict[str, ZoneDnsView]) -> None:
    corp = views["corp.example"]
    assert corp.reachable and not corp.problems
    roles = sorted((k.role, k.algorithm_name, k.key_length) for k in corp.keys)
    # KSK 2048 + active ZSK 1024 + pre-published standby ZSK, as dns1 reports
    assert roles == [("KSK", "RsaSha256", 2048), ("ZSK", "RsaSha256", 1024), ("ZSK", "RsaSha256", 1024)]
    assert corp.nsec3param is not None and corp.nsec3param.iterations == 0 and not corp.nsec3param.has_salt
    dnskey_sigs = corp.signatures_over("DNSKEY")
    assert dnskey_sigs and all(s.valid for s in dnskey_sigs)
    assert {s.validity for s in dnskey_sigs} == {timedelta(hours=168)}
    assert views["ecdsa.corp.example"].nsec_at_apex and views["ecdsa.corp.example"].nsec3param is None
    assert views["nsec3.corp.example"].nsec3param is not None
    assert views["nsec3.corp.example"].nsec3param.iterations == 50
    assert views["shop.corp.example"].keys[0].key_length == 384


def test_views_match_referee_delv(
    demo_bind: tuple[BindServer, list[ZoneSpec]], views: dict[str, ZoneDnsView]
) -> None:
    server, specs = demo_bind
    verdicts = {}
    for spec in specs:
        name = spec.name.rstrip(".") or "."
        qname, rdtype = name, "SOA"  # the RRset our view validated
        p = subprocess.run(
            [
                str(which("delv")),
                "@127.0.0.1",
                "-p",
                str(server.port),
                "-a",
                str(server.trust_anchor_file()),
                "+root=.",
                qname,
                rdtype,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        delv_ok = "; fully validated" in p.stdout
        ours = _chain_valid(name, views, server.parents)
        verdicts[name] = (ours, delv_ok, p.stderr.strip()[-200:])
    disagree = {k: v for k, v in verdicts.items() if v[0] != v[1]}
    assert not disagree, disagree
    assert verdicts["corp.example"][0] is True
    assert verdicts["rollover.corp.example"][0] is False  # stale DS: broken chain
    assert (
        "DS" in verdicts["rollover.corp.example"][2] or "trust chain" in verdicts["rollover.corp.example"][2]
    )
    assert verdicts["tampered.corp.example"][0] is False


def test_views_match_referee_dnssec_verify(
    demo_bind: tuple[BindServer, list[ZoneSpec]], views: dict[str, ZoneDnsView], tmp_path: Path
) -> None:
    server, specs = demo_bind
    results = {}
    for spec in specs:
        name = spec.name.rstrip(".") or "."
        p = _dnssec_verify(server, name, tmp_path)
        v = views[name]
        ours = _self_valid(v) and not v.missing_roles and not v.algorithm_gaps
        results[name] = (ours, p.returncode == 0, p.stderr.strip()[-200:])
        # for the reason we give
        for role in ("KSK", "ZSK"):
            if role in v.missing_roles:
                assert role in p.stderr, (name, role, p.stderr)
    disagree = {k: v for k, v in results.items() if v[0] != v[1]}
    assert not disagree, disagree
    assert results["noksk.corp.example"][0] is False and views["noksk.corp.example"].missing_roles == ("KSK",)
    assert views["nozsk.corp.example"].missing_roles == ("ZSK",)
    assert views["rollerr.branch.example"].missing_roles == ("ZSK",)
    assert results["tampered.corp.example"][0] is False
    bad = [s for s in views["tampered.corp.example"].signatures if s.valid is False]
    assert [s.covered for s in bad] == ["SOA"]


def _dnssec_verify(server: BindServer, name: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """BIND's dnssec-verify over the zone as transferred from ``server`` with AXFR."""
    axfr = subprocess.run(
        [str(which("dig")), "@127.0.0.1", "-p", str(server.port), name, "AXFR"]
        + ["+onesoa", "+nocmd", "+nostats"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    path = tmp_path / f"{name.replace('.', '_') or 'root'}.axfr"
    path.write_text(axfr)
    return subprocess.run(
        [str(which("dnssec-verify")), "-o", name, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_roles_within_each_algorithm_match_referee_dnssec_verify(tmp_path: Path) -> None:
    # Two algorithms, one complete: the zone-wide KSK/ZSK split holds, yet dnssec-verify
    # rejects the zone whose ECDSA keys are a KSK alone. DNS013 must say so too.
    _require_bind()
    rsa = (KeySpec("RSASHA256", 2048, ksk=True), KeySpec("RSASHA256", 1024))
    specs = [
        ZoneSpec("ksk-only-alg.example", (*rsa, KeySpec("ECDSAP256SHA256", ksk=True))),
        ZoneSpec("two-alg.example", (*rsa, KeySpec("ECDSAP256SHA256", ksk=True), KeySpec("ECDSAP256SHA256"))),
    ]
    with BindServer(specs, lifetime=120) as server:
        target = parse_target(server.address)
        for spec, complete in zip(specs, (False, True), strict=True):
            v = zone_view(spec.name, target, opts=QueryOptions(timeout=2))
            referee = _dnssec_verify(server, spec.name, tmp_path)
            assert (referee.returncode == 0) is complete, referee.stderr[-300:]
            assert v.missing_roles == () and _self_valid(v)
            assert v.algorithm_gaps == (() if complete else ((13, "ZSK"),))
            found, _ = evaluate_join([v], None, server="127.0.0.1")
            assert ("DNS013" in {f.rule_id for f in found}) is not complete


def _zone(
    name: str,
    keys: list[tuple[KeyType, str, int, bool]],
    *,
    nsec3: tuple[int, str] | None = (0, "-"),
    status: RolloverStatus = RolloverStatus.NOT_ROLLING,
) -> Zone:
    sk = tuple(
        SigningKey(
            zone=name,
            key_id=f"k{i}",
            key_type=kt,
            algorithm=CryptoAlgorithm(alg),
            key_length=bits,
            active_key=f"a{i}",
            standby_key=f"s{i}" if standby else None,
            current_rollover_status=status if kt is KeyType.KSK else RolloverStatus.NOT_ROLLING,
            dnskey_signature_validity=timedelta(hours=168),
        )
        for i, (kt, alg, bits, standby) in enumerate(keys)
    )
    dnssec = ZoneDnssecSettings(
        zone=name,
        denial_of_existence=DenialOfExistence.NSEC3 if nsec3 else DenialOfExistence.NSEC,
        nsec3_iterations=nsec3[0] if nsec3 else 0,
        nsec3_user_salt=nsec3[1] if nsec3 else "-",
        nsec3_random_salt_length=0,
    )
    return Zone(name=name, zone_type=ZoneType.PRIMARY, is_signed=True, keys=sk, dnssec=dnssec)


RSA = [(KeyType.KSK, "RsaSha256", 2048, False), (KeyType.ZSK, "RsaSha256", 1024, True)]


def _inventory(*zones: Zone):  # type: ignore[no-untyped-def]
    from toolkit.model import ServerInfo, ServerInventory

    return ServerInventory(server=ServerInfo(name="DNS9"), zones=zones)


def _ids(findings: list) -> set[str]:  # type: ignore[type-arg]
    return {f.rule_id for f in findings}


def test_join_healthy_zone_has_nothing_above_info(views: dict[str, ZoneDnsView]) -> None:
    inv = _inventory(_zone("corp.example", RSA))
    found, _ = evaluate_join([views["corp.example"]], inv)
    assert [f for f in found if f.severity > Severity.INFO] == []
    assert [f.rule_id for f in found] == ["DNS000"]  # the record of the view, nothing else


def test_join_out_of_sync_zones(views: dict[str, ZoneDnsView]) -> None:
    assert set(DRIFT) <= set(views)
    inv = _inventory(
        _zone("rollover.corp.example", RSA, status=RolloverStatus.KSK_WAITING_FOR_DS_UPDATE),
        _zone("rollerr.branch.example", RSA),
        _zone("manual.branch.example", RSA),
        _zone("branch.corp.example", RSA),
        _zone("nsec3.corp.example", RSA, nsec3=(50, "9F2C51A4BE0D7781")),
    )
    zones = [
        "rollover.corp.example",
        "rollerr.branch.example",
        "manual.branch.example",
        "branch.corp.example",
        "nsec3.corp.example",
    ]
    by_zone: dict[str, set[str]] = {z: set() for z in zones}
    found, _ = evaluate_join([views[z] for z in zones], inv)
    for f in found:
        if f.target.zone is not None:
            by_zone[f.target.zone].add(f.rule_id)
    assert "DNS004" in by_zone["rollover.corp.example"]
    assert "DNS006" not in by_zone["rollover.corp.example"]
    assert "DNS002" in by_zone["rollerr.branch.example"]
    assert "DNS014" in by_zone["manual.branch.example"]
    assert "DNS008" in by_zone["branch.corp.example"]
    assert by_zone["nsec3.corp.example"] == {"DNS015"}  # served as set: no mismatch


def test_join_ds_already_at_parent_means_step_rollover(views: dict[str, ZoneDnsView]) -> None:
    inv = _inventory(_zone("corp.example", RSA, status=RolloverStatus.KSK_WAITING_FOR_DS_UPDATE))
    assert "DNS006" in _ids(evaluate_join([views["corp.example"]], inv)[0])


def test_join_unaccounted_key_and_expired_window(views: dict[str, ZoneDnsView]) -> None:
    # inside: no standby ZSK, so the pre-published one is unaccounted for
    inv = _inventory(_zone("corp.example", [RSA[0], (KeyType.ZSK, "RsaSha256", 1024, False)]))
    v = views["corp.example"]
    found, _ = evaluate_join([v], inv)
    assert "DNS003" in _ids(found)
    later, _ = evaluate_join([v], inv, now=datetime.now(UTC) + timedelta(days=30))
    assert any(f.rule_id == "DNS008" and f.severity is Severity.CRITICAL for f in later)


def test_named_stops_by_itself_and_on_stop() -> None:
    _require_bind()
    spec = ZoneSpec("solo.example", (KeySpec("ECDSAP256SHA256", ksk=True),))
    server = BindServer([spec], lifetime=3)
    server.start()
    try:
        v = zone_view("solo.example", parse_target(server.address), opts=QueryOptions(timeout=1, retries=0))
        assert v.reachable and v.signed
        proc = server._proc
        assert proc is not None
        proc.wait(timeout=15)  # the lifetime watchdog ends it
        assert not server.running
    finally:
        server.stop()
    second = BindServer([replace(spec, name="solo2.example")], lifetime=60)
    with second:
        assert second.running
    assert not second.running
    assert shutil.which("named") or which("named")


def test_cli_dns_check_against_bind(demo_bind: tuple[BindServer, list[ZoneSpec]]) -> None:
    import json

    from click.testing import CliRunner

    from toolkit.cli import main

    server, _ = demo_bind
    r = CliRunner().invoke(
        main,
        ["dns", "check", "rollover.corp.example", "--dns-server", server.address, "--format", "json"],
        standalone_mode=False,
    )
    assert r.exception is None, r.output
    doc = json.loads(r.output)
    assert doc["chain_ok"] is False and r.return_value == 1
    assert "DNS004" in {f["rule"] for f in doc["findings"]}
    ok = CliRunner().invoke(
        main, ["dns", "check", "corp.example", "--dns-server", server.address], standalone_mode=False
    )
    assert ok.return_value == 0, ok.output
    assert "chain ok" in ok.output


def test_join_legacy_sha1_zone_is_dns016(views: dict[str, ZoneDnsView]) -> None:
    # legacy.corp.example is signed with RsaSha1 inside (ALG001) and served so: RFC 9905 section 2
    found, _ = evaluate_join([views["legacy.corp.example"]], None, server="127.0.0.1")
    (hit,) = [f for f in found if f.rule_id == "DNS016"]
    assert hit.severity is Severity.HIGH and hit.evidence["algorithm"] == 5 and hit.evidence["signs"]
    healthy, _ = evaluate_join([views["corp.example"], views["ecdsa.corp.example"]], None, server="127.0.0.1")
    assert "DNS016" not in _ids(healthy)


def test_stale_signatures_are_dns007_dns008_not_a_missing_key(tmp_path: Path) -> None:
    # signed 400 h ago with 240/168 h validity: every RRSIG expired, each still verifies at its
    # inception. The zone has its KSK and ZSK: DNS013 (add a key) would be the wrong fix.
    _require_bind()
    ecdsa = (KeySpec("ECDSAP256SHA256", ksk=True), KeySpec("ECDSAP256SHA256"))
    spec = ZoneSpec("stale.example", ecdsa, inception_offset=timedelta(hours=400))
    with BindServer([spec], lifetime=120) as server:
        v = zone_view(spec.name, parse_target(server.address), opts=QueryOptions(timeout=2))
    sigs = [s for s in v.signatures if s.covered in ("SOA", "DNSKEY")]
    assert sigs and all(s.valid is False and s.error == "expired" and s.verifies_in_window for s in sigs)
    assert v.missing_roles == ("KSK", "ZSK") and v.missing_roles_in_window == ()
    found, _ = evaluate_join([v], None, server="127.0.0.1")
    assert {"DNS007", "DNS008"} <= _ids(found) and "DNS013" not in _ids(found)
