"""Test doubles: tools for tests and demos, not part of the product's import path.

- ``simulator``: simulated Windows DNS servers answering the ``ps_scripts`` (the demo fleet);
- ``fake_remote``: ``FakeRemote``, the ``--transport fake`` seam over a simulated server;
- ``fakeserver``: a loopback WinRM endpoint (PSRP and WinRS) serving simulated servers;
- ``bind`` and ``bind_demo``: a real BIND ``named`` publishing the demo zones.

No product module imports this package; the commands that need it (``fake-server``, ``demo``,
``dns serve-demo``, ``scan --demo``, ``--transport fake``) import it when they run. For your own
tests, ``toolkit.remote.MockRemote`` is the simpler double.
"""
