using TfPose.Graph.Ops;
using TfPose.Graph.Proto;

namespace TfPose.Graph;

/// <summary>
/// Static shapes, dtypes and, where computable, values (constants and shape arithmetic) for every
/// tensor of a graph at given input shapes. Unknown dimensions are -1; an unknown rank is null.
/// </summary>
public sealed class GraphShapes
{
    private readonly Dictionary<string, long[]?> _shapes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DataType> _types = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TensorValue> _values = new(StringComparer.Ordinal);
    private readonly List<(string Node, string Problem)> _problems = [];

    public long[]? Shape(TensorName t) => _shapes.GetValueOrDefault(t.Key);

    public long[]? Shape(string tensor) => Shape(TensorName.Parse(tensor));

    public DataType Type(TensorName t) => _types.GetValueOrDefault(t.Key, DataType.DtFloat);

    /// <summary>The tensor's value when it is a constant or computable from constants and static shapes.</summary>
    public TensorValue? Value(TensorName t) => _values.GetValueOrDefault(t.Key);

    public int? Rank(TensorName t) => Shape(t)?.Length;

    /// <summary>Whether shape inference set anything for this output (multi-output ops set one entry per output).</summary>
    public bool Has(TensorName t) => _types.ContainsKey(t.Key);

    /// <summary>Nodes whose shape rule found the graph inconsistent (their outputs are left unknown), with why.</summary>
    public IReadOnlyList<(string Node, string Problem)> Problems => _problems;

    internal void Set(string node, int index, long[]? shape, DataType type, TensorValue? value)
    {
        var key = $"{node}:{index}";
        _shapes[key] = shape;
        _types[key] = type;
        if (value is not null)
            _values[key] = value;
        else
            _values.Remove(key);
    }

    internal void AddProblem(string node, string problem) => _problems.Add((node, problem));

    private readonly HashSet<string> _dead = new(StringComparer.Ordinal);

    /// <summary>
    /// Whether the tensor is never computed: it is on the side of a Switch (tf.cond) whose predicate is known and
    /// selects the other side, or downstream of such a tensor.
    /// </summary>
    public bool IsDead(TensorName t) => _dead.Count > 0 && (_dead.Contains(t.Node) || _dead.Contains(t.Key));

    /// <summary>Marks one output (or, with index -1, every output) of a node dead.</summary>
    internal void MarkDead(string node, int index) => _dead.Add(index < 0 ? node : $"{node}:{index}");

    /// <summary>The pass over the graph (0, 1, ...): loops are inferred again until their carried shapes are stable.</summary>
    internal int Pass { get; private set; }

    internal void NextPass()
    {
        Pass++;
        _problems.Clear();
        _dead.Clear();
    }
}

public static class ShapeInference
{
    /// <summary>
    /// Infers every tensor's shape. Never throws for what a graph contains: anything a rule cannot work out
    /// (unknown ops, inconsistent attributes, constants that cannot be decoded) stays unknown, and rules that
    /// found a problem are listed in <see cref="GraphShapes.Problems"/>.
    /// </summary>
    public static GraphShapes Infer(TfGraph graph, IReadOnlyDictionary<string, long[]>? inputShapes = null)
    {
        var lowered = graph.Lowered;
        var result = new GraphShapes();
        var order = lowered.Order(out _);
        while (true)
        {
            foreach (var node in order)
            {
                var context = new ShapeContext(lowered, node, result, inputShapes);
                if (ControlFlowOps.IsDeadNode(lowered, node, result))
                {
                    result.MarkDead(node.Name, -1);
                    context.Unknown();
                    continue;
                }
                try
                {
                    if (OpRegistry.Find(node.Op) is { } unit)
                        unit.Shapes(context);
                    else
                        context.Unknown();
                }
                catch (Exception ex) when (ex is not (OutOfMemoryException or StackOverflowException))
                {
                    result.AddProblem(node.Name, $"{node.Op}: {ex.Message}");
                    context.Unknown();
                }
            }
            // A while loop's carried values start with the shapes of the values entering it; where the body changes
            // them, the next pass starts from both.
            if (!ControlFlowOps.LoopShapesChanged(lowered, order, result))
                return result;
            result.NextPass();
        }
    }

    public static long[]? Broadcast(long[]? a, long[]? b) => ShapeMath.Broadcast(a, b);
}
