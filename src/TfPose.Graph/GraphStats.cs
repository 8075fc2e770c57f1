using TfPose.Graph.Proto;

namespace TfPose.Graph;

/// <summary>Size and cost of a graph at given input shapes: parameters, FLOPs, op histogram.</summary>
public sealed record GraphStats(long Parameters, long Flops, bool FlopsComplete, IReadOnlyList<KeyValuePair<string, int>> OpHistogram)
{
    private static readonly HashSet<string> Elementwise = new(StringComparer.Ordinal)
    {
        "Relu", "Relu6", "Elu", "LeakyRelu", "Sigmoid", "Tanh", "Add", "AddV2", "Sub", "Mul", "RealDiv", "Maximum", "Minimum",
        "Rsqrt", "Sqrt", "Square", "BiasAdd", "Softmax",
    };

    public static GraphStats Compute(TfGraph graph, GraphShapes shapes)
    {
        long parameters = 0;
        long flops = 0;
        var complete = true;
        foreach (var node in graph.Nodes)
        {
            var output = shapes.Shape(new TensorName(node.Name, 0));
            switch (node.Op)
            {
                case "Const":
                {
                    var type = shapes.Type(new TensorName(node.Name, 0));
                    if (type is DataType.DtFloat or DataType.DtHalf or DataType.DtDouble or DataType.DtBfloat16 && output is not null)
                        parameters += TensorValue.ElementCount(output);
                    break;
                }
                case "Conv2D" or "DepthwiseConv2dNative" or "Conv2DBackpropInput" or "MatMul":
                {
                    var filter = shapes.Shape(node.DataInput(1));
                    var reference = node.Op == "Conv2DBackpropInput" ? shapes.Shape(node.DataInput(2)) : output;
                    if (filter is null || reference is null || reference.Any(d => d < 0) || filter.Any(d => d < 0))
                    {
                        complete = false;
                        break;
                    }
                    var outCount = TensorValue.ElementCount(reference);
                    flops += node.Op switch
                    {
                        "Conv2D" => 2 * outCount * filter[0] * filter[1] * filter[2],
                        "DepthwiseConv2dNative" => 2 * outCount * filter[0] * filter[1],
                        "Conv2DBackpropInput" => 2 * outCount * filter[0] * filter[1] * filter[2],
                        _ => 2 * outCount * (node.GetBool("transpose_b", false) ? filter[1] : filter[0]),
                    };
                    break;
                }
                case "FusedBatchNorm" or "FusedBatchNormV2" or "FusedBatchNormV3":
                    if (output is null || output.Any(d => d < 0))
                        complete = false;
                    else
                        flops += 2 * TensorValue.ElementCount(output);
                    break;
                default:
                    if (Elementwise.Contains(node.Op))
                    {
                        if (output is null || output.Any(d => d < 0))
                            complete = false;
                        else
                            flops += TensorValue.ElementCount(output);
                    }
                    break;
            }
        }
        var histogram = graph.Nodes.GroupBy(n => n.Op, StringComparer.Ordinal)
            .Select(g => KeyValuePair.Create(g.Key, g.Count()))
            .OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).ToList();
        return new GraphStats(parameters, flops, complete, histogram);
    }
}
