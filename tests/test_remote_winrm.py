"""WinrmRemote with pywinrm's Protocol faked through its factory, the stdin payload and bootstrap
command line it sends, CLIXML stderr parsing, and how every library failure is reported."""

from __future__ import annotations

import base64
import json
import logging
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from winrm.exceptions import (
    AuthenticationError,
    BasicAuthDisabledError,
    InvalidCredentialsError,
    WinRMError,
    WinRMOperationTimeoutError,
    WinRMTransportError,
    WSManFaultError,
)

from toolkit.errors import (
    AuthError,
    CmdletError,
    ConfigError,
    ConnectError,
    ProtocolError,
    RemoteError,
    RemoteTimeout,
)
from toolkit.remote import ConnectionOptions
from toolkit.remote._clixml import decode_clixml_text, parse_error_view, parse_stderr
from toolkit.remote.winrm import (
    MAX_COMMAND_LINE,
    WinrmRemote,
    bootstrap_command,
    default_protocol,
    encode_payload,
)
from toolkit.resources import script_text

SECRET = "Tr0ub4dor-and-3"
EVIL = "x'; Remove-Item C:\\ -Recurse; $(Stop-Computer) #\u00e9\u4e2d"
NS = 'xmlns="http://schemas.microsoft.com/powershell/2004/04"'


def options(**kw: Any) -> ConnectionOptions:
    base: dict[str, Any] = {"host": "dns1.corp.example", "username": "CORP\\audit", "password": SECRET}
    base.update(kw)
    return ConnectionOptions(**base)


def clixml(*lines: str, stream: str = "Error", progress: bool = False) -> bytes:
    """stderr as powershell.exe writes it: one <S> per line, CR LF escaped as _x000D__x000A_."""
    objs = ""
    if progress:
        objs += '<Obj S="progress" RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject</T>'
        objs += '</TN><MS><I64 N="SourceId">1</I64><PR N="Record"><AV>Preparing modules</AV></PR></MS></Obj>'
    for line in lines:
        text = line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        objs += f'<S S="{stream}">{text}_x000D__x000A_</S>'
    return f'#< CLIXML\r\n<Objs Version="1.1.0.1" {NS}>{objs}</Objs>'.encode()


def zone_not_found(cmdlet: str = "Get-DnsServerZone", code: int = 9601) -> bytes:
    return clixml(
        f"{cmdlet} : The zone nope.example was not found on server DNS1.",
        "At line:42 char:9",
        f"+ $zone = {cmdlet} -Name $ZoneName",
        "+         ~~~~~~~~~~~~~~~~~~~~~~~~~~~~",
        f"    + CategoryInfo          : ObjectNotFound: (nope.example:root/...S_DnsServerZone) [{cmdlet}], "
        "CimException",
        f"    + FullyQualifiedErrorId : WIN32 {code},{cmdlet}",
        " ",
        progress=True,
    )


# -- a fake of pywinrm's Protocol -----------------------------------------------------------------
@dataclass
class Outcome:
    stdout: bytes = b'{"ok": true}\r\n'
    stderr: bytes = b""
    exit_code: int = 0
    raises: BaseException | None = None
    at: str = "get_command_output"


