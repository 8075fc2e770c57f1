using System.Text;
using Google.Protobuf;
using TfPose.Graph.Formats;
using TfPose.Graph.Proto;
using TfPose.IO;

namespace TfPose.Graph;

/// <summary>A graph input: a Placeholder with its dtype and declared shape (null when of unknown rank, -1 for unknown dims).</summary>
public sealed record GraphInput(string Name, DataType Type, long[]? Shape);

/// <summary>
/// A TensorFlow GraphDef with name lookup, topological order and constant access. Wraps the
/// protobuf message; edits go through <see cref="Proto"/> and are followed by <see cref="Reindex"/>.
/// </summary>
public sealed class TfGraph
{
    /// <summary>Ops that hold state: a graph containing them is a training graph that was never frozen.</summary>
    public static readonly IReadOnlySet<string> VariableOps = new HashSet<string>(StringComparer.Ordinal)
    {
        "VariableV2", "Variable", "VarHandleOp", "ReadVariableOp", "AssignVariableOp", "Assign", "AssignAdd",
        "AssignSub", "VarIsInitializedOp", "TemporaryVariable", "ResourceGather", "ResourceApplyAdam",
    };

    private static readonly HashSet<string> NonOutputOps = new(StringComparer.Ordinal) { "Const", "NoOp", "Placeholder", "Assert", "SaveV2", "RestoreV2" };

    private Dictionary<string, NodeDef> _byName = new(StringComparer.Ordinal);

    public TfGraph(GraphDef proto, string? sourcePath = null)
    {
        Proto = proto;
        SourcePath = sourcePath;
        Reindex();
    }

    public GraphDef Proto { get; }

    /// <summary>The file the graph was read from, used in error messages.</summary>
    public string? SourcePath { get; }

    public IReadOnlyList<NodeDef> Nodes => Proto.Node;

    /// <summary>The inputs and outputs the model file declares (a TensorFlow.js signature, a TFLite subgraph's); null for a plain GraphDef.</summary>
    public GraphSignature? Signature { get; init; }

    /// <summary>For a graph read from a .tflite file: what the file says about itself (operators by builtin name, quantization).</summary>
    public TfliteModelInfo? Tflite { get; init; }

    /// <summary>
    /// Reads a binary or text GraphDef, a TensorFlow.js graph model (a <c>.json</c> file, or a folder holding
    /// <c>model.json</c>), or a TensorFlow Lite model (<c>.tflite</c>, or any file with its "TFL3" identifier).
    /// </summary>
    public static TfGraph Load(string path)
    {
        if (TfjsGraphModel.IsModelPath(path))
            return TfjsGraphModel.Load(path);
        if (TfliteGraphModel.IsModelPath(path) || StartsLikeTflite(path))
            return TfliteGraphModel.Load(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException)
        {
            throw new GraphFormatException(path, "file not found.");
        }
        catch (DirectoryNotFoundException)
        {
            throw new GraphFormatException(path, "file not found.");
        }
        return Parse(bytes, path);
    }

    /// <summary>
    /// Whether a file of another extension is a TensorFlow Lite flatbuffer: its identifier is not a plausible start of a
    /// GraphDef, so looking costs one small read and decides before the whole file is read as protobuf.
    /// </summary>
    private static bool StartsLikeTflite(string path)
    {
        try
        {
            using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            Span<byte> head = stackalloc byte[8];
            return RandomAccess.Read(file, head, 0) == 8 && TfliteGraphModel.HasIdentifier(head);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false; // the GraphDef path reports a missing or unreadable file
        }
    }

