using TfPose.Graph.Proto;

namespace TfPose.Graph.Ops;

/// <summary>What a shape rule sees of one node: its inputs' shapes, dtypes and known values, and where to put its outputs'.</summary>
internal sealed class ShapeContext
{
    private readonly GraphShapes _result;
    private readonly TensorName[] _inputs;

    public ShapeContext(TfGraph graph, NodeDef node, GraphShapes result, IReadOnlyDictionary<string, long[]>? inputShapes)
    {
        Graph = graph;
        Node = node;
        _result = result;
        InputShapes = inputShapes;
        _inputs = node.DataInputs().ToArray();
    }

    public TfGraph Graph { get; }

    /// <summary>Every tensor's shapes so far (control-flow rules look past their own inputs: TensorArrays, dead branches).</summary>
    internal GraphShapes Shapes => _result;

    public NodeDef Node { get; }

    /// <summary>Shapes the caller fixed for the graph's placeholders.</summary>
    public IReadOnlyDictionary<string, long[]>? InputShapes { get; }

    public int InputCount => _inputs.Length;

    public TensorName Input(int i) => _inputs[i];

    public long[]? Shape(int i) => i < _inputs.Length ? _result.Shape(_inputs[i]) : null;

    public int? Rank(int i) => Shape(i)?.Length;

    /// <summary>The inferred shape of any tensor before this node (e.g. what a Shape node reading it reports).</summary>
    public long[]? ShapeOf(TensorName t) => _result.Shape(t);

    public DataType Type(int i) => i < _inputs.Length ? _result.Type(_inputs[i]) : DataType.DtFloat;

    public TensorValue? Value(int i) => i < _inputs.Length ? _result.Value(_inputs[i]) : null;

    /// <summary>An integer input's value (axes, sizes, permutations) widened to long, or null when not known.</summary>
    public long[]? Ints(int i) => Value(i) is { } v && ShapeMath.IsInteger(v) ? v.ToInt64Array() : null;

    public void Set(int output, long[]? shape, DataType type, TensorValue? value = null) => _result.Set(Node.Name, output, shape, type, value);

    /// <summary>Output 0 has input <paramref name="input"/>'s shape and dtype (element-wise ops).</summary>
    public void SameAsInput(int input = 0) => Set(0, Shape(input), Type(input));

    /// <summary>Output <paramref name="output"/> of unknown rank.</summary>
    public void Unknown(int output = 0, DataType? type = null) => Set(output, null, type ?? Type(0));

    public string GetString(string attr, string fallback) => Node.GetString(attr, fallback);
}
