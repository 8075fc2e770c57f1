using System.IO.Compression;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using TfPose.Tests;

namespace TfPose.Packaging.Tests;

/// <summary>The packages build.ps1 writes to artifacts/packages (-Task Package; -Task Test packs the libraries).</summary>
internal static class Packages
{
    public static string Folder => Path.Combine(SharedData.RepoRoot, "artifacts", "packages");

    public static string Version =>
        XDocument.Load(Path.Combine(SharedData.RepoRoot, "Directory.Build.props")).Descendants("Version").First().Value;

    /// <summary>The path of a package id's file at the repository's version, or null.</summary>
    public static string? Find(string id, string extension = ".nupkg")
    {
        var path = Path.Combine(Folder, $"{id}.{Version}{extension}");
        return File.Exists(path) ? path : null;
    }

    public static string Require(string id, string extension = ".nupkg") =>
        Find(id, extension) ?? throw new FileNotFoundException(
            $"{id}.{Version}{extension} is not in {Folder}: run `dotnet pwsh ./build.ps1 -Task Package` (or -Task Test, which packs the libraries) first");
}

/// <summary>One opened .nupkg: its entries and its nuspec.</summary>
internal sealed class Package : IDisposable
{
    private readonly ZipArchive _zip;

    public Package(string path)
    {
        Path = path;
        _zip = ZipFile.OpenRead(path);
        Entries = _zip.Entries.Select(e => e.FullName).ToList();
        var nuspec = _zip.Entries.Single(e => !e.FullName.Contains('/') && e.FullName.EndsWith(".nuspec", StringComparison.Ordinal));
        using var stream = nuspec.Open();
        Nuspec = XDocument.Load(stream);
    }

    public string Path { get; }

    public List<string> Entries { get; }

    public XDocument Nuspec { get; }

    // NuGet writes the oldest nuspec schema that can hold a package's metadata (2012/06 for one without dependencies,
    // 2013/05 with them), so the namespace is read from the file.
    private XNamespace Ns => Nuspec.Root!.Name.Namespace;

    public XElement Metadata => Nuspec.Root!.Element(Ns + "metadata")!;

    public string? Meta(string name) => Metadata.Element(Ns + name)?.Value;

    public XElement? MetaElement(string name) => Metadata.Element(Ns + name);

    public List<string> DependencyIds =>
        Metadata.Descendants(Ns + "dependency").Select(d => (string)d.Attribute("id")!).ToList();

    public byte[] Read(string entry)
    {
        using var stream = _zip.GetEntry(entry)!.Open();
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return memory.ToArray();
    }

    public bool Has(string entry) => Entries.Contains(entry);

    public void Dispose() => _zip.Dispose();

    /// <summary>Whether bytes contain an ASCII string (symbol and version names in ELF files).</summary>
    public static bool ContainsAscii(byte[] bytes, string text) =>
        bytes.AsSpan().IndexOf(System.Text.Encoding.ASCII.GetBytes(text)) >= 0;

    public static bool IsNativeRuntimeDependency(string id) =>
        Regex.IsMatch(id, @"^(OpenCvSharp4\.(official\.)?runtime\.|libtorch-)", RegexOptions.IgnoreCase);
}
