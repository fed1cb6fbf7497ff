"""A throw-away MIT Kerberos realm on loopback for the Kerberos tests.

``Realm.start(directory)`` writes its own ``krb5.conf`` and ``kdc.conf``, creates a KDC database
in ``directory``, adds a user principal and the ``HTTP/localhost`` service principal (its key in
a keytab for the loopback WinRM endpoint's acceptor), and runs ``krb5kdc`` on 127.0.0.1 on a
free port. ``stop()`` ends the KDC; the caller removes the directory.

The endpoint name is ``localhost``: it resolves to 127.0.0.1 on every machine, and the realm's
``krb5.conf`` turns off DNS canonicalisation and reverse lookups (``dns_canonicalize_hostname``,
``rdns``), so the client asks for exactly ``HTTP/localhost@WINDNS.TEST``, the name given to it.
Connecting to ``127.0.0.1`` asks for ``HTTP/127.0.0.1``, which the KDC does not know.

Passwords travel to the MIT tools on standard input, never in their arguments.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["REALM", "SERVICE_HOST", "Realm", "missing_tools", "set_ccache_clock_offset"]

REALM = "WINDNS.TEST"
SERVICE_HOST = "localhost"
_TOOLS = ("krb5kdc", "kdb5_util", "kadmin.local", "kinit", "klist", "kdestroy")
_SBIN = ("/usr/sbin", "/sbin")


def _tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for d in _SBIN:
        p = Path(d) / name
        if p.exists():
            return str(p)
    return None


def missing_tools() -> list[str]:
    """The MIT Kerberos programs this harness needs and cannot find."""
    return [t for t in _TOOLS if _tool(t) is None]


def _free_port() -> int:
    """A port free for both TCP and UDP on 127.0.0.1."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                u.bind(("127.0.0.1", port))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port on 127.0.0.1 for the KDC")