@dataclass
class FakeProtocol:
    outcomes: list[Outcome] = field(default_factory=list)
    open_raises: BaseException | None = None
    shells: list[dict[str, Any]] = field(default_factory=list)
    commands: list[tuple[str, str, list[str]]] = field(default_factory=list)
    stdin: list[tuple[str, bytes, bool]] = field(default_factory=list)
    cleaned: list[str] = field(default_factory=list)
    closed_shells: list[str] = field(default_factory=list)
    session_closes: int = 0

    def __post_init__(self) -> None:
        self.transport = self  # WinrmRemote closes the HTTP session through .transport
        self._current = Outcome()

    def close_session(self) -> None:
        self.session_closes += 1

    def open_shell(self, **kw: Any) -> str:
        if self.open_raises is not None:
            raise self.open_raises
        self.shells.append(kw)
        return f"SHELL-{len(self.shells)}"

    def _maybe_raise(self, at: str) -> None:
        if self._current.raises is not None and self._current.at == at:
            raise self._current.raises

    def run_command(self, shell_id: str, command: str, arguments: list[str]) -> str:
        self._current = self.outcomes.pop(0) if self.outcomes else Outcome()
        self._maybe_raise("run_command")
        self.commands.append((shell_id, command, list(arguments)))
        return f"CMD-{len(self.commands)}"

    def send_command_input(self, shell_id: str, command_id: str, data: bytes, end: bool = False) -> None:
        self._maybe_raise("send_command_input")
        self.stdin.append((command_id, data, end))

    def get_command_output(self, shell_id: str, command_id: str) -> tuple[bytes, bytes, int]:
        self._maybe_raise("get_command_output")
        return self._current.stdout, self._current.stderr, self._current.exit_code

    def get_command_output_raw(self, shell_id: str, command_id: str) -> tuple[bytes, bytes, int, bool]:
        """What WinrmRemote calls: one Receive, here always the last one."""
        return (*self.get_command_output(shell_id, command_id), True)

    def cleanup_command(self, shell_id: str, command_id: str) -> None:
        self._maybe_raise("cleanup_command")
        self.cleaned.append(command_id)

    def close_shell(self, shell_id: str, close_session: bool = True) -> None:
        self.closed_shells.append(shell_id)


class Library:
    def __init__(self, *outcomes: Outcome, open_raises: BaseException | None = None) -> None:
        self.protocols: list[FakeProtocol] = []
        self.outcomes = list(outcomes)
        self.open_raises = open_raises

    def factory(self, opts: ConnectionOptions) -> FakeProtocol:
        p = FakeProtocol(outcomes=self.outcomes, open_raises=self.open_raises)
        self.protocols.append(p)
        return p

    def remote(self, **kw: Any) -> WinrmRemote:
        return WinrmRemote(options(**kw), protocol_factory=self.factory)


def decoded_payload(data: bytes) -> tuple[str, Any]:
    doc = json.loads(data.decode("ascii"))
    script = base64.b64decode(doc["script"]).decode("utf-8")
    params = json.loads(base64.b64decode(doc["params"]).decode("utf-8"))
    return script, params


# -- what goes over the wire ------------------------------------------------------------------------
def test_the_command_line_is_the_bootstrap_exactly_and_short_enough() -> None:
    command, arguments = bootstrap_command()
    assert command == "powershell.exe" and arguments[:3] == [
        "-NoProfile",
        "-NonInteractive",
        "-EncodedCommand",
    ]
    assert base64.b64decode(arguments[3]).decode("utf-16-le") == script_text("_winrm_bootstrap")
    assert len(" ".join([command, *arguments])) < MAX_COMMAND_LINE


def test_bootstrap_reads_the_payload_fields_we_send() -> None:
    text = script_text("_winrm_bootstrap")
    for needle in (
        "$request.script",
        "$request.params",
        "FromBase64String",
        "@arguments",
        "[scriptblock]::Create",
    ):
        assert needle in text, needle
    assert set(json.loads(encode_payload("inventory", {}))) == {"script", "params"}


def test_values_travel_only_in_the_stdin_payload() -> None:
    lib = Library()
    params = {"ZoneName": [EVIL], "KeyLength": 2048, "Force": True}
    with lib.remote() as remote:
        result = remote.run("inventory", params)
    p = lib.protocols[0]
    ((shell_id, command, arguments),) = p.commands
    line = " ".join([command, *arguments])
    assert "Stop-Computer" not in line and "Stop-Computer" not in base64.b64decode(arguments[3]).decode(
        "utf-16-le"
    )
    ((command_id, data, end),) = p.stdin
    assert end is True and data.endswith(b"\r\n") and data.count(b"\n") == 1
    assert b"Stop-Computer" not in data
    script, sent = decoded_payload(data)
    assert script == script_text("inventory") and sent == params
    assert result.data == {"ok": True} and p.cleaned == [command_id]


