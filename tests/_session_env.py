"""The test session's private HOME, XDG directories and TMPDIR, and the check that nothing leaked.

``session_env`` (autouse, session scope; a plugin of its own so a test can run a session with it
alone) points HOME, XDG_DATA_HOME, XDG_CONFIG_HOME, XDG_CACHE_HOME and TMPDIR at fresh
directories for the whole session, and ``tempfile`` at that TMPDIR. Every process a test starts
inherits them, including those started by module- and session-scoped fixtures, which run before
any function-scoped fixture: nothing reaches the user's real ``~/.local/share/windns`` or the
system temporary directory.

When the session ends, anything named ``windns-*`` left in that TMPDIR (a credentials file, a
TLS key, BIND's signed zones) fails it: each test must clean up what the code under test made.
A private TMPDIR, not a before/after look at the system one, so other sessions running side by
side cannot cause a false alarm.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["LEAK_PREFIX", "session_env"]

LEAK_PREFIX = "windns-"


@pytest.fixture(scope="session", autouse=True)
def session_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    base = tmp_path_factory.mktemp("session-env")
    dirs = {
        "HOME": base / "home",
        "XDG_DATA_HOME": base / "xdg-data",
        "XDG_CONFIG_HOME": base / "xdg-config",
        "XDG_CACHE_HOME": base / "xdg-cache",
        "TMPDIR": base / "tmp",
    }
    mp = pytest.MonkeyPatch()
    for name, path in dirs.items():
        path.mkdir()
        mp.setenv(name, str(path))
    mp.setattr(tempfile, "tempdir", str(dirs["TMPDIR"]))
    try:
        yield dirs
    finally:
        mp.undo()
    left = sorted(p for p in dirs["TMPDIR"].iterdir() if p.name.startswith(LEAK_PREFIX))
    for path in left:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    if left:
        pytest.fail(
            f"the test session left {len(left)} {LEAK_PREFIX}* entries in its temporary directory: "
            + ", ".join(p.name for p in left),
            pytrace=False,
        )
