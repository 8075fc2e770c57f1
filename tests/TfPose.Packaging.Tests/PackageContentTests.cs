using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Xml.Linq;

namespace TfPose.Packaging.Tests;

/// <summary>
/// Opens the packed library packages and checks what a user gets: metadata (licence, readme, icon, description,
/// URLs), LICENSE, XML docs, symbols with SourceLink, deterministic assemblies, and no native runtime.
/// </summary>
public class LibraryPackageTests
{
    public static TheoryData<string> Libraries =>
        ["TfPose.IO", "TfPose.Graph", "TfPose.Imaging", "TfPose.Plotting", "TfPose.Runtime", "TfPose.Pose", "TfPose.Datasets", "TfPose.Keras", "TfPose.Gan", "TfPose.Segmentation"];

    [Theory]
    [MemberData(nameof(Libraries))]
    public void CarriesMetadataLicenceReadmeIconAndDocs(string id)
    {
        using var package = new Package(Packages.Require(id));
        var problems = new List<string>();
        void Check(bool ok, string problem)
        {
            if (!ok)
                problems.Add(problem);
        }

        Check(package.Meta("id") == id, $"id is {package.Meta("id")}");
        var description = package.Meta("description") ?? "";
        Check(description.Length > 40 && description != "Package Description", $"description is '{description}'");
        Check(package.MetaElement("license") is { } l && (string?)l.Attribute("type") == "expression" && l.Value == "Apache-2.0",
            "licence is not the expression Apache-2.0");
        Check(package.Meta("readme") == "README.md" && package.Has("README.md"), "no package readme README.md");
        Check(package.Meta("icon") == "icon.png" && package.Has("icon.png")
            && package.Read("icon.png").AsSpan(0, 8).SequenceEqual(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }), "no PNG icon.png");
        Check(Uri.TryCreate(package.Meta("projectUrl"), UriKind.Absolute, out _), "no projectUrl");
        var repository = package.MetaElement("repository");
        Check(repository is not null && Uri.TryCreate((string?)repository.Attribute("url"), UriKind.Absolute, out _)
            && ((string?)repository.Attribute("commit"))?.Length == 40, "no repository url with its commit");
        Check(package.Has("LICENSE") && System.Text.Encoding.UTF8.GetString(package.Read("LICENSE")).Contains("Apache License")
            && System.Text.Encoding.UTF8.GetString(package.Read("LICENSE")).Contains("Version 2.0, January 2004"), "no Apache-2.0 LICENSE file");

        var dll = $"lib/net10.0/{id}.dll";
        var xml = $"lib/net10.0/{id}.xml";
        Check(package.Has(dll), $"no {dll}");
        if (package.Has(xml))
        {
            var members = XDocument.Parse(System.Text.Encoding.UTF8.GetString(package.Read(xml))).Descendants("member").Count();
            Check(members > 0, $"{xml} documents no member");
        }
        else
        {
            problems.Add($"no XML documentation {xml}");
        }

