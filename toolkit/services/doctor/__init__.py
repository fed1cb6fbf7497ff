"""``windns doctor``: check, step by step, that one server can be audited; capture and replay.

The steps, in order, each with a verdict (``ok``, ``fail``, ``skipped``) and one line saying why:

=================  ===========================================================================
reachability       a TCP connection to host:port
tls                with HTTPS: the handshake, and the certificate validated as configured
authentication     the WinRM service accepts the credentials (the first script's exchange)
endpoint           the session's PowerShell: version, edition, language mode, configuration
module             the DnsServer module and the cmdlets the read scripts call
inventory          each read script (``inventory``): time, answer size, normalised and checked
raw sample         Get-DnsServerZone, and for one signed zone Get-DnsServerSigningKey and
                   Get-DnsServerDnsSecZoneSetting, as ConvertTo-Json prints them on the server
=================  ===========================================================================

A step whose prerequisite failed is skipped and names it. Nothing here raises for a server's
trouble: every toolkit error becomes its step's failure.

``write_bundle`` writes what the server answered, anonymised (``toolkit.anonymise``), as a bundle
to attach to a bug report, and the replacements it made to a local-only file beside it;
``replay`` normalises and audits a bundle again (``fixtures/captures/``).
"""

from toolkit.services.doctor.bundle import bundle_dir, check_capture_dir, expected_of, replay, write_bundle
from toolkit.services.doctor.steps import (
    BUNDLE_DIR,
    EXPECTED_FILE,
    REPLACEMENTS_FILE,
    STEPS,
    DoctorReport,
    Step,
    diagnose,
)

__all__ = [
    "BUNDLE_DIR",
    "EXPECTED_FILE",
    "REPLACEMENTS_FILE",
    "STEPS",
    "DoctorReport",
    "Step",
    "bundle_dir",
    "check_capture_dir",
    "diagnose",
    "expected_of",
    "replay",
    "write_bundle",
]
