"""A loopback WinRM endpoint that the real pypsrp and pywinrm clients talk to.

It serves simulated Windows DNS servers (``toolkit.testing.simulator``, the same fleet FakeRemote
uses) over HTTP/HTTPS WS-Management: the PowerShell remoting shell (PSRP through psrpcore's
server classes) and the WinRS ``cmd`` shell, Basic and NTLM/Negotiate authentication with
message encryption, one port per server, and per-host fault injection. Used by the transport
tests, the transport benchmark and ``windns fake-server``.
"""

from toolkit.testing.fakeserver.auth import Credentials
from toolkit.testing.fakeserver.faults import FAULT_KINDS, Fault, FaultPlan, faults_from_fixture
from toolkit.testing.fakeserver.server import (
    NO_DNSSERVER_CONFIGURATION,
    FakeWinrmServer,
    HostEndpoint,
    HostStats,
)

__all__ = [
    "FAULT_KINDS",
    "NO_DNSSERVER_CONFIGURATION",
    "Credentials",
    "FakeWinrmServer",
    "Fault",
    "FaultPlan",
    "HostEndpoint",
    "HostStats",
    "faults_from_fixture",
]