    /// <summary>Parses binary GraphDef, protobuf text format when the bytes look like text, or a TensorFlow Lite flatbuffer.</summary>
    public static TfGraph Parse(ReadOnlySpan<byte> bytes, string? source = null)
    {
        if (bytes.Length == 0)
            throw new GraphFormatException(source, "the file is empty, not a GraphDef.");
        if (TfliteGraphModel.HasIdentifier(bytes))
            return TfliteGraphModel.Parse(bytes.ToArray(), source);
        GraphDef proto;
        if (TextFormatParser.LooksLikeText(bytes[..Math.Min(bytes.Length, 256)]))
        {
            proto = TextFormatParser.Parse<GraphDef>(Encoding.UTF8.GetString(bytes), source ?? "<graph>");
        }
        else
        {
            try
            {
                proto = GraphDef.Parser.ParseFrom(bytes);
            }
            catch (InvalidProtocolBufferException ex)
            {
                throw new GraphFormatException(source, DescribeBinaryFailure(bytes, ex), ex);
            }
        }
        var graph = new TfGraph(proto, source);
        graph.Validate();
        return graph;
    }

    private static string DescribeBinaryFailure(ReadOnlySpan<byte> bytes, InvalidProtocolBufferException ex)
    {
        var hint = bytes[0] switch
        {
            0x08 => " It starts like an ONNX model or a SavedModel (saved_model.pb), not a frozen GraphDef.",
            0xFF when bytes.Length > 1 && bytes[1] == 0xD8 => " It is a JPEG image.",
            0x89 when bytes.Length > 1 && bytes[1] == (byte)'P' => " It is a PNG image.",
            _ => "",
        };
        var reason = ex.Message.Contains("truncated", StringComparison.OrdinalIgnoreCase)
            ? "the protobuf data is truncated"
            : "the bytes are not a valid GraphDef protobuf";
        return $"cannot read a binary GraphDef: {reason} ({ex.Message.TrimEnd('.')}).{hint}";
    }

    internal void Validate()
    {
        if (Proto.Node.Count == 0)
            throw new GraphFormatException(SourcePath, "the GraphDef contains no nodes; is this really a TensorFlow graph?");
        var problems = new List<string>();
        foreach (var node in Proto.Node)
        {
            if (string.IsNullOrEmpty(node.Name) || string.IsNullOrEmpty(node.Op))
                problems.Add($"a node without {(string.IsNullOrEmpty(node.Name) ? "a name" : "an op")} ('{node.Name}')");
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in Proto.Node)
        {
            if (!string.IsNullOrEmpty(node.Name) && !seen.Add(node.Name))
                problems.Add($"duplicate node name '{node.Name}'");
        }
        foreach (var node in Proto.Node)
        {
            foreach (var input in node.Input)
            {
                var name = TensorName.Parse(input).Node;
                if (!seen.Contains(name))
                    problems.Add($"node '{node.Name}' reads '{input}', which no node produces");
            }
        }
        if (problems.Count > 0)
            throw new GraphFormatException(SourcePath, "the GraphDef is malformed: " + string.Join("; ", problems.Take(20)) +
                (problems.Count > 20 ? $"; and {problems.Count - 20} more" : "") + ".");
    }

    private TfGraph? _lowered;

    /// <summary>The graph with fused ops rewritten into the plain ops they stand for (this graph when it has none).</summary>
    internal TfGraph Lowered => _lowered ??= Ops.OpLowering.Lower(this);

    /// <summary>
    /// This graph with fused ops (_FusedConv2D, FusedDepthwiseConv2dNative, _FusedMatMul, _FusedBatchNormEx) written
    /// as the plain ops they fuse, under the same output names: what every TensorFlow tool can read.
    /// </summary>
    public TfGraph Unfused() => Lowered;

    public void Reindex()
    {
        _lowered = null;
        var map = new Dictionary<string, NodeDef>(Proto.Node.Count, StringComparer.Ordinal);
        foreach (var node in Proto.Node)
            map[node.Name] = node;
        _byName = map;
    }

    public NodeDef? FindNode(string name) => _byName.GetValueOrDefault(TensorName.Parse(name).Node);

    public NodeDef GetNode(string name) => FindNode(name)
        ?? throw new KeyNotFoundException(NotFoundMessage(name));

