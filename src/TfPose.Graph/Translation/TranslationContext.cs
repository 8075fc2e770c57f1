using TfPose.Graph.Proto;

namespace TfPose.Graph.Translation;

/// <summary>
/// How a translated 4-D tensor is laid out in ONNX. <see cref="Tf"/>: exactly as TensorFlow has it.
/// <see cref="Nchw"/>: a TensorFlow NHWC tensor held channels-first, as ONNX convolutions want it.
/// Tracking this per tensor lets whole chains of convolutions run channels-first with a transpose
/// only where the graph enters and leaves that region.
/// </summary>
internal enum Layout
{
    Tf,
    Nchw,
}

internal sealed class TranslationContext
{
    public static readonly int[] ToNchw = [0, 3, 1, 2];
    public static readonly int[] ToNhwc = [0, 2, 3, 1];

    /// <summary>Where each TensorFlow axis of an NHWC tensor sits in the channels-first copy.</summary>
    public static readonly int[] NhwcAxisInNchw = [0, 2, 3, 1];

    private readonly Dictionary<string, (string Name, Layout Layout)> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _converted = new(StringComparer.Ordinal);

    private readonly Dictionary<string, long> _physicalChannels = new(StringComparer.Ordinal);
    private readonly IReadOnlySet<string> _fetched;
    private Dictionary<string, List<(NodeDef Node, int Input, int Output)>>? _consumers;
    private readonly TranslationContext? _parent;

    public TranslationContext(TfGraph graph, GraphShapes shapes, OnnxBuilder builder, IReadOnlySet<string>? fetchedNodes = null,
        IReadOnlyDictionary<string, long[]>? inputShapes = null)
    {
        Graph = graph;
        Shapes = shapes;
        Builder = builder;
        _fetched = fetchedNodes ?? new HashSet<string>();
        InputShapes = inputShapes;
        GraphInputs = [];
    }

    /// <summary>
    /// A scope inside <paramref name="parent"/>: a loop body or branch (with a child builder), or the same graph with
    /// some tensors bound differently (a loop predicate evaluated on the initial values). Tensors it does not
    /// translate itself are the parent's, which a subgraph reads as outer-scope values.
    /// </summary>
    public TranslationContext(TranslationContext parent, OnnxBuilder builder)
    {
        _parent = parent;
        Graph = parent.Graph;
        Shapes = parent.Shapes;
        Builder = builder;
        _fetched = parent._fetched;
        InputShapes = parent.InputShapes;
        GraphInputs = parent.GraphInputs;
        Functions = parent.Functions;
    }

    /// <summary>Function bodies being inlined (outermost first), to refuse a function that calls itself.</summary>
    public List<string> Functions { get; } = [];

    /// <summary>Shapes the caller fixed for the graph's inputs (TensorFlow layout).</summary>
    public IReadOnlyDictionary<string, long[]>? InputShapes { get; }

    /// <summary>The ONNX model's inputs, in the order the placeholders were translated.</summary>
    public List<GraphInput> GraphInputs { get; }

    public TfGraph Graph { get; }

    public GraphShapes Shapes { get; }

    public OnnxBuilder Builder { get; }

    public long[]? Shape(TensorName t) => Shapes.Shape(t);

    public int? Rank(TensorName t) => Shapes.Rank(t);

    public TensorValue? Value(TensorName t) => Shapes.Value(t);

    public DataType Type(TensorName t) => Shapes.Type(t);

    private readonly Dictionary<string, TensorValue> _constants = new(StringComparer.Ordinal);

    /// <summary>Whether this scope itself has translated the tensor (not its parents).</summary>
    public bool IsKnown(TensorName t) => _values.ContainsKey(t.Key) || _constants.ContainsKey(t.Key);


    /// <summary>A constant becomes an ONNX initializer only if something reads it as a tensor (filters are re-laid out instead).</summary>
    public void SetConstant(NodeDef node, int index, TensorValue value) => _constants[new TensorName(node.Name, index).Key] = value;

    public void Set(NodeDef node, int index, string onnxName, Layout layout = Layout.Tf) =>
        _values[new TensorName(node.Name, index).Key] = (onnxName, layout);

    /// <summary>Sets an output that is an ONNX sequence of <paramref name="elementType"/> tensors (a TensorArray's flow, a TensorList).</summary>
    public void SetSequence(NodeDef node, int index, string onnxName, DataType elementType)
    {
        Builder.SetSequence(onnxName, elementType);
        Set(node, index, onnxName);
    }

