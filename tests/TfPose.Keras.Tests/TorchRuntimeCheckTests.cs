using System.Xml.Linq;
using TfPose.Keras;
using TfPose.Tests;

namespace TfPose.Keras.Tests;

/// <summary>
/// What a user is told when TorchSharp's native runtime cannot load (TorchSharp itself always says "doesn't contain a
/// reference to libtorch-cpu-linux-x64"): a folder without LibTorch, and TorchSharp's unpatched library on a system
/// whose libstdc++ lacks GLIBCXX_3.4.32 (Debian 12).
/// </summary>
public sealed class TorchRuntimeCheckTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("tfpose-torchcheck-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [LinuxFact]
    public void AFolderWithoutLibTorchNamesThePackageToAdd()
    {
        var message = TorchRuntimeCheck.Diagnose(_folder);
        Assert.NotNull(message);
        Assert.Contains("libtorch_cpu.so", message);
        Assert.Contains("<PackageReference Include=\"libtorch-cpu-linux-x64\"", message);
        Assert.Contains("libLibTorchSharp.so", message);
    }

    [LinuxFact]
    public void ThisTestsOwnOutputLoads()
    {
        // The build patched libLibTorchSharp.so here where needed (build/TorchSharpGlibcxx.targets).
        Assert.Null(TorchRuntimeCheck.Diagnose(AppContext.BaseDirectory));
    }

    [LinuxFact]
    public void TheUnpatchedLibraryOnAnOldLibstdcxxIsExplained()
    {
        var version = XDocument.Load(Path.Combine(SharedData.RepoRoot, "Directory.Packages.props")).Descendants("PackageVersion")
            .Single(p => (string?)p.Attribute("Include") == "TorchSharp").Attribute("Version")!.Value;
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var original = Path.Combine(packages, "torchsharp", version, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(original), $"TorchSharp's own library not found at {original}");
        File.Copy(original, Path.Combine(_folder, "libLibTorchSharp.so"));
        // LibTorch itself from this test's output (the same files the process may already have loaded).
        var natives = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native");
        foreach (var file in Directory.GetFiles(natives, "*.so*").Where(f => !Path.GetFileName(f).Contains("LibTorchSharp") && !Path.GetFileName(f).Contains("glibcxx")))
            File.CreateSymbolicLink(Path.Combine(_folder, Path.GetFileName(file)), file);

        // Independent of TfPose: does the system libstdc++ define the version TorchSharp 0.107 was linked against?
        var libstdcxx = new[] { "/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6" }
            .First(File.Exists);
        bool hasVersion = File.ReadAllBytes(libstdcxx).AsSpan().IndexOf("GLIBCXX_3.4.32\0"u8) >= 0;

        var message = TorchRuntimeCheck.Diagnose(_folder);
        if (hasVersion)
        {
            Assert.Null(message);
        }
        else
        {
            Assert.NotNull(message);
            Assert.Contains("GLIBCXX_3.4.32", message);
            Assert.Contains("libstdc++", message);
            Assert.Contains("buildTransitive/TfPose.Keras.targets", message);
        }
    }
}

/// <summary>Reported as skipped, with the reason, off Linux: the file names and the libstdc++ check are Linux's.</summary>
internal sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute()
    {
        if (!OperatingSystem.IsLinux())
            Skip = "The libraries checked (libtorch_cpu.so, libLibTorchSharp.so, libstdc++.so.6) are Linux's.";
    }
}
