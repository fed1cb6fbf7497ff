"""The session's private directories reach the processes tests start, and a leak fails the session."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, os, pathlib, tempfile
from toolkit.history.location import default_db_path
print(json.dumps({"tmp": tempfile.gettempdir(), "home": str(pathlib.Path.home()),
                  "db": str(default_db_path()),
                  "config": os.environ.get("XDG_CONFIG_HOME"), "cache": os.environ.get("XDG_CACHE_HOME")}))
"""


def test_a_started_process_sees_the_private_home_tmp_and_xdg_dirs(session_env: dict[str, Path]) -> None:
    import json

    res = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        env={**os.environ},
        timeout=60,
        check=True,
    )
    seen = json.loads(res.stdout)
    assert seen["tmp"] == str(session_env["TMPDIR"]) == tempfile.gettempdir()
    assert seen["home"] == str(session_env["HOME"])
    assert seen["config"] == str(session_env["XDG_CONFIG_HOME"])
    assert seen["cache"] == str(session_env["XDG_CACHE_HOME"])
    assert Path(seen["db"]).is_relative_to(os.environ["XDG_DATA_HOME"])  # this test's own data dir


LEAKY = """
import tempfile

def test_clean():
    pass

def test_leaves_a_directory():
    tempfile.mkdtemp(prefix="windns-fake-")
"""


def test_a_session_that_leaves_windns_entries_fails(tmp_path: Path) -> None:
    (tmp_path / "test_leaky.py").write_text(LEAKY)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "tests._session_env", "-p", "no:cacheprovider"]
    leaky = subprocess.run(
        [*argv, "test_leaky.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert leaky.returncode == 1, leaky.stdout
    assert "the test session left 1 windns-* entries in its temporary directory: windns-fake-" in leaky.stdout
    clean = subprocess.run(
        [*argv, "test_leaky.py", "-k", "clean"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert clean.returncode == 0, clean.stdout
