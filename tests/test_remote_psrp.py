"""PsrpRemote with pypsrp's objects faked through its factories: what goes to the library, what
comes back, and how every library failure reaches the caller."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from pypsrp.exceptions import (
    AuthenticationError,
    FragmentError,
    InvalidPSRPOperation,
    SerializationError,
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
from toolkit.remote._errors import win32_code
from toolkit.remote.psrp import PsrpRemote, default_pool, default_wsman, plain_params
from toolkit.resources import script_text

SECRET = "Tr0ub4dor-and-3"
EVIL = "x'; Remove-Item C:\\ -Recurse; $(Stop-Computer) #\u00e9"


def options(**kw: Any) -> ConnectionOptions:
    base: dict[str, Any] = {"host": "dns1.corp.example", "username": "CORP\\audit", "password": SECRET}
    base.update(kw)
    return ConnectionOptions(**base)


# -- fakes of pypsrp's WSMan, RunspacePool and PowerShell ---------------------------------------
@dataclass
class Answer:
    """What one PowerShell.invoke() gives: output, or an error record, or an exception."""

    output: list[Any] = field(default_factory=list)
    had_errors: bool = False
    errors: list[Any] = field(default_factory=list)
    raises: BaseException | None = None


class FakeWSMan:
    def __init__(self) -> None:
        self.closed = 0

    def close(self) -> None:
        self.closed += 1


class FakePool:
    def __init__(self, wsman: FakeWSMan, opts: ConnectionOptions, open_raises: BaseException | None) -> None:
        self.wsman = wsman
        self.configuration_name = opts.configuration_name
        self.opened = 0
        self.closed = 0
        self.open_raises = open_raises
        self.close_raises: BaseException | None = None

    def open(self) -> None:
        self.opened += 1
        if self.open_raises is not None:
            raise self.open_raises

    def close(self) -> None:
        self.closed += 1
        if self.close_raises is not None:
            raise self.close_raises


class FakePowerShell:
    def __init__(self, pool: FakePool, answer: Answer) -> None:
        self.pool = pool
        self.answer = answer
        self.scripts: list[str] = []
        self.parameters: list[dict[str, Any]] = []
        self.had_errors = False
        self.streams = SimpleNamespace(error=[])
        self.closed = 0

    def add_script(self, text: str) -> FakePowerShell:
        self.scripts.append(text)
        return self

    def add_parameters(self, params: dict[str, Any]) -> FakePowerShell:
        self.parameters.append(params)
        return self

    def invoke(self) -> list[Any]:
        if self.answer.raises is not None:
            raise self.answer.raises
        self.had_errors = self.answer.had_errors
        self.streams.error = list(self.answer.errors)
        return list(self.answer.output)

    def close(self) -> None:
        self.closed += 1


class Library:
    """The fake library: factories for PsrpRemote and a record of what it was asked."""

    def __init__(self, *answers: Answer, open_raises: BaseException | None = None) -> None:
        self.answers = list(answers)
        self.open_raises = open_raises
        self.wsmans: list[FakeWSMan] = []
        self.pools: list[FakePool] = []
        self.shells: list[FakePowerShell] = []

    def wsman(self, opts: ConnectionOptions) -> FakeWSMan:
        w = FakeWSMan()
        self.wsmans.append(w)
        return w

    def pool(self, wsman: FakeWSMan, opts: ConnectionOptions) -> FakePool:
        p = FakePool(wsman, opts, self.open_raises)
        self.pools.append(p)
        return p

    def powershell(self, pool: FakePool) -> FakePowerShell:
        answer = self.answers.pop(0) if self.answers else Answer(output=['{"ok": true}'])
        ps = FakePowerShell(pool, answer)
        self.shells.append(ps)
        return ps

    def remote(self, **kw: Any) -> PsrpRemote:
        return PsrpRemote(
            options(**kw),
            wsman_factory=self.wsman,
            pool_factory=self.pool,
            powershell_factory=self.powershell,
        )


def error_record(
    *,
    fqid: str,
    message: str = "The zone nope.example was not found on server DNS1.",
    activity: str | None = None,
    error_code: Any = None,
    message_id: str | None = None,
    hresult: int | None = None,
    adapted: bool = True,
    details: str | None = None,
) -> Any:
    """An object shaped like pypsrp's ErrorRecordMessage with a deserialised .NET exception."""
    data = None
    if error_code is not None or message_id is not None:
        data = SimpleNamespace(
            adapted_properties={},
            extended_properties={"error_Code": error_code, "MessageID": message_id},
        )
    props: dict[str, Any] = {"Message": message, "HResult": hresult}
    extended: dict[str, Any] = {}
    if data is not None:
        (props if adapted else extended)["ErrorData"] = data
    exc = SimpleNamespace(adapted_properties=props, extended_properties=extended, to_string=None)
    return SimpleNamespace(
        fq_error=fqid,
        exception=exc,
        command_name=None,
        activity=activity,
        message=None,
        details_message=details,
    )


