"""Advice for administrators on the Win32 DNS errors of ``toolkit.catalogue``: our own text.

For each code: the cause (when Windows raises it), how to diagnose it (the cmdlets to run) and
how to resolve it (the exact PowerShell, with ``<Zone>``-style placeholders).

Numbers quoted in the explanations (ranges and defaults) are the DnsServer module's documented
defaults and allowed ranges: KSK RsaSha256/2048 bit/755 d, ZSK RsaSha256/1024 bit/90 d, at most
3 keys per algorithm and key type, RSA key length 1024-4096 in steps of 64, rollover period KSK
7-7300 d and ZSK 7-1825 d, initial rollover offset 0-30 d, signature validity 6-720 h, NSEC3
iterations up to 150/500/2500 for smallest key lengths up to 1024/2048/4096 bit.
"""

# ruff: noqa: E501 -- PowerShell commands stay on one line so they can be copied and pasted whole.
from __future__ import annotations

import sys

__all__ = ["EXPLANATIONS"]

_KEY_TABLE = "Get-DnsServerSigningKey -ZoneName <Zone> | Format-Table KeyId,KeyType,CryptoAlgorithm,KeyLength,CurrentState"
_ROLL_TABLE = "Get-DnsServerSigningKey -ZoneName <Zone> | Format-Table KeyId,KeyType,CurrentRolloverStatus,RolloverPeriod,NextRolloverTime,StandbyKey"
_ZONE_SETTING = "Get-DnsServerDnsSecZoneSetting -ZoneName <Zone> | Format-List IsSigned,DenialOfExistence,NSec3Iterations,KeyMasterServer,IsKeyMasterServer,KeyMasterStatus"
_KEY_MASTER = "Get-DnsServerDnsSecZoneSetting -ZoneName <Zone> | Format-List KeyMasterServer,IsKeyMasterServer,KeyMasterStatus"
_TEST = "Test-DnsServerDnsSecZoneSetting -ZoneName <Zone>"
_RESIGN = "Invoke-DnsServerZoneSign -ZoneName <Zone> -DoResign -Force"
_EVENTS = "Get-WinEvent -LogName 'DNS Server' -MaxEvents 50 | Where-Object LevelDisplayName -ne 'Information'"


def _cleandoc(doc: str) -> str:
    """``inspect.cleandoc``, without importing ``inspect``: `windns explain` would load it (and
    what it imports) for this alone. Tabs expanded, the first line stripped, the common indent of the others removed, blank
    lines at either end dropped. ``tests/test_catalogue.py`` holds it to the original."""
    lines = doc.expandtabs().split("\n")
    margin = min((len(line) - len(line.lstrip()) for line in lines[1:] if line.lstrip()), default=sys.maxsize)
    lines[0] = lines[0].lstrip()
    if margin < sys.maxsize:
        lines[1:] = [line[margin:] for line in lines[1:]]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return "\n".join(lines)


def _x(cause: str, diagnose: str, resolve: str) -> tuple[str, str, str]:
    return _cleandoc(cause), _cleandoc(diagnose), _cleandoc(resolve)


