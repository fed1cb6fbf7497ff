"""The one upstream warning the toolkit ignores, free of imports so the CLI installs its filter
at start without loading dnspython (``toolkit.dnsview._dnssec`` explains it and re-exports it)."""

from __future__ import annotations

import warnings

__all__ = ["DSA_WARNING", "ignore_dsa_warning"]

#: (message regex, category, module regex) of the one upstream warning ignored.
DSA_WARNING: tuple[str, type[Warning], str] = ("DSA is deprecated", UserWarning, r"dns\.dnssecalgs\.dsa")


def ignore_dsa_warning() -> None:
    """Install the filter for the whole process (the CLI does this once at start)."""
    message, category, module = DSA_WARNING
    warnings.filterwarnings("ignore", message=message, category=category, module=module)
