using Google.Protobuf;
using TfPose.Graph.Onnx;
using TfPose.Graph.Ops;
using TfPose.Graph.Proto;

namespace TfPose.Graph.Translation;

/// <summary>What to translate: which outputs, and input shapes to specialise on (null dims stay dynamic).</summary>
public sealed class TranslationOptions
{
    /// <summary>Tensors to compute (<c>node</c> or <c>node:1</c>); default: the graph's natural outputs.</summary>
    public IReadOnlyList<string>? Outputs { get; init; }

    /// <summary>Input shapes in TensorFlow layout; -1 keeps a dimension dynamic.</summary>
    public IReadOnlyDictionary<string, long[]>? InputShapes { get; init; }
}

/// <summary>An ONNX model translated from a GraphDef, with its TensorFlow-named inputs and outputs.</summary>
public sealed record TranslatedModel(byte[] OnnxModel, IReadOnlyList<GraphInput> Inputs, IReadOnlyList<string> Outputs, bool UsesBatchStatistics);

/// <summary>A node TfPose cannot run, with its op and, where there is more to say than the op's name, why.</summary>
public sealed record UnsupportedNode(string Node, string Op, string? Reason = null)
{
    public override string ToString() => Reason is null ? $"{Node} ({Op})" : $"{Node} ({Op}: {Reason})";
}

/// <summary>
/// Translates a frozen TensorFlow GraphDef into an ONNX model that ONNX Runtime executes. Inputs and
/// outputs keep TensorFlow's layout; inside, spatial ops run channels-first with transposes only
/// where a channels-first region begins or ends. Each op's translation is its <see cref="OpUnit"/>'s.
/// </summary>
public static class GraphTranslator
{
    public const int OpsetVersion = 18;

    /// <summary>Every TensorFlow op TfPose translates (directly, or by lowering a fused op into plain ones).</summary>
    public static IReadOnlyList<string> SupportedOps { get; } =
        OpRegistry.All.Where(u => OpRegistry.IsSupported(u.Name)).Select(u => u.Name).Order(StringComparer.Ordinal).ToList();

