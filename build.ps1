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
    [string] $Filter = '',
    # -Task Package: the platforms the tfpose tool is packed for (one package per RID; default: this machine's).
    # Another RID needs its runtime packages from the feed (win-x64: OpenCvSharp4.runtime.win, libtorch-cpu-win-x64).
    [string[]] $ToolRuntimes = @()
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

# clang + zlib1g-dev: NativeAOT's link step (libtfpose); cmake, ninja-build, valgrind: the native SDK's CTest suite.
# libatomic1, libdrm2: linked by OpenCV's runtime beside GTK (the native SDK's README lists the same); g++: the TorchSharp shim.
function Invoke-Setup([string[]] $Packages = @('libgtk-3-0|libgtk-3-0t64', 'libatomic1', 'libdrm2', 'libgomp1', 'clang', 'g++', 'zlib1g-dev', 'cmake', 'ninja-build', 'valgrind')) {
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

function Invoke-Build([string[]] $Extra = @()) {
    Invoke-Native 'dotnet build' { & dotnet build $Solution -c $Configuration --nologo -v:minimal @Extra }
}

$Packages = Join-Path $Root 'artifacts/packages'

# The library packages from the current build, without rebuilding (about 30 s): artifacts/packages.
# tests/TfPose.Packaging.Tests opens them, so -Task Test packs them first.
function Invoke-PackLibraries {
    New-Item -ItemType Directory -Force -Path $Packages | Out-Null
    Invoke-Native 'dotnet pack (libraries)' {
        & dotnet msbuild (Join-Path $Root 'build/Libraries.proj') -t:Pack "-p:Configuration=$Configuration" "-p:PackageOutputPath=$Packages/" -nologo -v:minimal
    }
}

function Invoke-Test {
    Invoke-PackLibraries
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
        # -LiteralPath: the trx logger names same-second files "...[1].trx", which -Path reads as a wildcard.
        # Outcomes, not the summary counters: those leave xunit's skipped tests out altogether.
        # XPath: a run whose filter matched nothing has no Results element at all.
        $doc = [xml](Get-Content -LiteralPath $trx.FullName)
        $outcomes = @($doc.SelectNodes("//*[local-name()='UnitTestResult']") | ForEach-Object { $_.GetAttribute('outcome') })
        $passed += @($outcomes | Where-Object { $_ -eq 'Passed' }).Count
        $failed += @($outcomes | Where-Object { $_ -in 'Failed', 'Error', 'Timeout', 'Aborted' }).Count
        $skipped += @($outcomes | Where-Object { $_ -eq 'NotExecuted' }).Count
    }
    # The C API's CTest suite (NativeAOT publish, CMake build, CTest) counts in the same verdict.
    if ($Filter) {
        Write-Host 'Native CTest suite skipped: -Filter selects .NET tests only.'
    } else {
        $native = Invoke-NativeTests
        $passed += $native.Passed; $failed += $native.Failed; $skipped += $native.Skipped
    }
    Write-Host ''
    Write-Host "Tests: $passed passed, $failed failed, $skipped skipped"
    if ($testExit -ne 0 -or $failed -gt 0) { throw "tests failed (dotnet test exit code $testExit, $failed failed in all)" }
    if ($passed -eq 0) { throw 'No test ran.' }
}

# ---- Native SDK: the C API (native/), libtfpose published with NativeAOT --------------------------
$NativeBuild = Join-Path $Root 'artifacts/native/build'

# Configures and builds native/ (its build publishes src/TfPose.Native with NativeAOT, then compiles the
# examples and tests). Visual Studio on Windows, Ninja (or Makefiles) elsewhere; always Release.
function Invoke-NativeBuild {
    $cli = Join-Path $Root "src/TfPose.Cli/bin/$Configuration/net10.0/tfpose.dll"
    $configure = @('-S', (Join-Path $Root 'native'), '-B', $NativeBuild, "-DTFPOSE_SHARED_DIR=$Shared", "-DTFPOSE_CLI_DLL=$cli")
    if ($IsWindows) { $configure += @('-G', 'Visual Studio 17 2022', '-A', 'x64') }
    elseif (Get-Command ninja -ErrorAction SilentlyContinue) { $configure += @('-G', 'Ninja', '-DCMAKE_BUILD_TYPE=Release') }
    else { $configure += @('-G', 'Unix Makefiles', '-DCMAKE_BUILD_TYPE=Release') }
    # Out-Host: tool output is shown, not returned (Invoke-NativeTests returns only its counts).
    Invoke-Native 'cmake configure' { & cmake @configure | Out-Host }
    Invoke-Native 'cmake build' { & cmake --build $NativeBuild --config Release --parallel 2 | Out-Host }
}

