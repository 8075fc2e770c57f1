using System.Text;
using S = TfPose.Graph.Formats.TfliteSchema;

namespace TfPose.Graph.Formats;

/// <summary>
/// Reads a TensorFlow Lite model (a <c>.tflite</c> flatbuffer, schema v3) as a <see cref="TfGraph"/>: its main subgraph
/// written as a frozen GraphDef (see <see cref="TfliteImporter"/>), so every later stage treats it like a .pb. Every
/// offset and size in the file is checked before it is followed or allocated; a file that is not a usable model gives
/// one <see cref="GraphFormatException"/> naming the file and every problem found.
/// </summary>
public static class TfliteGraphModel
{
    public const string Extension = ".tflite";

    /// <summary>Whether <paramref name="path"/> names a TensorFlow Lite file (by its extension; content is checked when read).</summary>
    public static bool IsModelPath(string path) => path.EndsWith(Extension, StringComparison.OrdinalIgnoreCase);

    /// <summary>The TensorFlow Lite builtins (schema.fbs names) the importer maps to TensorFlow ops; any other becomes a <c>tflite:NAME</c> node.</summary>
    public static IReadOnlySet<string> SupportedBuiltins => TfliteImporter.MappedBuiltins;

    /// <summary>The node name a TFLite tensor name becomes (characters TensorFlow does not allow in node names turned into '_').</summary>
    public static string NodeName(string tensorName) => TfliteImporter.NodeName(tensorName);

    /// <summary>The op name of the node standing for an operator TfPose cannot map: <c>tflite:</c> and the builtin or custom name.</summary>
    public static string UnsupportedOpName(string operatorName) => "tflite:" + operatorName;

    /// <summary>Whether the bytes carry TensorFlow Lite's flatbuffer identifier "TFL3" (bytes 4-7).</summary>
    public static bool HasIdentifier(ReadOnlySpan<byte> bytes) => bytes.Length >= 8 && bytes[4..8].SequenceEqual("TFL3"u8);

    /// <summary>Loads a .tflite file.</summary>
    /// <exception cref="GraphFormatException">The file is not a usable model; the message lists every problem found.</exception>
    public static TfGraph Load(string path)
    {
        TfliteSource source;
        try
        {
            source = TfliteSource.Open(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new GraphFormatException(path, "file not found.");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new GraphFormatException(path, $"cannot read the file ({ex.Message.TrimEnd('.')}).", ex);
        }
        using (source)
            return Read(source, path);
    }

    /// <summary>Reads a TensorFlow Lite model held in memory.</summary>
    public static TfGraph Parse(byte[] bytes, string? source = null)
    {
        using var input = new TfliteSource(bytes);
        return Read(input, source);
    }

    private static TfGraph Read(TfliteSource source, string? path)
    {
        var problems = new List<string>();
        TfliteModel model;
        try
        {
            model = TfliteModel.Read(source, problems);
        }
        catch (TfliteFormatException ex)
        {
            throw new GraphFormatException(path, ex.Message.EndsWith('.') ? ex.Message : ex.Message + ".", ex);
        }
        Proto.GraphDef? graphDef = null;
        GraphSignature? signature = null;
        // A model with structural faults is not imported: its tensors or operators may be missing, and the faults are the news.
        if (problems.Count == 0 && model.Subgraphs.Count > 0)
            (graphDef, signature) = TfliteImporter.Import(model, problems);
        if (problems.Count > 0 || graphDef is null)
        {
            var shown = string.Join("; ", problems.Take(30)) + (problems.Count > 30 ? $"; and {problems.Count - 30} more" : "");
            throw new GraphFormatException(path,
                $"cannot load the TensorFlow Lite model, {problems.Count} problem{(problems.Count == 1 ? "" : "s")}: {shown}.");
        }
        var graph = new TfGraph(graphDef, path) { Signature = signature, Tflite = Describe(model) };
        graph.Validate();
        return graph;
    }

    private static TfliteModelInfo Describe(TfliteModel model)
    {
        var main = model.Subgraphs[0];
        var histogram = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var op in main.Operators)
        {
            var name = op.Code == S.Custom ? $"CUSTOM:{op.CustomCode}" : op.Name;
            histogram[name] = histogram.GetValueOrDefault(name) + 1;
        }
        return new TfliteModelInfo(
            model.Version, model.Description, model.MinRuntimeVersion, model.Subgraphs.Count,
            main.Inputs.Select(i => main.Tensors[i]).ToList(),
            main.Outputs.Select(i => main.Tensors[i]).ToList(),
            histogram.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).ToList(),
            model.Signatures);
    }
}

/// <summary>
/// What a .tflite file says about itself beyond its graph: schema version, description, the oldest runtime that runs it,
/// the main subgraph's inputs and outputs with their quantization, and its operators by builtin name.
/// </summary>
public sealed record TfliteModelInfo(
    uint Version,
    string? Description,
    string? MinRuntimeVersion,
    int SubgraphCount,
    IReadOnlyList<TfliteTensor> Inputs,
    IReadOnlyList<TfliteTensor> Outputs,
    IReadOnlyList<KeyValuePair<string, int>> OperatorHistogram,
    IReadOnlyList<TfliteSignature> Signatures)
{
    /// <summary>A tensor's quantization as text, e.g. "int8 scale 0.0235 zero point -128", or null when it has none.</summary>
    public static string? QuantizationText(TfliteTensor tensor)
    {
        if (tensor.Quantization is not { Scale.Length: > 0 } q)
            return null;
        var text = new StringBuilder();
        if (q.IsPerChannel)
            text.Append(System.FormattableString.Invariant(
                $"{tensor.TypeName} per-channel ({q.Scale.Length} scales {q.Scale.Min():G4}…{q.Scale.Max():G4} along dimension {q.Dimension}") +
                (q.ZeroPoint.All(z => z == 0) ? ", zero points 0)" : ", zero points vary)"));
        else
            text.Append(System.FormattableString.Invariant($"{tensor.TypeName} scale {q.Scale[0]:G6} zero point {q.ZeroPointAt(0)}"));
        return text.ToString();
    }
}
