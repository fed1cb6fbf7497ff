"""Fleet inventory files: TOML and plain host lists, precedence, credentials, line-accurate errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from toolkit.errors import ConfigError
from toolkit.fleet import (
    Credential,
    load_inventory,
    parse_host_list,
    parse_toml_inventory,
)
from toolkit.remote.base import ConnectionOptions
from toolkit.testing.fake_remote import demo_inventory

INVENTORY = """\
# the estate
[defaults]
auth = "kerberos"
connect_timeout = 20

[groups.branch]
port = 5985
https = false
auth = "ntlm"
username = 'CORP\\dnsaudit'
credential = { env = "BRANCH_PW" }

[groups.slow]
timeouts = { connect = 60, read = 120, operation = 100 }

[[servers]]
name = "dns1.corp.example"

[[servers]]
name = "dns7"
address = "10.1.7.53"
groups = ["branch", "slow"]
dns_address = "10.1.7.53"
port = 5999

[[servers]]
name = "dns8"
group = "branch"
auth = "negotiate"
credential = { keyring = "windns-branch" }
"""


def test_toml_precedence_server_over_groups_over_defaults() -> None:
    inv = parse_toml_inventory(INVENTORY, "fleet.toml")
    dns1, dns7, dns8 = inv.hosts
    assert [h.name for h in inv.hosts] == ["dns1.corp.example", "dns7", "dns8"]
    assert dns1.address == "dns1.corp.example" and dns1.auth == "kerberos" and dns1.port is None
    assert dns1.connect_timeout == 20 and dns1.line == 16
    # group over defaults, server over group, later group over earlier group
    assert dns7.address == "10.1.7.53" and dns7.dns_address == "10.1.7.53"
    assert dns7.auth == "ntlm" and dns7.ssl is False and dns7.port == 5999
    assert dns7.connect_timeout == 60 and dns7.read_timeout == 120 and dns7.operation_timeout == 100
    assert dns7.groups == ("branch", "slow")
    assert dns7.credential == Credential(env="BRANCH_PW")
    assert (
        dns8.auth == "negotiate"
        and dns8.port == 5985
        and dns8.credential == Credential(keyring="windns-branch")
    )
    assert inv.select(groups=["slow"]).hosts == (dns7,)
    assert inv.select(names=["DNS8"]).hosts == (dns8,)


def test_cli_values_are_the_lowest_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRANCH_PW", "s3cret")
    inv = parse_toml_inventory(INVENTORY, "fleet.toml")
    cli = ConnectionOptions(
        host="-",
        auth="ntlm",
        username="cliuser",
        read_timeout=90,
        operation_timeout=80,
        configuration_name="JEA",
    )
    o1 = inv.hosts[0].connection_options(cli)
    assert o1.auth == "kerberos" and o1.password is None  # defaults beat the CLI; kerberos needs no password
    assert o1.read_timeout == 90 and o1.configuration_name == "JEA" and o1.connect_timeout == 20
    o7 = inv.hosts[1].connection_options(cli)
    assert o7.host == "10.1.7.53" and o7.port == 5999 and not o7.ssl and o7.endpoint.startswith("http://")
    assert o7.username == "CORP\\dnsaudit" and o7.password == "s3cret"
    assert "s3cret" not in repr(o7)


def test_env_credential_missing_names_variable_not_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    inv = parse_toml_inventory(INVENTORY, "fleet.toml")
    with pytest.raises(ConfigError, match="BRANCH_PW is not set") as err:
        inv.hosts[1].connection_options()
    assert "fleet.toml:" in str(err.value)


def test_keyring_credential_resolved_at_connect_time(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring

    asked: list[tuple[str, str]] = []

    def fake_get(service: str, user: str) -> str | None:
        asked.append((service, user))
        return "from-keyring" if service == "windns-branch" else None

    monkeypatch.setattr(keyring, "get_password", fake_get)
    inv = parse_toml_inventory(INVENTORY, "fleet.toml")
    assert asked == []  # nothing looked up while parsing
    opts = inv.hosts[2].connection_options()
    assert opts.password == "from-keyring"
    assert asked == [("windns-branch", "CORP\\dnsaudit")]
    missing = Credential(keyring="other")
    with pytest.raises(ConfigError, match="no password in the keyring"):
        missing.resolve("u")


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        ('[[servers]]\nname = "a"\npassword = "hunter2"\n', 3, "never put a password"),
        ('[defaults]\nauth = "ntlm"\nPassword = "x"\n[[servers]]\nname = "a"\n', 3, "never put a password"),
        ('[[servers]]\nname = "a"\ncredential = { password = "x" }\n', 3, "never put a password"),
        ('[[servers]]\nname = "a"\n\n[[servers]]\nname = "b"\nport = 70000\n', 6, "port must be"),
        ('[[servers]]\nname = "a"\ntransport = "ssh"\n', 3, "transport must be"),
        ('[[servers]]\nname = "a"\n[[servers]]\nname = "b"\ngroups = ["nope"]\n', 5, "unknown group 'nope'"),
        ('[[servers]]\nname = "a"\n[[servers]]\naddress = "10.0.0.1"\n', 3, "without a name"),
        ('[[servers]]\nname = "a"\n[[servers]]\nname = "A"\n', 4, "defined twice"),
        ('[groups.x]\nauth = "magic"\n[[servers]]\nname = "a"\n', 2, "auth must be"),
        ('[[servers]]\nname = "a"\nhttps = "yes"\n', 3, "true or false"),
        ('[[servers]]\nname = "a"\nfrobnicate = 1\n', 3, "unknown key 'frobnicate'"),
        ('[[servers]]\nname = "a"\nread_timeout = -1\n', 3, "positive number"),
        ('[[servers]]\nname = "a"\nbad toml here\n', 3, "invalid TOML"),
        ('[[servers]]\nname = "a"\nfake = { latency = 0.1 }\ntransport = "psrp"\n', 3, "only applies"),
        ('[defaults]\nauth = "ntlm"\n', None, "no servers"),
        ('[[servers]]\nname = "a"\nconnect-timeout = 5\nconnect_timeout = 5\n', 4, "same setting"),
        ('[[servers]]\nname = "a"\nread-timeout = 0\n', 3, "read-timeout must be a positive number"),
        ('[[servers]]\nname = "a"\nconnect-timout = 5\n', 3, "connect-timeout, credential, dns-address"),
        # Basic auth over plain HTTP: at the server's own key, or at the server a group or the
        # defaults made so
        ('[[servers]]\nname = "a"\n[[servers]]\nname = "b"\nhttps = false\nauth = "basic"\n', 6, "clear"),
        ('[defaults]\nhttps = false\n[[servers]]\nname = "a"\nauth = "basic"\n', 5, "server a: "),
        ('[groups.g]\nauth = "basic"\nhttps = false\n[[servers]]\nname = "a"\ngroups = ["g"]\n', 4, "clear"),
    ],
)
def test_toml_errors_name_file_and_line(text: str, line: int | None, needle: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_toml_inventory(text, "inv.toml")
    assert needle in str(err.value)
    assert err.value.file == "inv.toml"
    assert err.value.line == line
    assert "\n" not in str(err.value)
    assert "hunter2" not in str(err.value)


def test_keys_take_hyphens_or_underscores() -> None:
    settings = {
        "connect_timeout": "7",
        "read_timeout": "70",
        "operation_timeout": "60",
        "cert_validation": "false",
        "ca_bundle": '"ca.pem"',
        "configuration_name": '"JEA"',
        "allow_basic_over_http": "true",
        "dns_address": '"10.0.0.9"',
    }

    def doc(spell: str) -> str:
        lines = "".join(f"{k.replace('_', spell)} = {v}\n" for k, v in settings.items())
        return f'[[servers]]\nname = "a"\nauth = "basic"\nhttps = false\n{lines}'

    hyphens = parse_toml_inventory(doc("-"), "inv.toml").hosts[0]
    underscores = parse_toml_inventory(doc("_"), "inv.toml").hosts[0]
    assert hyphens == underscores
    assert (hyphens.connect_timeout, hyphens.read_timeout, hyphens.operation_timeout) == (7, 70, 60)
    assert hyphens.cert_validation is False and hyphens.ca_bundle == "ca.pem"
    assert hyphens.configuration_name == "JEA" and hyphens.dns_address == "10.0.0.9"
    assert hyphens.allow_basic_over_http is True
    # groups and defaults too, and a mix of spellings across tables
    mixed = parse_toml_inventory(
        "[defaults]\nconnect-timeout = 9\n[groups.g]\nread_timeout = 99\n"
        '[[servers]]\nname = "a"\ngroups = ["g"]\noperation-timeout = 88\n',
        "inv.toml",
    ).hosts[0]
    assert (mixed.connect_timeout, mixed.read_timeout, mixed.operation_timeout) == (9, 99, 88)


def test_basic_over_plain_http_is_checked_with_the_command_line_settings() -> None:
    text = '[[servers]]\nname = "a"\nauth = "basic"\n'
    assert parse_toml_inventory(text, "inv.toml").hosts[0].auth == "basic"  # HTTPS by default
    with pytest.raises(ConfigError, match="in the clear") as err:
        parse_toml_inventory(text, "inv.toml", base=ConnectionOptions(host="-", ssl=False))
    assert err.value.line == 3
    cli_allows = ConnectionOptions(host="-", ssl=False, allow_basic_over_http=True)
    (host,) = parse_toml_inventory(text, "inv.toml", base=cli_allows).hosts
    assert not host.connection_options(cli_allows).ssl  # and the connection agrees
    # the file's own settings win over the command line's
    with pytest.raises(ConfigError, match="in the clear"):
        parse_toml_inventory(text + "allow-basic-over-http = false\n", "inv.toml", base=cli_allows)
    https = text + "https = true\n"
    assert parse_toml_inventory(https, "inv.toml", base=ConnectionOptions(host="-", ssl=False)).hosts
    fake = '[[servers]]\nname = "a"\ntransport = "fake"\nauth = "basic"\nhttps = false\n'
    assert parse_toml_inventory(fake, "inv.toml").hosts  # nothing travels


def test_plain_host_list() -> None:
    inv = parse_host_list("# estate\ndns1.corp.example\n\n  dns2   # branch\n10.0.0.5\n", "hosts.txt")
    assert [(h.name, h.address, h.line) for h in inv.hosts] == [
        ("dns1.corp.example", "dns1.corp.example", 2),
        ("dns2", "dns2", 4),
        ("10.0.0.5", "10.0.0.5", 5),
    ]
    with pytest.raises(ConfigError) as err:
        parse_host_list("a\nb c\n", "hosts.txt")
    assert err.value.line == 2
    with pytest.raises(ConfigError, match="listed twice") as err:
        parse_host_list("a\n#\nA\n", "hosts.txt")
    assert err.value.line == 3
    with pytest.raises(ConfigError, match="empty"):
        parse_host_list("# nothing\n", "hosts.txt")


def test_load_inventory_detects_the_shape(tmp_path: Path) -> None:
    toml = tmp_path / "fleet.cfg"
    toml.write_text('[[servers]]\nname = "x"\n', encoding="utf-8")
    plain = tmp_path / "hosts"
    plain.write_text("x\ny\n", encoding="utf-8")
    assert [h.name for h in load_inventory(toml).hosts] == ["x"]
    assert [h.name for h in load_inventory(plain).hosts] == ["x", "y"]
    with pytest.raises(ConfigError, match="not found"):
        load_inventory(tmp_path / "missing.toml")


def test_demo_inventory_is_a_ready_fleet() -> None:
    readable = demo_inventory()
    everything = demo_inventory(include_unreadable=True)
    assert len(readable) >= 3 and all(h.transport == "fake" for h in everything.hosts)
    dropped = {h.name for h in everything.hosts} - {h.name for h in readable.hosts}
    assert dropped == {"DNS3.corp.example"}  # the access-denied server


def _big_inventory(n: int) -> str:
    servers = "".join(
        f'[[servers]]\nname = "dns{i:05d}.corp.example"\ngroups = ["branch"]\n\n' for i in range(n)
    )
    return '[defaults]\nauth = "kerberos"\n\n[groups.branch]\nport = 5985\n\n' + servers


def test_loading_reads_each_line_of_a_large_inventory_a_bounded_number_of_times(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Locating each server's table must not rescan the file from its top (that made loading
    quadratic: 10,000 hosts took minutes). The header pattern is tried on each line a bounded
    number of times, whatever the number of servers."""
    import toolkit.fleet as fleet_mod

    class Counting:
        def __init__(self, pattern: Any) -> None:
            self.pattern = pattern
            self.calls = 0

        def match(self, text: str) -> Any:
            self.calls += 1
            return self.pattern.match(text)

    for n in (500, 2000):
        counter = Counting(fleet_mod._HEADER)
        monkeypatch.setattr(fleet_mod, "_HEADER", counter)
        text = _big_inventory(n)
        inv = parse_toml_inventory(text, "big.toml")
        monkeypatch.setattr(fleet_mod, "_HEADER", counter.pattern)
        first = text.splitlines().index("[[servers]]") + 1
        assert len(inv) == n and inv.hosts[-1].line == first + 4 * (n - 1)
        assert counter.calls <= 2 * len(text.splitlines()), (n, counter.calls)


