"""Property tests of toolkit.normalise: dump/normalise round trip, and nothing but NormaliseError.

Hypothesis builds descriptors the normaliser can produce (non-blank strings, UTC times to the
microsecond, zone errors naming their zone) and mutates valid documents: dropped members,
values of the wrong type, truncated text.
"""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.errors import NormaliseError, ProtocolError
from toolkit.model import (
    CryptoAlgorithm,
    DenialOfExistence,
    DsDigest,
    KeyMasterStatus,
    KeyState,
    KeyType,
    NextRolloverAction,
    ReplicationScope,
    RolloverStatus,
    RolloverType,
    ServerDnssecSettings,
    ServerInfo,
    ServerInventory,
    SigningKey,
    TrustAnchor,
    TrustAnchorState,
    TrustAnchorType,
    TrustPoint,
    WinEnum,
    Zone,
    ZoneDnssecSettings,
    ZoneError,
    ZoneType,
)
from toolkit.normalise import (
    dump_inventory,
    normalise_document,
    normalise_inventory,
    server_info_from_json,
    signing_key_from_json,
    trust_anchor_from_json,
    trust_point_from_json,
    zone_from_json,
    zone_settings_from_json,
)
from toolkit.normalise.files import parse_bytes

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "fixtures" / "raw"

FAST = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Building whole inventories is the slow part; fewer, richer examples.
RICH = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- descriptor strategies --------------------------------------------------------------------------
text = st.text(min_size=1, max_size=12).filter(lambda s: s.strip() != "")
opt_text = st.none() | text
name = st.from_regex(r"[a-z][a-z0-9-]{0,8}(\.[a-z]{2,5}){1,2}", fullmatch=True)
times = st.none() | st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)
spans = st.none() | st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=365 * 30))
opt_bool = st.none() | st.booleans()


def enum(cls: type[WinEnum]) -> st.SearchStrategy[Any]:
    return st.sampled_from(list(cls)) | text.map(cls)