def test_a_large_payload_goes_in_several_sends_ending_with_end() -> None:
    lib = Library()
    zones = [f"zone{i:05d}.corp.example" for i in range(12000)]
    lib.remote().run("inventory", {"ZoneName": zones})
    sends = lib.protocols[0].stdin
    assert len(sends) > 1 and [end for _, _, end in sends] == [False] * (len(sends) - 1) + [True]
    assert all(len(data) <= 96 * 1024 for _, data, _ in sends)
    assert decoded_payload(b"".join(data for _, data, _ in sends))[1] == {"ZoneName": zones}


def test_shell_opened_once_reused_and_closed_once() -> None:
    lib = Library()
    remote = lib.remote()
    assert lib.protocols == []
    for _ in range(3):
        remote.run("inventory", {})
    p = lib.protocols[0]
    assert len(lib.protocols) == 1 and len(p.shells) == 1 and len(p.commands) == 3
    assert p.shells[0] == {"noprofile": True, "codepage": 65001}
    assert {c[0] for c in p.commands} == {"SHELL-1"} and len(p.cleaned) == 3
    remote.close()
    remote.close()
    assert p.closed_shells == ["SHELL-1"]
    with pytest.raises(ProtocolError, match="closed"):
        remote.run("inventory", {})


def test_transport_failure_drops_the_shell() -> None:
    lib = Library(Outcome(), Outcome(raises=requests.ConnectionError("reset")), Outcome())
    remote = lib.remote()
    remote.run("inventory")
    with pytest.raises(ConnectError):
        remote.run("inventory")
    remote.run("inventory")
    assert len(lib.protocols) == 2 and lib.protocols[0].session_closes == 1
    remote.close()
    assert lib.protocols[0].closed_shells == [] and lib.protocols[1].closed_shells == ["SHELL-1"]


def test_a_failed_cleanup_does_not_lose_the_output() -> None:
    lib = Library(Outcome(stdout=b'{"a": 1}', raises=requests.ConnectionError("x"), at="cleanup_command"))
    assert lib.remote().run("inventory").data == {"a": 1}


# -- output and failures ----------------------------------------------------------------------------
def test_cmdlet_failure_on_stderr_is_a_one_line_cmdlet_error() -> None:
    lib = Library(Outcome(stdout=b"", stderr=zone_not_found("Invoke-DnsServerZoneSign"), exit_code=1))
    with pytest.raises(CmdletError) as info:
        lib.remote().run("zone_sign", {"ZoneName": "nope.example"})
    err = info.value
    assert err.code == 9601 and err.cmdlet == "Invoke-DnsServerZoneSign"
    assert err.fully_qualified_error_id == "WIN32 9601,Invoke-DnsServerZoneSign"
    assert "\n" not in str(err) and "The zone nope.example was not found" in str(err)
    assert "At line" not in str(err) and "CategoryInfo" not in str(err) and err.host == "dns1.corp.example"