    private string NotFoundMessage(string name)
    {
        var node = TensorName.Parse(name).Node;
        var close = _byName.Keys
            .Where(k => k.Contains(node, StringComparison.OrdinalIgnoreCase) || node.Contains(k.Split('/').Last(), StringComparison.OrdinalIgnoreCase))
            .Take(5).ToList();
        var where = SourcePath is null ? "the graph" : SourcePath;
        return $"{where} has no node named '{node}'." + (close.Count > 0 ? $" Similar: {string.Join(", ", close)}." : "");
    }

    /// <summary>Placeholders, in graph order.</summary>
    public IReadOnlyList<GraphInput> Inputs => Proto.Node
        .Where(n => n.Op is "Placeholder" or "PlaceholderV2")
        .Select(n => new GraphInput(n.Name, n.GetDataType("dtype", DataType.DtFloat), n.GetShape("shape")))
        .ToList();

    /// <summary>
    /// The tensors the signature lists as outputs, in its order (<c>node:0</c> written <c>node</c>); without one, the
    /// nodes whose outputs nothing consumes (excluding constants and no-ops): the graph's natural outputs.
    /// </summary>
    public IReadOnlyList<string> Outputs
    {
        get
        {
            if (Signature is { Outputs.Count: > 0 } signature)
                return signature.Outputs.Select(o => TensorName.Parse(o.Tensor).ToString()).ToList();
            var consumed = new HashSet<string>(StringComparer.Ordinal);
            foreach (var node in Proto.Node)
            {
                foreach (var input in node.Input)
                    consumed.Add(TensorName.Parse(input).Node);
            }
            return Proto.Node.Where(n => !consumed.Contains(n.Name) && !NonOutputOps.Contains(n.Op)).Select(n => n.Name).ToList();
        }
    }

    /// <summary>The nodes that make this a training graph (variables and their reads/assignments).</summary>
    public IReadOnlyList<NodeDef> VariableNodes => Proto.Node.Where(n => VariableOps.Contains(n.Op)).ToList();

    public bool IsFrozen => !Proto.Node.Any(n => VariableOps.Contains(n.Op));

    /// <summary>Throws, naming the variables, when the graph still has variables in it.</summary>
    public void EnsureFrozen()
    {
        var variables = VariableNodes;
        if (variables.Count == 0)
            return;
        var names = string.Join(", ", variables.Take(8).Select(n => $"{n.Name} ({n.Op})"));
        var more = variables.Count > 8 ? $" and {variables.Count - 8} more" : "";
        throw new GraphFormatException(SourcePath,
            $"the graph is not frozen: it has {variables.Count} variable node(s): {names}{more}. " +
            "Freeze it first, e.g. in TensorFlow with tf.compat.v1.graph_util.convert_variables_to_constants(sess, graph_def, [output names]) " +
            "(or the freeze_graph tool with the checkpoint), then load the frozen .pb.");
    }

    public TensorValue GetConstant(string name)
    {
        var node = GetNode(name);
        if (node.Op != "Const")
            throw new InvalidOperationException($"Node '{node.Name}' is a {node.Op}, not a Const.");
        var proto = node.GetTensor("value") ?? throw new InvalidDataException($"Const '{node.Name}' has no value.");
        return TensorValue.FromProto(proto, SourcePath is null ? $"Const '{node.Name}'" : $"{SourcePath}: Const '{node.Name}'");
    }

    /// <summary>
    /// Nodes ordered so that every node comes after the nodes it reads (Kahn's algorithm). The back edge of a
    /// TensorFlow 1 while loop (NextIteration into Merge) is not an ordering constraint, as in TensorFlow's executor.
    /// </summary>
    public IReadOnlyList<NodeDef> TopologicalOrder()
    {
        var order = Order(out var cyclic);
        if (cyclic.Count > 0)
            throw new GraphFormatException(SourcePath, $"the graph has a cycle through {string.Join(", ", cyclic.Take(5))} that is not a TensorFlow while loop.");
        return order;
    }

