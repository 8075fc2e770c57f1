using TfPose.Graph.Proto;
using TfPose.Graph.Translation;

namespace TfPose.Graph;

/// <summary>A graph output with what shape inference found for it.</summary>
public sealed record GraphOutputInfo(string Name, DataType Type, long[]? Shape);

/// <summary>
/// Everything <c>tfpose graph inspect</c> shows about a graph: inputs and outputs, whether it is frozen, size and
/// cost, and every op (with its nodes) that keeps it from running. Built without translating or running anything,
/// and without throwing for anything a readable graph contains, so a user always sees how far a model is.
/// </summary>
public sealed record GraphInspection(
    IReadOnlyList<GraphInput> Inputs,
    IReadOnlyList<GraphOutputInfo> Outputs,
    IReadOnlyList<NodeDef> Variables,
    GraphStats Stats,
    IReadOnlyList<UnsupportedNode> Unsupported,
    IReadOnlyList<(string Node, string Problem)> Problems,
    IReadOnlyDictionary<string, long[]> InputShapes)
{
    public bool IsFrozen => Variables.Count == 0;

    /// <summary>Whether TfPose can run the graph as it is (frozen, every op supported, shapes consistent).</summary>
    public bool Runnable => IsFrozen && Unsupported.Count == 0 && Problems.Count == 0;

    public static GraphInspection Inspect(TfGraph graph, IReadOnlyDictionary<string, long[]>? inputShapes = null)
    {
        // Inputs whose only unknown size is the batch are measured at batch 1, so FLOPs are per item without asking.
        var given = inputShapes ?? new Dictionary<string, long[]>();
        var used = new Dictionary<string, long[]>(given, StringComparer.Ordinal);
        foreach (var input in graph.Inputs)
        {
            if (!used.ContainsKey(input.Name) && input.Shape is [< 0, ..] shape && shape.Skip(1).All(d => d >= 0))
                used[input.Name] = [1, .. shape.Skip(1)];
        }
        inputShapes = used;
        var shapes = ShapeInference.Infer(graph, inputShapes);
        var outputs = graph.Outputs.Where(o => graph.FindNode(o) is not null).ToList();
        var outputInfo = outputs.Select(o => new GraphOutputInfo(o, shapes.Type(TensorName.Parse(o)), shapes.Shape(o))).ToList();
        var unsupported = GraphTranslator.UnsupportedOps(graph, outputs, inputShapes);
        return new GraphInspection(graph.Inputs, outputInfo, graph.VariableNodes, GraphStats.Compute(graph, shapes), unsupported, shapes.Problems, used);
    }
}