# Builds and runs CTest; returns its counts (a failed build counts as one failed test, so it is seen).
function Invoke-NativeTests {
    try { Invoke-NativeBuild }
    catch {
        Write-Warning "Native SDK build failed: $_"
        return @{ Passed = 0; Failed = 1; Skipped = 0 }
    }
    $junit = Join-Path $Root 'artifacts/test-results/ctest-junit.xml'
    New-Item -ItemType Directory -Force -Path (Split-Path $junit) | Out-Null
    & ctest --test-dir $NativeBuild -C Release --parallel 2 --output-on-failure --output-junit $junit | Out-Host
    $ctestExit = $LASTEXITCODE
    if (-not (Test-Path $junit)) { return @{ Passed = 0; Failed = 1; Skipped = 0 } }
    # SelectNodes, not .testsuite.testcase: with no test registered (no shared data) the property is absent.
    $cases = @(([xml](Get-Content $junit)).SelectNodes('//testcase'))
    $counts = @{
        Passed = @($cases | Where-Object { $_.status -eq 'run' }).Count
        Failed = @($cases | Where-Object { $_.status -eq 'fail' }).Count
        Skipped = @($cases | Where-Object { $_.status -in 'notrun', 'disabled' }).Count
    }
    if ($ctestExit -ne 0 -and $counts.Failed -eq 0) { $counts.Failed = 1 } # e.g. a crash of ctest itself
    Write-Host "CTest: $($counts.Passed) passed, $($counts.Failed) failed, $($counts.Skipped) skipped"
    return $counts
}

# -Task Native: configure, build and test the CMake project on its own.
function Invoke-NativeTask {
    $counts = Invoke-NativeTests
    if ($counts.Failed -gt 0) { throw "native tests failed ($($counts.Failed) failed)" }
    if ($counts.Passed -eq 0) { throw 'No native test ran.' }
}

# -Task Package: NuGet packages of the libraries, the tfpose tool (one package per RID in $ToolRuntimes plus the
# package `dotnet tool install` starts from), and a zip of the native SDK (one top-level folder: headers, libtfpose +
# runtimes, CMake package config, examples, README, LICENSE), all in artifacts/packages.
function Invoke-Package {
    if (Test-Path $Packages) { Remove-Item -Recurse -Force $Packages }
    Invoke-PackLibraries
    if ($ToolRuntimes.Count -eq 0) { $ToolRuntimes = @($(if ($IsWindows) { 'win-x64' } elseif ($IsMacOS) { 'osx-arm64' } else { 'linux-x64' })) }
    $rids = ($ToolRuntimes -join ';')
    Invoke-Native 'dotnet pack tfpose' { & dotnet pack $Cli -c $Configuration --nologo -v:minimal -o $Packages "-p:ToolPackageRuntimeIdentifiers=$rids" '-p:ContinuousIntegrationBuild=true' }

    # The tool must install from the folder alone, as a user would.
    $toolDir = Join-Path $Root 'artifacts/package-check/tool'
    if (Test-Path $toolDir) { Remove-Item -Recurse -Force $toolDir }
    # XPath, not member access: under strict mode a PropertyGroup without <Version> (the props file has several) throws.
    $version = ([xml](Get-Content (Join-Path $Root 'Directory.Build.props'))).SelectSingleNode('/Project/PropertyGroup/Version').InnerText
    Invoke-Native 'dotnet tool install tfpose' { & dotnet tool install tfpose --tool-path $toolDir --add-source $Packages --version $version }
    $tool = Join-Path $toolDir ($(if ($IsWindows) { 'tfpose.exe' } else { 'tfpose' }))
    Invoke-Native 'tfpose --help' { & $tool --help | Out-Null }
    # -Force: the tool lives in .store, which PowerShell hides on Linux and macOS.
    $installed = (Get-ChildItem -Recurse -File -Force $toolDir | Measure-Object -Property Length -Sum).Sum

    Invoke-NativeBuild
    $rid = if ($IsWindows) { 'win-x64' } elseif ($IsMacOS) { 'osx-arm64' } else { 'linux-x64' }
    $name = "tfpose-native-$version-$rid"
    $stage = Join-Path $Root "artifacts/package-check/$name"
    if (Test-Path $stage) { Remove-Item -Recurse -Force $stage }
    Invoke-Native 'cmake install' { & cmake --install $NativeBuild --config Release --prefix $stage }
    # The zip opens to one folder with its README and licence at the top (cmake --install keeps them in share/doc too).
    Copy-Item (Join-Path $Root 'native/README.md') (Join-Path $stage 'README.md')
    Copy-Item (Join-Path $Root 'LICENSE'), (Join-Path $Root 'THIRD-PARTY-NOTICES.md') $stage
    $zip = Join-Path $Packages "$name.zip"
    Compress-Archive -Path $stage -DestinationPath $zip -Force
    Write-Host "Packages:"
    Get-ChildItem $Packages | ForEach-Object { Write-Host ("  {0} ({1:N1} MB)" -f $_.Name, ($_.Length / 1MB)) }
    Write-Host ("Installed tool: {0:N1} MB in {1}" -f ($installed / 1MB), $toolDir)
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
    'Native' { Invoke-Setup; Invoke-Build; Invoke-NativeTask }
    # Deterministic paths (/_/...) in the packed PDBs and assemblies.
    'Package' { Invoke-Setup; Invoke-Build -Extra @('-p:ContinuousIntegrationBuild=true'); Invoke-Package }
    default { throw "Task $Task is not implemented yet" }
}