#: code -> (cause, diagnose, resolve). Cause: when Windows raises it. Diagnose: what to run to
#: confirm. Resolve: the PowerShell that fixes it (placeholders in <angle brackets>).
EXPLANATIONS: dict[int, tuple[str, str, str]] = {
    5: _x(
        """
        The account running the DnsServer cmdlet lacks the right it needs on the DNS server: reading
        zones and keys needs membership of DnsAdmins (or local Administrators on the server); key and
        signing changes on an Active Directory-integrated zone also write to the zone's AD objects.
        Over WinRM the same error appears when the remote session runs as a less privileged account
        (JEA role, second hop without credential delegation).
        """,
        """
        On the server, as the account the toolkit uses:
        whoami /groups
        Get-DnsServerZone          # fails with WIN32 5 when even reading is refused
        """,
        """
        Add the account to DnsAdmins (domain-joined DNS servers):
        Add-ADGroupMember -Identity DnsAdmins -Members <Account>
        then open a new session (group membership is read at logon). For a JEA endpoint, add the
        DnsServer cmdlets the toolkit runs to the role capability.
        """,
    ),
    9101: _x(
        """
        Key management (adding, removing or rolling keys, signing, unsigning, changing the zone's
        DNSSEC settings) is only done by the zone's key master. The cmdlet ran on another DNS server
        hosting the same AD-integrated zone.
        """,
        f"""
        {_KEY_MASTER}
        IsKeyMasterServer False means this server is not the key master; KeyMasterServer names it.
        """,
        """
        Run the command against the key master:
        <Cmdlet> -ZoneName <Zone> ... -ComputerName <KeyMasterServer>
        or move the key master role to this server (run on the server that should take it):
        Reset-DnsServerZoneKeyMasterRole -ZoneName <Zone> -KeyMasterServer <NewKeyMaster> -Force
        """,
    ),
    9102: _x(
        """
        The operation needs a zone that is unsigned and has no signing keys, but the zone is signed or
        still holds keys. Typical case: Invoke-DnsServerZoneSign -SignWithDefault on a zone that
        already has keys (without -DoResign), or a zone-level change Windows refuses while keys exist.
        Unsigning a zone does not delete its keys.
        """,
        f"""
        {_KEY_TABLE}
        Get-DnsServerZone -Name <Zone> | Format-List ZoneName,ZoneType,IsSigned
        """,
        f"""
        To sign with the keys the zone already has:
        {_RESIGN}
        To throw the existing keys away and sign with a default KSK + ZSK (the parent needs the new DS):
        Invoke-DnsServerZoneSign -ZoneName <Zone> -SignWithDefault -DoResign -Force
        To make the zone plain again (unsign, then remove every key):
        Invoke-DnsServerZoneUnsign -ZoneName <Zone> -Force
        Get-DnsServerSigningKey -ZoneName <Zone> |
            ForEach-Object {{ Remove-DnsServerSigningKey -ZoneName <Zone> -KeyId $_.KeyId -Force }}
        """,
    ),
    9103: _x(
        """
        The zone uses NSEC3 for authenticated denial of existence (Windows' default) but holds a key
        with CryptoAlgorithm RsaSha1 (DNSSEC algorithm 5), which cannot be used with NSEC3. Raised when
        adding an RsaSha1 key to an NSEC3 zone, switching an RsaSha1 zone to NSEC3, or signing.
        """,
        f"""
        {_KEY_TABLE}
        Get-DnsServerDnsSecZoneSetting -ZoneName <Zone> | Format-List DenialOfExistence
        """,
        f"""
        Preferred: replace the RsaSha1 keys with RsaSha256 keys (SHA-1 signing is deprecated by
        RFC 8624/9904/9905), then remove the RsaSha1 keys and re-sign:
        Add-DnsServerSigningKey -ZoneName <Zone> -Type KeySigningKey -CryptoAlgorithm RsaSha256 -KeyLength 2048
        Add-DnsServerSigningKey -ZoneName <Zone> -Type ZoneSigningKey -CryptoAlgorithm RsaSha256 -KeyLength 1024
        {_RESIGN}
        Or keep RsaSha1 and use NSEC:
        Set-DnsServerDnsSecZoneSetting -ZoneName <Zone> -DenialOfExistence NSec
        """,
    ),
    9104: _x(
        """
        Windows signs a zone only when it holds at least one key signing key (KSK) and at least one
        zone signing key (ZSK). Invoke-DnsServerZoneSign (signing, or re-signing with -DoResign) fails
        with 9104 when one of the two types is missing: someone added only a KSK (or only a ZSK) with
        Add-DnsServerSigningKey, or removed the last key of one type while the zone was unsigned.
        An unsigned zone that holds only one key type looks harmless until someone signs it: then it
        hits 9104. Signing with defaults creates the pair Windows expects: one KSK (RsaSha256,
        2048 bit, rollover every 755 days) and one ZSK (RsaSha256, 1024 bit, rollover every 90 days).
        """,
        f"""
        List the zone's keys:
        {_KEY_TABLE}
        No row with KeyType KeySigningKey: the KSK is missing. No row with KeyType ZoneSigningKey: the
        ZSK is missing. Note the CryptoAlgorithm of the key that is there: the new key must use it.
        Confirm which server is the key master (run key commands there) and what Windows checks:
        {_ZONE_SETTING}
        {_TEST}
        """,
        f"""
        Add the missing key type with the zone's CryptoAlgorithm (RsaSha256 shown, with Windows'
        default lengths: 2048 bit for a KSK, 1024 bit for a ZSK):
        # the ZSK is missing
        Add-DnsServerSigningKey -ZoneName <Zone> -Type ZoneSigningKey -CryptoAlgorithm RsaSha256 -KeyLength 1024
        # the KSK is missing
        Add-DnsServerSigningKey -ZoneName <Zone> -Type KeySigningKey -CryptoAlgorithm RsaSha256 -KeyLength 2048
        Then sign (or re-sign) the zone with the keys now present:
        {_RESIGN}
        For ECDSA zones use -CryptoAlgorithm ECDsaP256Sha256 (or ECDsaP384Sha384) instead. A new KSK
        means a new DS record at the parent: export it and give it to the parent's administrator:
        Export-DnsServerDnsSecPublicKey -ZoneName <Zone> -Path <Folder>
        """,
    ),
    9105: _x(
        """
        The requested CryptoAlgorithm is not one Windows signs with, or the key storage provider cannot
        create keys for it. Windows supports RsaSha1, RsaSha1NSec3, RsaSha256, RsaSha512,
        ECDsaP256Sha256 and ECDsaP384Sha384 (no Ed25519/Ed448).
        """,
        f"""
        {_KEY_TABLE}
        Show-DnsServerKeyStorageProvider
        """,
        """
        Use a supported algorithm, e.g.:
        Add-DnsServerSigningKey -ZoneName <Zone> -Type <KeySigningKey|ZoneSigningKey> -CryptoAlgorithm RsaSha256
        Add-DnsServerSigningKey -ZoneName <Zone> -Type <KeySigningKey|ZoneSigningKey> -CryptoAlgorithm ECDsaP256Sha256
        With a hardware or smart card provider, check that it supports the algorithm, or use
        -KeyStorageProvider 'Microsoft Software Key Storage Provider'.
        """,
    ),
    9106: _x(
        """
        The KeyLength does not fit the algorithm: RSA keys must be 1024 to 4096 bit in steps of 64
        (Windows defaults: 2048 for a KSK, 1024 for a ZSK); an ECDSA key's size is fixed by its curve
        (256 bit for ECDsaP256Sha256, 384 bit for ECDsaP384Sha384).
        """,
        f"""
        {_KEY_TABLE}
        Check the -KeyLength passed to Add-DnsServerSigningKey against the ranges above.
        """,
        """
        Add-DnsServerSigningKey -ZoneName <Zone> -Type KeySigningKey -CryptoAlgorithm RsaSha256 -KeyLength 2048
        Add-DnsServerSigningKey -ZoneName <Zone> -Type ZoneSigningKey -CryptoAlgorithm RsaSha256 -KeyLength 1024
        Any multiple of 64 from 1024 to 4096 works for RSA (for example 3072, not 3000).
        """,
    ),
    9107: _x(
        """
        The DNS server cannot use the private key of one or more of the zone's signing keys. Common
        causes: the keys are stored in Active Directory (StoreKeysInAD True) and have not replicated
        to this server yet, or this server cannot decrypt them; the keys were created on another server
        with StoreKeysInAD False, so only that server has them; the key storage provider holding them
        (HSM, smart card) is absent or locked. Signing and rollover stop until it is fixed.
        """,
        f"""
        Get-DnsServerSigningKey -ZoneName <Zone> |
            Format-Table KeyId,KeyType,KeyStorageProvider,StoreKeysInAD,CurrentState
        {_KEY_MASTER}
        {_TEST}
        {_EVENTS}
        """,
        f"""
        Run key operations on the key master and let AD replication finish (repadmin /syncall /AdeP on
        a domain controller) before retrying. If a key is lost for good, replace it with a new key of
        the same type and algorithm, remove the lost one, and re-sign:
        Add-DnsServerSigningKey -ZoneName <Zone> -Type <KeySigningKey|ZoneSigningKey> -CryptoAlgorithm <Algorithm>
        Remove-DnsServerSigningKey -ZoneName <Zone> -KeyId <LostKeyId> -Force
        {_RESIGN}
        (A replaced KSK needs a new DS record at the parent.)
        """,
    ),
    9108: _x(
        """
        The key storage provider named for the key cannot protect keys for storage in Active Directory
        (DPAPI-NG, "DPAPI++"). Typical with HSM or smart card providers combined with StoreKeysInAD.
        """,
        """
        Get-DnsServerSigningKey -ZoneName <Zone> | Format-Table KeyId,KeyStorageProvider,StoreKeysInAD
        Show-DnsServerKeyStorageProvider
        """,
        """
        Either keep keys out of AD with that provider:
        Add-DnsServerSigningKey -ZoneName <Zone> -Type <KeySigningKey|ZoneSigningKey> -KeyStorageProvider '<Provider>' -StoreKeysInAD $false
        or store keys in AD with the software provider:
        Add-DnsServerSigningKey -ZoneName <Zone> -Type <KeySigningKey|ZoneSigningKey> -KeyStorageProvider 'Microsoft Software Key Storage Provider' -StoreKeysInAD $true
        """,
    ),
    9109: _x(
        """
        Protecting or unprotecting a key stored in Active Directory (DPAPI-NG, "DPAPI++") failed for an
        unexpected reason, usually a domain controller, Kerberos or key distribution problem.
        """,
        f"""
        {_EVENTS}
        Get-WinEvent -LogName System -MaxEvents 50 | Where-Object LevelDisplayName -eq 'Error'
        Get-DnsServerSigningKey -ZoneName <Zone> | Format-Table KeyId,KeyStorageProvider,StoreKeysInAD
        """,
        f"""
        Fix the domain controller or Kerberos problem the event logs show, then retry and re-sign:
        {_RESIGN}
        """,
    ),
    9110: _x(
        """
        The Windows crypto layer (CNG) or the key storage provider failed while creating or using a
        signing key.
        """,
        f"""
        {_EVENTS}
        Show-DnsServerKeyStorageProvider
        Get-DnsServerSigningKey -ZoneName <Zone> | Format-Table KeyId,KeyStorageProvider,CryptoAlgorithm,KeyLength
        """,
        """
        Fix the provider (driver, HSM connection) the events point to, or create the key with the
        software provider:
        Add-DnsServerSigningKey -ZoneName <Zone> -Type <KeySigningKey|ZoneSigningKey> -KeyStorageProvider 'Microsoft Software Key Storage Provider'
        """,
    ),
    9111: _x(
        """
        A signing key descriptor was written in a format this DNS server does not know, usually by a
        newer Windows Server version hosting the same AD-integrated zone.
        """,
        f"""
        {_KEY_MASTER}
        Get-CimInstance Win32_OperatingSystem | Format-List Caption,Version   # on each DNS server
        """,
        """
        Manage the zone's keys from the newest Windows Server hosting it (make it the key master), and
        bring the older DNS servers to the same version:
        Reset-DnsServerZoneKeyMasterRole -ZoneName <Zone> -KeyMasterServer <NewestServer> -Force
        """,
    ),
    9112: _x(
        """
        The KeyStorageProvider named in the command is not installed on this DNS server, or the server
        cannot open it (misspelt name, HSM client software missing).
        """,
        """
        Show-DnsServerKeyStorageProvider
        """,
        """
        Use a provider name exactly as listed, for example:
        Add-DnsServerSigningKey -ZoneName <Zone> -Type <KeySigningKey|ZoneSigningKey> -KeyStorageProvider 'Microsoft Software Key Storage Provider'
        """,
    ),
    9113: _x(
        """
        A zone holds at most 3 signing keys per algorithm and key type (KSK or ZSK). Adding a fourth
        KSK (or ZSK) with the same CryptoAlgorithm is refused.
        """,
        """
        Get-DnsServerSigningKey -ZoneName <Zone> | Group-Object KeyType,CryptoAlgorithm | Format-Table Count,Name
        Get-DnsServerSigningKey -ZoneName <Zone> | Format-Table KeyId,KeyType,CryptoAlgorithm,CurrentState
        """,
        """
        Remove a key that is no longer needed (a Retired key, or a spare that is not active) and add
        the new one afterwards:
        Remove-DnsServerSigningKey -ZoneName <Zone> -KeyId <KeyId> -Force
        Active keys of a signed zone cannot be removed (9119): roll them over first.
        """,
    ),
    9114: _x(
        """
        The RolloverPeriod is outside the allowed range: 7 to 7300 days for a KSK, 7 to 1825 days for a
        ZSK (Windows defaults: 755 days for a KSK, 90 days for a ZSK).
        """,
        _ROLL_TABLE,
        """
        Set-DnsServerSigningKey -ZoneName <Zone> -KeyId <KeyId> -RolloverPeriod (New-TimeSpan -Days 755)  # KSK
        Set-DnsServerSigningKey -ZoneName <Zone> -KeyId <KeyId> -RolloverPeriod (New-TimeSpan -Days 90)   # ZSK
        or when enabling rollover:
        Enable-DnsServerSigningKeyRollover -ZoneName <Zone> -KeyId <KeyId> -RolloverPeriod (New-TimeSpan -Days 90) -Force
        """,
    ),
    9115: _x(
        """
        The InitialRolloverOffset (the delay before a key's first rollover) is outside 0 to 30 days.
        """,
        """
        Get-DnsServerSigningKey -ZoneName <Zone> | Format-Table KeyId,KeyType,InitialRolloverOffset,RolloverPeriod
        """,
        """
        Enable-DnsServerSigningKeyRollover -ZoneName <Zone> -KeyId <KeyId> -RolloverPeriod (New-TimeSpan -Days 90) -InitialRolloverOffset (New-TimeSpan -Days 0) -Force
        Any offset from 0 to 30 days is accepted (Add-DnsServerSigningKey takes the same -InitialRolloverOffset).
        """,
    ),
    9116: _x(
        """
        The key is in the middle of a rollover (CurrentRolloverStatus is not NotRolling), so Windows
        refuses a new rollover or a change of its rollover settings until it completes.
        """,
        _ROLL_TABLE,
        """
        Wait for the rollover to finish. A KSK in KskWaitingForDSUpdate waits for you: publish the new
        DS record at the parent, then tell Windows it is there:
        Step-DnsServerSigningKeyRollover -ZoneName <Zone> -KeyId <KeyId> -Force
        """,
    ),
    9117: _x(
        """
        NextRolloverAction RevokeStandby was requested for a key that has no standby key (its StandbyKey
        is empty), so there is nothing to revoke.
        """,
        _ROLL_TABLE,
        """
        Use Normal (or Retire) instead, or check you picked the right key:
        Set-DnsServerSigningKey -ZoneName <Zone> -KeyId <KeyId> -NextRolloverAction Normal
        """,
    ),
    9118: _x(
        """
        The operation only applies to key signing keys and was aimed at a zone signing key, e.g.
        Step-DnsServerSigningKeyRollover (KSKs waiting for a parent DS update) or a standby revocation
        (NextRolloverAction RevokeStandby).
        """,
        """
        Get-DnsServerSigningKey -ZoneName <Zone> | Format-Table KeyId,KeyType,CurrentRolloverStatus
        """,
        """
        Repeat the command with the KeyId of a KSK:
        Get-DnsServerSigningKey -ZoneName <Zone> | Where-Object KeyType -eq 'KeySigningKey' | Format-Table KeyId
        Step-DnsServerSigningKeyRollover -ZoneName <Zone> -KeyId <KskKeyId> -Force
        """,
    ),
    9119: _x(
        """
        The key is in use by a signed zone (an active signing key), typically Remove-DnsServerSigningKey
        on a key that still signs the zone. Windows never leaves a signed zone without a KSK and a ZSK.
        """,
        f"""
        {_KEY_TABLE}
        Get-DnsServerZone -Name <Zone> | Format-List ZoneName,IsSigned
        """,
        f"""
        Add the replacement key of the same type and algorithm first, re-sign, then remove the old key
        once the zone no longer depends on it:
        Add-DnsServerSigningKey -ZoneName <Zone> -Type <KeySigningKey|ZoneSigningKey> -CryptoAlgorithm <Algorithm>
        {_RESIGN}
        Remove-DnsServerSigningKey -ZoneName <Zone> -KeyId <OldKeyId> -Force
        To retire DNSSEC for the zone instead: Invoke-DnsServerZoneUnsign -ZoneName <Zone> -Force
        """,
    ),
    9120: _x(
        """
        Invoke-DnsServerSigningKeyRollover was run for a key that is already queued for rollover
        (CurrentRolloverStatus Queued).
        """,
        _ROLL_TABLE,
        """
        Nothing to do: the queued rollover will start on its own. Check its progress later with
        Get-DnsServerSigningKey -ZoneName <Zone> | Format-Table KeyId,CurrentRolloverStatus
        """,
    ),
    9121: _x(
        """
        The operation needs a signed zone: key rollover commands, Step-DnsServerSigningKeyRollover,
        exporting DNSKEY/DS records or distributing trust anchors on a zone that is not signed.
        """,
        f"""
        Get-DnsServerZone -Name <Zone> | Format-List ZoneName,IsSigned
        {_KEY_TABLE}
        """,
        f"""
        Sign the zone first, with the keys it holds (needs at least one KSK and one ZSK, see 9104):
        {_RESIGN}
        or with Windows' defaults (one KSK RsaSha256/2048 and one ZSK RsaSha256/1024):
        Invoke-DnsServerZoneSign -ZoneName <Zone> -SignWithDefault -Force
        """,
    ),
    9122: _x(
        """
        The server recorded as key master for the zone is offline or misconfigured, so key management
        for the zone is stuck.
        """,
        f"""
        {_KEY_MASTER}
        Test-Connection -ComputerName <KeyMasterServer> -Count 2
        Get-DnsServerZone -Name <Zone> -ComputerName <KeyMasterServer>
        """,
        """
        Repair the key master, or seize the role on a healthy DNS server hosting the zone:
        Reset-DnsServerZoneKeyMasterRole -ZoneName <Zone> -KeyMasterServer <NewKeyMaster> -SeizeRole -Force
        """,
    ),
    9123: _x(
        """
        A signature validity period is outside 6 to 720 hours. Windows defaults: DNSKEY and DS
        signatures 168 hours (7 days), other zone records 240 hours (10 days).
        """,
        """
        Get-DnsServerSigningKey -ZoneName <Zone> |
            Format-Table KeyId,KeyType,DnsKeySignatureValidityPeriod,DSSignatureValidityPeriod,ZoneSignatureValidityPeriod
        """,
        """
        Set-DnsServerSigningKey -ZoneName <Zone> -KeyId <KeyId> -DnsKeySignatureValidityPeriod (New-TimeSpan -Hours 168) -DSSignatureValidityPeriod (New-TimeSpan -Hours 168) -ZoneSignatureValidityPeriod (New-TimeSpan -Hours 240)
        """,
    ),
    9124: _x(
        """
        The NSEC3 iteration count is above the cap set by the smallest key in the zone: 150 for keys up
        to 1024 bit, 500 up to 2048 bit, 2500 up to 4096 bit. Raised when setting NSec3Iterations, and
        also when adding a smaller key (e.g. a default 1024-bit ZSK caps the zone at 150). RFC 9276
        recommends 0 iterations and no salt.
        """,
        f"""
        {_ZONE_SETTING}
        {_KEY_TABLE}
        """,
        f"""
        Set-DnsServerDnsSecZoneSetting -ZoneName <Zone> -NSec3Iterations 0
        {_RESIGN}
        """,
    ),
    9125: _x(
        """
        DNSSEC features are disabled in the DNS server's settings, so DNSSEC operations are refused.
        """,
        """
        Get-DnsServerSetting -All | Format-List EnableDnsSec,EnableOnlineSigning
        """,
        """
        $setting = Get-DnsServerSetting -All
        $setting.EnableDnsSec = $true
        $setting.EnableOnlineSigning = $true
        Set-DnsServerSetting -InputObject $setting
        """,
    ),
    9126: _x(
        """
        The trust anchor XML the server received (for Add-DnsServerTrustAnchor -Root, fetched from the
        server's RootTrustAnchorsURL) is empty or not valid XML: wrong URL, proxy or captive page,
        blocked outbound HTTPS.
        """,
        """
        Get-DnsServerSetting -All | Format-List RootTrustAnchorsURL
        Invoke-WebRequest -Uri <RootTrustAnchorsURL> -UseBasicParsing | Select-Object StatusCode,Content
        """,
        """
        Point the server at IANA's file and retry:
        $setting = Get-DnsServerSetting -All
        $setting.RootTrustAnchorsURL = 'https://data.iana.org/root-anchors/root-anchors.xml'
        Set-DnsServerSetting -InputObject $setting
        Add-DnsServerTrustAnchor -Root
        Without outbound access, add the root DS anchor by hand from root-anchors.xml:
        Add-DnsServerTrustAnchor -Name . -KeyTag <KeyTag> -CryptoAlgorithm RsaSha256 -DigestType Sha256 -Digest <Digest>
        """,
    ),
    9127: _x(
        """
        Trust anchors were received, but none was added: every one was invalid, unsupported, expired or
        would not become valid within 30 days. A wrong server clock causes this too.
        """,
        """
        Get-DnsServerTrustAnchor -Name . | Format-Table TrustAnchorName,TrustAnchorType,KeyTag,TrustAnchorState
        Get-Date; (Get-Date).ToUniversalTime()
        """,
        """
        Fix the server clock if it is wrong, check the anchor source (validity dates in
        root-anchors.xml), then add the current anchor:
        Add-DnsServerTrustAnchor -Root
        """,
    ),
    9128: _x(
        """
        Step-DnsServerSigningKeyRollover was run for a key that is not waiting for a parent DS update
        (its CurrentRolloverStatus is not KskWaitingForDSUpdate).
        """,
        _ROLL_TABLE,
        """
        Run Step-DnsServerSigningKeyRollover only for a KSK in KskWaitingForDSUpdate, after the new DS
        record is published at the parent:
        Step-DnsServerSigningKeyRollover -ZoneName <Zone> -KeyId <KskKeyId> -Force
        """,
    ),
    9129: _x(
        """
        Two names in the zone hashed to the same NSEC3 owner name with the current salt and iteration
        count, so signing stopped.
        """,
        """
        Get-DnsServerDnsSecZoneSetting -ZoneName <Zone> |
            Format-List NSec3Iterations,NSec3RandomSaltLength,NSec3UserSalt,NSec3CurrentSalt
        """,
        f"""
        Change the salt (a random one) and sign again:
        Set-DnsServerDnsSecZoneSetting -ZoneName <Zone> -NSec3RandomSaltLength 8
        {_RESIGN}
        """,
    ),
    9130: _x(
        """
        The zone uses NSEC for denial of existence but holds a key with CryptoAlgorithm RsaSha1NSec3
        (DNSSEC algorithm 7), which requires NSEC3.
        """,
        f"""
        {_KEY_TABLE}
        Get-DnsServerDnsSecZoneSetting -ZoneName <Zone> | Format-List DenialOfExistence
        """,
        f"""
        Switch the zone to NSEC3:
        Set-DnsServerDnsSecZoneSetting -ZoneName <Zone> -DenialOfExistence NSec3
        {_RESIGN}
        or replace the RsaSha1NSec3 keys with RsaSha256 keys (SHA-1 signing is deprecated).
        """,
    ),
    9601: _x(
        """
        The zone name given to the cmdlet is not hosted by this DNS server (misspelt, hosted elsewhere,
        or the server is not the one you meant).
        """,
        """
        Get-DnsServerZone | Format-Table ZoneName,ZoneType,IsDsIntegrated,IsSigned
        """,
        """
        Use a zone name exactly as Get-DnsServerZone lists it, or run the command against the server
        that hosts the zone (-ComputerName <Server>).
        """,
    ),
    9622: _x(
        """
        The zone is being signed (or re-signed) right now; Windows refuses changes until signing ends.
        """,
        f"""
        Get-DnsServerZone -Name <Zone> | Format-List ZoneName,IsSigned
        {_EVENTS}
        """,
        """
        Wait for signing to complete (large zones take minutes) and retry the command.
        """,
    ),
}
