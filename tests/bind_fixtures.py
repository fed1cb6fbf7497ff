"""A real BIND serving the demo fleet's zones, shared by every test that needs the DNS side.

``demo_bind`` is session-scoped (registered in conftest.py): named starts once. Needs named,
dnssec-signzone, dnssec-verify, delv and dig (Debian: bind9 bind9-utils bind9-dnsutils).
Missing tools fail the tests with a clear message; set WINDNS_SKIP_BIND=1 to skip them explicitly.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from toolkit.testing.bind import BIND_PACKAGES, BindServer, KeySpec, ZoneSpec, bind_missing, which
from toolkit.testing.bind_demo import demo_specs

REFEREES = ("dnssec-verify", "delv", "dig")


def require_bind() -> None:
    if os.environ.get("WINDNS_SKIP_BIND") == "1":
        pytest.skip("WINDNS_SKIP_BIND=1: BIND tests skipped on request")
    missing = bind_missing() + [t for t in REFEREES if which(t) is None]
    if missing:
        pytest.fail(
            f"BIND tools missing: {', '.join(missing)}; install {' '.join(BIND_PACKAGES)} "
            "or set WINDNS_SKIP_BIND=1 to skip explicitly",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def demo_bind() -> Iterator[tuple[BindServer, list[ZoneSpec]]]:
    require_bind()
    specs = demo_specs()
    # one extra zone the fixtures do not have: served data changed after signing
    specs.append(
        ZoneSpec(
            "tampered.corp.example",
            (KeySpec("ECDSAP256SHA256", ksk=True), KeySpec("ECDSAP256SHA256")),
            tamper=True,
        )
    )
    with BindServer(specs, lifetime=1800) as server:
        yield server, specs
