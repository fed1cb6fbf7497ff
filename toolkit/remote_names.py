"""The names and defaults of the Remote seam that the CLI shows in its options.

Kept free of imports so that ``windns --help`` can list them without loading the transports
(``toolkit.remote`` re-exports them).
"""

from __future__ import annotations

__all__ = ["AUTH_METHODS", "DEFAULT_COMMAND_TIMEOUT", "TRANSPORTS"]

AUTH_METHODS: tuple[str, ...] = ("negotiate", "ntlm", "kerberos", "basic", "credssp", "certificate")
TRANSPORTS: tuple[str, ...] = ("psrp", "winrm", "fake")
#: seconds one script may run before the transport stops it (``--command-timeout``)
DEFAULT_COMMAND_TIMEOUT = 300.0