# -- parameters and script text -----------------------------------------------------------------
def test_values_go_as_parameters_and_the_script_text_is_the_file_unchanged() -> None:
    lib = Library(Answer(output=['{"ZoneName": "z"}']))
    with lib.remote() as remote:
        result = remote.run("zone_sign", {"ZoneName": EVIL, "SignWithDefault": True})
    ps = lib.shells[0]
    assert ps.scripts == [script_text("zone_sign")]
    assert ps.parameters == [{"ZoneName": EVIL, "SignWithDefault": True}]
    assert EVIL not in ps.scripts[0] and "Stop-Computer" not in ps.scripts[0]
    assert result.data == {"ZoneName": "z"} and result.script == "zone_sign"
    assert ps.closed == 1  # the pipeline is signalled closed after each script


def test_no_parameters_means_no_add_parameters_call() -> None:
    lib = Library()
    with lib.remote() as remote:
        remote.run("inventory")
    assert lib.shells[0].parameters == []


def test_plain_params_keeps_values_pypsrp_can_type() -> None:
    got = plain_params({"A": (1, 2), "B": 2**40, "C": -(2**40), "D": {"x": [True, None, 1.5]}, "E": "s"})
    assert got == {"A": [1, 2], "B": str(2**40), "C": str(-(2**40)), "D": {"x": [True, None, 1.5]}, "E": "s"}
    assert plain_params({"Int32": 2**31 - 1})["Int32"] == 2**31 - 1
    with pytest.raises(TypeError, match="object"):
        plain_params({"X": object()})


# -- one pool per host --------------------------------------------------------------------------
def test_pool_opened_once_reused_and_closed_once() -> None:
    lib = Library()
    remote = lib.remote(configuration_name="windns.JEA")
    assert lib.pools == []  # lazily: nothing before the first run
    for _ in range(3):
        remote.run("inventory", {})
    assert len(lib.wsmans) == 1 and len(lib.pools) == 1
    pool = lib.pools[0]
    assert pool.opened == 1 and pool.configuration_name == "windns.JEA"
    assert [ps.pool for ps in lib.shells] == [pool, pool, pool]
    remote.close()
    remote.close()
    assert pool.closed == 1 and lib.wsmans[0].closed == 1
    with pytest.raises(ProtocolError, match="closed"):
        remote.run("inventory", {})


def test_transport_failure_drops_the_pool_and_the_next_run_opens_a_new_one() -> None:
    lib = Library(
        Answer(output=["{}"]), Answer(raises=requests.ConnectionError("reset")), Answer(output=["{}"])
    )
    remote = lib.remote()
    remote.run("inventory")
    with pytest.raises(ConnectError):
        remote.run("inventory")
    remote.run("inventory")
    assert len(lib.pools) == 2 and lib.wsmans[0].closed == 1
    remote.close()
    assert lib.pools[0].closed == 0  # the broken pool is not sent a Delete
    assert lib.pools[1].closed == 1


def test_a_cmdlet_error_keeps_the_pool() -> None:
    lib = Library(Answer(had_errors=True, errors=[error_record(fqid="WIN32 9601,Get-DnsServerZone")]))
    remote = lib.remote()
    with pytest.raises(CmdletError):
        remote.run("inventory")
    remote.run("inventory")
    assert len(lib.pools) == 1


def test_close_never_raises() -> None:
    lib = Library()
    remote = lib.remote()
    remote.run("inventory")
    lib.pools[0].close_raises = requests.ConnectionError("gone")
    remote.close()
    assert lib.pools[0].closed == 1 and lib.wsmans[0].closed == 1


