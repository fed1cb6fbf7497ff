"""Benchmark: rule evaluation with per-zone facts computed once, against recomputing them per use.

    python benchmarks/bench_rules.py                       # 2,000 zones x 4 keys, and the demo fleet
    python benchmarks/bench_rules.py --zones 500 --seconds 1
    python benchmarks/bench_rules.py --profile             # cProfile of the cached evaluation

Two workloads, each evaluated with every rule selected (the rfc profile's thresholds):

- *synthetic*: one server of ``--zones`` zones with ``--keys`` keys each, built from the
  descriptors with a fixed seed: mostly healthy signed zones (KSKs and ZSKs, RsaSha256/ECDSA,
  rollover on), a share with retired keys, SHA-1 or short keys, missing key types, stuck
  rollovers, NSEC3 iterations and salts, SHA-1 DS digests, unknown enum values, unreadable keys,
  plus unsigned primary and secondary zones;
- *demo*: the bundled demo fleet's servers (their inventories through the simulator and the
  normaliser, once, before timing).

For each, ``rules.evaluate_rules`` runs alternately with ``cache_facts=True`` (what ``windns``
does: each zone's facts computed once and shared by the rules) and ``cache_facts=False`` (the naive
evaluation: every rule on every zone, every fact recomputed each time a rule reads it, as the
rules did before the cache), for ``--seconds`` of CPU time each. It prints keys (and zones) per
CPU second for both and the ratio cached / naive measured in this run, after checking both give
the same findings.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import io
import pstats
import random
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from toolkit.model import (
    ServerDnssecSettings,
    ServerInfo,
    ServerInventory,
    SigningKey,
    TrustAnchor,
    TrustPoint,
    Zone,
    ZoneDnssecSettings,
    ZoneError,
)
from toolkit.model.enums import (
    CryptoAlgorithm,
    DenialOfExistence,
    DsDigest,
    KeyMasterStatus,
    KeyState,
    KeyType,
    RolloverStatus,
    RolloverType,
    TrustAnchorState,
    TrustAnchorType,
    ZoneType,
)
from toolkit.policy import Policy, load_policy
from toolkit.rules import RULES, evaluate_rules

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
H, D = timedelta(hours=1), timedelta(days=1)
SERVER = "BENCH.bench.example"


# -- the synthetic server --------------------------------------------------------------------------
def _key(rng: random.Random, zone: str, i: int, kind: KeyType, alg: CryptoAlgorithm, odd: bool) -> SigningKey:
    ksk = kind is KeyType.KSK
    key = SigningKey(
        zone=zone,
        key_id=str(uuid.UUID(int=rng.getrandbits(128))),
        key_type=kind,
        algorithm=alg,
        key_length=(2048 if alg.is_rsa else 256) if not odd or rng.random() < 0.5 else 1024,
        current_state=KeyState.ACTIVE,
        store_keys_in_ad=True,
        dnskey_signature_validity=168 * H,
        ds_signature_validity=168 * H,
        zone_signature_validity=240 * H,
        rollover_period=(365 if ksk else 90) * D,
        rollover_type=RolloverType.DOUBLE_SIGNATURE if ksk else RolloverType.PREPUBLISH,
        next_rollover_time=NOW + rng.randint(1, 300) * D,
        current_rollover_status=RolloverStatus.NOT_ROLLING,
        is_rollover_enabled=True,
    )
    if not odd:
        return key
    change = rng.choice(
        [
            {"current_state": KeyState.RETIRED},
            {"is_rollover_enabled": False},
            {"next_rollover_time": NOW - 20 * D},
            {"current_rollover_status": RolloverStatus.ROLL_ERROR},
            {
                "current_rollover_status": RolloverStatus.KSK_WAITING_FOR_DS_UPDATE,
                "next_rollover_time": NOW - 30 * D,
            },
            {"rollover_type": RolloverType("Manual")},
            {"dnskey_signature_validity": 24 * H},
            {"zone_signature_validity": 1000 * H},
            {"store_keys_in_ad": False},
            {"algorithm": CryptoAlgorithm.RSASHA1},
        ]
    )
    return dataclasses.replace(key, **change)


def _zone(rng: random.Random, i: int, keys: int) -> Zone:
    name = f"z{i:05d}.bench.example"
    roll = rng.random()
    if roll < 0.05:
        return Zone(name=name, zone_type=ZoneType.PRIMARY, is_signed=False, replication_scope=None)
    if roll < 0.08:
        return Zone(name=name, zone_type=ZoneType.SECONDARY)
    odd = roll > 0.80  # one zone in five has something wrong
    alg = rng.choice([CryptoAlgorithm.RSASHA256, CryptoAlgorithm.RSASHA256, CryptoAlgorithm.ECDSAP256SHA256])
    kinds = [KeyType.KSK if j % 2 == 0 else KeyType.ZSK for j in range(keys)]
    if odd and rng.random() < 0.15:
        kinds = [KeyType.KSK] * keys  # no ZSK: KEY001
    key_list = [_key(rng, name, j, kind, alg, odd and rng.random() < 0.5) for j, kind in enumerate(kinds)]
    settings = ZoneDnssecSettings(
        zone=name,
        denial_of_existence=DenialOfExistence.NSEC3,
        nsec3_iterations=rng.choice([0, 0, 0, 50]) if odd else 0,
        nsec3_opt_out=False,
        nsec3_random_salt_length=rng.choice([0, 8]) if odd else 0,
        distribute_trust_anchor=("DnsKey",),
        ds_record_generation_algorithm=(DsDigest.SHA1, DsDigest.SHA256) if odd else (DsDigest.SHA256,),
        ds_record_set_ttl=H,
        dnskey_record_set_ttl=H,
        propagation_time=2 * D,
        parent_has_secure_delegation=True,
        is_key_master_server=True,
        key_master_server=SERVER,
        key_master_status=KeyMasterStatus.OFFLINE if odd and rng.random() < 0.1 else KeyMasterStatus.ONLINE,
        is_signed=True,
    )
    errors: tuple[ZoneError, ...] = ()
    if odd and rng.random() < 0.05:
        errors = (ZoneError("Get-DnsServerSigningKey", "The signing keys are not accessible.", code=9107),)
    return Zone(
        name=name,
        zone_type=ZoneType.PRIMARY,
        is_signed=True,
        is_ds_integrated=True,
        dnssec=settings,
        keys=tuple(key_list),
        errors=errors,
    )


def synthetic(zones: int, keys: int, seed: int = 20260301) -> ServerInventory:
    rng = random.Random(seed)
    return ServerInventory(
        server=ServerInfo(
            name=SERVER,
            settings=ServerDnssecSettings(
                enable_dnssec=True, enable_online_signing=True, maximum_signature_scan_period=2 * D
            ),
        ),
        zones=tuple(_zone(rng, i, keys) for i in range(zones)),
        trust_anchors=(TrustAnchor(".", TrustAnchorType.DS, TrustAnchorState.VALID, key_tag=20326),),
        trust_points=(TrustPoint(".", TrustAnchorState.ACTIVE, last_active_refresh_result=0),),
        collected_at=NOW,
    )


def demo_inventories() -> list[ServerInventory]:
    """The demo servers' inventories (a server whose inventory the demo makes fail is left out)."""
    from toolkit.errors import WindnsError
    from toolkit.resources import demo_fixtures_dir
    from toolkit.services.audit import collect
    from toolkit.testing.fake_remote import FakeRemote
    from toolkit.testing.simulator import Fleet

    out = []
    for server in Fleet.load(demo_fixtures_dir()):
        try:
            out.append(collect(FakeRemote(server)))
        except WindnsError:
            continue
    return out


