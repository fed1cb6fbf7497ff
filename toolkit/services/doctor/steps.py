"""The doctor's steps: reachability, TLS, authentication, endpoint, module, inventory, raw sample."""

from __future__ import annotations

import json
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from toolkit.errors import NormaliseError, WindnsError
from toolkit.findings import EXIT_CONFIG, EXIT_INCOMPLETE, EXIT_OK
from toolkit.remote.base import ConnectionOptions, Remote, RemoteResult

OK, FAIL, SKIPPED = "ok", "fail", "skipped"
STEPS = ("reachability", "tls", "authentication", "endpoint", "module", "inventory", "raw sample")
#: zones the raw sample prints at most (a sample of the shapes, not an export)
SAMPLE_ZONES = 20
MIN_POWERSHELL = (5, 1)

BUNDLE_DIR = "bundle"
REPLACEMENTS_FILE = "LOCAL-ONLY-replacements.json"
EXPECTED_FILE = "expected.json"
BUNDLE_SCHEMA = "windns.doctor.bundle"
EXPECTED_SCHEMA = "windns.doctor.expected"
WRITE_EXPECTED = "windns doctor --replay DIR --write-expected"


@dataclass(frozen=True, slots=True)
class Step:
    """One step's verdict. ``detail`` is one line; ``kind`` the failure's error kind
    (connect, auth, timeout, protocol, cmdlet, normalise, config); ``facts`` what it measured."""

    name: str
    verdict: str
    detail: str
    seconds: float | None = None
    kind: str | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"step": self.name, "verdict": self.verdict, "detail": self.detail}
        if self.seconds is not None:
            out["seconds"] = round(self.seconds, 3)
        if self.kind is not None:
            out["kind"] = self.kind
        if self.facts:
            out["facts"] = dict(self.facts)
        return out


@dataclass(frozen=True, slots=True)
class Answer:
    """What one script printed, as it came."""

    script: str
    text: str
    seconds: float
    data: Any = None
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DoctorReport:
    host: str
    port: int
    transport: str
    ssl: bool
    auth: str
    configuration_name: str
    steps: tuple[Step, ...]
    answers: Mapping[str, Answer] = field(default_factory=dict)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def ok(self) -> bool:
        return all(s.verdict != FAIL for s in self.steps)

    @property
    def failed(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.verdict == FAIL)

    @property
    def exit_code(self) -> int:
        if self.ok:
            return EXIT_OK
        return EXIT_CONFIG if any(s.kind == "config" for s in self.failed) else EXIT_INCOMPLETE

    def step(self, name: str) -> Step:
        return next(s for s in self.steps if s.name == name)

    def as_json(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "transport": self.transport,
            "ssl": self.ssl,
            "auth": self.auth,
            "configuration_name": self.configuration_name,
            "ok": self.ok,
            "steps": [s.as_json() for s in self.steps],
        }


class _Recorder:
    """A Remote that keeps what each script printed (the audit path sees a plain Remote)."""

    def __init__(self, remote: Remote) -> None:
        self.remote = remote
        self.host = remote.host
        self.results: dict[str, tuple[RemoteResult, Mapping[str, Any]]] = {}

    def run(self, script: str, params: Mapping[str, Any] | None = None) -> RemoteResult:
        result = self.remote.run(script, params)
        self.results[script] = (result, dict(params or {}))
        return result

    def close(self) -> None:
        self.remote.close()

    def __enter__(self) -> _Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _text_of(result: RemoteResult) -> str:
    if result.raw:
        return result.raw
    return json.dumps(result.data, separators=(",", ":"))


def _size(n: int) -> str:
    return f"{n:,} bytes"


def _kind(exc: BaseException) -> str:
    return getattr(exc, "kind", "error") if isinstance(exc, WindnsError) else "error"


def _message(exc: BaseException) -> str:
    """The error's one line, without the host prefix (the report names the host)."""
    text = exc.detail if isinstance(exc, WindnsError) else str(exc)
    return " ".join(text.split()) or type(exc).__name__


