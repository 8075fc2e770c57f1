using TfPose.Graph.Proto;

namespace TfPose.Graph.Ops;

/// <summary>Rewrites the nodes whose op unit lowers them (fused ops) into their plain forms, once per graph.</summary>
internal static class OpLowering
{
    public static TfGraph Lower(TfGraph graph)
    {
        var lowerings = new Dictionary<string, Lowering>(StringComparer.Ordinal);
        foreach (var node in graph.Nodes)
        {
            if (OpRegistry.Find(node.Op)?.Lower is { } rule && rule(node, graph) is { } lowering)
                lowerings[node.Name] = lowering;
        }
        if (lowerings.Count == 0)
            return graph;
        var proto = new GraphDef { Versions = graph.Proto.Versions?.Clone(), Library = graph.Proto.Library?.Clone() };
        foreach (var node in graph.Nodes)
        {
            if (lowerings.TryGetValue(node.Name, out var lowering))
            {
                proto.Node.AddRange(lowering.Nodes);
                continue;
            }
            var copy = node.Clone();
            for (var i = 0; i < copy.Input.Count; i++)
            {
                var input = TensorName.Parse(copy.Input[i]);
                if (!input.IsControl && input.Index > 0 && lowerings.TryGetValue(input.Node, out var source) &&
                    source.Renamed?.GetValueOrDefault(input.Index) is { } renamed)
                    copy.Input[i] = renamed;
            }
            proto.Node.Add(copy);
        }
        return new TfGraph(proto, graph.SourcePath);
    }
}