# -- output -------------------------------------------------------------------------------------
def test_output_must_be_json_text() -> None:
    lib = Library(
        Answer(output=["WARNING: not json"]),
        Answer(output=[]),
        Answer(output=[{"a": 1}]),
        Answer(output=['{"a":', "1}"]),
    )
    remote = lib.remote()
    with pytest.raises(ProtocolError, match="not JSON"):
        remote.run("inventory")
    with pytest.raises(ProtocolError, match="no output"):
        remote.run("inventory")
    with pytest.raises(ProtocolError, match="dict objects"):
        remote.run("inventory")
    assert remote.run("inventory").data == {"a": 1}  # one document printed in pieces


def test_non_terminating_errors_do_not_lose_the_output() -> None:
    lib = Library(Answer(output=['{"a": 1}'], errors=[error_record(fqid="WIN32 9601,Get-DnsServerZone")]))
    assert lib.remote().run("inventory").data == {"a": 1}


# -- cmdlet failures ----------------------------------------------------------------------------
def test_failed_pipeline_is_a_one_line_cmdlet_error_with_the_win32_code() -> None:
    record = error_record(
        fqid="WIN32 9601,Invoke-DnsServerZoneSign",
        message="The zone nope.example\r\nwas not found.",
        activity="Invoke-DnsServerZoneSign",
    )
    lib = Library(Answer(had_errors=True, errors=[record]))
    with pytest.raises(CmdletError) as info:
        lib.remote().run("zone_sign", {"ZoneName": "nope.example"})
    err = info.value
    assert err.code == 9601 and err.cmdlet == "Invoke-DnsServerZoneSign"
    assert err.fully_qualified_error_id == "WIN32 9601,Invoke-DnsServerZoneSign"
    assert err.host == "dns1.corp.example" and "\n" not in str(err) and "\r" not in str(err)
    assert "DNS_ERROR_ZONE_DOES_NOT_EXIST" in str(err) and "was not found" in str(err)


def test_error_details_message_is_what_powershell_would_show() -> None:
    record = error_record(fqid="WIN32 9601,Get-DnsServerZone", message="generic", details="the zone is gone")
    lib = Library(Answer(had_errors=True, errors=[record]))
    with pytest.raises(CmdletError) as info:
        lib.remote().run("inventory")
    assert "the zone is gone" in str(info.value) and "generic" not in str(info.value)


def test_the_terminating_record_wins_over_earlier_ones() -> None:
    first = error_record(fqid="WIN32 9714,Get-DnsServerResourceRecord")
    last = error_record(fqid="WIN32 9104,Invoke-DnsServerZoneSign")
    lib = Library(Answer(had_errors=True, errors=[first, last]))
    with pytest.raises(CmdletError) as info:
        lib.remote().run("zone_sign", {"ZoneName": "z"})
    assert info.value.code == 9104


def test_errors_without_output_are_a_cmdlet_error_even_if_the_pipeline_completed() -> None:
    lib = Library(Answer(errors=[error_record(fqid="WIN32 9102,Add-DnsServerSigningKey")]))
    with pytest.raises(CmdletError) as info:
        lib.remote().run("key_add", {"ZoneName": "z"})
    assert info.value.code == 9102 and info.value.cmdlet == "Add-DnsServerSigningKey"


@pytest.mark.parametrize(
    ("record", "code"),
    [
        (error_record(fqid="MiClientApiError_Failed,Get-DnsServerZone", error_code=9104), 9104),
        (error_record(fqid="x,Get-DnsServerZone", error_code=9104, adapted=False), 9104),
        (error_record(fqid="x,Get-DnsServerZone", message_id="WIN32 9102"), 9102),
        (error_record(fqid="x,Get-DnsServerZone", hresult=-2147015295), 9601),  # 0x80072581
        (error_record(fqid="x,Get-DnsServerZone", hresult=-2146233088), None),  # COR_E_EXCEPTION
        (error_record(fqid="x,Get-DnsServerZone", message="failed: DNS_ERROR_ZONE_DOES_NOT_EXIST"), 9601),
    ],
    ids=["error-data", "error-data-note-property", "message-id", "hresult-win32", "other-hresult", "name"],
)
def test_win32_code_from_the_rest_of_the_record(record: Any, code: int | None) -> None:
    lib = Library(Answer(had_errors=True, errors=[record]))
    with pytest.raises(CmdletError) as info:
        lib.remote().run("inventory")
    assert info.value.code == code
    assert info.value.cmdlet == "Get-DnsServerZone"  # from the FullyQualifiedErrorId
    if code is None:
        assert "x,Get-DnsServerZone" in str(info.value)  # the id is all there is to go on