def _plural(n: int, what: str) -> str:
    return f"{n} {what}" if n == 1 else f"{n} {what}s"


# -- the network steps ------------------------------------------------------------------------------
def _reachability(opts: ConnectionOptions) -> Step:
    start = time.perf_counter()
    where = f"{opts.host}:{opts.effective_port}"
    try:
        with socket.create_connection((opts.host, opts.effective_port), timeout=opts.connect_timeout):
            pass
    except socket.gaierror as exc:
        why = f"the name {opts.host} does not resolve ({exc.strerror or exc})"
        return Step("reachability", FAIL, why, time.perf_counter() - start, "connect")
    except ConnectionRefusedError:
        why = f"{where} refused the TCP connection (nothing listens there: WinRM's port?)"
        return Step("reachability", FAIL, why, time.perf_counter() - start, "connect")
    except TimeoutError:
        why = f"{where} did not answer within {opts.connect_timeout:g} s (a firewall drops it?)"
        return Step("reachability", FAIL, why, time.perf_counter() - start, "timeout")
    except OSError as exc:
        why = f"cannot open a TCP connection to {where}: {exc.strerror or exc}"
        return Step("reachability", FAIL, why, time.perf_counter() - start, "connect")
    took = time.perf_counter() - start
    return Step("reachability", OK, f"{where} accepts TCP connections ({took * 1000:.0f} ms)", took)


def _tls(opts: ConnectionOptions) -> Step:
    start = time.perf_counter()
    if opts.cert_validation:
        try:
            ctx = (
                ssl.create_default_context(cafile=opts.ca_bundle)
                if opts.ca_bundle
                else ssl.create_default_context()
            )
        except (OSError, ssl.SSLError) as exc:
            why = f"cannot use the CA bundle {opts.ca_bundle}: {getattr(exc, 'strerror', None) or exc}"
            return Step("tls", FAIL, why, kind="config")
        against = f"the CA bundle {Path(opts.ca_bundle).name}" if opts.ca_bundle else "the system's CA store"
    else:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        against = ""
    where = f"{opts.host}:{opts.effective_port}"
    try:
        with socket.create_connection((opts.host, opts.effective_port), timeout=opts.connect_timeout) as raw:
            with ctx.wrap_socket(raw, server_hostname=opts.host) as tls:
                version = tls.version() or "TLS"
                cert = tls.getpeercert() if opts.cert_validation else None
    except ssl.SSLCertVerificationError as exc:
        why = f"the certificate of {where} does not validate: {exc.verify_message or exc.reason}"
        hint = " (give its CA with --ca-bundle)" if not opts.ca_bundle else ""
        return Step("tls", FAIL, why + hint, time.perf_counter() - start, "connect")
    except ssl.SSLError as exc:
        why = f"TLS handshake with {where} failed: {exc.reason or exc} (is the listener HTTPS?)"
        return Step("tls", FAIL, why, time.perf_counter() - start, "connect")
    except TimeoutError:
        why = f"TLS handshake with {where} did not finish within {opts.connect_timeout:g} s"
        return Step("tls", FAIL, why, time.perf_counter() - start, "timeout")
    except OSError as exc:
        why = f"TLS connection to {where} failed: {exc.strerror or exc}"
        return Step("tls", FAIL, why, time.perf_counter() - start, "connect")
    took = time.perf_counter() - start
    facts: dict[str, Any] = {"version": version}
    if cert:
        names = [pair for rdn in cert.get("subject", ()) for pair in rdn if isinstance(pair, tuple)]
        facts["subject"] = next((str(v) for k, v in names if k == "commonName"), "(no common name)")
        facts["not_after"] = cert.get("notAfter")
        detail = (
            f"{version}; certificate of {facts['subject']} validated against {against} "
            f"(valid until {facts['not_after']})"
        )
    else:
        detail = f"{version}; certificate NOT validated (--no-cert-validation)"
    return Step("tls", OK, detail, took, facts=facts)