def opt(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


def keys_for(zone: str) -> st.SearchStrategy[SigningKey]:
    return st.builds(
        SigningKey,
        zone=st.just(zone),
        key_id=st.uuids().map(str),
        key_type=enum(KeyType),
        algorithm=enum(CryptoAlgorithm),
        key_length=opt(st.integers(1, 16384)),
        current_state=opt(enum(KeyState)),
        key_storage_provider=opt_text,
        store_keys_in_ad=opt_bool,
        dnskey_signature_validity=spans,
        ds_signature_validity=spans,
        zone_signature_validity=spans,
        initial_rollover_offset=spans,
        rollover_period=spans,
        rollover_type=opt(enum(RolloverType)),
        next_rollover_action=opt(enum(NextRolloverAction)),
        last_rollover_time=times,
        next_rollover_time=times,
        current_rollover_status=opt(enum(RolloverStatus)),
        active_key=opt_text,
        standby_key=opt_text,
        next_key=opt_text,
        is_rollover_enabled=opt_bool,
    )


def settings_for(zone: str) -> st.SearchStrategy[ZoneDnssecSettings]:
    return st.builds(
        ZoneDnssecSettings,
        zone=st.just(zone),
        denial_of_existence=opt(enum(DenialOfExistence)),
        nsec3_hash_algorithm=opt_text,
        nsec3_iterations=opt(st.integers(0, 65535)),
        nsec3_opt_out=opt_bool,
        nsec3_random_salt_length=opt(st.integers(0, 255)),
        nsec3_user_salt=opt(text.filter(lambda s: s.strip() != "-")),
        nsec3_current_salt=opt_text,
        distribute_trust_anchor=st.lists(text, max_size=3).map(tuple),
        enable_rfc5011_key_rollover=opt_bool,
        ds_record_generation_algorithm=st.lists(enum(DsDigest), max_size=3).map(tuple),
        ds_record_set_ttl=spans,
        dnskey_record_set_ttl=spans,
        signature_inception_offset=spans,
        secure_delegation_polling_period=spans,
        propagation_time=spans,
        parent_has_secure_delegation=opt_bool,
        is_key_master_server=opt_bool,
        key_master_server=opt_text,
        key_master_status=opt(enum(KeyMasterStatus)),
        is_signed=opt_bool,
    )


@st.composite
def errors(draw: st.DrawFn, zone: str | None) -> ZoneError:
    code = draw(opt(st.integers(-(2**31), 2**32 - 1)))
    fqid = draw(
        st.none()
        | st.just(f"WIN32 {code if code is not None and code >= 0 else 9104},Get-DnsServerSigningKey")
        | st.just("MiClientApiError_AccessDenied,Get-DnsServerZone")
    )
    if fqid is not None and fqid.startswith("WIN32 "):
        code = int(fqid.split()[1].split(",")[0])
    return ZoneError(
        stage=draw(st.just("") | text),
        message=draw(st.just("") | text),
        code=code,
        fully_qualified_error_id=fqid,
        zone=zone,
    )


@st.composite
def zones(draw: st.DrawFn, zone_name: str) -> Zone:
    return Zone(
        name=zone_name,
        zone_type=draw(enum(ZoneType)),
        is_signed=draw(opt_bool),
        is_ds_integrated=draw(st.booleans()),
        is_reverse_lookup_zone=draw(st.booleans()),
        is_auto_created=draw(st.booleans()),
        replication_scope=draw(opt(enum(ReplicationScope))),
        dnssec=draw(opt(settings_for(zone_name))),
        keys=tuple(draw(st.lists(keys_for(zone_name), max_size=2))),
        errors=tuple(draw(st.lists(errors(zone_name), max_size=2))),
    )


@st.composite
def inventories(draw: st.DrawFn) -> ServerInventory:
    names = draw(st.lists(name, max_size=3, unique_by=lambda n: n.lower()))
    return ServerInventory(
        server=ServerInfo(
            name=draw(text),
            os_version=draw(opt_text),
            dns_version=draw(opt_text),
            settings=draw(
                st.builds(
                    ServerDnssecSettings,
                    enable_dnssec=opt_bool,
                    enable_online_signing=opt_bool,
                    maximum_signature_scan_period=spans,
                    maximum_trust_anchor_active_refresh_interval=spans,
                    root_trust_anchors_url=opt_text,
                )
            ),
        ),
        zones=tuple(draw(zones(n)) for n in names),
        trust_anchors=tuple(
            draw(
                st.lists(
                    st.builds(
                        TrustAnchor,
                        name=text,
                        anchor_type=enum(TrustAnchorType),
                        state=enum(TrustAnchorState),
                        key_tag=opt(st.integers(0, 65535)),
                        algorithm=opt(enum(CryptoAlgorithm)),
                        digest_type=opt(enum(DsDigest)),
                        entered_state_time=times,
                        next_state_time=times,
                    ),
                    max_size=2,
                )
            )
        ),
        trust_points=tuple(
            draw(
                st.lists(
                    st.builds(
                        TrustPoint,
                        name=text,
                        state=enum(TrustAnchorState),
                        last_active_refresh_time=times,
                        next_active_refresh_time=times,
                        last_successful_active_refresh_time=times,
                        last_active_refresh_result=opt(st.integers(0, 2**32 - 1)),
                        last_active_refresh_result_description=opt_text,
                    ),
                    max_size=2,
                )
            )
        ),
        errors=tuple(draw(st.lists(errors(None), max_size=2))),
        collected_at=draw(times),
        source=draw(st.sampled_from(["inventory", "cmdlet"])),
    )


@RICH
@given(inventories())
def test_dump_then_normalise_is_identity(inv: ServerInventory) -> None:
    doc = json.loads(json.dumps(dump_inventory(inv)))  # through real JSON text: floats, escapes
    assert normalise_inventory(doc) == inv
    assert normalise_document(doc) == inv


# -- mutations: only NormaliseError may escape ----------------------------------------------------
json_scalars = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


def sample_documents() -> list[Any]:
    from tests.test_normalise import documented_example, schema_example

    docs: list[Any] = [schema_example(), documented_example()]
    for f in (
        "ps51-signing-keys.json",
        "ps7-signing-keys.json",
        "ps51-zone-settings.json",
        "ps51-trust-anchors.json",
        "ps7-trust-points.json",
        "ps51-zones.json",
    ):
        docs.append(parse_bytes((RAW / f).read_bytes(), name=f))
    return docs


DOCS = sample_documents()


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += paths(v, (*prefix, i))
    return out


IGNORED = {"CimClass", "CimSystemProperties", "CimType", "Flags", "IsValueModified", "Count"}


def interesting(path: tuple[Any, ...]) -> bool:
    """A member the normaliser reads: not the CIM class description, not item metadata."""
    return bool(path) and not any(isinstance(step, str) and step in IGNORED for step in path)


def only_normalise_errors(doc: Any) -> None:
    """A mutated document raises a NormaliseError naming the path, or (a sample with the
    inventory's self-check) a one-line ProtocolError naming the mismatch; nothing else."""
    try:
        normalise_document(doc)
    except NormaliseError as exc:
        assert exc.path.startswith("$") and "\n" not in str(exc)
    except ProtocolError as exc:
        assert str(exc).startswith("self-check failed: ") and "\n" not in str(exc)


@FAST
@given(st.data(), st.sampled_from(range(len(DOCS))))
def test_mutated_documents_raise_only_normalise_error(data: st.DataObject, which: int) -> None:
    doc = copy.deepcopy(DOCS[which])
    for _ in range(data.draw(st.integers(1, 3))):
        candidates = [p for p in paths(doc) if interesting(p)]
        if not candidates:
            break
        target = data.draw(st.sampled_from(candidates))
        parent = doc
        for step in target[:-1]:
            parent = parent[step]
        if data.draw(st.booleans()) and isinstance(parent, dict):
            del parent[target[-1]]
        else:
            parent[target[-1]] = data.draw(json_values)
    only_normalise_errors(doc)


def field_names() -> list[str]:
    names: set[str] = set()
    for doc in DOCS:
        for p in paths(doc):
            names.update(step for step in p if isinstance(step, str) and not step.startswith("Cim"))
    return sorted(names)


FIELDS = field_names()
# Objects made of the members the normaliser reads, with arbitrary values.
records = st.dictionaries(st.sampled_from(FIELDS), json_values, min_size=1, max_size=10)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values | records | st.lists(records, max_size=3))
def test_arbitrary_json_raises_only_normalise_error(value: Any) -> None:
    only_normalise_errors(value)
    only_normalise_errors([value])
    for fn in (
        signing_key_from_json,
        zone_settings_from_json,
        zone_from_json,
        trust_anchor_from_json,
        trust_point_from_json,
        server_info_from_json,
        normalise_inventory,
    ):
        try:
            fn(value)
        except NormaliseError:
            pass


