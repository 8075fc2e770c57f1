<#
.SYNOPSIS
  Builds, tests and demonstrates TfPose. Works with PowerShell 7 on Windows and with
  `dotnet pwsh` (the local tool from .config/dotnet-tools.json) on Linux.

.EXAMPLE
  dotnet tool restore; dotnet pwsh ./build.ps1 -Task Demo
  dotnet tool restore; dotnet pwsh ./build.ps1 -Task Test
#>
[CmdletBinding()]
param(
    [ValidateSet('Setup', 'Build', 'Test', 'Demo', 'Native', 'Package')]
    [string] $Task = 'Build',
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',
    # Extra filter passed to `dotnet test --filter` (e.g. "FullyQualifiedName~Graph").
    [string] $Filter = ''
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$Root = $PSScriptRoot
$Solution = Join-Path $Root 'TfPose.sln'
$Cli = Join-Path $Root 'src/TfPose.Cli/TfPose.Cli.csproj'
$Shared = if ($env:TFPOSE_SHARED) { $env:TFPOSE_SHARED } else { Join-Path (Split-Path $Root -Parent) 'shared' }

function Invoke-Native([string] $What, [scriptblock] $Command) {
    & $Command
    if ($LASTEXITCODE -ne 0) { throw "$What failed with exit code $LASTEXITCODE" }
}

# Debian/Ubuntu packages the native runtimes need. OpenCvSharp's official Linux build links GTK 3.
function Get-MissingDebianPackages([string[]] $Wanted) {
    $missing = @()
    foreach ($alternatives in $Wanted) {
        $found = $false
        foreach ($name in $alternatives.Split('|')) {
            & dpkg-query -W -f='${Status}' $name 2>$null | Out-String | ForEach-Object {
                if ($_ -match 'install ok installed') { $found = $true }
            }
        }
        if (-not $found) { $missing += $alternatives.Split('|')[0] }
    }
    return $missing
}

function Invoke-Setup([string[]] $Packages = @('libgtk-3-0|libgtk-3-0t64', 'libgomp1')) {
    if (-not $IsLinux) { return }
    if (-not (Get-Command dpkg-query -ErrorAction SilentlyContinue)) {
        Write-Warning "Not a Debian/Ubuntu system: make sure these libraries are installed: $($Packages -join ', ')"
        return
    }
    $missing = @(Get-MissingDebianPackages $Packages)
    if ($missing.Count -eq 0) { return }
    $isRoot = ((& id -u) -eq '0')
    if (-not $isRoot) {
        throw "Missing system packages: $($missing -join ' '). Install them with: sudo apt-get install -y $($missing -join ' ')"
    }
    Write-Host "Installing system packages: $($missing -join ' ')"
    $env:DEBIAN_FRONTEND = 'noninteractive'
    Invoke-Native 'apt-get update' { & apt-get update -qq }
    Invoke-Native 'apt-get install' { & apt-get install -y -qq --no-install-recommends @missing }
}

function Invoke-Build {
    Invoke-Native 'dotnet build' { & dotnet build $Solution -c $Configuration --nologo -v:minimal }
}

function Invoke-Test {
    $results = Join-Path $Root 'artifacts/test-results'
    if (Test-Path $results) { Remove-Item -Recurse -Force $results }
    $testArgs = @('test', $Solution, '-c', $Configuration, '--no-build', '--nologo',
        '--logger', 'trx', '--results-directory', $results, '--', 'RunConfiguration.TestSessionTimeout=3000000')
    if ($Filter) { $testArgs = @('test', $Solution, '-c', $Configuration, '--no-build', '--nologo', '--filter', $Filter,
        '--logger', 'trx', '--results-directory', $results) }
    & dotnet @testArgs
    $testExit = $LASTEXITCODE
    # One closing line over every test assembly, so CI and people read one verdict.
    $passed = 0; $failed = 0; $skipped = 0
    foreach ($trx in Get-ChildItem -Path $results -Filter *.trx -ErrorAction SilentlyContinue) {
        $counters = ([xml](Get-Content $trx.FullName)).TestRun.ResultSummary.Counters
        $passed += [int]$counters.passed
        $failed += [int]$counters.failed + [int]$counters.error + [int]$counters.timeout
        $skipped += [int]$counters.notExecuted
    }
    Write-Host ''
    Write-Host "Tests: $passed passed, $failed failed, $skipped skipped"
    if ($testExit -ne 0 -or $failed -gt 0) { throw "dotnet test failed (exit code $testExit, $failed failed)" }
    if ($passed -eq 0) { throw 'No test ran.' }
}

function Invoke-Demo {
    $model = Join-Path $Shared 'data/models/openpose-mobilenet-v2-small/graph_opt.pb'
    $image = Join-Path $Shared 'data/images/p1.jpg'
    if (-not (Test-Path $model)) { throw "Demo model not found: $model (set TFPOSE_SHARED to the shared data folder, or run: tfpose models download openpose-mobilenet-v2-small)" }
    $out = Join-Path $Root 'artifacts/demo'
    New-Item -ItemType Directory -Force -Path $out | Out-Null
    # Pose estimation on a sample image: writes p1_rendered.png and p1_keypoints.json (OpenPose JSON).
    Invoke-Native 'tfpose pose' { & dotnet run --project $Cli -c $Configuration --no-build -- pose $image --model $model --size 432x368 --out $out --json --render }
    Write-Host "Demo output: $(Join-Path $out 'p1_rendered.png'), $(Join-Path $out 'p1_keypoints.json')"
}

switch ($Task) {
    'Setup' { Invoke-Setup }
    'Build' { Invoke-Setup; Invoke-Build }
    'Test' { Invoke-Setup; Invoke-Build; Invoke-Test }
    'Demo' { Invoke-Setup; Invoke-Build; Invoke-Demo }
    default { throw "Task $Task is not implemented yet" }
}