# -- the session steps ------------------------------------------------------------------------------
def _version_tuple(text: str) -> tuple[int, ...]:
    out = []
    for part in text.split("."):
        if not part.isdigit():
            break
        out.append(int(part))
    return tuple(out)


def _endpoint(probe: Any, opts: ConnectionOptions, transport: str, seconds: float) -> Step:
    if not isinstance(probe, Mapping) or probe.get("Schema") != "windns.doctor.probe":
        return Step(
            "endpoint", FAIL, "the probe printed something that is not its document", seconds, "protocol"
        )
    version = str(probe.get("PSVersion") or "?")
    edition = str(probe.get("PSEdition") or "Desktop")
    name = "Windows PowerShell" if edition == "Desktop" else "PowerShell"
    mode = probe.get("LanguageMode") or "unknown"
    config = probe.get("ConfigurationName")
    facts = {
        "ps_version": version,
        "ps_edition": edition,
        "os_version": probe.get("OSVersion"),
        "language_mode": mode,
        "configuration_name": config,
    }
    if config:
        where = f"session configuration {config}"
    elif transport == "winrm":
        where = "no session configuration (the winrm transport starts powershell.exe in a cmd shell)"
        if opts.configuration_name != "Microsoft.PowerShell":
            where += f"; --configuration-name {opts.configuration_name} is not used by it"
    else:
        where = "no remoting session"
    detail = f"{name} {version} ({edition}), {mode}, {where}"
    if _version_tuple(version)[:2] < MIN_POWERSHELL:
        return Step(
            "endpoint",
            FAIL,
            f"{name} {version}: the toolkit's scripts need Windows PowerShell 5.1 or later",
            seconds,
            "protocol",
            facts,
        )
    return Step("endpoint", OK, detail, seconds, facts=facts)


def _module(probe: Mapping[str, Any]) -> Step:
    modules = [m for m in probe.get("Modules") or () if isinstance(m, Mapping)]
    commands = [c for c in probe.get("Commands") or () if isinstance(c, Mapping)]
    missing = [str(c.get("Name")) for c in commands if not c.get("Found")]
    listed = ", ".join(f"{m.get('Name')} {m.get('Version')}" for m in modules)
    facts = {
        "modules": [{"name": m.get("Name"), "version": m.get("Version")} for m in modules],
        "missing_commands": missing,
    }
    if not commands:
        return Step("module", FAIL, "the probe listed no command", kind="protocol", facts=facts)
    if not missing:
        found = f"all {len(commands)} cmdlets the read scripts call are commands of this session"
        if modules:
            return Step("module", OK, f"{listed}; {found}", facts=facts)
        return Step(
            "module", OK, f"{found} (Get-Module -ListAvailable lists no DnsServer module)", facts=facts
        )
    if modules:
        why = (
            f"{listed} is installed but {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not a command of this session "
            "(a JEA role that does not expose it?)"
        )
        return Step("module", FAIL, why, kind="cmdlet", facts=facts)
    why = (
        "no DnsServer module (Get-Module -ListAvailable DnsServer lists none) and none of the "
        f"{len(missing)} cmdlets is a command of this session: the module comes with the DNS Server "
        "role or the DNS Server Tools of RSAT, or the endpoint does not expose it"
    )
    return Step("module", FAIL, why, kind="cmdlet", facts=facts)


