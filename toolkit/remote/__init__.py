"""The Remote seam and its transports.

``connect(opts, transport)`` is the one way the services get a ``Remote``:

- ``psrp`` (default): ``PsrpRemote``, pypsrp RunspacePool reused for every call to the host;
- ``winrm``: ``WinrmRemote``, pywinrm cmd shell, parameters as one base64 JSON payload;
- ``fake``: ``FakeRemote`` over a simulated server from the demo fleet or ``fixtures``. It is a
  test double (``toolkit.testing``), imported only when this transport is chosen.

``MockRemote(handler)`` answers every call with a function of yours, for your own tests.
"""

from __future__ import annotations

from pathlib import Path

from toolkit.errors import ConfigError
from toolkit.remote.base import AUTH_METHODS, ConnectionOptions, Remote, RemoteResult, parse_script_output
from toolkit.remote.mock import MockRemote
from toolkit.remote_names import TRANSPORTS

__all__ = [
    "AUTH_METHODS",
    "TRANSPORTS",
    "ConnectionOptions",
    "MockRemote",
    "Remote",
    "RemoteResult",
    "connect",
    "parse_script_output",
]


def connect(
    opts: ConnectionOptions,
    transport: str = "psrp",
    *,
    fixtures: Path | None = None,
    name: str | None = None,
    latency: float = 0.0,
    fail_with: BaseException | None = None,
) -> Remote:
    """Open ``opts.host`` over ``transport``. ``name`` (the inventory's name for the host),
    ``latency`` and ``fail_with`` (a simulated host's delay and failure) apply to the fake
    transport only."""
    if transport == "fake":
        # The one door from the product into the test doubles: the fake transport.
        from toolkit.testing.fake_remote import open_fake

        return open_fake(opts.host, fixtures=fixtures, name=name, latency=latency, fail_with=fail_with)
    if transport == "psrp":
        from toolkit.remote.psrp import PsrpRemote

        return PsrpRemote(opts)
    if transport == "winrm":
        from toolkit.remote.winrm import WinrmRemote

        if opts.jea:
            raise ConfigError(
                "a JEA endpoint is a PowerShell remoting session: --jea needs --transport psrp, "
                "the WinRM cmd shell cannot reach it"
            )
        return WinrmRemote(opts)
    raise ConfigError(f"unknown transport {transport!r}; choose one of {', '.join(TRANSPORTS)}")