def test_win32_code_prefers_the_fully_qualified_error_id() -> None:
    assert win32_code(fully_qualified_error_id="WIN32 9601,Get-DnsServerZone", error_code=5) == 9601
    assert win32_code(error_code=True) is None and win32_code(error_code="9104") == 9104
    assert win32_code(message="no code, DNS_ERROR_NOT_A_REAL_NAME") is None


# -- library exceptions -------------------------------------------------------------------------
def _conn_refused() -> requests.ConnectionError:
    inner = ConnectionRefusedError(111, "Connection refused")
    return requests.ConnectionError(Exception("HTTPConnectionPool(host='h', port=5986): Max retries", inner))


MAPPED: list[tuple[str, Callable[[], BaseException], type[Exception], str]] = [
    ("refused", _conn_refused, ConnectError, "connection refused"),
    ("tls", lambda: requests.exceptions.SSLError("certificate verify failed"), ConnectError, "--ca-bundle"),
    ("connect-timeout", lambda: requests.ConnectTimeout("slow"), RemoteTimeout, "timed out after 30 s"),
    ("read-timeout", lambda: requests.ReadTimeout("slow"), RemoteTimeout, "read timeout of 60 s"),
    ("chunked", lambda: requests.exceptions.ChunkedEncodingError("cut"), ProtocolError, "broken HTTP"),
    ("auth", lambda: AuthenticationError("Failed to authenticate the user"), AuthError, "HTTP 401"),
    ("http401", lambda: WinRMTransportError("http", 401, ""), AuthError, "credentials"),
    ("http403", lambda: WinRMTransportError("http", 403, ""), AuthError, "403"),
    ("http500", lambda: WinRMTransportError("http", 500, "oops"), ProtocolError, "HTTP 500"),
    (
        "access-denied",
        lambda: WSManFaultError(5, "m", "Access is denied.", None, None, None),
        AuthError,
        "fault 5",
    ),
    (
        "op-timeout",
        lambda: WSManFaultError(2150858793, "m", "OperationTimeout", None, None, None),
        RemoteTimeout,
        "operation timeout",
    ),
    (
        "quota",
        lambda: WSManFaultError(2150859174, "m", "maximum number of 5 shells", None, None, None),
        ProtocolError,
        "quota",
    ),
    (
        "shell-gone",
        lambda: WSManFaultError(2150858843, "m", "shell was not found", None, None, None),
        ConnectError,
        "shell is gone",
    ),
    ("other-fault", lambda: WSManFaultError("w:Bad", "m", "odd", None, None, None), ProtocolError, "w:Bad"),
    ("serialization", lambda: SerializationError("bad CLIXML"), ProtocolError, "remoting data"),
    ("fragment", lambda: FragmentError("bad fragment"), ProtocolError, "remoting data"),
    ("xml", lambda: ET.ParseError("no element found"), ProtocolError, "cannot be parsed"),
    ("psrp-state", lambda: InvalidPSRPOperation("broken pool"), ProtocolError, "broken pool"),
]


@pytest.mark.parametrize("where", ["open", "invoke"])
@pytest.mark.parametrize(("name", "make", "expected", "text"), MAPPED, ids=[m[0] for m in MAPPED])
def test_each_library_failure_is_a_typed_one_line_error(
    where: str, name: str, make: Callable[[], BaseException], expected: type[Exception], text: str
) -> None:
    exc = make()
    lib = Library(Answer(raises=exc)) if where == "invoke" else Library(open_raises=exc)
    with pytest.raises(RemoteError) as info:
        lib.remote().run("inventory")
    err = info.value
    assert type(err) is expected, f"{name}: {type(err).__name__}: {err}"
    assert text in str(err) and "\n" not in str(err)
    assert err.host == "dns1.corp.example" and err.__cause__ is exc
    assert lib.wsmans[0].closed == 1  # the session of the broken pool is let go