def _inventory(recorder: _Recorder) -> tuple[Step, Any]:
    from toolkit.services.audit import collect

    start = time.perf_counter()
    try:
        inv = collect(recorder)
    except WindnsError as exc:
        took = time.perf_counter() - start
        answered = recorder.results.get("inventory")
        what = "inventory.ps1's answer does not check out" if answered is not None else "inventory.ps1 failed"
        return Step("inventory", FAIL, f"{what}: {_message(exc)}", took, _kind(exc)), None
    took = time.perf_counter() - start
    result, _params = recorder.results["inventory"]
    text = _text_of(result)
    size = len(text.encode("utf-8"))
    keys = sum(len(z.keys) for z in inv.zones)
    errors = sum(len(z.errors) for z in inv.zones) + len(inv.errors)
    checked = (
        "its self-check agrees"
        if isinstance(result.data, Mapping) and "Check" in result.data
        else "normalised"
    )
    counted = ", ".join(
        (
            _plural(len(inv.zones), "zone"),
            _plural(keys, "key"),
            _plural(len(inv.trust_anchors), "trust anchor"),
            _plural(len(inv.trust_points), "trust point"),
        )
    )
    detail = f"inventory.ps1: {counted}; {_size(size)} in {result.elapsed:.2f} s; {checked}"
    if errors:
        detail += f"; {_plural(errors, 'read error')} recorded by the server"
    facts = {
        "zones": len(inv.zones),
        "keys": keys,
        "trust_anchors": len(inv.trust_anchors),
        "trust_points": len(inv.trust_points),
        "bytes": size,
        "script_seconds": round(result.elapsed, 3),
        "recorded_errors": errors,
    }
    return Step("inventory", OK, detail, took, facts=facts), inv


def _signed_zone(inv: Any) -> str | None:
    """The zone the raw sample reads keys and settings of: the first signed primary with keys."""
    from toolkit.model.enums import ZoneType

    if inv is None:
        return None
    for z in inv.zones:
        if z.zone_type is ZoneType.PRIMARY and not z.is_auto_created and z.signed and z.keys:
            return str(z.name)
    return None


def _raw_sample(recorder: _Recorder, zone: str | None) -> Step:
    from toolkit.normalise import normalise_document

    params: dict[str, Any] = {"MaxZones": SAMPLE_ZONES}
    if zone is not None:
        params["ZoneName"] = zone
    start = time.perf_counter()
    try:
        result = recorder.run("raw_sample", params)
    except WindnsError as exc:
        why = f"raw_sample failed: {_message(exc)}"
        return Step("raw sample", FAIL, why, time.perf_counter() - start, _kind(exc))
    doc = result.data
    samples = doc.get("Samples") if isinstance(doc, Mapping) else None
    if not isinstance(samples, list):
        return Step(
            "raw sample", FAIL, "raw_sample printed something that is not its document", kind="protocol"
        )
    parts: list[str] = []
    failures: list[str] = []
    facts: list[dict[str, Any]] = []
    for s in samples:
        if not isinstance(s, Mapping):
            continue
        command = str(s.get("Command"))
        error = s.get("Error")
        if isinstance(error, Mapping):
            failures.append(f"{command} failed: {error.get('Message')}")
            facts.append({"command": command, "error": dict(error)})
            continue
        text = s.get("Json")
        count = s.get("Count") or 0
        if not isinstance(text, str):
            parts.append(f"{command} printed nothing")
            facts.append({"command": command, "count": count, "bytes": 0})
            continue
        size = len(text.encode("utf-8"))
        try:
            read = normalise_document(json.loads(text), source=command)
        except (ValueError, NormaliseError) as exc:
            failures.append(f"the toolkit cannot read what {command} printed: {_message(exc)}")
            facts.append({"command": command, "count": count, "bytes": size})
            continue
        got = _records(read)
        parts.append(f"{command} {count} object{'s' if count != 1 else ''} ({_size(size)}, read back: {got})")
        facts.append({"command": command, "count": count, "bytes": size, "read": got})
    took = time.perf_counter() - start
    where = f"zone {zone}" if zone else "no signed zone to sample keys and settings from"
    if failures:
        return Step("raw sample", FAIL, "; ".join(failures), took, "cmdlet", {"samples": facts})
    return Step("raw sample", OK, f"{'; '.join(parts)}; {where}", took, facts={"samples": facts})


def _records(inv: Any) -> str:
    zones = len(inv.zones)
    keys = sum(len(z.keys) for z in inv.zones)
    settings = sum(1 for z in inv.zones if z.dnssec is not None)
    bits = [f"{zones} zone{'s' if zones != 1 else ''}"]
    if keys:
        bits.append(f"{keys} key{'s' if keys != 1 else ''}")
    if settings:
        bits.append(f"{settings} setting{'s' if settings != 1 else ''}")
    return ", ".join(bits)


