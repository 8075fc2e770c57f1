using System.Collections.Immutable;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using TfPose.Tests;

namespace TfPose.Packaging.Tests;

/// <summary>
/// Every ```csharp block of README.md compiles as written, as the whole of a console program (top-level statements)
/// with the SDK's implicit usings, against the TfPose libraries and what they reference: a user can paste it.
/// </summary>
public partial class ReadmeSnippetTests
{
    // What <ImplicitUsings>enable</ImplicitUsings> gives a console app (Microsoft.NET.Sdk).
    private const string ImplicitUsings =
        "global using System; global using System.Collections.Generic; global using System.IO; global using System.Linq; "
        + "global using System.Net.Http; global using System.Threading; global using System.Threading.Tasks;";

    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => p.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToImmutableArray());

    [GeneratedRegex(@"^```csharp[ \t]*\r?\n(.*?)^```", RegexOptions.Singleline | RegexOptions.Multiline)]
    private static partial Regex CSharpBlock();

    /// <summary>The README's C# blocks with the line each starts on.</summary>
    internal static List<(int Line, string Code)> Snippets(string markdown) =>
        CSharpBlock().Matches(markdown)
            .Select(m => (markdown.AsSpan(0, m.Index).Count('\n') + 2, m.Groups[1].Value))
            .ToList();

    /// <summary>The compiler's errors for one snippet, as "line: message" with README line numbers.</summary>
    internal static List<string> Errors(string code, int readmeLine)
    {
        var options = new CSharpParseOptions(LanguageVersion.Latest);
        var trees = new[]
        {
            CSharpSyntaxTree.ParseText(ImplicitUsings, options, "GlobalUsings.cs"),
            CSharpSyntaxTree.ParseText(code, options, "README.md"),
        };
        var compilation = CSharpCompilation.Create("ReadmeSnippet", trees, References.Value,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable,
                allowUnsafe: true));
        return compilation.GetDiagnostics()
            .Where(d => d.Severity == DiagnosticSeverity.Error)
            .Select(d => $"README.md:{readmeLine + d.Location.GetLineSpan().StartLinePosition.Line}: {d.Id} {d.GetMessage()}")
            .ToList();
    }

    [Fact]
    public void EveryCSharpSnippetCompilesAsWritten()
    {
        var readme = Path.Combine(SharedData.RepoRoot, "README.md");
        var snippets = Snippets(File.ReadAllText(readme));
        Assert.True(snippets.Count >= 4, $"expected the README's C# examples, found {snippets.Count} ```csharp blocks in {readme}");
        var errors = snippets.AsParallel().SelectMany(s => Errors(s.Code, s.Line)).ToList();
        Assert.True(errors.Count == 0, "README C# snippets that do not compile:\n" + string.Join("\n", errors));
    }

    [Fact]
    public void ASnippetMissingItsUsingIsReported()
    {
        // The issue's own example: the PoseEstimator snippet without `using TfPose.Pose;`.
        var errors = Errors("using var estimator = new PoseEstimator(\"graph_opt.pb\");", 10);
        Assert.Contains(errors, e => e.StartsWith("README.md:10: CS0246", StringComparison.Ordinal) && e.Contains("PoseEstimator"));
        Assert.Empty(Errors("using TfPose.Pose;\nusing var estimator = new PoseEstimator(\"graph_opt.pb\");", 10));
    }

    [Fact]
    public void SnippetsAreFoundWithTheirLines()
    {
        var markdown = "# T\n\n```csharp\nint a = 1;\n```\ntext\n```sh\nls\n```\n```csharp\nint b = 2;\nint c = 3;\n```\n";
        var snippets = Snippets(markdown);
        Assert.Equal([(4, "int a = 1;\n"), (11, "int b = 2;\nint c = 3;\n")], snippets);
    }
}
