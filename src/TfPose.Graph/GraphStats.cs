using TfPose.Graph.Ops;
using TfPose.Graph.Proto;

namespace TfPose.Graph;

/// <summary>Size and cost of a graph at given input shapes: parameters, FLOPs, op histogram.</summary>
public sealed record GraphStats(long Parameters, long Flops, bool FlopsComplete, IReadOnlyList<KeyValuePair<string, int>> OpHistogram)
{
    /// <summary>
    /// Parameters are the elements of floating-point constants and of quantized weights; FLOPs are each op unit's count at the inferred
    /// shapes (fused ops count as the plain ops they stand for); the histogram is of the graph as written.
    /// </summary>
    public static GraphStats Compute(TfGraph graph, GraphShapes shapes)
    {
        long parameters = 0;
        long flops = 0;
        var complete = true;
        // Quantized weights are the integers a UniformDequantize reads; its scales and zero points are not parameters.
        var quantized = new HashSet<string>(StringComparer.Ordinal);
        var quantization = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in graph.Lowered.Nodes.Where(n => n.Op is "UniformDequantize" or "UniformQuantize"))
        {
            var inputs = node.DataInputs().ToList();
            if (node.Op == "UniformDequantize" && inputs.Count > 0)
                quantized.Add(inputs[0].Node);
            quantization.UnionWith(inputs.Skip(1).Select(i => i.Node));
        }
        foreach (var node in graph.Lowered.Nodes)
        {
            if (node.Op == "Const")
            {
                var type = shapes.Type(new TensorName(node.Name, 0));
                var counted = quantized.Contains(node.Name) ||
                    type is DataType.DtFloat or DataType.DtHalf or DataType.DtDouble or DataType.DtBfloat16 && !quantization.Contains(node.Name);
                if (counted && shapes.Shape(new TensorName(node.Name, 0)) is { } shape)
                    parameters += TensorValue.ElementCount(shape);
                continue;
            }
            if (OpRegistry.Find(node.Op)?.Flops is not { } rule)
                continue;
            if (rule(node, shapes) is { } count)
                flops += count;
            else
                complete = false;
        }
        var histogram = graph.Nodes.GroupBy(n => n.Op, StringComparer.Ordinal)
            .Select(g => KeyValuePair.Create(g.Key, g.Count()))
            .OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).ToList();
        return new GraphStats(parameters, flops, complete, histogram);
    }
}
