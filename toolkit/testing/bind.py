"""A real DNS server for the demo and the tests: BIND ``named`` serving signed zones on 127.0.0.1.

``BindServer(specs).start()`` generates keys with ``dnssec-keygen``, writes each zone with its
children's delegations and DS records, signs it with ``dnssec-signzone`` (NSEC or NSEC3 with the
zone's iterations and salt, the inception offset and the validity periods asked for), writes
``named.conf`` and starts ``named`` in the foreground on a free port. Every server is started under
coreutils ``timeout``, so it stops by itself after ``lifetime`` seconds even if nobody calls
``stop()``; ``stop()`` (and leaving the ``with`` block) ends it at once, waits until it is gone and
deletes the temporary directory, as does a ``start()`` that fails or is interrupted.

A ``ZoneSpec`` can be deliberately out of sync with what the Windows side reports (a KSK whose DS
was never updated at the parent, a key never published, NSEC3 parameters changed but not re-signed):
``toolkit.testing.bind_demo`` builds those specs from the demo fleet.

BIND comes from Debian's packages: ``apt-get install bind9 bind9-utils bind9-dnsutils``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType

import dns.exception
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.zone

from toolkit.errors import ConfigError, WindnsError
from toolkit.model import zone_key

__all__ = [
    "BIND_PACKAGES",
    "BindError",
    "BindServer",
    "KeySpec",
    "ZoneSpec",
    "bind_missing",
    "free_port",
]

#: Debian packages that provide named, dnssec-keygen/-signzone/-verify/-dsfromkey, delv and dig.
BIND_PACKAGES = ("bind9", "bind9-utils", "bind9-dnsutils")
_TOOLS = ("named", "dnssec-keygen", "dnssec-signzone", "dnssec-dsfromkey", "timeout")
_SBIN = ("/usr/sbin", "/usr/local/sbin", "/sbin")


class BindError(WindnsError):
    kind = "bind"


def which(tool: str) -> str | None:
    found = shutil.which(tool)
    if found:
        return found
    for d in _SBIN:
        p = Path(d) / tool
        if p.is_file() and os.access(p, os.X_OK):
            return str(p)
    return None


def bind_missing() -> list[str]:
    """The BIND tools not found on this machine (empty when everything is installed)."""
    return [t for t in _TOOLS if which(t) is None]


def free_port() -> int:
    """A port free on 127.0.0.1 for both UDP and TCP right now."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            t.bind(("127.0.0.1", 0))
            port = int(t.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                try:
                    u.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise BindError("no free port on 127.0.0.1")


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _wait_group_gone(pgid: int, *, timeout: float) -> None:
    """Wait until no process of group ``pgid`` is left (named, once its parent is reaped)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        except PermissionError:  # pragma: no cover - the group id was reused by someone else's
            return
        time.sleep(0.02)


@dataclass(frozen=True, slots=True)
class KeySpec:
    """One key to generate. ``algorithm`` is BIND's mnemonic (RSASHA256, ECDSAP256SHA256 ...)."""

    algorithm: str
    bits: int | None = None
    ksk: bool = False
    #: False: the Windows side has this key but the zone never publishes it (not generated)
    published: bool = True
    #: published but not signing (a pre-published standby ZSK): activation one year ahead
    standby: bool = False


@dataclass(frozen=True, slots=True)
class ZoneSpec:
    """One zone to serve. ``nsec3`` is (iterations, salt hex or "") or None for NSEC."""

    name: str
    keys: tuple[KeySpec, ...] = ()
    nsec3: tuple[int, str] | None = None
    dnskey_validity: timedelta = timedelta(hours=168)
    zone_validity: timedelta = timedelta(hours=240)
    inception_offset: timedelta = timedelta(hours=1)
    ds_digests: tuple[int, ...] = (2,)
    #: the parent holds a DS for a KSK the zone no longer publishes, and none for the current one
    stale_ds: bool = False
    #: extra records (presentation format, relative names allowed)
    records: tuple[str, ...] = ()
    ttl: int = 3600
    #: after signing, change the SOA serial so its RRSIG no longer validates (a referee case)
    tamper: bool = False
    note: str = ""

    @property
    def signed(self) -> bool:
        return any(k.published for k in self.keys)


def _label(zone: str) -> str:
    z = zone_key(zone)
    return z or "root"


def _fqdn(zone: str) -> str:
    return zone.rstrip(".") + "." if zone.strip(".") else "."


def _parent_of(zone: str, names: set[str]) -> str | None:
    z = _fqdn(zone)
    if z == ".":
        return None
    labels = z.rstrip(".").split(".")
    for i in range(1, len(labels)):
        cand = ".".join(labels[i:]) + "."
        if cand in names:
            return cand
    return "." if "." in names else None


def _stamp(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y%m%d%H%M%S")


@dataclass
class BindServer:
    """Sign ``zones`` and serve them with ``named`` on 127.0.0.1; use as a context manager."""

    zones: Sequence[ZoneSpec]
    workdir: Path | None = None
    port: int | None = None
    lifetime: float = 900.0  # seconds; named is killed after this even if stop() is never called
    start_timeout: float = 20.0
    now: datetime | None = None
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _tmp: tempfile.TemporaryDirectory[str] | None = field(default=None, init=False, repr=False)
    ds_records: dict[str, list[str]] = field(default_factory=dict, init=False)
    parents: dict[str, str | None] = field(default_factory=dict, init=False)

    # -- lifecycle ------------------------------------------------------------------------------
    def __enter__(self) -> BindServer:
        self.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def address(self) -> str:
        if self.port is None:
            raise BindError("server not started")
        return f"127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def zone_file(self, zone: str) -> Path:
        assert self.workdir is not None
        return self.workdir / f"{_label(zone)}.signed"

    def trust_anchor_file(self) -> Path:
        """A ``trust-anchors`` clause for the demo root (for ``delv -a``)."""
        assert self.workdir is not None
        return self.workdir / "root.anchor"

    def start(self) -> BindServer:
        missing = bind_missing()
        if missing:
            raise BindError(
                f"BIND tools missing: {', '.join(missing)} (apt-get install {' '.join(BIND_PACKAGES)})"
            )
        if self.workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="windns-bind-")
            self.workdir = Path(self._tmp.name)
        try:  # whatever stops the start (a tool failing, Ctrl-C while signing): nothing stays
            self.workdir.mkdir(parents=True, exist_ok=True)
            self.build()
            fixed = self.port
            last: BindError | None = None
            for _ in range(1 if fixed else 3):  # a free port can be taken between probe and bind
                try:
                    self._launch(fixed or free_port())
                    return self
                except BindError as exc:
                    last = exc
                    self.stop(cleanup=False)
            raise last or BindError("named did not start")
        except BaseException:
            self.stop()
            raise

    def stop(self, *, cleanup: bool = True) -> None:
        """Stop named and wait until it is gone; with ``cleanup`` delete a temporary workdir."""
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()  # coreutils timeout passes the SIGTERM on to named and waits for it
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    _kill_group(proc.pid)  # timeout and named together
                    proc.wait(timeout=5)
            _wait_group_gone(proc.pid, timeout=5)
        if cleanup and self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
            self.workdir = None

    def _launch(self, port: int) -> None:
        assert self.workdir is not None
        self.port = port
        conf = self._write_conf(port)
        log = (self.workdir / "named.log").open("wb")
        cmd = [
            str(which("timeout")),
            "--kill-after=5",
            f"{self.lifetime:g}",
            str(which("named")),
            "-g",
            "-c",
            str(conf),
            "-n",
            "1",
        ]
        # its own process group: a Ctrl-C reaches this process, which stops named and cleans up
        self._proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir, process_group=0
        )
        log.close()
        first = _fqdn(self.zones[0].name) if self.zones else "."
        deadline = time.monotonic() + self.start_timeout
        q = dns.message.make_query(first, "SOA")
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                tail = (self.workdir / "named.log").read_text(errors="replace")[-600:]
                raise BindError(f"named exited ({self._proc.returncode}): {tail.splitlines()[-1:]}")
            try:
                r = dns.query.udp(q, "127.0.0.1", port=port, timeout=0.3)
                if r.rcode() == dns.rcode.NOERROR:
                    return
            except (dns.exception.Timeout, OSError):
                pass
            time.sleep(0.05)
        raise BindError(f"named did not answer on 127.0.0.1:{port} within {self.start_timeout:g}s")

    # -- building -------------------------------------------------------------------------------
    def build(self) -> None:
        """Generate keys, write and sign every zone (children first), write the trust anchor."""
        assert self.workdir is not None
        now = self.now or datetime.now(UTC)
        names = {_fqdn(z.name) for z in self.zones}
        if len(names) != len(self.zones):
            raise ConfigError("a zone appears twice in the BIND plan")
        self.parents = {_fqdn(z.name): _parent_of(z.name, names) for z in self.zones}
        order = sorted(self.zones, key=lambda z: -len(dns.name.from_text(z.name)))
        for spec in order:
            self._sign_zone(spec, now)

    def _run(self, *args: str) -> str:
        assert self.workdir is not None
        tool = which(args[0]) or args[0]
        try:
            p = subprocess.run(
                [tool, *args[1:]], cwd=self.workdir, capture_output=True, text=True, timeout=120, check=False
            )
        except subprocess.TimeoutExpired:
            raise BindError(f"{args[0]} timed out") from None
        if p.returncode != 0:
            msg = (p.stderr.strip().splitlines() or ["no output"])[-1]
            raise BindError(f"{args[0]} failed: {msg}")
        return p.stdout

    def _keygen(self, zone: str, key: KeySpec, keydir: Path) -> Path:
        args = ["dnssec-keygen", "-q", "-K", str(keydir), "-a", key.algorithm]
        if key.bits and key.algorithm.upper().startswith(("RSA", "NSEC3RSA")):
            args += ["-b", str(key.bits)]
        if key.ksk:
            args += ["-f", "KSK"]

        args += ["-L", "3600", "-n", "ZONE", _fqdn(zone)]
        base = self._run(*args).strip().splitlines()[-1]
        return keydir / f"{base}.key"

    def _ds_lines(self, key_file: Path, digests: Sequence[int]) -> list[str]:
        out: list[str] = []
        for d in digests:
            out += [
                ln for ln in self._run("dnssec-dsfromkey", "-a", str(d), str(key_file)).splitlines() if ln
            ]
        return out

    def _sign_zone(self, spec: ZoneSpec, now: datetime) -> None:
        assert self.workdir is not None
        zone = _fqdn(spec.name)
        label = _label(zone)
        keydir = self.workdir / f"keys-{label}"
        keydir.mkdir(exist_ok=True)
        standby_dir = self.workdir / f"standby-{label}"  # published only: not where the signer looks
        standby_dir.mkdir(exist_ok=True)
        signing = [k for k in spec.keys if k.published and not k.standby]
        key_files = [self._keygen(zone, k, keydir) for k in signing]
        standby_files = [self._keygen(zone, k, standby_dir) for k in spec.keys if k.published and k.standby]
        ksk_files = [f for f, k in zip(key_files, signing, strict=True) if k.ksk] or key_files[:1]
        if spec.stale_ds and spec.signed:
            old = next((k for k in spec.keys if k.ksk), spec.keys[0])
            olddir = self.workdir / f"oldkeys-{label}"
            olddir.mkdir(exist_ok=True)
            self.ds_records[zone] = self._ds_lines(self._keygen(zone, old, olddir), spec.ds_digests)
        elif spec.signed:
            self.ds_records[zone] = [ln for f in ksk_files for ln in self._ds_lines(f, spec.ds_digests)]
        lines = [
            f"$TTL {spec.ttl}",
            f"{zone} IN SOA ns.{zone.lstrip('.')} hostmaster.{zone.lstrip('.')} 1 3600 600 604800 300",
            f"{zone} IN NS ns.{zone.lstrip('.')}",
            f"ns.{zone.lstrip('.')} IN A 127.0.0.1",
            f"www.{zone.lstrip('.')} IN A 192.0.2.1",
            *spec.records,
        ]
        for child, parent in self.parents.items():
            if parent == zone:
                lines.append(f"{child} IN NS ns.{child}")
                lines.append(f"ns.{child} IN A 127.0.0.1")
                lines += self.ds_records.get(child, [])
        for kf in key_files + standby_files:
            lines.append(f"$INCLUDE {kf}")
        unsigned = self.workdir / f"{label}.zone"
        unsigned.write_text("\n".join(lines) + "\n")
        out = self.zone_file(zone)
        if not spec.signed:
            shutil.copyfile(unsigned, out)
            return
        inception = now - spec.inception_offset
        args = [
            "dnssec-signzone",
            "-q",
            "-P",
            "-x",
            "-O",
            "full",
            "-K",
            str(keydir),
            "-o",
            zone,
            "-f",
            str(out),
            "-d",
            str(keydir),
            "-s",
            _stamp(inception),
            "-e",
            _stamp(inception + spec.zone_validity),
            "-X",
            _stamp(inception + spec.dnskey_validity),
        ]
        if spec.nsec3 is not None:
            iterations, salt = spec.nsec3
            args += ["-3", salt or "-", "-H", str(iterations)]
        if len(key_files) == 1:
            args += ["-z"]  # one key signs everything (the KSK-only 9104 zones)
        args += [str(unsigned)]
        args += [str(f).removesuffix(".key") for f in key_files]
        self._run(*args)
        if spec.tamper:
            text = out.read_text().splitlines()
            for i, ln in enumerate(text):
                parts = ln.split()
                if len(parts) > 6 and parts[3] == "SOA" and parts[0] == zone:
                    parts[6] = str(int(parts[6]) + 1)
                    text[i] = " ".join(parts)
            out.write_text("\n".join(text) + "\n")
        if zone == ".":
            keys = [ln for f in ksk_files for ln in f.read_text().splitlines() if "DNSKEY" in ln]
            self._write_anchor(keys)

    def _write_anchor(self, dnskey_lines: list[str]) -> None:
        rows = []
        for ln in dnskey_lines:
            parts = ln.split()
            i = parts.index("DNSKEY")
            flags, proto, alg = parts[i + 1 : i + 4]
            rows.append(f'  . initial-key {flags} {proto} {alg} "{"".join(parts[i + 4 :])}";')
        self.trust_anchor_file().write_text("trust-anchors {\n" + "\n".join(rows) + "\n};\n")

    def _write_conf(self, port: int) -> Path:
        assert self.workdir is not None
        wd = self.workdir
        zones = "\n".join(
            f'zone "{_fqdn(z.name)}" {{ type primary; file "{self.zone_file(z.name)}"; }};'
            for z in self.zones
        )
        conf = wd / "named.conf"
        conf.write_text(
            f"""options {{
  directory "{wd}";
  pid-file "{wd}/named.pid";
  listen-on port {port} {{ 127.0.0.1; }};
  listen-on-v6 {{ none; }};
  recursion no;
  dnssec-validation no;
  notify no;
  allow-transfer {{ 127.0.0.1; }};
  max-udp-size 1232;
  edns-udp-size 1232;
}};
controls {{ }};
{zones}
"""
        )
        return conf

    # -- helpers for referees -------------------------------------------------------------------
    def ds_for(self, zone: str) -> list[str]:
        return list(self.ds_records.get(_fqdn(zone), []))

    def load_signed(self, zone: str) -> dns.zone.Zone:
        return dns.zone.from_file(str(self.zone_file(zone)), origin=_fqdn(zone), relativize=False)
