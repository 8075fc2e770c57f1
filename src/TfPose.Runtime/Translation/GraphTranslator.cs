using Google.Protobuf;
using TfPose.Graph;
using TfPose.Graph.Proto;
using TfPose.Runtime.Onnx;

namespace TfPose.Runtime.Translation;

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

/// <summary>
/// Translates a frozen TensorFlow GraphDef into an ONNX model that ONNX Runtime executes. Inputs and
/// outputs keep TensorFlow's layout; inside, spatial ops run channels-first with transposes only
/// where a channels-first region begins or ends.
/// </summary>
public static class GraphTranslator
{
    public const int OpsetVersion = 18;

    public static TranslatedModel Translate(TfGraph graph, TranslationOptions? options = null)
    {
        options ??= new TranslationOptions();
        var outputs = (options.Outputs ?? graph.Outputs).Select(o => TensorName.Parse(o)).ToList();
        if (outputs.Count == 0)
            throw new GraphFormatException(graph.SourcePath, "the graph has no outputs to compute.");
        foreach (var output in outputs)
            graph.GetNode(output.Node);
        var needed = graph.Ancestors(outputs.Select(o => o.Node));
        var order = graph.TopologicalOrder().Where(n => needed.Contains(n.Name)).ToList();

        var variables = order.Where(n => TfGraph.VariableOps.Contains(n.Op)).ToList();
        if (variables.Count > 0)
            graph.EnsureFrozen();

        var shapes = ShapeInference.Infer(graph, options.InputShapes);
        var unsupported = order
            .Where(n => !OpConverters.IsSupported(n.Op) && shapes.Value(new TensorName(n.Name, 0)) is null)
            .ToList();
        if (unsupported.Count > 0)
        {
            var byOp = unsupported.GroupBy(n => n.Op).Select(g => $"{g.Key} ({string.Join(", ", g.Take(3).Select(n => n.Name))}{(g.Count() > 3 ? $", … {g.Count()} nodes" : "")})");
            throw new GraphFormatException(graph.SourcePath, $"{unsupported.Count} node(s) use ops TfPose cannot run: {string.Join("; ", byOp)}.");
        }

        var builder = new OnnxBuilder();
        var context = new TranslationContext(graph, shapes, builder, outputs.Select(o => o.Node).ToHashSet(StringComparer.Ordinal));
        var inputs = new List<GraphInput>();
        var usesBatchStatistics = false;
        foreach (var node in order)
        {
            try
            {
                TranslateNode(node, context, builder, inputs, options, ref usesBatchStatistics);
            }
            catch (NotSupportedException ex)
            {
                throw new GraphFormatException(graph.SourcePath, ex.Message, ex);
            }
        }

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
        return new TranslatedModel(model.ToByteArray(), inputs, outputNames, usesBatchStatistics);
    }

    private static void TranslateNode(NodeDef node, TranslationContext context, OnnxBuilder builder, List<GraphInput> inputs,
        TranslationOptions options, ref bool usesBatchStatistics)
    {
        switch (node.Op)
        {
            case "Placeholder" or "PlaceholderV2" or "PlaceholderWithDefault":
            {
                var type = node.GetDataType("dtype", node.Op == "PlaceholderWithDefault" ? context.Type(node.DataInput(0)) : DataType.DtFloat);
                var shape = options.InputShapes?.GetValueOrDefault(node.Name) ?? node.GetShape("shape");
                if (node.Op == "PlaceholderWithDefault")
                {
                    shape ??= context.Shape(node.DataInput(0));
                    // An ONNX input that is also an initializer is optional and defaults to that value.
                    if (context.Value(node.DataInput(0)) is { } fallback)
                        builder.Graph.Initializer.Add(OnnxBuilder.Tensor(node.Name, fallback));
                }
                builder.Graph.Input.Add(OnnxBuilder.ValueInfo(node.Name, type, shape));
                inputs.Add(new GraphInput(node.Name, type, shape));
                context.Set(node, 0, node.Name);
                return;
            }
            case "Const":
                context.SetConstant(node, 0, context.Value(new TensorName(node.Name, 0))!);
                return;
        }
        var known = context.Value(new TensorName(node.Name, 0));
        if (known is not null && context.Shapes.Shape(new TensorName(node.Name, 1)) is null)
        {
            context.SetConstant(node, 0, known);
            return;
        }
        if (node.Op.StartsWith("FusedBatchNorm", StringComparison.Ordinal) && node.GetBool("is_training", true))
            usesBatchStatistics = true;
        OpConverters.Table[node.Op](node, context);
    }

    /// <summary>Ops of the graph (needed for <paramref name="outputs"/>) that no converter handles.</summary>
    public static IReadOnlyList<(string Node, string Op)> UnsupportedOps(TfGraph graph, IEnumerable<string>? outputs = null)
    {
        var needed = graph.Ancestors(outputs ?? graph.Outputs);
        return graph.Nodes.Where(n => needed.Contains(n.Name) && !OpConverters.IsSupported(n.Op) && !TfGraph.VariableOps.Contains(n.Op))
            .Select(n => (n.Name, n.Op)).ToList();
    }
}
