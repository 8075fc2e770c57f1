using System.IO.Compression;

namespace TfPose.Packaging.Tests;

/// <summary>
/// A fact that needs a file only `build.ps1 -Task Package` writes (the tool packages and the native SDK take minutes
/// to publish, so the test run does not make them); skipped, with the reason, when the file is absent.
/// </summary>
public sealed class NeedsPackageFactAttribute : FactAttribute
{
    public NeedsPackageFactAttribute(string fileName)
    {
        var name = fileName.Replace("{version}", Packages.Version, StringComparison.Ordinal);
        if (!File.Exists(Path.Combine(Packages.Folder, name)))
            Skip = $"{name} is not in {Packages.Folder}; `dotnet pwsh ./build.ps1 -Task Package` makes it";
    }
}

/// <summary>The tool packages (one per RID) and the native SDK zip carry their RID's natives and nothing else.</summary>
public class ToolAndSdkPackageTests
{
    private static readonly string[] NeverShipped =
    [
        ".aar", ".xcframework/", "libtorch_python", "torch_python", "bind_test", "jitbackend_test", "backend_with_compiler",
        "aoti_custom_ops", "nnapi_backend",
    ];

    private static List<string> Unwanted(IEnumerable<string> entries, string otherPlatformExtension) =>
        entries.Where(e => NeverShipped.Any(n => e.Contains(n, StringComparison.OrdinalIgnoreCase))
            || e.EndsWith(otherPlatformExtension, StringComparison.OrdinalIgnoreCase)
            || e.Contains("/runtimes/", StringComparison.Ordinal)).ToList();

    [NeedsPackageFact("tfpose.{version}.nupkg")]
    public void TheToolPackagePointsAtOnePackagePerPlatform()
    {
        using var package = new Package(Packages.Require("tfpose"));
        Assert.True(new FileInfo(package.Path).Length < 1 << 20, $"{package.Path} should only point at the RID packages");
        var manifest = System.Text.Encoding.UTF8.GetString(package.Read(package.Entries.Single(e => e.EndsWith("DotnetToolSettings.xml", StringComparison.Ordinal))));
        // Every per-RID package beside it is one the pointer names (build.ps1 -ToolRuntimes chooses which are made).
        var ridPackages = Directory.GetFiles(Packages.Folder, $"tfpose.*-*.{Packages.Version}.nupkg")
            .Select(p => System.IO.Path.GetFileName(p)[..^$".{Packages.Version}.nupkg".Length]).ToList();
        Assert.NotEmpty(ridPackages);
        foreach (var id in ridPackages)
            Assert.Contains(id, manifest);
    }

    [NeedsPackageFact("tfpose.linux-x64.{version}.nupkg")]
    public void TheLinuxToolCarriesLinuxNativesOnly()
    {
        using var package = new Package(Packages.Require("tfpose.linux-x64"));
        var files = package.Entries.Select(Path.GetFileName).ToHashSet();
        string[] needed = ["tfpose.dll", "libonnxruntime.so", "libOpenCvSharpExtern.so", "libtorch_cpu.so", "libLibTorchSharp.so", "libtorchsharp_glibcxx_shim.so"];
        var missing = needed.Where(n => !files.Contains(n)).ToList();
        Assert.True(missing.Count == 0, $"{package.Path} lacks {string.Join(", ", missing)}");
        Assert.Empty(Unwanted(package.Entries, ".dylib"));
        Assert.DoesNotContain(package.Entries, e => e.EndsWith("onnxruntime.dll", StringComparison.Ordinal) || e.EndsWith("OpenCvSharpExtern.dll", StringComparison.Ordinal));
        Assert.Contains("THIRD-PARTY-NOTICES.md", package.Entries);
        Assert.Contains("LICENSE", package.Entries);
        // Runs on Debian 12 wherever it was packed: the patched copy needs the shim.
        var glue = package.Read(package.Entries.Single(e => e.EndsWith("/libLibTorchSharp.so", StringComparison.Ordinal)));
        Assert.True(Package.ContainsAscii(glue, "libtorchsharp_glibcxx_shim.so"), "libLibTorchSharp.so in the tool is not the patched copy");
    }

    [NeedsPackageFact("tfpose.win-x64.{version}.nupkg")]
    public void TheWindowsToolCarriesWindowsNativesOnly()
    {
        using var package = new Package(Packages.Require("tfpose.win-x64"));
        var files = package.Entries.Select(Path.GetFileName).ToHashSet();
        string[] needed = ["tfpose.dll", "onnxruntime.dll", "OpenCvSharpExtern.dll", "torch_cpu.dll", "LibTorchSharp.dll"];
        var missing = needed.Where(n => !files.Contains(n)).ToList();
        Assert.True(missing.Count == 0, $"{package.Path} lacks {string.Join(", ", missing)}");
        Assert.Empty(Unwanted(package.Entries, ".so"));
        Assert.Contains("THIRD-PARTY-NOTICES.md", package.Entries);
    }

    [NeedsPackageFact("tfpose-native-{version}-linux-x64.zip")]
    public void TheNativeSdkZipHasOneFolderWithReadmeLicenceAndRuntimes()
    {
        var path = Path.Combine(Packages.Folder, $"tfpose-native-{Packages.Version}-linux-x64.zip");
        using var zip = ZipFile.OpenRead(path);
        var top = $"tfpose-native-{Packages.Version}-linux-x64/";
        var outside = zip.Entries.Select(e => e.FullName).Where(n => !n.StartsWith(top, StringComparison.Ordinal)).ToList();
        Assert.True(outside.Count == 0, $"entries outside {top}: {string.Join(", ", outside.Take(5))}");
        string[] needed =
        [
            "README.md", "LICENSE", "THIRD-PARTY-NOTICES.md", "include/tfpose.h", "include/tfpose.hpp", "lib/libtfpose.so",
            "lib/libonnxruntime.so", "lib/libOpenCvSharpExtern.so", "lib/cmake/TfPose/TfPoseConfig.cmake",
        ];
        var names = zip.Entries.Select(e => e.FullName).ToHashSet();
        var missing = needed.Where(n => !names.Contains(top + n)).ToList();
        Assert.True(missing.Count == 0, $"{path} lacks {string.Join(", ", missing)}");
        using var reader = new StreamReader(zip.GetEntry(top + "README.md")!.Open());
        var readme = reader.ReadToEnd();
        foreach (var library in new[] { "libgtk-3-0", "libatomic1", "libdrm2" })
            Assert.Contains(library, readme);
    }
}