@pytest.mark.parametrize(
    ("stderr", "exit_code", "expected", "text"),
    [
        (b"", 1, ProtocolError, "exit code 1"),
        (
            clixml(
                "The bootstrap could not read its input: bad",
                "    + CategoryInfo          : InvalidData: (:) [], RuntimeException",
                "    + FullyQualifiedErrorId : BootstrapInputInvalid,windns-fake-endpoint",
            ),
            1,
            ProtocolError,
            "could not read its input",
        ),
        (
            b"'powershell.exe' is not recognized as an internal or external command,\r\n"
            b"operable program or batch file.\r\n",
            9009,
            ProtocolError,  # cmd.exe's text, no PowerShell error record: not a cmdlet failure
            "exit code 9009; stderr (not a PowerShell error record): 'powershell.exe' is not recognized",
        ),
        (
            # what powershell.exe writes the first time a module loads: progress, then nothing
            b'#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
            b'<Obj S="progress" RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject</T>'
            b'<T>System.Object</T></TN><MS><I64 N="SourceId">1</I64><PR N="Record"><AV>Preparing modules '
            b"for first use.</AV><AI>0</AI><Nil /><PI>-1</PI><PC>-1</PC><T>Completed</T><SR>-1</SR>"
            b"<SD> </SD></PR></MS></Obj></Objs>",
            1,
            ProtocolError,
            "exit code 1 (stderr held only progress records, no error)",
        ),
    ],
    ids=["silent", "bootstrap", "plain-text", "progress-only"],
)
def test_other_non_zero_exits(stderr: bytes, exit_code: int, expected: type[Exception], text: str) -> None:
    lib = Library(Outcome(stdout=b"", stderr=stderr, exit_code=exit_code))
    with pytest.raises(RemoteError) as info:
        lib.remote().run("inventory")
    assert type(info.value) is expected and text in str(info.value) and "\n" not in str(info.value)


def test_stdout_must_be_json_and_stderr_noise_is_ignored_on_success() -> None:
    lib = Library(
        Outcome(stdout=b"WARNING: profile\r\n{ not json"),
        Outcome(stdout=b'{"a": "\\u00e9"}\r\n', stderr=clixml("Preparing modules", stream="progress")),
        Outcome(stdout=b""),
    )
    remote = lib.remote()
    with pytest.raises(ProtocolError, match="not JSON"):
        remote.run("inventory")
    assert remote.run("inventory").data == {"a": "\u00e9"}
    with pytest.raises(ProtocolError, match="no output"):
        remote.run("inventory")


# -- library exceptions -------------------------------------------------------------------------
def _fault(code: int | None, reason: str = "r") -> WSManFaultError:
    return WSManFaultError(500, "Bad HTTP response", "<xml/>", reason, wsman_fault_code=code)


MAPPED: list[tuple[str, Callable[[], BaseException], type[Exception], str]] = [
    (
        "refused",
        lambda: requests.ConnectionError(Exception("pool", ConnectionRefusedError(111, "refused"))),
        ConnectError,
        "connection refused",
    ),
    ("tls", lambda: requests.exceptions.SSLError("certificate verify failed"), ConnectError, "TLS"),
    ("read-timeout", lambda: requests.ReadTimeout("slow"), RemoteTimeout, "read timeout"),
    ("op-timeout", WinRMOperationTimeoutError, RemoteTimeout, "operation timeout"),
    ("auth", lambda: InvalidCredentialsError("rejected"), AuthError, "HTTP 401"),
    ("basic-disabled", lambda: BasicAuthDisabledError("off"), AuthError, "credentials"),
    ("auth-base", lambda: AuthenticationError("no"), AuthError, "credentials"),
    (
        "no-ntlm-challenge",
        lambda: PermissionError("Access denied: Server did not respond with NTLM challenge token"),
        AuthError,
        "rejected the credentials of user CORP\\audit (negotiate authentication, HTTP 401)",
    ),
    ("permission", lambda: PermissionError("Permission denied"), AuthError, "authentication failed"),
    ("http401", lambda: WinRMTransportError("http", 401, ""), AuthError, "HTTP 401"),
    ("http500", lambda: WinRMTransportError("http", 500, "x"), ProtocolError, "HTTP 500"),
    ("access-denied", lambda: _fault(5, "Access is denied."), AuthError, "fault 5"),
    ("quota", lambda: _fault(2150859174, "maximum number of 5 shells"), ProtocolError, "quota"),
    ("no-code", lambda: _fault(None, "strange"), ProtocolError, "strange"),
    ("xml", lambda: ET.ParseError("no element found"), ProtocolError, "XML"),
    ("missing-element", StopIteration, ProtocolError, "XML"),
    ("winrm", lambda: WinRMError("odd"), ProtocolError, "odd"),
]


