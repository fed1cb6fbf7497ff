"""The doctor's bundle: what a server answered, anonymised, written for a bug report; and its replay."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from toolkit.__about__ import __version__
from toolkit.anonymise import Anonymiser
from toolkit.errors import ConfigError
from toolkit.services.doctor.steps import (
    BUNDLE_DIR,
    BUNDLE_SCHEMA,
    EXPECTED_SCHEMA,
    REPLACEMENTS_FILE,
    WRITE_EXPECTED,
    DoctorReport,
)


# -- the bundle -----------------------------------------------------------------------------------
def check_capture_dir(directory: Path) -> None:
    """Refuse a capture directory whose bundle would mix with an earlier one (before connecting)."""
    bundle = directory / BUNDLE_DIR
    if directory.exists() and not directory.is_dir():
        raise ConfigError(f"{directory} is not a directory")
    if bundle.exists() and any(bundle.iterdir()):
        raise ConfigError(f"{bundle} already holds a bundle: capture into a new directory")


def _learn(anonymiser: Anonymiser, report: DoctorReport) -> None:
    anonymiser.add_host(report.host)
    probe = report.answers.get("doctor_probe")
    if probe is not None:
        anonymiser.learn_probe(probe.data)
    inventory = report.answers.get("inventory")
    if inventory is not None:
        anonymiser.learn_inventory(inventory.data)
    sample = report.answers.get("raw_sample")
    if sample is not None and isinstance(sample.data, Mapping):
        anonymiser.add_zone(sample.data.get("ZoneName"))
        for s in sample.data.get("Samples") or ():
            if isinstance(s, Mapping) and isinstance(s.get("Json"), str):
                try:
                    anonymiser.learn_cmdlet_output(json.loads(s["Json"]))
                except ValueError:
                    pass
    tls = next((s for s in report.steps if s.name == "tls"), None)
    if tls is not None and tls.facts.get("subject"):
        anonymiser.add_host(str(tls.facts["subject"]))


def _clean(anonymiser: Anonymiser, text: str, what: str) -> tuple[str, bool]:
    """``text`` anonymised as printed; when an original survives (an escaped spelling), the
    parsed document rewritten and printed again instead. Returns the text and whether relaid."""
    out = anonymiser.text(text)
    if not anonymiser.leftovers(out):
        return out, False
    try:
        doc = json.loads(text)
    except ValueError:
        raise ConfigError(
            f"cannot anonymise {what}: it is not JSON and holds names that cannot be replaced"
        ) from None
    out = json.dumps(anonymiser.document(doc), indent=1, ensure_ascii=False)
    left = anonymiser.leftovers(out)
    if left:
        raise ConfigError(f"cannot anonymise {what}: {len(left)} name(s) survive; nothing was written")
    return out, True


def write_bundle(
    report: DoctorReport, directory: Path, *, secrets: Sequence[str] = (), username: str | None = None
) -> dict[str, Any]:
    """Write the anonymised bundle to ``directory/bundle`` and the replacements made to
    ``directory/LOCAL-ONLY-replacements.json``; returns the bundle manifest. ``secrets`` (the
    password) must appear in no file written: if one does, everything written is removed."""
    check_capture_dir(directory)
    bundle = directory / BUNDLE_DIR
    anonymiser = Anonymiser()
    _learn(anonymiser, report)
    files: list[tuple[str, str, str, bool, Mapping[str, Any]]] = []  # path, what, text, relaid, params
    probe = report.answers.get("doctor_probe")
    if probe is not None:
        text, relaid = _clean(anonymiser, probe.text, "the probe")
        files.append(("probe.json", "doctor_probe.ps1's answer as printed", text, relaid, probe.params))
    inventory = report.answers.get("inventory")
    if inventory is not None:
        text, relaid = _clean(anonymiser, inventory.text, "the inventory")
        files.append(("inventory.json", "inventory.ps1's answer as printed", text, relaid, inventory.params))
    samples: list[dict[str, Any]] = []
    sample = report.answers.get("raw_sample")
    if sample is not None and isinstance(sample.data, Mapping):
        for s in sample.data.get("Samples") or ():
            if not isinstance(s, Mapping):
                continue
            command = str(s.get("Command"))
            summary = {k: s.get(k) for k in ("Command", "ZoneName", "Count", "Error")}
            samples.append(json.loads(anonymiser.text(json.dumps(summary))))
            if isinstance(s.get("Json"), str):
                text, relaid = _clean(anonymiser, s["Json"], command)
                what = f"{command} | ConvertTo-Json -Depth {sample.data.get('Depth')} as printed"
                files.append((f"raw/{command}.json", what, text, relaid, sample.params))
    steps = [
        json.loads(anonymiser.text(json.dumps(_without_user(s.as_json(), username)))) for s in report.steps
    ]
    manifest: dict[str, Any] = {
        "Schema": BUNDLE_SCHEMA,
        "SchemaVersion": 1,
        "about": "windns doctor --capture: what one server answered, anonymised, to attach to a bug report",
        "toolkit_version": __version__,
        "created_at": report.started_at.isoformat().replace("+00:00", "Z"),
        "transport": report.transport,
        "host": anonymiser.text(report.host),
        "port": report.port,
        "ssl": report.ssl,
        "auth": report.auth,
        "configuration_name": anonymiser.text(report.configuration_name),
        "ok": report.ok,
        "steps": steps,
        "raw_samples": samples,
        "files": [],
        "anonymised": {
            **anonymiser.counts(),
            "replacements": f"../{REPLACEMENTS_FILE} (local only, not part of this bundle)",
        },
    }
    written: list[Path] = []
    try:
        bundle.mkdir(parents=True, exist_ok=True)
        (bundle / "raw").mkdir(exist_ok=True)
        for path, what, text, relaid, params in files:
            data = text.encode("utf-8")
            target = bundle / path
            target.write_bytes(data)
            written.append(target)
            entry: dict[str, Any] = {
                "path": path,
                "what": what,
                "params": anonymiser.document(dict(params)),
                "bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
            if relaid:
                entry["relaid"] = (
                    "printed again from the parsed answer: an escaped name could not be replaced in place"
                )
            manifest["files"].append(entry)
        target = bundle / "bundle.json"
        target.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        written.append(target)
        local = directory / REPLACEMENTS_FILE
        local.write_text(
            json.dumps(
                {
                    "warning": "LOCAL ONLY: maps the bundle's stand-ins back to this site's real names. "
                    "Keep it; never attach it to a report.",
                    "bundle": BUNDLE_DIR,
                    "replacements": [
                        {"kind": r.kind, "original": r.original, "replacement": r.replacement}
                        for r in anonymiser.replacements()
                    ],
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
        written.append(local)
        _no_secret_in(written, secrets)
    except BaseException:
        shutil.rmtree(bundle, ignore_errors=True)
        (directory / REPLACEMENTS_FILE).unlink(missing_ok=True)
        raise
    return manifest


def _without_user(step: dict[str, Any], username: str | None) -> dict[str, Any]:
    """A step's detail without the account name (an authentication failure names it)."""
    if username and isinstance(step.get("detail"), str):
        import re

        for name in {username, *re.split(r"[\\@]", username)}:
            if len(name) >= 2:
                step["detail"] = re.sub(re.escape(name), "ACCOUNT", step["detail"], flags=re.IGNORECASE)
    return step