@dataclass
class Realm:
    directory: Path
    user: str = "dnsaudit"
    password: str = field(default_factory=lambda: "Krb-" + secrets.token_urlsafe(12), repr=False)
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    @property
    def principal(self) -> str:
        return f"{self.user}@{REALM}"

    @property
    def service_principal(self) -> str:
        return f"HTTP/{SERVICE_HOST}@{REALM}"

    @property
    def keytab(self) -> Path:
        return self.directory / "http.keytab"

    @property
    def user_keytab(self) -> Path:
        return self.directory / "user.keytab"

    @property
    def ccache(self) -> Path:
        return self.directory / "ccache"

    @property
    def krb5_conf(self) -> Path:
        return self.directory / "krb5.conf"

    def env(self) -> dict[str, str]:
        """The variables that point the MIT library (and so gssapi/krb5) at this realm."""
        return {
            "KRB5_CONFIG": str(self.krb5_conf),
            "KRB5_KDC_PROFILE": str(self.directory / "kdc.conf"),
            "KRB5CCNAME": f"FILE:{self.ccache}",
            "KRB5_KTNAME": f"FILE:{self.keytab}",
            "KRB5RCACHETYPE": "none",  # no replay cache file written outside the directory
        }

    # -- life cycle ---------------------------------------------------------------------------
    def start(self) -> Realm:
        d = self.directory
        d.mkdir(parents=True, exist_ok=True)
        self.port = _free_port()
        self.krb5_conf.write_text(
            f"""[libdefaults]
    default_realm = {REALM}
    dns_lookup_kdc = false
    dns_lookup_realm = false
    dns_canonicalize_hostname = false
    rdns = false
    udp_preference_limit = 1
    kdc_timesync = 1
    ticket_lifetime = 1h
    forwardable = false

[realms]
    {REALM} = {{
        kdc = 127.0.0.1:{self.port}
    }}

[domain_realm]
    {SERVICE_HOST} = {REALM}
""",
            encoding="utf-8",
        )
        (d / "kdc.conf").write_text(
            f"""[kdcdefaults]
    kdc_listen = 127.0.0.1:{self.port}
    kdc_tcp_listen = 127.0.0.1:{self.port}

[realms]
    {REALM} = {{
        database_name = {d / "principal"}
        key_stash_file = {d / "stash"}
        acl_file = {d / "kadm5.acl"}
        max_life = 10h
        max_renewable_life = 0
        supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
    }}

[logging]
    kdc = FILE:{d / "kdc.log"}
    default = FILE:{d / "krb5lib.log"}
""",
            encoding="utf-8",
        )
        (d / "kadm5.acl").write_text("", encoding="utf-8")
        master = secrets.token_urlsafe(16)
        self._run(["kdb5_util", "create", "-s", "-r", REALM], stdin=f"{master}\n{master}\n")
        self.kadmin(
            f"addprinc -pw {self.password} {self.principal}",
            f"addprinc -randkey {self.service_principal}",
            f"ktadd -k {self.keytab} {self.service_principal}",
            f"ktadd -norandkey -k {self.user_keytab} {self.principal}",
        )
        self.proc = subprocess.Popen(
            [_tool("krb5kdc") or "krb5kdc", "-n", "-r", REALM],
            env={**os.environ, **self.env()},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"krb5kdc exited with {self.proc.returncode}: {self._log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"krb5kdc did not listen on 127.0.0.1:{self.port}: {self._log()}")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def _log(self) -> str:
        p = self.directory / "kdc.log"
        return p.read_text(encoding="utf-8", errors="replace")[-2000:] if p.exists() else "(no log)"

    # -- tools ---------------------------------------------------------------------------------
    def _run(self, argv: list[str], *, stdin: str = "", env: dict[str, str] | None = None) -> str:
        exe = _tool(argv[0]) or argv[0]
        res = subprocess.run(
            [exe, *argv[1:]],
            input=stdin.encode(),
            capture_output=True,
            env={**os.environ, **self.env(), **(env or {})},
            timeout=60,
            check=False,
        )
        if res.returncode != 0:
            out = (res.stdout + res.stderr).decode("utf-8", "replace")
            raise RuntimeError(f"{argv[0]} failed ({res.returncode}): {out[-1000:]}")
        return res.stdout.decode("utf-8", "replace")

    def kadmin(self, *commands: str) -> str:
        """Run kadmin.local commands, read from standard input (no password in any argument)."""
        return self._run(["kadmin.local", "-r", REALM], stdin="\n".join(commands) + "\nquit\n")

    def kinit(self, *, ccache: Path | None = None, lifetime: str | None = None) -> Path:
        """Get the user's ticket into ``ccache`` (default: the realm's), password on stdin."""
        target = ccache or self.ccache
        argv = ["kinit", "-c", f"FILE:{target}"]
        if lifetime:
            argv += ["-l", lifetime]
        self._run([*argv, self.principal], stdin=self.password + "\n")
        return target

    def kdestroy(self, ccache: Path | None = None) -> None:
        target = ccache or self.ccache
        if target.exists():
            self._run(["kdestroy", "-c", f"FILE:{target}"])

    def ticket_valid(self, ccache: Path) -> bool:
        exe = _tool("klist") or "klist"
        env = {**os.environ, **self.env()}
        return subprocess.run([exe, "-s", "-c", f"FILE:{ccache}"], env=env, check=False).returncode == 0


def set_ccache_clock_offset(ccache: Path, seconds: int) -> None:
    """Give a FILE ccache (format 4) a KDC time offset, as ``kdc_timesync`` records one.

    The MIT library then dates every authenticator it makes from this cache ``seconds`` off
    the real clock: the client's clock, as far as the KDC and the server can tell, is skewed.
    """
    data = ccache.read_bytes()
    if data[:2] != b"\x05\x04":
        raise ValueError("not a version 4 credential cache")
    (header_len,) = struct.unpack(">H", data[2:4])
    rest = data[4 + header_len :]
    tag = struct.pack(">HHii", 1, 8, seconds, 0)
    ccache.write_bytes(b"\x05\x04" + struct.pack(">H", len(tag)) + tag + rest)
