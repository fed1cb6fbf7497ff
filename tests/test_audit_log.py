"""The admin audit log: where it lives, what a line holds, append-only, no secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.audit_log import AUDIT_LOG_ENV, AuditLog, Operator, default_path
from toolkit.errors import ConfigError


def test_default_path_honours_xdg_then_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_path() == tmp_path / "xdg" / "windns" / "audit.log"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_path() == tmp_path / "home" / ".local" / "share" / "windns" / "audit.log"
    monkeypatch.setenv(AUDIT_LOG_ENV, str(tmp_path / "elsewhere.log"))
    assert default_path() == tmp_path / "elsewhere.log"


def test_append_only_lines_and_scrubbed_secrets(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "sub" / "audit.log")
    log.append(
        {
            "action": "keys add",
            "parameters": {
                "ZoneName": "z",
                "Password": "hunter2",
                "nested": {"client_secret": "s3cret", "ok": 1},
            },
        }
    )
    log.append({"action": "keys remove", "parameters": {"ZoneName": "z"}})
    text = log.path.read_text(encoding="utf-8")
    assert "hunter2" not in text and "s3cret" not in text
    entries = log.entries()
    assert [e["action"] for e in entries] == ["keys add", "keys remove"]
    assert entries[0]["parameters"] == {"ZoneName": "z", "nested": {"ok": 1}}
    assert entries[0]["timestamp"].endswith("Z")
    assert len(text.splitlines()) == 2


def test_unwritable_log_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match="audit log"):
        AuditLog(blocker / "audit.log").ensure_writable()


def test_operator_current_has_local_user() -> None:
    op = Operator.current(remote="CORP\\admin")
    assert op.local and op.remote == "CORP\\admin"
