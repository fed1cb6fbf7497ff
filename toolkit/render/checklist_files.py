"""Checklists as files: one CKL or CKLB file per server, or one file for a one-server report.

``toolkit.render.ckl`` computes the items and writes CKL XML, ``toolkit.render.cklb`` writes the
same items as CKLB JSON; this module names the files and writes them (atomically: a temporary
file beside each, then a rename).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.errors import ConfigError
from toolkit.findings import Report
from toolkit.render.ckl import ckl_document, single_host
from toolkit.render.cklb import cklb_text

if TYPE_CHECKING:
    from toolkit.policy import Policy

__all__ = ["checklist_file_names", "write_checklist_output", "write_checklists", "write_ckl_files"]

log = logging.getLogger("windns.render")


def _file_stem(server: str) -> str:
    """A server name as a file name that stays inside the output directory (no ``/``, ``..``)."""
    stem = re.sub(r"(?:[^a-z0-9._-]|\.{2,})+", "_", server.lower()).strip("._")
    return stem or "server"


def checklist_file_names(servers: Sequence[str], fmt: str = "ckl") -> list[str]:
    """The file name of each server's checklist, one per server, none shared.

    A server's name becomes ``<stem>.<fmt>`` (``_file_stem``). Servers whose stems are alike
    ("x y", "x_y" and "X..Y" are all ``x_y``; "DNS1" and "dns1" both ``dns1``) each get
    ``<stem>-<hash>.<fmt>`` instead, the hash the first 8 hex digits of the SHA-256 of the
    exact server name: the same file for the same server in every run, whatever the order of
    the report or the other servers in it. Should a name still clash (a server named like
    another's disambiguated file), the clashing ones take longer hashes."""
    occurrence: Counter[str] = Counter()
    keys = []  # what each name is derived from: the server's name; a repeat of it, numbered
    for server in servers:
        keys.append(server if not occurrence[server] else f"{server}#{occurrence[server]}")
        occurrence[server] += 1
    stems = [_file_stem(s) for s in servers]
    alike = Counter(stems)
    digits = [0 if alike[stem] == 1 else 8 for stem in stems]
    while True:
        names = [
            f"{stem}-{_digest(key)[:n]}.{fmt}" if n else f"{stem}.{fmt}"
            for stem, key, n in zip(stems, keys, digits, strict=True)
        ]
        taken = Counter(names)
        clash = [i for i, name in enumerate(names) if taken[name] > 1]
        if not clash:
            return names
        for i in clash:
            digits[i] = {0: 8, 8: 16}.get(digits[i], 64)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "backslashreplace")).hexdigest()


def write_checklists(
    report: Report, directory: Path, policy: Policy | None = None, fmt: str = "ckl"
) -> list[Path]:
    """One checklist file per server in ``directory``, in report order (``checklist_file_names``:
    no two servers share a file; a warning names the file of each server whose name would)."""
    names = checklist_file_names([h.server for h in report.hosts], fmt)
    plain: dict[str, list[int]] = {}
    for i, host in enumerate(report.hosts):
        plain.setdefault(f"{_file_stem(host.server)}.{fmt}", []).append(i)
    for shared, indexes in plain.items():
        if len(indexes) > 1:
            each = ", ".join(f"{names[i]} ('{report.hosts[i].server}')" for i in indexes)
            log.warning("servers whose names all make the file name %s: written as %s", shared, each)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        out = []
        for host, name in zip(report.hosts, names, strict=True):
            path = directory / name
            text = ckl_document(host, policy) if fmt == "ckl" else cklb_text(host, policy)
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
            out.append(path)
    except OSError as exc:
        raise ConfigError(f"cannot write checklists to {directory}: {exc.strerror}") from None
    return out


def write_checklist_output(
    report: Report, output: Path, policy: Policy | None = None, fmt: str = "ckl"
) -> list[Path]:
    """``--output`` for a checklist format: a file when ``output`` names one (it ends in
    ``.ckl``/``.cklb`` and is no directory; the report must hold one server), else a directory
    with one file per server (``write_checklists``)."""
    if output.is_dir() or output.suffix.lower() != f".{fmt}":
        return write_checklists(report, output, policy, fmt)
    host = single_host(report, fmt)
    text = ckl_document(host, policy) if fmt == "ckl" else cklb_text(host, policy)
    tmp = output.with_name(f".{output.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(output)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ConfigError(f"cannot write {output}: {exc.strerror}") from None
    return [output]


def write_ckl_files(report: Report, directory: Path, policy: Policy | None = None) -> list[Path]:
    return write_checklists(report, directory, policy, "ckl")