    public static TranslatedModel Translate(TfGraph graph, TranslationOptions? options = null)
    {
        options ??= new TranslationOptions();
        var shapes = ShapeInference.Infer(graph, options.InputShapes);
        var outputs = (options.Outputs ?? DefaultOutputs(graph, shapes)).Select(o => TensorName.Parse(o)).ToList();
        if (outputs.Count == 0)
            throw new GraphFormatException(graph.SourcePath, "the graph has no outputs to compute.");
        foreach (var output in outputs)
            graph.GetNode(output.Node);
        var lowered = graph.Lowered;
        var needed = lowered.Ancestors(outputs.Select(o => o.Node));
        if (lowered.Nodes.Any(n => needed.Contains(n.Name) && TfGraph.VariableOps.Contains(n.Op)))
            graph.EnsureFrozen();

        var unsupported = Unsupported(lowered, needed, shapes);
        if (unsupported.Count > 0)
            throw new GraphFormatException(graph.SourcePath, Describe(unsupported));
        var problems = shapes.Problems.Where(p => needed.Contains(p.Node)).ToList();
        if (problems.Count > 0)
            throw new GraphFormatException(graph.SourcePath, "the graph is inconsistent: " + string.Join("; ", problems.Take(10).Select(p => $"node '{p.Node}' ({p.Problem})")) +
                (problems.Count > 10 ? $"; and {problems.Count - 10} more" : "") + ".");
        var order = lowered.TopologicalOrder();
        var flow = ControlFlowGraph.Analyze(lowered, shapes, order);

        var builder = new OnnxBuilder();
        var context = new TranslationContext(lowered, shapes, builder, outputs.Select(o => o.Node).ToHashSet(StringComparer.Ordinal), options.InputShapes);
        var regions = new RegionTranslator(flow);
        try
        {
            // The model's inputs in graph order, whatever order the outputs reach them in.
            foreach (var node in order)
            {
                if (needed.Contains(node.Name) && node.Op is "Placeholder" or "PlaceholderV2" or "PlaceholderWithDefault" && flow.NodeContext(node.Name) is not null)
                    TranslateNode(node, context, ref regions.UsesBatchStatistics);
            }
            regions.Translate(context, FlowContext.Root, outputs);
        }
        catch (NotSupportedException ex)
        {
            throw new GraphFormatException(graph.SourcePath, ex.Message, ex);
        }
        var usesBatchStatistics = regions.UsesBatchStatistics;

        var outputNames = new List<string>();
        foreach (var output in outputs)
        {
            var name = output.Index == 0 ? output.Node : output.ToString();
            builder.Node("Identity", [context.Get(output, Layout.Tf)], output: name, name: name + "/output");
            builder.Graph.Output.Add(OnnxBuilder.ValueInfo(name, shapes.Type(output), null));
            outputNames.Add(name);
        }

        var model = new ModelProto
        {
            IrVersion = 8,
            ProducerName = "TfPose",
            ProducerVersion = typeof(GraphTranslator).Assembly.GetName().Version?.ToString() ?? "0",
            Graph = builder.Graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OpsetVersion });
        return new TranslatedModel(model.ToByteArray(), context.GraphInputs, outputNames, usesBatchStatistics);
    }

    /// <summary>
    /// The graph's natural outputs that can be fetched: not inside a while loop or tf.cond (an unused Exit of an inner
    /// loop reads nothing in its parent loop's body) and not on the untaken side of a known predicate.
    /// </summary>
    private static IReadOnlyList<string> DefaultOutputs(TfGraph graph, GraphShapes shapes)
    {
        var outputs = graph.Outputs;
        var lowered = graph.Lowered;
        if (!lowered.Nodes.Any(n => ControlFlowGraph.IsControlFlowOp(n.Op)))
            return outputs;
        var flow = ControlFlowGraph.Analyze(lowered, shapes, lowered.Order(out _));
        return outputs.Where(o => flow.NodeContext(o) is { Kind: FlowKind.Root }).ToList();
    }

    internal static void TranslateNode(NodeDef node, TranslationContext context, ref bool usesBatchStatistics)
    {
        if (node.Op is not ("Placeholder" or "PlaceholderV2" or "PlaceholderWithDefault" or "Const"))
        {
            // Anything computable from constants and static shapes is a constant in the ONNX graph.
            var known = context.Value(new TensorName(node.Name, 0));
            if (known is not null && !context.Shapes.Has(new TensorName(node.Name, 1)))
            {
                context.SetConstant(node, 0, known);
                return;
            }
        }
        if (node.Op.StartsWith("FusedBatchNorm", StringComparison.Ordinal) && node.GetBool("is_training", true))
            usesBatchStatistics = true;
        OpRegistry.Find(node.Op)!.Translate!(node, context);
    }

    /// <summary>Nodes of the graph (needed for <paramref name="outputs"/>, default all outputs) that TfPose cannot run, all of them.</summary>
    public static IReadOnlyList<UnsupportedNode> UnsupportedOps(TfGraph graph, IEnumerable<string>? outputs = null, IReadOnlyDictionary<string, long[]>? inputShapes = null)
    {
        var lowered = graph.Lowered;
        var needed = lowered.Ancestors((outputs ?? graph.Outputs).Select(o => TensorName.Parse(o).Node));
        return Unsupported(lowered, needed, ShapeInference.Infer(graph, inputShapes));
    }

    internal static List<UnsupportedNode> Unsupported(TfGraph lowered, HashSet<string> needed, GraphShapes shapes)
    {
        var result = new List<UnsupportedNode>();
        var order = lowered.Order(out var cyclic);
        var onCycle = cyclic.ToHashSet(StringComparer.Ordinal);
        var flow = ControlFlowGraph.Analyze(lowered, shapes, order);
        var flowProblems = flow.Problems.GroupBy(p => p.Node, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Problem, StringComparer.Ordinal);
        foreach (var node in lowered.Nodes)
        {
            if (!needed.Contains(node.Name) || TfGraph.VariableOps.Contains(node.Op))
                continue;
            if (onCycle.Contains(node.Name))
            {
                result.Add(new UnsupportedNode(node.Name, node.Op, "on a cycle that is not a TensorFlow while loop"));
                continue;
            }
            // The untaken side of a tf.cond whose predicate is known never runs.
            if (flow.NodeContext(node.Name) is null)
                continue;
            if (flowProblems.TryGetValue(node.Name, out var problem))
            {
                result.Add(new UnsupportedNode(node.Name, node.Op, problem));
                continue;
            }
            var unit = OpRegistry.Find(node.Op);
            if (unit?.Translate is not null)
            {
                // While and If run function bodies, which must translate too.
                if (node.Op is "While" or "StatelessWhile" or "If" or "StatelessIf")
                    result.AddRange(FunctionOps.UnsupportedInside(node, lowered, shapes));
                continue;
            }
            // An op TfPose cannot translate is fine when its value is known from constants (shape arithmetic).
            if (unit is null && shapes.Value(new TensorName(node.Name, 0)) is not null && !shapes.Has(new TensorName(node.Name, 1)))
                continue;
            var reason = unit?.Lower is null ? ImportNote(node)
                : FunctionLibrary.CallOps.Contains(node.Op) ? FunctionLibrary.Unsupported(node, lowered)
                : FusedOps.Unsupported(node);
            result.Add(new UnsupportedNode(node.Name, node.Op, reason));
        }
        return result;
    }

    /// <summary>What an importer said of a node it could not map (a TFLite operator's index, and why), or null.</summary>
    private static string? ImportNote(NodeDef node) =>
        node.Attr.TryGetValue(Formats.TfliteImporter.OperatorAttribute, out var note) && note.ValueCase == AttrValue.ValueOneofCase.S
            ? note.S.ToStringUtf8() : null;

    /// <summary>One message naming every unsupported op, with counts and the first few nodes of each.</summary>
    public static string Describe(IReadOnlyList<UnsupportedNode> unsupported)
    {
        var byOp = unsupported.GroupBy(n => n.Op).OrderByDescending(g => g.Count()).Select(g =>
            $"{g.Key} ({string.Join(", ", g.Take(3).Select(n => n.Reason is null ? n.Node : $"{n.Node}: {n.Reason}"))}{(g.Count() > 3 ? $", … {g.Count()} nodes" : "")})");
        return $"{unsupported.Count} node(s) use ops TfPose cannot run: {string.Join("; ", byOp)}.";
    }
}