    /// <summary>
    /// <see cref="TopologicalOrder"/> for analysis that must not stop at a malformed cycle: nodes on such a cycle
    /// (named in <paramref name="cyclic"/>) come last, in graph order.
    /// </summary>
    public IReadOnlyList<NodeDef> Order(out IReadOnlyList<string> cyclic)
    {
        var indegree = new Dictionary<string, int>(Proto.Node.Count, StringComparer.Ordinal);
        var consumers = new Dictionary<string, List<NodeDef>>(StringComparer.Ordinal);
        foreach (var node in Proto.Node)
        {
            var deps = node.Input.Select(i => TensorName.Parse(i).Node).Distinct(StringComparer.Ordinal)
                .Where(d => !(node.Op is "Merge" or "RefMerge" && _byName.GetValueOrDefault(d)?.Op is "NextIteration" or "RefNextIteration"))
                .ToList();
            indegree[node.Name] = deps.Count;
            foreach (var dep in deps)
            {
                if (!consumers.TryGetValue(dep, out var list))
                    consumers[dep] = list = [];
                list.Add(node);
            }
        }
        var ready = new Queue<NodeDef>(Proto.Node.Where(n => indegree[n.Name] == 0));
        var order = new List<NodeDef>(Proto.Node.Count);
        while (ready.Count > 0)
        {
            var node = ready.Dequeue();
            order.Add(node);
            if (!consumers.TryGetValue(node.Name, out var list))
                continue;
            foreach (var consumer in list)
            {
                if (--indegree[consumer.Name] == 0)
                    ready.Enqueue(consumer);
            }
        }
        var stuck = Proto.Node.Where(n => indegree[n.Name] > 0).ToList();
        order.AddRange(stuck);
        cyclic = OnCycles(stuck);
        return order;
    }

    /// <summary>
    /// Of the nodes Kahn's algorithm could not order, those on a cycle: readers downstream of a cycle are peeled off
    /// (nodes no other stuck node reads, repeatedly), so a report names the cycle rather than everything after it.
    /// </summary>
    private static List<string> OnCycles(List<NodeDef> stuck)
    {
        var names = stuck.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        var readers = stuck.ToDictionary(n => n.Name, _ => 0, StringComparer.Ordinal);
        foreach (var node in stuck)
        {
            foreach (var dep in node.Input.Select(i => TensorName.Parse(i).Node).Distinct(StringComparer.Ordinal))
            {
                if (names.Contains(dep))
                    readers[dep]++;
            }
        }
        var peel = new Queue<NodeDef>(stuck.Where(n => readers[n.Name] == 0));
        var byName = stuck.ToDictionary(n => n.Name, StringComparer.Ordinal);
        while (peel.Count > 0)
        {
            var node = peel.Dequeue();
            names.Remove(node.Name);
            foreach (var dep in node.Input.Select(i => TensorName.Parse(i).Node).Distinct(StringComparer.Ordinal))
            {
                if (names.Contains(dep) && --readers[dep] == 0)
                    peel.Enqueue(byName[dep]);
            }
        }
        return stuck.Where(n => names.Contains(n.Name)).Select(n => n.Name).ToList();
    }

    /// <summary>Names of every node needed to compute <paramref name="outputs"/>.</summary>
    public HashSet<string> Ancestors(IEnumerable<string> outputs)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>(outputs.Select(o => TensorName.Parse(o).Node));
        while (stack.Count > 0)
        {
            var name = stack.Pop();
            if (!seen.Add(name))
                continue;
            foreach (var input in GetNode(name).Input)
                stack.Push(TensorName.Parse(input).Node);
        }
        return seen;
    }

    public byte[] ToBytes() => Proto.ToByteArray();

    /// <summary>Writes the binary GraphDef atomically.</summary>
    public void Save(string path) => AtomicFile.Write(path, s => Proto.WriteTo(s));
}
