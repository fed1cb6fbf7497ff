"""windns-toolkit: audit and manage Windows Server DNSSEC remotely over WinRM."""

from toolkit.__about__ import __version__

__all__ = ["__version__"]