@pytest.mark.parametrize("at", ["open_shell", "run_command", "get_command_output"])
@pytest.mark.parametrize(("name", "make", "expected", "text"), MAPPED, ids=[m[0] for m in MAPPED])
def test_each_library_failure_is_a_typed_one_line_error(
    at: str, name: str, make: Callable[[], BaseException], expected: type[Exception], text: str
) -> None:
    exc = make()
    lib = Library(open_raises=exc) if at == "open_shell" else Library(Outcome(raises=exc, at=at))
    kw: dict[str, Any] = {}
    if name == "op-timeout" and at == "get_command_output":
        # a Receive that times out means "still running": asked again until the command timeout
        kw, text = {"command_timeout": 0.05}, "command timeout of 0.05 s"
    with pytest.raises(RemoteError) as info:
        lib.remote(**kw).run("inventory")
    err = info.value
    assert type(err) is expected, f"{name}: {type(err).__name__}: {err}"
    assert text in str(err) and "\n" not in str(err) and err.host == "dns1.corp.example"
    assert lib.protocols[0].session_closes == 1


def test_an_error_of_ours_is_not_disguised() -> None:
    lib = Library(Outcome(raises=KeyError("bug")))
    with pytest.raises(KeyError):
        lib.remote().run("inventory")


def test_options_pywinrm_refuses_are_a_config_error() -> None:
    def refuse(opts: ConnectionOptions) -> Any:
        raise InvalidCredentialsError("auth method ntlm requires a password")

    with pytest.raises(ConfigError, match="requires a password"):
        WinrmRemote(options(), protocol_factory=refuse).run("inventory")


