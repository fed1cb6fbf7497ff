<#
.SYNOPSIS
What the endpoint is: PowerShell version and edition, language mode, session configuration, and
whether the DnsServer module and the cmdlets the toolkit runs are there. Prints one JSON document.
.DESCRIPTION
The first script `windns doctor` runs. It reads nothing of the DNS server: it asks only the
session. Prints {Schema, SchemaVersion, ComputerName, PSVersion, PSEdition, OSVersion,
LanguageMode, ConfigurationName, Modules, Commands}: Modules is what
`Get-Module -ListAvailable -Name <name>` lists for each name of -ModuleName (default DnsServer),
one {Name, Version, ModuleType} per module found; Commands is one {Name, Found, CommandType,
ModuleName} per name of -CommandName (default: the DnsServer cmdlets the read scripts call).
No path, user or address is printed.

Part of windns-toolkit (ps_scripts/README.md): runs on Windows PowerShell 5.1, takes typed
parameters only and prints one JSON document.
#>
[CmdletBinding()]
param(
    [string[]]$ModuleName,
    [string[]]$CommandName
)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

# Branch on whether a parameter was bound, never on its value (ps_scripts/README.md).
$moduleNames = @('DnsServer')
if ($PSBoundParameters.ContainsKey('ModuleName')) { $moduleNames = @($ModuleName) }
$commandNames = @(
    'Get-DnsServerSetting', 'Get-DnsServerZone', 'Get-DnsServerSigningKey',
    'Get-DnsServerDnsSecZoneSetting', 'Get-DnsServerResourceRecord', 'Get-DnsServerTrustAnchor',
    'Get-DnsServerTrustPoint'
)
if ($PSBoundParameters.ContainsKey('CommandName')) { $commandNames = @($CommandName) }

function ConvertTo-WindnsProbeText($Value) {
    if ($null -eq $Value) { return $null }
    $text = [string]$Value
    if ($text.Length -eq 0) { return $null }
    return $text
}

# $PSVersionTable.PSEdition exists from 5.1 on; before it the edition is Desktop
# (about_PowerShell_Editions).
$edition = 'Desktop'
if ($PSVersionTable.ContainsKey('PSEdition')) { $edition = [string]$PSVersionTable.PSEdition }

# Readable in FullLanguage and ConstrainedLanguage sessions (about_Language_Modes).
$languageMode = ConvertTo-WindnsProbeText $ExecutionContext.SessionState.LanguageMode

# $PSSenderInfo exists only in a remote session.
$configurationName = $null
if (($null -ne $PSSenderInfo) -and ($null -ne $PSSenderInfo.PSObject.Properties['ConfigurationName'])) {
    $configurationName = ConvertTo-WindnsProbeText $PSSenderInfo.ConfigurationName
}

$modules = New-Object System.Collections.ArrayList
foreach ($name in $moduleNames) {
    if ([string]::IsNullOrWhiteSpace($name)) { continue }
    foreach ($module in @(Get-Module -ListAvailable -Name $name)) {
        if ($null -eq $module) { continue }
        $null = $modules.Add([ordered]@{
                Name       = ConvertTo-WindnsProbeText $module.Name
                Version    = ConvertTo-WindnsProbeText $module.Version
                ModuleType = ConvertTo-WindnsProbeText $module.ModuleType
            })
    }
}

$commands = New-Object System.Collections.ArrayList
foreach ($name in $commandNames) {
    if ([string]::IsNullOrWhiteSpace($name)) { continue }
    $command = $null
    try {
        $command = Get-Command -Name $name -ErrorAction Stop | Select-Object -First 1
    }
    catch {
        $command = $null
    }
    $entry = [ordered]@{ Name = $name; Found = [bool]($null -ne $command); CommandType = $null; ModuleName = $null }
    if ($null -ne $command) {
        $entry['CommandType'] = ConvertTo-WindnsProbeText $command.CommandType
        $entry['ModuleName'] = ConvertTo-WindnsProbeText $command.ModuleName
    }
    $null = $commands.Add($entry)
}

$doc = [ordered]@{
    Schema            = 'windns.doctor.probe'
    SchemaVersion     = 1
    ComputerName      = ConvertTo-WindnsProbeText $env:COMPUTERNAME
    PSVersion         = ConvertTo-WindnsProbeText $PSVersionTable.PSVersion
    PSEdition         = $edition
    OSVersion         = ConvertTo-WindnsProbeText ([System.Environment]::OSVersion.Version)
    LanguageMode      = $languageMode
    ConfigurationName = $configurationName
    Modules           = $modules.ToArray()
    Commands          = $commands.ToArray()
}
Write-Output (ConvertTo-Json -InputObject $doc -Depth 5 -Compress)
