"""Kerberos end to end: a throw-away MIT realm on loopback (tests/krb5_realm.py), the loopback
WinRM endpoint accepting ``HTTP/localhost`` tickets from its keytab, and the real psrp and winrm
transports over HTTP (Kerberos message encryption) and HTTPS.

These need the ``kerberos`` extra (gssapi, krb5) and MIT Kerberos (krb5-kdc, krb5-admin-server,
krb5-user); without them they are skipped with the reason, except under CI=true, where CI
installs both and a skip would hide a broken install: there they fail.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.krb5_realm import SERVICE_HOST, Realm, missing_tools, set_ccache_clock_offset
from toolkit.cli import main
from toolkit.remote.kerberos import kerberos_missing
from toolkit.testing.fakeserver import FakeWinrmServer

TRANSPORTS = ("psrp", "winrm")


def _unavailable() -> str | None:
    missing = kerberos_missing()
    if missing:
        return f"the kerberos extra is not installed ({missing}): pip install -e '.[dev,kerberos]'"
    tools = missing_tools()
    if tools:
        apt = "apt install krb5-kdc krb5-admin-server krb5-user"
        return f"MIT Kerberos programs missing ({', '.join(tools)}): {apt}"
    return None


@dataclass
class Lab:
    realm: Realm
    http: FakeWinrmServer
    https: FakeWinrmServer
    expired: Path
    skewed: Path

    def argv(
        self, transport: str, *, tls: bool = False, host: str = SERVICE_HOST, server: str = "dns1"
    ) -> list[str]:
        fake = self.https if tls else self.http
        ep = fake.endpoint(server)
        argv = ["--transport", transport, "--server", host, "--port", str(ep.port)]
        if tls:
            assert fake.cert is not None
            argv += ["--ssl", "--ca-bundle", str(fake.cert.cert_file)]
        else:
            argv += ["--no-ssl"]
        return argv

    def reset(self) -> None:
        for fake in (self.http, self.https):
            for ep in fake:
                ep.stats.reset()

    def mechanisms(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for fake in (self.http, self.https):
            for ep in fake:
                for mech, n in ep.stats.mechanisms.items():
                    total[mech] = total.get(mech, 0) + n
        return total

    def tokens(self) -> list[str]:
        return [t for fake in (self.http, self.https) for ep in fake for t in ep.stats.auth_tokens]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    reason = _unavailable()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Kerberos tests cannot run under CI: {reason}")
        pytest.skip(reason)
    directory = tmp_path_factory.mktemp("realm")
    realm = Realm(directory)
    with pytest.MonkeyPatch.context() as mp:
        try:
            realm.start()
            for k, v in realm.env().items():
                mp.setenv(k, v)
            realm.kinit()
            expired = realm.kinit(ccache=directory / "expired", lifetime="1s")
            skewed = realm.kinit(ccache=directory / "skewed")
            set_ccache_clock_offset(skewed, 900)  # 15 minutes ahead: beyond the 5 allowed
            deadline = time.monotonic() + 30
            while realm.ticket_valid(expired) and time.monotonic() < deadline:
                time.sleep(0.1)  # a ticket of one second: expired soon after kinit
            http = FakeWinrmServer(servers=["dns1", "dns2"], keytab=realm.keytab).start()
            https = FakeWinrmServer(servers=["dns1"], keytab=realm.keytab, tls=True).start()
            try:
                yield Lab(realm, http, https, expired, skewed)
            finally:
                http.stop()
                https.stop()
        finally:
            realm.stop()
            shutil.rmtree(directory, ignore_errors=True)  # keytabs and ticket caches leave with it


def _zones(res_stdout: str) -> list[str]:
    return sorted(z["zone"] for z in json.loads(res_stdout)) if res_stdout.strip() else []


@pytest.fixture(scope="module")
def demo_zones() -> list[str]:
    res = CliRunner().invoke(main, ["--transport", "fake", "--server", "dns1", "zones", "list", "-f", "json"])
    assert res.exit_code == 0, res.output
    zones = _zones(res.stdout)
    assert zones
    return zones


def _one_line_error(res: Result, code: int = 2) -> str:
    assert res.exit_code == code, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    return lines[0]


# -- it works -------------------------------------------------------------------------------------
@pytest.mark.parametrize("tls", [False, True], ids=["http-encrypted", "https"])
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_zones_list_with_the_ticket_from_kinit(
    lab: Lab, demo_zones: list[str], runner: CliRunner, transport: str, tls: bool
) -> None:
    lab.reset()
    res = runner.invoke(
        main, [*lab.argv(transport, tls=tls), "--auth", "kerberos", "zones", "list", "-f", "json"]
    )
    assert res.exit_code == 0, res.output
    assert _zones(res.stdout) == demo_zones
    assert lab.mechanisms() == {"kerberos": 1}  # one handshake, Kerberos, for the whole session
    ep = (lab.https if tls else lab.http).endpoint("dns1")
    assert ("Delete" in ep.stats.operations) and ep.stats.exchanges > 2


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_username_and_password_without_any_ticket(
    lab: Lab, demo_zones: list[str], runner: CliRunner, transport: str, tmp_path: Path
) -> None:
    lab.reset()
    env = {"WINDNS_PASSWORD": lab.realm.password, "KRB5CCNAME": f"FILE:{tmp_path / 'empty'}"}
    argv = [
        *lab.argv(transport),
        "--auth",
        "kerberos",
        "-u",
        lab.realm.principal,
        "zones",
        "list",
        "-f",
        "json",
    ]
    res = runner.invoke(main, argv, env=env)
    assert res.exit_code == 0, res.output
    assert _zones(res.stdout) == demo_zones and lab.mechanisms() == {"kerberos": 1}
    assert not (tmp_path / "empty").exists()  # the ticket got with the password stayed in memory


def test_negotiate_picks_kerberos_for_the_server_name(lab: Lab, runner: CliRunner) -> None:
    lab.reset()
    res = runner.invoke(main, [*lab.argv("psrp"), "--auth", "negotiate", "zones", "list", "-f", "json"])
    assert res.exit_code == 0, res.output
    assert lab.mechanisms() == {"kerberos": 1}


# -- --keytab and --ccache: no kinit ---------------------------------------------------------------
@pytest.mark.parametrize("principal", [True, False], ids=["with-username", "first-principal"])
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_keytab_option_without_kinit(
    lab: Lab, demo_zones: list[str], runner: CliRunner, transport: str, principal: bool, tmp_path: Path
) -> None:
    lab.reset()
    env = {"KRB5CCNAME": f"FILE:{tmp_path / 'empty'}", "WINDNS_PASSWORD": "not-used-with-a-keytab"}
    argv = [*lab.argv(transport), "--auth", "kerberos", "--keytab", str(lab.realm.user_keytab)]
    if principal:
        argv += ["-u", lab.realm.principal]
    res = runner.invoke(main, [*argv, "zones", "list", "-f", "json"], env=env)
    assert res.exit_code == 0, res.output
    assert _zones(res.stdout) == demo_zones and lab.mechanisms() == {"kerberos": 1}
    assert not (tmp_path / "empty").exists()  # the ticket got with the keytab stayed in memory


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_keytab_and_ccache_from_the_environment(
    lab: Lab, demo_zones: list[str], runner: CliRunner, transport: str, tmp_path: Path
) -> None:
    """WINDNS_KEYTAB and WINDNS_CCACHE as --keytab and --ccache, over HTTPS too."""
    cache = lab.realm.kinit(ccache=tmp_path / "robot-cache")
    empty = f"FILE:{tmp_path / 'empty'}"
    for tls, env in (
        (False, {"KRB5CCNAME": empty, "WINDNS_KEYTAB": str(lab.realm.user_keytab)}),
        (True, {"KRB5CCNAME": empty, "WINDNS_CCACHE": str(cache)}),
    ):
        lab.reset()
        argv = [*lab.argv(transport, tls=tls), "--auth", "kerberos", "zones", "list", "-f", "json"]
        res = runner.invoke(main, argv, env=env)
        assert res.exit_code == 0, (env, res.output)
        assert _zones(res.stdout) == demo_zones and lab.mechanisms() == {"kerberos": 1}


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_ccache_option_names_the_cache(lab: Lab, runner: CliRunner, transport: str, tmp_path: Path) -> None:
    """--ccache wins over KRB5CCNAME: the expired default cache is not read."""
    cache = lab.realm.kinit(ccache=tmp_path / "fresh")
    lab.reset()
    argv = [*lab.argv(transport), "--auth", "kerberos", "--ccache", str(cache), "zones", "list"]
    res = runner.invoke(main, argv, env={"KRB5CCNAME": f"FILE:{lab.expired}"})
    assert res.exit_code == 0, res.output
    assert lab.mechanisms() == {"kerberos": 1}


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("--keytab", "Kerberos keytab {path} does not exist"),
        ("--ccache", "Kerberos credential cache {path} does not exist (run kinit -c {path})"),
    ],
)
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_missing_keytab_or_ccache_is_one_line_exit_4(
    lab: Lab, runner: CliRunner, transport: str, option: str, message: str, tmp_path: Path
) -> None:
    lab.reset()
    path = tmp_path / "missing"
    argv = [*lab.argv(transport), "--auth", "kerberos", option, str(path), "zones", "list"]
    line = _one_line_error(runner.invoke(main, argv), 4)
    assert message.format(path=path) in line
    assert lab.http.endpoint("dns1").stats.exchanges == 0  # refused before connecting


def test_keytab_and_ccache_together_are_refused(lab: Lab, runner: CliRunner) -> None:
    argv = [*lab.argv("psrp"), "--auth", "kerberos", "--keytab", str(lab.realm.user_keytab)]
    argv += ["--ccache", str(lab.expired), "zones", "list"]
    line = _one_line_error(runner.invoke(main, argv), 4)
    assert "give a Kerberos credential cache or a keytab, not both" in line


def test_keytab_with_an_auth_that_is_not_kerberos_is_refused(lab: Lab, runner: CliRunner) -> None:
    argv = [*lab.argv("psrp"), "--auth", "ntlm", "--keytab", str(lab.realm.user_keytab), "zones", "list"]
    line = _one_line_error(runner.invoke(main, argv), 4)
    assert "needs auth kerberos or negotiate, not ntlm" in line


def test_scan_takes_the_keytab_option_for_hosts_without_their_own(lab: Lab, tmp_path: Path) -> None:
    """`scan --host` with --keytab: the command line's keytab reaches every host."""
    lab.reset()
    env = {**os.environ, "KRB5CCNAME": f"FILE:{tmp_path / 'empty'}", "XDG_DATA_HOME": str(tmp_path / "d")}
    argv = [sys.executable, "-m", "toolkit", *lab.argv("psrp"), "--auth", "kerberos"]
    argv += ["--keytab", str(lab.realm.user_keytab), "scan", "--host", SERVICE_HOST, "-f", "json"]
    proc = subprocess.run([*argv, "--no-history"], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    assert [h["ok"] for h in json.loads(proc.stdout)["hosts"]] == [True]
    assert lab.mechanisms() == {"kerberos": 1}


# -- what goes wrong ------------------------------------------------------------------------------
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_wrong_password_is_one_line_exit_2(
    lab: Lab, runner: CliRunner, transport: str, tmp_path: Path
) -> None:
    env = {"WINDNS_PASSWORD": "Not-the-password-42", "KRB5CCNAME": f"FILE:{tmp_path / 'empty'}"}
    argv = [*lab.argv(transport), "--auth", "kerberos", "-u", lab.realm.principal, "zones", "list"]
    line = _one_line_error(runner.invoke(main, argv, env=env))
    assert "rejected the password of dnsaudit@WINDNS.TEST" in line
    assert "Not-the-password-42" not in line


# pypsrp over HTTP first sends a blank request to set up encryption; when the expired ticket fails
# the handshake on our side, that request's connection (already back in urllib3's pool) is left
# for the garbage collector to close, whatever the transport's cleanup does.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_expired_ticket_says_run_kinit(lab: Lab, runner: CliRunner, transport: str) -> None:
    assert not lab.realm.ticket_valid(lab.expired)
    env = {"KRB5CCNAME": f"FILE:{lab.expired}"}
    line = _one_line_error(
        runner.invoke(main, [*lab.argv(transport), "--auth", "kerberos", "zones", "list"], env=env)
    )
    assert "has expired" in line and "kinit" in line


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_no_ticket_at_all_says_run_kinit(lab: Lab, runner: CliRunner, transport: str, tmp_path: Path) -> None:
    env = {"KRB5CCNAME": f"FILE:{tmp_path / 'none'}"}
    line = _one_line_error(
        runner.invoke(main, [*lab.argv(transport), "--auth", "kerberos", "zones", "list"], env=env)
    )
    assert "no Kerberos ticket" in line and "kinit" in line


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_clock_skew_is_named(lab: Lab, runner: CliRunner, transport: str) -> None:
    env = {"KRB5CCNAME": f"FILE:{lab.skewed}"}
    line = _one_line_error(
        runner.invoke(main, [*lab.argv(transport), "--auth", "kerberos", "zones", "list"], env=env)
    )
    assert "clock" in line and "skew" in line


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_an_ip_address_has_no_service_principal(lab: Lab, runner: CliRunner, transport: str) -> None:
    argv = [*lab.argv(transport, host="127.0.0.1"), "--auth", "kerberos", "zones", "list"]
    line = _one_line_error(runner.invoke(main, argv))
    assert "HTTP/127.0.0.1" in line and "not an IP address" in line and "falls back to NTLM" in line


def test_negotiate_to_an_ip_address_falls_back_to_ntlm(lab: Lab, runner: CliRunner) -> None:
    lab.reset()
    fake = lab.http
    argv = [*lab.argv("psrp", host="127.0.0.1"), "--auth", "negotiate", "-u", fake.credentials.username]
    res = runner.invoke(main, [*argv, "zones", "list"], env={"WINDNS_PASSWORD": fake.credentials.password})
    assert res.exit_code == 0, res.output
    assert lab.mechanisms() == {"ntlm": 1}


# -- the inventory, and what the logs hold ----------------------------------------------------------
def test_scan_at_vv_over_kerberos_logs_no_secret(lab: Lab, tmp_path: Path) -> None:
    """Two servers of one inventory: one with the kinit cache, one with a keytab from its group;
    the -vv log holds none of the tokens that crossed the wire, nor the password."""
    inventory = tmp_path / "fleet.toml"
    inventory.write_text(
        f"""[defaults]
auth = "kerberos"
https = false

[groups.robots]
username = "{lab.realm.principal}"
keytab = "{lab.realm.user_keytab}"

[[servers]]
name = "dns1.corp.example"
address = "{SERVICE_HOST}"
port = {lab.http.endpoint("dns1").port}

[[servers]]
name = "dns2.corp.example"
address = "{SERVICE_HOST}"
port = {lab.http.endpoint("dns2").port}
groups = ["robots"]
""",
        encoding="utf-8",
    )
    lab.reset()
    for transport in TRANSPORTS:
        env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "WINDNS_TRANSPORT": transport}
        proc = subprocess.run(
            [sys.executable, "-m", "toolkit", "-vv", "scan", str(inventory), "-f", "json", "--no-history"],
            capture_output=True,
            text=True,
            env=env,
            timeout=240,
            check=False,
        )
        assert proc.returncode in (0, 1), proc.stderr[-3000:]
        doc = json.loads(proc.stdout)
        assert [h["ok"] for h in doc["hosts"]] == [True, True], doc["hosts"]
        log = proc.stdout + proc.stderr
        assert "authenticated with kerberos" in proc.stderr
        tokens = lab.tokens()
        assert tokens
        for token in tokens:
            assert token[:24] not in log
        assert lab.realm.password not in log
    assert lab.mechanisms() == {"kerberos": 4}