@pytest.mark.parametrize(
    "make",
    [
        lambda: _fault(5, f"denied for {SECRET}"),
        lambda: requests.ConnectionError(f"proxy {SECRET}"),
        lambda: WinRMError(f"said {SECRET}"),
    ],
    ids=["fault", "requests", "winrm"],
)
def test_the_password_never_reaches_a_message_or_a_log(
    make: Callable[[], BaseException], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    lib = Library(Outcome(raises=make()))
    with pytest.raises(RemoteError) as info:
        lib.remote().run("inventory")
    assert SECRET not in str(info.value) and "***" in str(info.value)
    assert all(SECRET not in r.getMessage() for r in caplog.records)


def test_the_password_in_stderr_is_scrubbed() -> None:
    stderr = clixml(f"Get-X : bad {SECRET}", "    + FullyQualifiedErrorId : WIN32 5,Get-X")
    lib = Library(Outcome(stdout=b"", stderr=stderr, exit_code=1))
    with pytest.raises(CmdletError) as info:
        lib.remote().run("inventory")
    assert SECRET not in str(info.value) and info.value.code == 5


# -- the real pywinrm Protocol our factory builds ---------------------------------------------------
def test_default_protocol_passes_ca_trust_and_proxy_explicitly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/env-bundle.pem")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp.example:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        given = default_protocol(options(ca_bundle="/etc/corp-ca.pem")).transport.build_session()
        from_env = default_protocol(options()).transport.build_session()
    assert given.verify == "/etc/corp-ca.pem" and from_env.verify == "/etc/ssl/env-bundle.pem"
    assert given.proxies.get("https") == "http://proxy.corp.example:3128"


def test_default_protocol_without_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in (
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ):
        monkeypatch.delenv(var, raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        session = default_protocol(options()).transport.build_session()
        unvalidated = default_protocol(options(cert_validation=False)).transport.build_session()
    assert session.verify is True and unvalidated.verify is False
    assert not session.proxies.get("https")


def test_default_protocol_auth_and_timeouts() -> None:
    p = default_protocol(options(auth="negotiate", read_timeout=30.5, operation_timeout=20.0))
    assert p.transport.auth_method == "ntlm"  # pywinrm has no SPNEGO; Negotiate goes as NTLM
    assert (p.read_timeout_sec, p.operation_timeout_sec) == (31, 20)
    assert (
        p.transport.username == "CORP\\audit"
        and p.transport.endpoint == "https://dns1.corp.example:5986/wsman"
    )
    header = p.build_wsman_header("action", "uri")
    # 150 KiB until the server's own size is asked (test_fakeserver_envelope.py)
    assert header["env:Header"]["w:MaxEnvelopeSize"]["#text"] == "153600"
    tight = default_protocol(options(read_timeout=3, operation_timeout=2.9))
    assert tight.operation_timeout_sec < tight.read_timeout_sec


# -- CLIXML -----------------------------------------------------------------------------------------
def test_clixml_escapes() -> None:
    assert decode_clixml_text("a_x000D__x000A_b_x005F_x0041_") == "a\r\nb_x0041_"


def test_parse_stderr_streams_progress_and_entities() -> None:
    raw = (clixml("one &amp; <two>", progress=True) + b"\r\n" + clixml("careful", stream="warning")).decode()
    streams = parse_stderr("leading text\r\n" + raw)
    assert streams.error == ["one &amp; <two>"]
    assert streams.lines("warning") == ["careful"]
    assert streams.lines("text") == ["leading text"]
    assert "progress" not in streams.streams


def test_parse_stderr_salvages_a_cut_document() -> None:
    raw = clixml("first line", "second line").decode()
    streams = parse_stderr(raw[: raw.index("second")])
    assert streams.error == ["first line"]


def test_parse_stderr_plain_text() -> None:
    assert parse_stderr("Access is denied.\r\n").lines("text") == ["Access is denied."]
    assert parse_stderr("").streams == {}


def test_error_view_with_wrapped_lines_and_two_records() -> None:
    lines = parse_stderr(
        clixml(
            "Get-DnsServerResourceRecord : Failed to get the record x.",
            "    + CategoryInfo          : ObjectNotFound: (x:) [Get-DnsServerResourceRecord], CimException",
            "    + FullyQualifiedErrorId : WIN32 9714,Get-DnsServerResourceRecord",
            "",
            "Invoke-DnsServerZoneSign : The zone does not have enough signing keys. There must be at",
            "least one key signing key (KSK) and at least one zone signing key (ZSK).",
            "At C:\\scripts\\sign.ps1:12 char:1",
            "+ Invoke-DnsServerZoneSign @arguments",
            "    + CategoryInfo          : InvalidOperation: (contoso.com:root/...S_DnsServerZoneSign)",
            "   [Invoke-DnsServerZoneSign], CimException",
            "    + FullyQualifiedErrorId : WIN32 9104,Invoke-DnsServerZoneS",
            "   ign",
        ).decode()
    ).error
    view = parse_error_view(lines)
    assert view is not None
    assert view.fully_qualified_error_id == "WIN32 9104,Invoke-DnsServerZoneSign"
    assert view.cmdlet == "Invoke-DnsServerZoneSign"
    assert view.message.endswith("at least one zone signing key (ZSK).") and "KSK" in view.message
    assert view.category is not None and "InvalidOperation" in view.category


def test_error_view_cmdlet_from_category_and_empty_input() -> None:
    view = parse_error_view(
        [
            "Something failed",
            "    + CategoryInfo          : NotSpecified: (:) [Get-DnsServerZone], CimException",
            "    + FullyQualifiedErrorId : HRESULT 0x80041013,Get-DnsServerZone",
        ]
    )
    assert view is not None and view.cmdlet == "Get-DnsServerZone" and view.message == "Something failed"
    assert parse_error_view(["", "  "]) is None