    public void Alias(NodeDef node, TensorName source) => _values[new TensorName(node.Name, 0).Key] = Lookup(source);

    public Layout LayoutOf(TensorName t) => Lookup(t).Layout;

    public (string Name, Layout Layout) Lookup(TensorName t)
    {
        if (_values.TryGetValue(t.Key, out var v))
            return v;
        if (_constants.TryGetValue(t.Key, out var constant))
        {
            var entry = (Builder.Initializer(t.Node, constant), Layout.Tf);
            _values[t.Key] = entry;
            return entry;
        }
        if (_parent is not null)
            return _parent.Lookup(t);
        throw new InvalidOperationException($"Tensor '{t}' was not translated before use.");
    }

    /// <summary>The tensor in the requested layout, inserting (and caching) one Transpose when it differs.</summary>
    public string Get(TensorName t, Layout want)
    {
        var (name, layout) = Lookup(t);
        if (layout == want)
            return name;
        var key = $"{name}->{want}";
        if (_converted.TryGetValue(key, out var cached))
            return cached;
        var perm = want == Layout.Nchw ? ToNchw : ToNhwc;
        var output = Builder.Node("Transpose", [name], attributes: ("perm", perm.Select(p => (long)p).ToArray()));
        _converted[key] = output;
        return output;
    }

    public string Get(TensorName t) => Get(t, Layout.Tf);

    /// <summary>
    /// Channels a channels-first ONNX tensor really holds. It can exceed TensorFlow's count when a converter
    /// appended zero channels to reach whole NCHWc blocks; only convolutions ever read such a tensor.
    /// </summary>
    public long PhysicalChannels(string onnxName, long logical) =>
        _physicalChannels.TryGetValue(onnxName, out var physical) ? physical : _parent?.PhysicalChannels(onnxName, logical) ?? logical;

    public void SetPhysicalChannels(string onnxName, long channels) => _physicalChannels[onnxName] = channels;

    private readonly Dictionary<string, (TensorName Source, float[] Scale)> _channelScales = new(StringComparer.Ordinal);

    /// <summary>
    /// Records that <paramref name="node"/>'s output is <paramref name="source"/> with each channel multiplied by
    /// <paramref name="scale"/>, left for its convolution readers to fold into their filters instead of computing it.
    /// </summary>
    public void SetChannelScale(NodeDef node, TensorName source, float[] scale) => _channelScales[new TensorName(node.Name, 0).Key] = (source, scale);

    public (TensorName Source, float[] Scale)? ChannelScaleOf(TensorName t) => _channelScales.TryGetValue(t.Key, out var v) ? v : _parent?.ChannelScaleOf(t);

    /// <summary>Whether a node's output is fetched by the caller (its layout and channels must then be TensorFlow's).</summary>
    public bool IsFetched(string node) => _fetched.Contains(node);

    /// <summary>Nodes that read any output of <paramref name="node"/> as data: the reader, its input position, the output read.</summary>
    public IReadOnlyList<(NodeDef Node, int Input, int Output)> Consumers(string node)
    {
        if (_parent is not null)
            return _parent.Consumers(node);
        if (_consumers is null)
        {
            _consumers = new Dictionary<string, List<(NodeDef, int, int)>>(StringComparer.Ordinal);
            foreach (var n in Graph.Nodes)
            {
                var i = 0;
                foreach (var input in n.DataInputs())
                {
                    if (!_consumers.TryGetValue(input.Node, out var list))
                        _consumers[input.Node] = list = [];
                    list.Add((n, i++, input.Index));
                }
            }
        }
        return _consumers.TryGetValue(node, out var found) ? found : [];
    }

    /// <summary>A tensor's value as an int64 ONNX tensor (shapes, axes, sizes), folded to an initializer when known.</summary>
    public string GetInt64(TensorName t)
    {
        var value = Value(t);
        if (value is not null)
            return Builder.Initializer("i64", TensorValue.FromArray<long>(DataType.DtInt64, value.Shape, value.ToInt64Array()));
        var name = Get(t);
        return Type(t) == DataType.DtInt64 ? name : Builder.Node("Cast", [name], attributes: ("to", (long)TfPose.Graph.Onnx.TensorProto.Types.DataType.Int64));
    }

    public long[] RequireInts(NodeDef node, int input, string what)
    {
        var value = Value(node.DataInput(input))
            ?? throw new NotSupportedException($"node '{node.Name}' ({node.Op}): {what} must be a constant (or computable from static shapes); fold shapes first with `tfpose graph fold`.");
        return value.ToInt64Array();
    }
}
