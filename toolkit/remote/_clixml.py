"""What ``powershell.exe`` writes on stderr, made readable: CLIXML streams and error views.

Run over a WinRS cmd shell, ``powershell.exe`` writes its error stream (and progress, warnings,
verbose lines) as ``#< CLIXML`` followed by an ``<Objs>`` document. An uncaught error record
arrives as the console's error view, one ``<S S="Error">`` element per line::

    Invoke-DnsServerZoneSign : The zone x was not found on server y.
    At line:1 char:1
    + Invoke-DnsServerZoneSign ...
        + CategoryInfo          : ObjectNotFound: (x:) [Invoke-DnsServerZoneSign], CimException
        + FullyQualifiedErrorId : WIN32 9601,Invoke-DnsServerZoneSign

``parse_stderr`` gives the lines per stream; ``parse_error_view`` pulls the message, cmdlet,
category and FullyQualifiedErrorId out of the error lines. Plain text (no CLIXML) works too.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

__all__ = ["ErrorView", "StderrStreams", "decode_clixml_text", "parse_error_view", "parse_stderr"]

_MARKER = "#< CLIXML"
_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_OBJS = re.compile(r"<Objs\b.*?</Objs>", re.DOTALL)
_STRING = re.compile(r'<S S="(\w+)">(.*?)</S>', re.DOTALL)
_FIELD = re.compile(r"^\s*\+\s*(CategoryInfo|FullyQualifiedErrorId)\s*:\s?(.*)$")
_POSITION = re.compile(r"^(At line:\d+|At [^\n]*:\d+ char:\d+|\+ )")
_CMDLET_PREFIX = re.compile(r"^([A-Za-z][\w.-]*-[\w.-]+) : (.*)$")
_CATEGORY_CMDLET = re.compile(r"\[([A-Za-z][\w.-]*-[\w.-]+)\]")


def decode_clixml_text(text: str) -> str:
    """Undo CLIXML's ``_xHHHH_`` escapes (``_x000D__x000A_`` is CR LF, ``_x005F_`` an underscore)."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


def _xml_unescape(text: str) -> str:
    return (
        text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")
    ).replace("&amp;", "&")


@dataclass
class StderrStreams:
    """stderr split by PowerShell stream: ``error``, ``warning``, ``verbose``... and ``text`` for
    anything that was not CLIXML. Each value is a list of lines without line endings."""

    streams: dict[str, list[str]] = field(default_factory=dict)

    def lines(self, name: str) -> list[str]:
        return self.streams.get(name, [])

    @property
    def error(self) -> list[str]:
        return self.lines("error")

    def add(self, name: str, text: str) -> None:
        target = self.streams.setdefault(name, [])
        target.extend(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
        while target and not target[-1].strip():
            target.pop()


def _strings_of(document: str) -> list[tuple[str, str]]:
    """The ``<S S="stream">`` strings of one ``<Objs>`` document, in order (progress objects,
    which are ``<Obj>`` elements, are skipped)."""
    try:
        root = ET.fromstring(document)
    except ET.ParseError:
        return [(kind, _xml_unescape(body)) for kind, body in _STRING.findall(document)]
    found: list[tuple[str, str]] = []
    for el in root:
        if el.tag.rsplit("}", 1)[-1] == "S":
            found.append((el.attrib.get("S", "output"), el.text or ""))
    return found


def parse_stderr(raw: str) -> StderrStreams:
    """Split what ``powershell.exe`` wrote on stderr into streams of clean lines."""
    out = StderrStreams()
    rest = raw.lstrip("\ufeff")
    while rest:
        at = rest.find(_MARKER)
        if at < 0:
            if rest.strip():
                out.add("text", rest)
            break
        if rest[:at].strip():
            out.add("text", rest[:at])
        rest = rest[at + len(_MARKER) :]
        m = _OBJS.search(rest)
        if m is None:  # a cut-off document: salvage the complete strings
            for kind, body in _STRING.findall(rest):
                out.add(kind.lower(), decode_clixml_text(_xml_unescape(body)))
            break
        for kind, body in _strings_of(m.group(0)):
            out.add(kind.lower(), decode_clixml_text(body))
        rest = rest[m.end() :]
    return out


@dataclass(frozen=True)
class ErrorView:
    """One error record as the console printed it."""

    message: str
    cmdlet: str | None = None
    category: str | None = None
    fully_qualified_error_id: str | None = None


def _records(lines: list[str]) -> list[list[str]]:
    """Group error-view lines into records: each record ends after its FullyQualifiedErrorId
    (and that field's wrapped continuation lines)."""
    records: list[list[str]] = []
    current: list[str] = []
    in_fqid = False
    for line in lines:
        m = _FIELD.match(line)
        if m is not None:
            in_fqid = m.group(1) == "FullyQualifiedErrorId"
            current.append(line)
            continue
        if in_fqid and line.strip() and line[:1].isspace() and not line.strip().startswith("+"):
            current.append(line)  # a wrapped FullyQualifiedErrorId
            continue
        if in_fqid:
            records.append(current)
            current, in_fqid = [], False
        if line.strip() or current:
            current.append(line)
    if any(line.strip() for line in current):
        records.append(current)
    return records


def _one(record: list[str]) -> ErrorView:
    message_lines: list[str] = []
    fields: dict[str, list[str]] = {}
    field_name: str | None = None
    in_position = False
    for line in record:
        m = _FIELD.match(line)
        if m is not None:
            field_name = m.group(1)
            fields[field_name] = [m.group(2).strip()]
            continue
        if field_name is not None:
            if line.strip():
                fields[field_name].append(line.strip())
            continue
        if _POSITION.match(line.strip()) or in_position:
            in_position = True
            continue
        if line.strip():
            message_lines.append(line.strip())
    message = " ".join(message_lines)
    cmdlet: str | None = None
    m = _CMDLET_PREFIX.match(message)
    if m is not None:
        cmdlet, message = m.group(1), m.group(2)
    category = " ".join(fields.get("CategoryInfo", [])) or None
    fqid = "".join(fields.get("FullyQualifiedErrorId", [])) or None
    if cmdlet is None and category:
        c = _CATEGORY_CMDLET.search(category)
        cmdlet = c.group(1) if c else None
    return ErrorView(message=message.strip(), cmdlet=cmdlet, category=category, fully_qualified_error_id=fqid)


def parse_error_view(lines: list[str]) -> ErrorView | None:
    """The last error record in ``lines`` (with ``$ErrorActionPreference = 'Stop'`` the one that
    ended the script), or None when there is no text at all."""
    records = [r for r in _records(lines) if any(line.strip() for line in r)]
    if not records:
        return None
    return _one(records[-1])