def _skip(name: str, because: str) -> Step:
    return Step(name, SKIPPED, because)


def _after(failed: str) -> str:
    return f"needs {failed}, which failed"


def diagnose(
    opts: ConnectionOptions,
    transport: str,
    *,
    open_remote: Callable[[], Remote],
) -> DoctorReport:
    """Run every step against one server; never raises for the server's trouble."""
    started = datetime.now(UTC)
    steps: list[Step] = []
    answers: dict[str, Answer] = {}
    network = transport != "fake"

    def report() -> DoctorReport:
        done = {s.name for s in steps}
        return DoctorReport(
            host=opts.host,
            port=opts.effective_port,
            transport=transport,
            ssl=opts.ssl,
            auth=opts.auth,
            configuration_name=opts.configuration_name,
            steps=(*steps, *(_skip(n, blocked) for n in STEPS if n not in done)),
            answers=answers,
            started_at=started,
        )

    blocked = ""
    if network:
        steps.append(_reachability(opts))
        if steps[-1].verdict == FAIL:
            blocked = _after("reachability")
            return report()
        steps.append(_tls(opts) if opts.ssl else _skip("tls", "plain HTTP (--no-ssl): no TLS to check"))
        if steps[-1].verdict == FAIL:
            blocked = _after("tls")
            return report()
    else:
        steps.append(_skip("reachability", "the fake transport runs the simulator in this process"))
        steps.append(_skip("tls", "the fake transport has no network"))

    try:
        remote = open_remote()
    except WindnsError as exc:
        steps.append(Step("authentication", FAIL, _message(exc), kind=_kind(exc)))
        blocked = _after("authentication")
        return report()
    with remote:
        recorder = _Recorder(remote)
        start = time.perf_counter()
        try:
            recorder.run("doctor_probe", {})
        except WindnsError as exc:
            took = time.perf_counter() - start
            kind = _kind(exc)
            if kind in ("auth", "connect", "timeout", "config"):
                steps.append(Step("authentication", FAIL, _message(exc), took, kind))
                blocked = _after("authentication")
            else:
                steps.append(Step("authentication", OK, f"credentials accepted ({opts.auth})", took))
                steps.append(Step("endpoint", FAIL, f"the probe failed: {_message(exc)}", took, kind))
                blocked = _after("endpoint")
            return report()
        took = time.perf_counter() - start
        probe_result, _ = recorder.results["doctor_probe"]
        answers["doctor_probe"] = Answer(
            "doctor_probe", _text_of(probe_result), probe_result.elapsed, probe_result.data
        )
        if network:
            steps.append(Step("authentication", OK, f"credentials accepted ({opts.auth})", took))
        else:
            steps.append(_skip("authentication", "the fake transport has no authentication"))
        steps.append(_endpoint(probe_result.data, opts, transport, took))
        if steps[-1].verdict == FAIL:
            blocked = _after("endpoint")
            return report()
        steps.append(_module(probe_result.data))
        if steps[-1].verdict == FAIL:
            blocked = _after("module")
            return report()

        step, inv = _inventory(recorder)
        steps.append(step)
        if "inventory" in recorder.results:
            result, params = recorder.results["inventory"]
            answers["inventory"] = Answer("inventory", _text_of(result), result.elapsed, result.data, params)
        sample = _raw_sample(recorder, _signed_zone(inv))
        if inv is None and sample.verdict == OK:
            sample = replace(
                sample, detail=sample.detail.replace("no signed zone", "no inventory, so no zone")
            )
        steps.append(sample)
        if "raw_sample" in recorder.results:
            result, params = recorder.results["raw_sample"]
            answers["raw_sample"] = Answer(
                "raw_sample", _text_of(result), result.elapsed, result.data, params
            )
    return report()