def test_an_error_of_ours_is_not_disguised() -> None:
    lib = Library(Answer(raises=KeyError("bug")))
    with pytest.raises(KeyError):
        lib.remote().run("inventory")


def test_options_pypsrp_refuses_are_a_config_error() -> None:
    def refuse(opts: ConnectionOptions) -> Any:
        raise ValueError("For basic auth, the password must be specified")

    remote = PsrpRemote(options(), wsman_factory=refuse)
    with pytest.raises(ConfigError, match="password must be specified"):
        remote.run("inventory")


def test_unknown_script_names_are_refused_before_anything_is_sent() -> None:
    lib = Library()
    with pytest.raises(ValueError, match="no script named"):
        lib.remote().run("no_such_script")
    assert lib.wsmans == []


# -- secrets ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "exc",
    [
        WSManFaultError(5, "m", f"Access is denied for {SECRET}", None, None, None),
        WSManFaultError("x", "m", f"fault {SECRET}", None, None, None),
        InvalidPSRPOperation(f"pool said {SECRET}"),
        requests.ConnectionError(f"proxy {SECRET}"),
    ],
    ids=["fault-5", "fault", "psrp", "requests"],
)
def test_the_password_never_reaches_a_message_or_a_log(
    exc: BaseException, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    lib = Library(Answer(raises=exc))
    with pytest.raises(RemoteError) as info:
        lib.remote().run("inventory")
    assert SECRET not in str(info.value) and "***" in str(info.value)
    assert SECRET not in repr(lib.remote().opts)
    assert all(SECRET not in r.getMessage() for r in caplog.records)


def test_the_password_in_a_cmdlet_message_is_scrubbed() -> None:
    lib = Library(
        Answer(had_errors=True, errors=[error_record(fqid="WIN32 5,Get-X", message=f"no {SECRET}")])
    )
    with pytest.raises(CmdletError) as info:
        lib.remote().run("inventory")
    assert SECRET not in str(info.value) and info.value.code == 5


# -- the real pypsrp objects our factories build --------------------------------------------------
def test_default_wsman_validation_is_the_ca_bundle_when_given() -> None:
    wsman = default_wsman(options(ca_bundle="/etc/corp-ca.pem", port=5986))
    t = wsman.transport
    assert t.cert_validation == "/etc/corp-ca.pem" and t.endpoint == "https://dns1.corp.example:5986/wsman"
    assert default_wsman(options()).transport.cert_validation is True
    assert (
        default_wsman(options(cert_validation=False, ca_bundle="/x.pem")).transport.cert_validation is False
    )


def test_default_wsman_timeouts_and_encryption() -> None:
    wsman = default_wsman(
        options(ssl=False, auth="ntlm", connect_timeout=5, read_timeout=30, operation_timeout=20)
    )
    t = wsman.transport
    assert (t.connection_timeout, t.read_timeout, wsman.operation_timeout) == (5, 30, 20)
    assert t.wrap_required  # NTLM over HTTP: WinRM message encryption
    basic = default_wsman(options(ssl=False, auth="basic", allow_basic_over_http=True)).transport
    assert not basic.wrap_required  # pypsrp cannot wrap Basic; the options made the user allow it


def test_default_pool_uses_the_configuration_name() -> None:
    opts = options(configuration_name="windns.JEA")
    pool = default_pool(default_wsman(opts), opts)
    assert pool.shell.resource_uri == "http://schemas.microsoft.com/powershell/windns.JEA"


def test_pypsrp_error_logs_we_handle_are_demoted(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("pypsrp.wsman")
    caplog.set_level(logging.WARNING)
    try:
        raise requests.ReadTimeout("slow")
    except requests.ReadTimeout:
        logger.exception("%s during WSMan request - attempt %d", "ReadTimeout", 0)
    logger.error("something else went wrong")
    assert [r.getMessage() for r in caplog.records] == ["something else went wrong"]
    caplog.clear()
    caplog.set_level(logging.DEBUG, logger="pypsrp.wsman")
    logger.error("Failed to parse WSManFault message on WinRM error response")
    assert [(r.levelname, r.exc_info) for r in caplog.records] == [("DEBUG", None)]
