using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using TfPose.Graph.Proto;

namespace TfPose.Graph.Formats;

/// <summary>
/// Reads a TensorFlow.js graph model (<c>model.json</c> and its <c>.bin</c> weight shards) as a <see cref="TfGraph"/>.
/// The topology is a GraphDef in protobuf-JSON form whose Const nodes carry only dtype and shape; their values come
/// from the weight manifest. The result is an ordinary frozen GraphDef, so every later stage treats it like a .pb.
/// </summary>
public static class TfjsGraphModel
{
    public const string ModelFileName = "model.json";

    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    private static readonly EnumDescriptor DataTypeEnum =
        TensorflowGraphReflection.Descriptor.FindTypeByName<EnumDescriptor>("DataType");

    /// <summary>
    /// Whether <paramref name="path"/> is for this reader: a .json file, or a folder (the only folder TfPose reads is
    /// a TensorFlow.js model's, so a folder without model.json gets this reader's explanation).
    /// </summary>
    public static bool IsModelPath(string path) =>
        path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || Directory.Exists(path);

    /// <summary>Loads <c>model.json</c>, or the <c>model.json</c> inside the folder <paramref name="path"/>.</summary>
    /// <exception cref="GraphFormatException">The file is not a usable graph model; the message lists every problem found.</exception>
    public static TfGraph Load(string path)
    {
        var modelPath = Directory.Exists(path) ? Path.Combine(path, ModelFileName) : path;
        if (Directory.Exists(path) && !File.Exists(modelPath))
            throw new GraphFormatException(path, "the folder has no model.json. TfPose reads frozen GraphDef files (.pb) and TensorFlow.js " +
                "graph models (model.json, or its folder)." + (File.Exists(Path.Combine(path, "saved_model.pb"))
                    ? " This folder holds a SavedModel: freeze it to a GraphDef, or convert it with tensorflowjs_converter --output_format=tfjs_graph_model."
                    : ""));
        using var document = ReadJson(modelPath);
        var root = document.RootElement;
        CheckFormat(root, modelPath);
        var graphDef = ReadTopology(root, modelPath);

        var problems = new List<string>();
        var names = new List<string>();
        var groups = TfjsWeightManifest.Parse(root.GetProperty("weightsManifest"), problems, names);
        var signature = root.TryGetProperty("signature", out var s) && s.ValueKind != JsonValueKind.Null
            ? ReadSignature(s, graphDef, problems)
            : null;
        try
        {
            var directory = Path.GetDirectoryName(Path.GetFullPath(modelPath))!;
            TfjsWeightLoader.Fill(graphDef, groups, names, directory, problems);
        }
        catch (IOException ex)
        {
            throw new GraphFormatException(modelPath, $"cannot read the weights: {ex.Message}", ex);
        }
        if (problems.Count > 0)
        {
            var shown = string.Join("; ", problems.Take(30)) + (problems.Count > 30 ? $"; and {problems.Count - 30} more" : "");
            throw new GraphFormatException(modelPath,
                $"cannot load the TensorFlow.js graph model, {problems.Count} problem{(problems.Count == 1 ? "" : "s")}: {shown}.");
        }
        var graph = new TfGraph(graphDef, modelPath) { Signature = signature };
        graph.Validate();
        return graph;
    }