        Assert.True(problems.Count == 0, $"{package.Path}:\n  " + string.Join("\n  ", problems));
    }

    [Theory]
    [MemberData(nameof(Libraries))]
    public void CarriesNoNativeRuntime(string id)
    {
        using var package = new Package(Packages.Require(id));
        // Keras' one native file is the libstdc++ shim its buildTransitive fix links in (not a runtime).
        var natives = package.Entries.Where(e => e.StartsWith("runtimes/", StringComparison.Ordinal)
            || (e.EndsWith(".so", StringComparison.Ordinal) && e != "buildTransitive/linux-x64/libtorchsharp_glibcxx_shim.so")
            || (e.EndsWith(".dll", StringComparison.Ordinal) && e != $"lib/net10.0/{id}.dll")).ToList();
        Assert.True(natives.Count == 0, $"{package.Path} carries native files: {string.Join(", ", natives)}");
        var runtimeDependencies = package.DependencyIds.Where(Package.IsNativeRuntimeDependency).ToList();
        Assert.True(runtimeDependencies.Count == 0, $"{package.Path} forces native runtimes on every platform: {string.Join(", ", runtimeDependencies)}");
    }

    [Theory]
    [InlineData("TfPose.Keras")]
    [InlineData("TfPose.Gan")]
    [InlineData("TfPose.Segmentation")]
    public void ModelLibrariesDoNotDragConsoleOrPlottingIntoApps(string id)
    {
        // Charts live in TfPose.Plotting and console output in the tool, so an app training a model pulls in neither.
        using var package = new Package(Packages.Require(id));
        var dragged = package.DependencyIds.Where(d => d.StartsWith("ScottPlot", StringComparison.OrdinalIgnoreCase)
            || d.StartsWith("Spectre.Console", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.True(dragged.Count == 0, $"{package.Path} depends on {string.Join(", ", dragged)}");
    }

    [Theory]
    [MemberData(nameof(Libraries))]
    public void HasSymbolsWithSourceLinkAndADeterministicAssembly(string id)
    {
        using var package = new Package(Packages.Require(id));
        using var pe = new PEReader(new MemoryStream(package.Read($"lib/net10.0/{id}.dll")));
        // A deterministic compilation records a Reproducible entry (its timestamp is a content hash, not a time).
        Assert.Contains(pe.ReadDebugDirectory(), d => d.Type == DebugDirectoryEntryType.Reproducible);

        using var symbols = new Package(Packages.Require(id, ".snupkg"));
        var pdb = $"lib/net10.0/{id}.pdb";
        Assert.Contains(pdb, symbols.Entries);
        using var provider = MetadataReaderProvider.FromPortablePdbStream(new MemoryStream(symbols.Read(pdb)));
        var reader = provider.GetMetadataReader();
        var sourceLinkKind = new Guid("CC110556-A091-4D38-9FEC-25AB9A351A6A");
        var sourceLink = reader.CustomDebugInformation.Select(reader.GetCustomDebugInformation)
            .Where(c => reader.GetGuid(c.Kind) == sourceLinkKind)
            .Select(c => System.Text.Encoding.UTF8.GetString(reader.GetBlobBytes(c.Value)))
            .SingleOrDefault();
        Assert.NotNull(sourceLink);
        var repository = (string)package.MetaElement("repository")!.Attribute("commit")!;
        Assert.Contains(repository, sourceLink); // sources are fetched at the packed commit
    }

    [Fact]
    public void KerasShipsTheLibstdcxxFixToItsUsers()
    {
        using var package = new Package(Packages.Require("TfPose.Keras"));
        Assert.Contains("buildTransitive/TfPose.Keras.targets", package.Entries);
        var targets = XDocument.Parse(System.Text.Encoding.UTF8.GetString(package.Read("buildTransitive/TfPose.Keras.targets")));
        XNamespace ns = targets.Root!.Name.Namespace;
        var targetNames = targets.Root.Elements(ns + "Target").Select(t => (string)t.Attribute("Name")!).ToList();
        Assert.Contains("_TfPoseTorchReplaceCopyLocal", targetNames); // swaps the app's libLibTorchSharp.so for the patched copy
        Assert.Contains("_TfPoseTorchBuildPatched", targetNames);
        // The shim is prebuilt (no g++ needed by users): an x86-64 ELF shared object defining the missing symbol.
        var shim = package.Read("buildTransitive/linux-x64/libtorchsharp_glibcxx_shim.so");
        Assert.True(shim.AsSpan(0, 4).SequenceEqual(new byte[] { 0x7F, 0x45, 0x4C, 0x46 }) && shim[4] == 2 && BitConverter.ToUInt16(shim, 16) == 3 && BitConverter.ToUInt16(shim, 18) == 62,
            "the shim is not an x86-64 ELF shared object");
        Assert.True(Package.ContainsAscii(shim, "_ZSt21ios_base_library_initv"), "the shim does not define std::ios_base_library_init()");
    }
}
