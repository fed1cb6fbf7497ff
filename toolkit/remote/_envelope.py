"""The server's envelope size, shared by both transports.

A WS-Management server refuses a request larger than its ``MaxEnvelopeSizekb`` setting, and
answers each request within the ``MaxEnvelopeSize`` the client puts in its header. Both
transports ask the setting once per connection, with a Get of the ``winrm/config`` resource
(what pypsrp's ``WSMan.update_max_payload_size()`` does, here asking for an answer within
``CONFIG_GET_ENVELOPE``), and size every envelope by it.

Windows lets only administrators read ``winrm/config`` (its ``RootSDDL`` grants generic access
to Builtin Administrators, read to interactive users only); for any other account the Get is
refused, and the transports use ``FALLBACK_ENVELOPE_SIZE``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

__all__ = [
    "CONFIG_GET_ENVELOPE",
    "CONFIG_URI",
    "FALLBACK_ENVELOPE_SIZE",
    "GET_ACTION",
    "MIN_ENVELOPE_KB",
    "size_from_config",
]

#: the WinRM service configuration (``winrm get winrm/config``)
CONFIG_URI = "http://schemas.microsoft.com/wbem/wsman/1/config"
GET_ACTION = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get"
#: the envelope size when the configuration cannot be read: 150 KiB, the smaller of the two
#: Windows defaults of MaxEnvelopeSizekb (150 on current versions, 500 on some: "Installation and
#: configuration for Windows Remote Management", learn.microsoft.com; MS-WSMV 2.2.4.10: "The
#: default value SHOULD be 500 but MAY be 150"), so every server left at its default accepts it
FALLBACK_ENVELOPE_SIZE = 150 * 1024
#: MS-WSMV 2.2.4.10: "The minimum value MUST be 32"
MIN_ENVELOPE_KB = 32
#: the MaxEnvelopeSize the config Get itself asks for: the smallest any server can be set to, so
#: that even a server configured below 150 KiB answers it (the answer is about 3 KB)
CONFIG_GET_ENVELOPE = MIN_ENVELOPE_KB * 1024

_CFG = "{http://schemas.microsoft.com/wbem/wsman/1/config}"


def size_from_config(root: ET.Element) -> int | None:
    """``MaxEnvelopeSizekb`` x 1024 from a winrm/config GetResponse (the whole envelope or its
    body), or None when it holds no usable value."""
    el = root.find(f".//{_CFG}MaxEnvelopeSizekb")
    try:
        kb = int((el.text or "").strip()) if el is not None else 0
    except ValueError:
        return None
    return kb * 1024 if kb >= MIN_ENVELOPE_KB else None
