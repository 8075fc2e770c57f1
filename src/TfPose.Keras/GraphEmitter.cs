using Google.Protobuf;
using TfPose.Graph.Proto;
using static TorchSharp.torch;

namespace TfPose.Keras;

/// <summary>
/// What a layer's GraphDef export writes with (<see cref="Layer.ExportGraphDef"/>): nodes with unique names, float
/// and int32 constants, and the pieces several layers share (activation, BiasAdd). Attributes are those TensorFlow
/// itself writes, so consumers that expect them (OpenCV DNN) read the graph.
/// </summary>
internal sealed class GraphEmitter
{
    private readonly GraphDef _graph;
    private readonly HashSet<string> _names = [];

    public GraphEmitter(GraphDef graph, int batch)
    {
        _graph = graph;
        Batch = batch;
    }

    /// <summary>The exported batch size, -1 when the graph takes any batch.</summary>
    public int Batch { get; }

    /// <summary>A node named <paramref name="name"/>, or name_1, name_2, ... when taken.</summary>
    public NodeWriter Node(string name, string op, params string[] inputs)
    {
        var unique = name;
        for (int i = 1; !_names.Add(unique); i++) unique = $"{name}_{i}";
        var n = new NodeDef { Name = unique, Op = op };
        n.Input.AddRange(inputs);
        _graph.Node.Add(n);
        return new NodeWriter(n);
    }

    /// <summary>A float op whose only attribute is T (Relu, Mul, AddV2, ...); returns its name.</summary>
    public string Op(string name, string op, params string[] inputs) => Node(name, op, inputs).FloatType();

    /// <summary>A float32 Const holding <paramref name="value"/> (any device, any float type); returns its name.</summary>
    public string Const(string name, Tensor value)
    {
        using var c = value.detach().cpu().to_type(ScalarType.Float32).contiguous();
        var tp = new TensorProto { Dtype = DataType.DtFloat, TensorShape = Shape(c.shape) };
        tp.TensorContent = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(c.data<float>().ToArray().AsSpan()));
        return Node(name, "Const").FloatType("dtype").Tensor("value", tp);
    }

    /// <summary>An int32 Const of the given shape (a scalar when <paramref name="shape"/> is empty); returns its name.</summary>
    public string ConstInt(string name, int[] values, params long[] shape)
    {
        var tp = new TensorProto { Dtype = DataType.DtInt32, TensorShape = Shape(shape) };
        // Scalars go in int_val, as TensorFlow's make_tensor_proto writes them: OpenCV DNN reads a ConcatV2 axis
        // from int_val only (and aborts the process when it is empty).
        if (shape.Length == 0)
            tp.IntVal.AddRange(values);
        else
            tp.TensorContent = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
        return Node(name, "Const").Type("dtype", DataType.DtInt32).Tensor("value", tp);
    }

    /// <summary>A Keras activation after <paramref name="x"/>; "linear" adds nothing.</summary>
    public string Activation(string x, string activation, string scope) => activation switch
    {
        "linear" => x,
        "relu" => Op(scope + "/Relu", "Relu", x),
        "sigmoid" => Op(scope + "/Sigmoid", "Sigmoid", x),
        "tanh" => Op(scope + "/Tanh", "Tanh", x),
        "softmax" => Op(scope + "/Softmax", "Softmax", x),
        "elu" => Op(scope + "/Elu", "Elu", x),
        "softplus" => Op(scope + "/Softplus", "Softplus", x),
        _ => throw new NotSupportedException($"ExportGraphDef: activation '{activation}' in '{scope}' is not supported."),
    };

    /// <summary>BiasAdd of <paramref name="bias"/> (NHWC), or <paramref name="x"/> itself when the layer has none.</summary>
    public string BiasAdd(string x, Weight? bias, string scope) =>
        bias is null ? x : Node(scope + "/BiasAdd", "BiasAdd", x, Const(scope + "/bias", bias.Value)).FloatType().Str("data_format", "NHWC");

    internal static TensorShapeProto Shape(IEnumerable<long> dims)
    {
        var s = new TensorShapeProto();
        foreach (var d in dims) s.Dim.Add(new TensorShapeProto.Types.Dim { Size = d });
        return s;
    }
}

/// <summary>Sets attributes of a node just added; converts to the node's name, the string other nodes take as input.</summary>
internal readonly struct NodeWriter(NodeDef node)
{
    public string Name => node.Name;

    public static implicit operator string(NodeWriter w) => w.Name;

    /// <summary>A type attribute set to float32 (T, U, dtype).</summary>
    public NodeWriter FloatType(string attr = "T") => Type(attr, DataType.DtFloat);

    public NodeWriter Type(string attr, DataType type) => Set(attr, new AttrValue { Type = type });

    public NodeWriter Bool(string attr, bool value) => Set(attr, new AttrValue { B = value });

    public NodeWriter Int(string attr, long value) => Set(attr, new AttrValue { I = value });

    public NodeWriter Float(string attr, float value) => Set(attr, new AttrValue { F = value });

    public NodeWriter Str(string attr, string value) => Set(attr, new AttrValue { S = ByteString.CopyFromUtf8(value) });

    public NodeWriter Ints(string attr, params long[] values)
    {
        var l = new AttrValue.Types.ListValue();
        l.I.AddRange(values);
        return Set(attr, new AttrValue { List = l });
    }

    public NodeWriter Shape(string attr, IEnumerable<long> dims) => Set(attr, new AttrValue { Shape = GraphEmitter.Shape(dims) });

    public NodeWriter Tensor(string attr, TensorProto value) => Set(attr, new AttrValue { Tensor = value });

    private NodeWriter Set(string attr, AttrValue value)
    {
        node.Attr[attr] = value;
        return this;
    }
}