# -- host names and addresses ---------------------------------------------------------------------
def _one(body: str) -> str:
    return '[defaults]\ntransport = "psrp"\n\n[[servers]]\n' + body


@pytest.mark.parametrize(
    ("body", "line", "needle"),
    [
        ('name = "a\\nb"\n', 5, "not a host name"),  # a fake table row, once
        ('name = "dns1"\naddress = "127.0.0.1:1/wsman?x"\n', 6, "not a host address"),
        ('name = "dns1"\naddress = "user@dns1"\n', 6, "not a host address"),
        ('name = "dns_1"\n', 5, "not a host name"),
        ('name = "-dns1"\n', 5, "not a host name"),
        ('name = "dns1-.corp"\n', 5, "not a host name"),
        ('name = "a..b"\n', 5, "not a host name"),
        ('name = "dns1.corp.example."\n', 5, "not a host name"),
        ('name = "dns1.ex\u00e4mple"\n', 5, "not a host name"),
        ('name = "256.1.1.1"\n', 5, "not a host name"),
        ('name = "a\\u001b[2J"\n', 5, "not a host name"),
        ('name = "dns1"\naddress = "[::1"\n', 6, "not a host address"),
        ('name = "dns1"\naddress = "[::1]x"\n', 6, "not a host address"),
        ('name = "dns1"\naddress = "[fe80::1%eth0]"\n', 6, "not a host address"),
        ('name = "dns1"\naddress = "[dns1]:5986"\n', 6, "not a host address"),
        ('name = "dns1"\naddress = "dns1:0"\n', 6, "port must be 1-65535"),
        ('name = "dns1"\naddress = "dns1:65536"\n', 6, "port must be 1-65535"),
        ('name = "dns1"\naddress = "dns1:+1"\n', 6, "not a host address"),
        ('name = "dns1"\naddress = "dns1:"\n', 6, "not a host address"),
        ('name = "dns1"\naddress = "10.0.0.1:5985"\nport = 5986\n', 6, "gives port 5985"),
        ('name = "dns1"\nusername = "a\\rb"\n', 6, "control character"),
        ('name = "dns1"\nconnect-timeout = nan\n', 6, "positive number"),
        ('name = "dns1"\nread-timeout = inf\n', 6, "positive number"),
        ('name = "dns1"\ntransport = "fake"\nfake = { latency = nan }\n', 7, "fake.latency"),
        ('name = "dns1"\ntransport = "fake"\nfake = { latency = inf }\n', 7, "fake.latency"),
        ('name = "dns1"\ndns-address = "10.0.0.1/24"\n', 6, "not a host address"),
    ],
)
def test_names_and_addresses_are_validated_with_file_and_line(body: str, line: int, needle: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_toml_inventory(_one(body), "inv.toml")
    message = str(err.value)
    assert needle in message and err.value.line == line, message
    assert message.startswith(f"inv.toml:{line}: ")
    assert message.isprintable(), message  # one line, no terminal control, whatever the input


def test_a_name_longer_than_dns_allows_is_refused_and_not_echoed_in_full() -> None:
    long_label = "a" * 64
    with pytest.raises(ConfigError, match="63") as err:
        parse_toml_inventory(_one(f'name = "{long_label}.example"\n'), "inv.toml")
    assert f"{long_label}.example" not in str(err.value)
    name = ".".join(["abcdefghij"] * 30)  # 329 octets, every label fine
    for text in (_one(f'name = "{name}"\n'), _one(f'name = "dns1"\naddress = "{name}"\n')):
        with pytest.raises(ConfigError, match="253") as err:
            parse_toml_inventory(text, "inv.toml")
        assert name not in str(err.value) and len(str(err.value)) < 200
    with pytest.raises(ConfigError, match="253") as err:
        parse_host_list(f"dns1\n{name}\n", "hosts.txt")
    assert err.value.line == 2 and name not in str(err.value)
    # the longest name DNS allows is fine
    longest = ".".join(["a" * 63] * 3 + ["b" * 61])
    assert len(longest) == 253
    assert parse_host_list(longest, "hosts.txt").hosts[0].address == longest


def test_addresses_hosts_and_ports() -> None:
    text = _one(
        'name = "dns1.corp.example"\n'
        '[[servers]]\nname = "dns2"\naddress = "10.0.0.2:5985"\n'
        '[[servers]]\nname = "dns3"\naddress = "[fe80::3]:5986"\n'
        '[[servers]]\nname = "dns4"\naddress = "fe80::4"\n'
        '[[servers]]\nname = "dns5:5999"\n'
        '[[servers]]\nname = "DNS6"\naddress = "dns6.corp.example"\nport = 5985\n'
        '[[servers]]\nname = "dns7"\naddress = "10.0.0.7:5985"\nport = 5985\n'
        '[[servers]]\nname = "1dns8"\n'
    )
    hosts = parse_toml_inventory(text, "inv.toml").hosts
    assert [(h.name, h.address, h.port) for h in hosts] == [
        ("dns1.corp.example", "dns1.corp.example", None),
        ("dns2", "10.0.0.2", 5985),
        ("dns3", "fe80::3", 5986),
        ("dns4", "fe80::4", None),
        ("dns5:5999", "dns5", 5999),
        ("DNS6", "dns6.corp.example", 5985),
        ("dns7", "10.0.0.7", 5985),
        ("1dns8", "1dns8", None),
    ]
    assert hosts[2].connection_options().endpoint == "https://[fe80::3]:5986/wsman"
    assert hosts[3].connection_options().endpoint == "https://[fe80::4]:5986/wsman"
    assert hosts[1].connection_options().endpoint == "https://10.0.0.2:5985/wsman"
    # an address's port beats a group's
    grouped = parse_toml_inventory(
        '[groups.g]\nport = 5985\n[[servers]]\nname = "a"\naddress = "a:5999"\ngroups = ["g"]\n', "inv.toml"
    ).hosts[0]
    assert grouped.port == 5999


def test_plain_list_lines_are_validated_alike() -> None:
    inv = parse_host_list("dns1\n10.0.0.5:5985\n[fe80::1]:5986\n", "hosts.txt")
    assert [(h.name, h.address, h.port) for h in inv.hosts] == [
        ("dns1", "dns1", None),
        ("10.0.0.5:5985", "10.0.0.5", 5985),
        ("[fe80::1]:5986", "fe80::1", 5986),
    ]
    for bad in ("dns_1", "dns1:99999", "dns1/wsman", "a\x1b[31mb", "dns\u202eexe.moc"):
        with pytest.raises(ConfigError) as err:
            parse_host_list(f"ok\n{bad}\n", "hosts.txt")
        assert err.value.line == 2 and str(err.value).isprintable(), str(err.value)


def test_host_names_given_on_the_command_line_are_validated() -> None:
    from toolkit.fleet import hosts_from_names

    assert [h.address for h in hosts_from_names(["dns1", "10.0.0.1"]).hosts] == ["dns1", "10.0.0.1"]
    with pytest.raises(ConfigError, match="not a host address") as err:
        hosts_from_names(["dns1", "127.0.0.1:1/wsman?x"])
    assert "--host" in str(err.value)
    with pytest.raises(ConfigError, match="--server"):
        hosts_from_names(["a b"], option="--server")


KERBEROS_GROUPS = """\
[defaults]
auth = "kerberos"
ccache = "/run/windns/ccache"

[groups.robots]
username = "audit@CORP.EXAMPLE"
keytab = "/etc/windns/audit.keytab"

[groups.people]
username = "dnsaudit@CORP.EXAMPLE"
credential = { keyring = "windns" }

[[servers]]
name = "dns1.corp.example"

[[servers]]
name = "dns2.corp.example"
groups = ["robots"]

[[servers]]
name = "dns3.corp.example"
groups = ["robots", "people"]
"""


def test_kerberos_settings_per_group_the_more_specific_way_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring

    monkeypatch.setattr(keyring, "get_password", lambda service, user: "from-keyring")
    dns1, dns2, dns3 = parse_toml_inventory(KERBEROS_GROUPS, "fleet.toml").hosts
    o1, o2, o3 = (h.connection_options() for h in (dns1, dns2, dns3))
    assert (o1.auth, o1.kerberos_ccache, o1.kerberos_keytab, o1.password) == (
        "kerberos",
        "/run/windns/ccache",
        None,
        None,
    )
    assert (o2.kerberos_ccache, o2.kerberos_keytab, o2.username, o2.password) == (
        None,
        "/etc/windns/audit.keytab",
        "audit@CORP.EXAMPLE",
        None,
    )
    assert (o3.kerberos_ccache, o3.kerberos_keytab, o3.password) == (None, None, "from-keyring")


@pytest.mark.parametrize(
    ("table", "line", "text"),
    [
        ('auth = "ntlm"\nkeytab = "/k"\n', 3, 'needs auth = "kerberos"'),
        ('auth = "kerberos"\nkeytab = "/k"\nccache = "/c"\n', 5, "two ways to authenticate"),
        ('auth = "kerberos"\nccache = "/c"\ncredential = { env = "PW" }\n', 5, "two ways to authenticate"),
        ('auth = "kerberos"\nkeytab = ""\n', 4, "keytab must be a non-empty string"),
    ],
)
def test_kerberos_settings_are_validated_with_the_line(table: str, line: int, text: str) -> None:
    doc = f'[groups.g]\n{table}\n[[servers]]\nname = "dns1"\ngroups = ["g"]\n'
    doc = "# fleet\n" + doc
    with pytest.raises(ConfigError, match=text) as err:
        parse_toml_inventory(doc, "fleet.toml")
    assert f"fleet.toml:{line}" in str(err.value)


def test_a_group_keytab_with_a_server_auth_that_cannot_use_it_names_the_server_line() -> None:
    doc = '[groups.g]\nkeytab = "/k"\n\n[[servers]]\nname = "dns1"\ngroups = ["g"]\nauth = "basic"\n'
    with pytest.raises(ConfigError, match="server dns1: a keytab or ccache needs") as err:
        parse_toml_inventory(doc, "fleet.toml")
    assert "fleet.toml:7" in str(err.value)
