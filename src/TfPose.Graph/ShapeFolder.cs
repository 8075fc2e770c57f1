using Google.Protobuf;
using TfPose.Graph.Proto;

namespace TfPose.Graph;

/// <summary>
/// "Fold shapes": for fixed input shapes, replaces every run-time shape computation (Shape,
/// StridedSlice, Pack, ... over static shapes) with a constant, pins the placeholders' shapes and
/// drops nodes nothing needs any more. Runtimes that cannot evaluate shape subgraphs (OpenCV DNN)
/// can then load the graph.
/// </summary>
public static class ShapeFolder
{
    private const long MaxFoldedElements = 1 << 16;

    public static TfGraph Fold(TfGraph graph, IReadOnlyDictionary<string, long[]> inputShapes, IReadOnlyList<string>? outputs = null)
    {
        foreach (var name in inputShapes.Keys)
        {
            var node = graph.GetNode(name);
            if (node.Op is not ("Placeholder" or "PlaceholderV2" or "PlaceholderWithDefault"))
                throw new ArgumentException($"'{name}' is a {node.Op}, not a Placeholder; only graph inputs take a shape.");
        }
        var shapes = ShapeInference.Infer(graph, inputShapes);
        var proto = graph.Proto.Clone();
        outputs ??= graph.Outputs;
        var folded = 0;
        for (var i = 0; i < proto.Node.Count; i++)
        {
            var node = proto.Node[i];
            // A while loop's or tf.cond's own nodes are its structure, whatever value passes through them.
            if (node.Op is "Const" or "Placeholder" or "PlaceholderV2" or "Identity" || Translation.ControlFlowGraph.IsControlFlowOp(node.Op))
                continue;
            var value = shapes.Value(new TensorName(node.Name, 0));
            if (value is null || value.Count > MaxFoldedElements || value.Type is not (DataType.DtInt32 or DataType.DtInt64))
                continue;
            // Only nodes with a single output can be replaced by one Const.
            if (shapes.Shape(new TensorName(node.Name, 1)) is not null)
                continue;
            proto.Node[i] = MakeConst(node.Name, value);
            folded++;
        }
        foreach (var node in proto.Node)
        {
            if (inputShapes.TryGetValue(node.Name, out var shape))
            {
                node.Attr["shape"] = new AttrValue { Shape = TensorValue.ShapeProto(shape) };
                if (node.Op == "PlaceholderWithDefault")
                    node.Op = "Placeholder";
                if (node.Op == "Placeholder")
                    node.Input.Clear();
            }
        }
        var result = new TfGraph(proto, graph.SourcePath);
        Prune(result, outputs);
        return result;
    }

    /// <summary>Removes nodes that none of <paramref name="outputs"/> depends on (placeholders are kept).</summary>
    public static void Prune(TfGraph graph, IReadOnlyList<string> outputs)
    {
        var keep = graph.Ancestors(outputs);
        var nodes = graph.Proto.Node.Where(n => keep.Contains(n.Name) || n.Op == "Placeholder").ToList();
        graph.Proto.Node.Clear();
        graph.Proto.Node.AddRange(nodes);
        graph.Reindex();
    }

    public static NodeDef MakeConst(string name, TensorValue value)
    {
        var node = new NodeDef { Name = name, Op = "Const" };
        node.Attr["dtype"] = new AttrValue { Type = value.Type };
        node.Attr["value"] = new AttrValue { Tensor = value.ToProto() };
        return node;
    }
}