    private static JsonDocument ReadJson(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new GraphFormatException(path, "file not found.");
        }
        if (bytes.Length == 0)
            throw new GraphFormatException(path, "the file is empty, not a TensorFlow.js model.json.");
        var json = bytes.AsMemory();
        if (json.Span.StartsWith("\uFEFF"u8))
            json = json[3..];
        try
        {
            return JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new GraphFormatException(path, $"not a TensorFlow.js model.json: the file is not valid JSON ({ex.Message.TrimEnd('.')}).", ex);
        }
    }

    private static void CheckFormat(JsonElement root, string path)
    {
        if (root.ValueKind == JsonValueKind.Array)
            throw new GraphFormatException(path, "not a TensorFlow.js model.json: the JSON is a list (a weights_manifest.json?), " +
                "not an object with 'modelTopology' and 'weightsManifest'.");
        if (root.ValueKind != JsonValueKind.Object)
            throw new GraphFormatException(path, $"not a TensorFlow.js model.json: the JSON is a {root.ValueKind.ToString().ToLowerInvariant()}, not an object.");
        var format = root.TryGetProperty("format", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
        var topology = root.TryGetProperty("modelTopology", out var t) && t.ValueKind == JsonValueKind.Object ? t : (JsonElement?)null;
        var looksKeras = topology is { } k && (k.TryGetProperty("class_name", out _) || k.TryGetProperty("model_config", out _));
        if (format == "layers-model" || (format is null && looksKeras))
            throw new GraphFormatException(path, "this is a TensorFlow.js layers model (a Keras model, format \"layers-model\"), not a graph model; " +
                "TfPose runs graph models. Convert it with tensorflowjs_converter --input_format=tfjs_layers_model " +
                "--output_format=tfjs_graph_model (or convert the original Keras or SavedModel with --output_format=tfjs_graph_model).");
        if (format is not null and not "graph-model")
            throw new GraphFormatException(path, $"format \"{format}\" is not a TensorFlow.js graph model (expected \"graph-model\").");
        if (topology is null)
            throw new GraphFormatException(path, "the model.json has no 'modelTopology' object, so it holds no graph; " +
                "a TensorFlow.js graph model keeps its GraphDef there.");
        if (!root.TryGetProperty("weightsManifest", out var manifest) || manifest.ValueKind != JsonValueKind.Array)
            throw new GraphFormatException(path, "the model.json has no 'weightsManifest' list, so the graph's weights cannot be found.");
        if (root.TryGetProperty("modelInitializer", out var init) && init.ValueKind == JsonValueKind.Object
            && init.TryGetProperty("node", out var initNodes) && initNodes.GetArrayLength() > 0)
            throw new GraphFormatException(path, "the model has a 'modelInitializer' graph, which sets up hash tables or other resources " +
                "before the first run; TfPose does not run initializer graphs.");
    }

    private static GraphDef ReadTopology(JsonElement root, string path)
    {
        GraphDef graphDef;
        try
        {
            graphDef = Parser.Parse<GraphDef>(root.GetProperty("modelTopology").GetRawText());
        }
        catch (Exception ex) when (ex is InvalidProtocolBufferException or InvalidJsonException or FormatException)
        {
            throw new GraphFormatException(path, $"modelTopology is not a GraphDef in protobuf JSON form ({ex.Message.TrimEnd('.')}).", ex);
        }
        if (graphDef.Node.Count == 0)
            throw new GraphFormatException(path, "modelTopology contains no nodes; is this really a TensorFlow.js graph model?");
        return graphDef;
    }

    /// <summary>
    /// Reads the signature in its JSON order and gives Placeholders the shape it declares when they have none, so
    /// shape inference starts from what the model's author stated.
    /// </summary>
    private static GraphSignature? ReadSignature(JsonElement signature, GraphDef graphDef, List<string> problems)
    {
        if (signature.ValueKind != JsonValueKind.Object)
        {
            problems.Add("'signature' is not an object with 'inputs' and 'outputs'");
            return null;
        }
        var nodes = new Dictionary<string, NodeDef>(StringComparer.Ordinal);
        foreach (var node in graphDef.Node)
            nodes.TryAdd(node.Name, node);
        var inputs = ReadSignatureTensors(signature, "inputs", nodes, problems);
        var outputs = ReadSignatureTensors(signature, "outputs", nodes, problems);
        return new GraphSignature(inputs, outputs);
    }

    private static List<SignatureTensor> ReadSignatureTensors(JsonElement signature, string side, Dictionary<string, NodeDef> nodes, List<string> problems)
    {
        var tensors = new List<SignatureTensor>();
        if (!signature.TryGetProperty(side, out var entries))
            return tensors;
        if (entries.ValueKind != JsonValueKind.Object)
        {
            problems.Add($"signature {side} is not an object");
            return tensors;
        }
        var what = side == "inputs" ? "input" : "output";
        foreach (var entry in entries.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.Object || !entry.Value.TryGetProperty("name", out var name)
                || name.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(name.GetString()))
            {
                problems.Add($"signature {what} '{entry.Name}' has no tensor name");
                continue;
            }
            var tensor = name.GetString()!;
            if (!nodes.TryGetValue(TensorName.Parse(tensor).Node, out var node))
            {
                problems.Add($"signature {what} '{entry.Name}' names '{tensor}', which is not a node of modelTopology");
                continue;
            }
            tensors.Add(new SignatureTensor(entry.Name, tensor));
            if (side == "inputs" && node.Op is "Placeholder" or "PlaceholderV2")
                ApplyToPlaceholder(entry, node, problems);
        }
        return tensors;
    }

    private static void ApplyToPlaceholder(JsonProperty entry, NodeDef placeholder, List<string> problems)
    {
        if (entry.Value.TryGetProperty("dtype", out var dtypeElement))
        {
            var dtype = ParseDataType(dtypeElement);
            if (dtype is null)
                problems.Add($"signature input '{entry.Name}' has an unknown dtype {dtypeElement.GetRawText()}");
            else if (!placeholder.HasAttr("dtype"))
                placeholder.Attr["dtype"] = new AttrValue { Type = dtype.Value };
            else if (placeholder.GetDataType("dtype") != dtype)
                problems.Add($"signature input '{entry.Name}' is {DataTypes.Name(dtype.Value)} but Placeholder '{placeholder.Name}' is " +
                    DataTypes.Name(placeholder.GetDataType("dtype")));
        }
        if (entry.Value.TryGetProperty("tensorShape", out var shapeElement) && placeholder.GetShape("shape") is null)
        {
            try
            {
                var shape = Parser.Parse<TensorShapeProto>(shapeElement.GetRawText());
                if (!shape.UnknownRank)
                    placeholder.Attr["shape"] = new AttrValue { Shape = shape };
            }
            catch (Exception ex) when (ex is InvalidProtocolBufferException or InvalidJsonException or FormatException)
            {
                problems.Add($"signature input '{entry.Name}' has an unreadable tensorShape ({ex.Message.TrimEnd('.')})");
            }
        }
    }

    private static DataType? ParseDataType(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => DataTypeEnum.FindValueByName(element.GetString()!) is { } v ? (DataType)v.Number : null,
        JsonValueKind.Number when element.TryGetInt32(out var n) && DataTypeEnum.FindValueByNumber(n) is not null => (DataType)n,
        _ => null,
    };
}
