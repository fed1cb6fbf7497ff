"""The Remote seam and its transports.

``connect(opts, transport)`` is the one way the services get a ``Remote``:

- ``psrp`` (default): ``PsrpRemote``, pypsrp RunspacePool reused for every call to the host;
- ``winrm``: ``WinrmRemote``, pywinrm cmd shell, parameters as one base64 JSON payload;
- ``fake``: ``FakeRemote`` over a simulated server from the demo fleet or ``fixtures``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.errors import ConfigError
from toolkit.remote.base import AUTH_METHODS, ConnectionOptions, Remote, RemoteResult, parse_script_output
from toolkit.remote.fake import Call, FakeRemote

if TYPE_CHECKING:
    from toolkit.simulator import Fleet

__all__ = [
    "AUTH_METHODS",
    "TRANSPORTS",
    "Call",
    "ConnectionOptions",
    "FakeRemote",
    "Remote",
    "RemoteResult",
    "connect",
    "load_fleet",
    "parse_script_output",
]

TRANSPORTS = ("psrp", "winrm", "fake")

_FLEETS: dict[Path, Fleet] = {}


def load_fleet(fixtures: Path | None = None) -> Fleet:
    """The simulated fleet in ``fixtures`` (default: the bundled demo), loaded once per process
    so writes made through one FakeRemote are seen by the next."""
    from toolkit.resources import demo_fixtures_dir
    from toolkit.simulator import Fleet

    directory = (fixtures or demo_fixtures_dir()).resolve()
    fleet = _FLEETS.get(directory)
    if fleet is None:
        fleet = _FLEETS[directory] = Fleet.load(directory)
    return fleet


def connect(opts: ConnectionOptions, transport: str = "psrp", *, fixtures: Path | None = None) -> Remote:
    if transport == "fake":
        return FakeRemote(load_fleet(fixtures).get(opts.host))
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