# -- timing ----------------------------------------------------------------------------------------
def _evaluate(invs: list[ServerInventory], policy: Policy, cache: bool) -> list[object]:
    out: list[object] = []
    for inv in invs:
        out.append(evaluate_rules(RULES, inv, policy, now=inv.collected_at or NOW, cache_facts=cache))
    return out


def _time(run: Callable[[], object]) -> float:
    t0 = time.process_time()
    run()
    return time.process_time() - t0


def bench(label: str, invs: list[ServerInventory], policy: Policy, seconds: float) -> None:
    keys = sum(len(z.keys) for inv in invs for z in inv.zones)
    zones = sum(len(inv.zones) for inv in invs)
    cached_result = _evaluate(invs, policy, True)
    if cached_result != _evaluate(invs, policy, False):
        raise SystemExit(f"{label}: the cached and the naive evaluation disagree")
    findings = sum(len(active) + len(suppressed) for active, suppressed in cached_result)  # type: ignore[misc]

    def run_cached() -> None:
        _evaluate(invs, policy, True)

    def run_naive() -> None:
        _evaluate(invs, policy, False)

    # Batches of at least ~20 ms, cached and naive alternating until ``seconds`` of CPU time are
    # spent; the best batch of each counts, so a burst of other load on the machine hurts neither.
    repeat = max(1, int(0.02 / max(_time(run_cached), 1e-6)))
    cached = naive = float("inf")
    spent = 0.0
    while spent < seconds:
        a = _time(lambda: [run_cached() for _ in range(repeat)])
        b = _time(lambda: [run_naive() for _ in range(repeat)])
        cached, naive, spent = min(cached, a / repeat), min(naive, b / repeat), spent + a + b
    print(f"{label}: {len(invs)} server(s), {zones:,} zones, {keys:,} keys, {findings:,} findings")
    print(f"  cached facts   {keys / cached:12,.0f} keys/s {zones / cached:10,.0f} zones/s")
    print(f"  naive          {keys / naive:12,.0f} keys/s {zones / naive:10,.0f} zones/s")
    print(f"  ratio          {naive / cached:12.2f} x   (cached / naive throughput, same run)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--zones", type=int, default=2000)
    ap.add_argument("--keys", type=int, default=4, help="keys per zone (default 4)")
    ap.add_argument("--seconds", type=float, default=4.0, help="CPU seconds per workload (default 4)")
    ap.add_argument("--profile", action="store_true", help="cProfile the cached synthetic evaluation")
    ap.add_argument("--skip-demo", action="store_true")
    a = ap.parse_args()
    policy = dataclasses.replace(load_policy(profile="rfc"), select=("",), ignore=())
    inv = synthetic(a.zones, a.keys)
    bench("synthetic", [inv], policy, a.seconds)
    if not a.skip_demo:
        bench("demo fleet", demo_inventories(), policy, a.seconds)
    if a.profile:
        prof = cProfile.Profile()
        prof.enable()
        _evaluate([inv], policy, True)
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(25)
        print(out.getvalue())


if __name__ == "__main__":
    main()