@FAST
@given(st.sampled_from(range(len(DOCS))), st.floats(0.0, 1.0), st.sampled_from(["utf-8", "utf-16"]))
def test_truncated_text_raises_only_normalise_error(which: int, cut: float, encoding: str) -> None:
    data = json.dumps(DOCS[which]).encode(encoding)
    data = data[: int(len(data) * cut)]
    try:
        normalise_document(parse_bytes(data, name="cut.json"), source="cut.json")
    except NormaliseError as exc:
        assert str(exc).startswith("cut.json: ")


BAD_VALUES: list[Any] = [None, True, -1, 1.5, 2**70, "abc", "", [], {"value": "x"}, float("nan")]


def test_every_member_of_every_sample_with_every_bad_value() -> None:
    """Exhaustive: each member the normaliser reads, replaced by each kind of wrong value."""
    tried = failed = 0
    for doc in DOCS:
        for target in paths(doc):
            if not interesting(target) or not isinstance(target[-1], str):
                continue
            for bad in BAD_VALUES:
                tried += 1
                try:
                    normalise_document(mutated_copy(doc, target, bad))
                except NormaliseError as exc:
                    failed += 1
                    assert exc.path.startswith("$")
                except ProtocolError as exc:  # a count of the self-check made untrue
                    failed += 1
                    assert str(exc).startswith("self-check failed: ")
    assert tried > 1000 and 0 < failed < tried


def mutated_copy(doc: Any, target: tuple[Any, ...], value: Any) -> Any:
    """A copy of ``doc`` sharing everything but the spine down to ``target`` (cheap)."""
    root = copy.copy(doc)
    node = root
    for step in target[:-1]:
        child = copy.copy(node[step])
        node[step] = child
        node = child
    node[target[-1]] = value
    return root


def test_known_key_ids_survive_uuid_shapes() -> None:
    # Sanity of the generator's assumption: str(uuid) is what as_guid returns.
    u = uuid.uuid4()
    assert signing_key_from_json(
        {
            "ZoneName": "a.example",
            "KeyId": "{" + str(u).upper() + "}",
            "KeyType": "KSK",
            "CryptoAlgorithm": "RsaSha256",
        }
    ).key_id == str(u)