def test_negotiate_at_v_names_the_mechanism(lab: Lab) -> None:
    fake = lab.http
    env = {**os.environ, "WINDNS_PASSWORD": fake.credentials.password}
    said = {}
    for host in (SERVICE_HOST, "127.0.0.1"):
        argv = [sys.executable, "-m", "toolkit", "-v", *lab.argv("psrp", host=host), "--auth", "negotiate"]
        if host != SERVICE_HOST:  # the name: the kinit ticket; the address: NTLM with the test account
            argv += ["-u", fake.credentials.username]
        argv += ["zones", "list"]
        proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr
        said[host] = proc.stderr
    assert "authenticated with kerberos (--auth negotiate)" in said[SERVICE_HOST]
    assert "authenticated with ntlm (--auth negotiate)" in said["127.0.0.1"]


@pytest.fixture(autouse=True)
def _gc_each() -> Iterator[None]:
    """Collect after each test, so a socket a failed handshake left open is blamed on that test."""
    yield
    gc.collect()


# -- without the extra ----------------------------------------------------------------------------
@pytest.mark.parametrize(("auth", "extra"), [("kerberos", "kerberos"), ("credssp", "credssp")])
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_without_the_extra_one_line_exit_4(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, transport: str, auth: str, extra: str
) -> None:
    for module in ("gssapi", "krb5", "requests_credssp"):
        monkeypatch.setitem(sys.modules, module, None)  # import fails as if not installed
    argv = ["--transport", transport, "--server", "dns1.corp.example", "--auth", auth, "zones", "list"]
    res = runner.invoke(main, argv, env={"WINDNS_PASSWORD": "x-secret-x"}, input="")
    line = _one_line_error(res, 4)
    assert f'pip install "windns-toolkit[{extra}]"' in line and "internal error" not in line
    if extra == "kerberos":
        assert "libkrb5-dev" in line


# -- CredSSP, as far as it goes without Windows -------------------------------------------------------
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_credssp_to_a_server_that_does_not_offer_it(runner: CliRunner, transport: str) -> None:
    """The loopback endpoint offers Negotiate, Kerberos and Basic, as a server with CredSSP not
    enabled does: the client's CredSSP handshake stops at the offer, with a clear line."""
    from toolkit.remote.kerberos import credssp_missing

    missing = credssp_missing()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the credssp extra is not installed under CI: {missing}")
        pytest.skip(f"the credssp extra is not installed ({missing}): pip install -e '.[dev,credssp]'")
    with FakeWinrmServer(servers=["dns1"], tls=True) as fake:
        assert fake.cert is not None
        ep = fake.endpoint("dns1")
        argv = ["--transport", transport, "--server", "localhost", "--port", str(ep.port)]
        argv += [
            "--ca-bundle",
            str(fake.cert.cert_file),
            "--auth",
            "credssp",
            "-u",
            "windns",
            "zones",
            "list",
        ]
        line = _one_line_error(runner.invoke(main, argv, env={"WINDNS_PASSWORD": fake.credentials.password}))
    assert "does not offer CredSSP" in line and "Enable-WSManCredSSP" in line
    assert fake.credentials.password not in line
