<#
.SYNOPSIS
WinRM bootstrap: run one windns-toolkit script with its parameters read as JSON data.
.DESCRIPTION
WinrmRemote runs this text, the same for every call, as powershell.exe -EncodedCommand and sends
one line on stdin: {"script": base64 of the script text (UTF-8), "params": base64 of a JSON object
(UTF-8)}. The script text becomes a scriptblock; the parameters are splatted onto it as a hashtable,
so no value is ever code. Prints the script's JSON with non-ASCII characters escaped as \uXXXX, so
the console code page cannot garble it. Run as a file, -Payload takes that line instead of stdin.
#>
param([string]$Payload)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
if (-not $PSBoundParameters.ContainsKey('Payload')) { $Payload = @($input) -join '' }
$request = ConvertFrom-Json -InputObject $Payload
$utf8 = New-Object System.Text.UTF8Encoding($false)
$text = $utf8.GetString([Convert]::FromBase64String([string]$request.script))
$arguments = @{}
if ($request.params) {
    $values = ConvertFrom-Json -InputObject $utf8.GetString([Convert]::FromBase64String([string]$request.params))
    foreach ($property in $values.PSObject.Properties) { $arguments[$property.Name] = $property.Value }
}
$escape = [Text.RegularExpressions.MatchEvaluator] { '\u{0:x4}' -f [int][char]$args[0].Value }
foreach ($item in @(& ([scriptblock]::Create($text)) @arguments)) {
    if ($item -isnot [string]) { $item = ConvertTo-Json -InputObject $item -Depth 8 -Compress }
    [regex]::Replace($item, '[^\x00-\x7F]', $escape)
}