def _no_secret_in(paths: Sequence[Path], secrets: Sequence[str]) -> None:
    for secret in (s for s in secrets if s and len(s) >= 3):
        forms = {secret.encode("utf-8"), secret.encode("utf-16-le"), json.dumps(secret)[1:-1].encode("utf-8")}
        for path in paths:
            data = path.read_bytes()
            if any(f in data for f in forms):
                raise ConfigError(
                    f"refusing to leave {path.name}: it would hold the password; nothing was written"
                )


# -- replay -----------------------------------------------------------------------------------------
def bundle_dir(path: Path) -> Path:
    """The bundle itself: ``path`` when it holds bundle.json, else ``path/bundle``."""
    if (path / "bundle.json").is_file():
        return path
    if (path / BUNDLE_DIR / "bundle.json").is_file():
        return path / BUNDLE_DIR
    raise ConfigError(f"{path}: no bundle.json here or in {path / BUNDLE_DIR}")


def _asked(directory: Path, name: str) -> object:
    """What the bundle's script ``name`` was asked (its ``params`` in bundle.json): the zone
    names given, else every zone; NOT_ASKED for a bundle that does not say."""
    from toolkit.normalise.selfcheck import ALL_ZONES, NOT_ASKED

    try:
        manifest = json.loads((directory / "bundle.json").read_text(encoding="utf-8"))
        (params,) = [f.get("params") for f in manifest.get("files", []) if f.get("path") == name]
    except (OSError, ValueError, AttributeError, TypeError):
        return NOT_ASKED
    if not isinstance(params, dict):
        return NOT_ASKED
    zones = params.get("ZoneName")
    if zones is None:
        return ALL_ZONES
    return [zones] if isinstance(zones, str) else [str(z) for z in zones]


def replay(path: Path) -> dict[str, Any]:
    """A bundle read again: its inventory normalised and audited (as of when it was collected),
    its raw samples read back. Returns the facts ``expected.json`` holds."""
    from toolkit.normalise import normalise_document, normalise_inventory
    from toolkit.normalise.files import parse_bytes
    from toolkit.services.audit import audit_inventory

    directory = bundle_dir(path)
    out: dict[str, Any] = {}
    inventory = directory / "inventory.json"
    if inventory.is_file():
        doc = parse_bytes(inventory.read_bytes(), name=str(inventory))
        # checked as the live answer was: against what the inventory script was asked
        asked = _asked(directory, "inventory.json")
        inv = normalise_inventory(doc, source=f"{directory.name}/inventory.json", asked=asked)
        host = audit_inventory(inv, now=inv.collected_at)
        by_zone: dict[str, set[str]] = {z.name: set() for z in inv.zones}
        server: set[str] = set()
        for f in host.findings:
            zone = f.target.zone
            (by_zone.setdefault(zone, set()) if zone else server).add(f.rule_id)
        out["inventory"] = {
            "server": inv.server.name,
            "zones": len(inv.zones),
            "keys": sum(len(z.keys) for z in inv.zones),
            "trust_anchors": len(inv.trust_anchors),
            "trust_points": len(inv.trust_points),
            "findings": {
                "server": sorted(server),
                "zones": {name: sorted(rules) for name, rules in sorted(by_zone.items())},
            },
        }
    raw: dict[str, Any] = {}
    for file in sorted((directory / "raw").glob("*.json")):
        read = normalise_document(parse_bytes(file.read_bytes(), name=str(file)), source=f"raw/{file.name}")
        raw[file.name] = {
            "zones": len(read.zones),
            "keys": sum(len(z.keys) for z in read.zones),
            "settings": sum(1 for z in read.zones if z.dnssec is not None),
        }
    out["raw"] = raw
    return out


def expected_of(path: Path) -> dict[str, Any]:
    """``replay`` with the header expected.json carries (what wrote it, and how again)."""
    return {
        "Schema": EXPECTED_SCHEMA,
        "SchemaVersion": 1,
        "about": f"what replaying this bundle gives; written by `{WRITE_EXPECTED}`, never by hand",
        **replay(path),
    }
