"""The simulated Windows DNS server behind FakeRemote (and the loopback WinRM endpoint).

One simulator, two front doors: ``toolkit.remote.FakeRemote`` calls it in-process, the
wire-level endpoint in ``toolkit.testing.fakeserver`` calls it behind real WinRM. A server's state is
loaded from a fixture file (format: ``fixtures/README.md``) and kept as plain records in the
shape of the inventory document, so what a script prints is a projection of that state.
"""

from toolkit.testing.simulator.fleet import Fleet
from toolkit.testing.simulator.server import SimulatedServer

__all__ = ["Fleet", "SimulatedServer"]
