using Google.Protobuf;
using TfPose.Graph;
using TfPose.Graph.Proto;

namespace TfPose.Tests;

/// <summary>Builds small GraphDefs in tests, the way TensorFlow would write them.</summary>
internal sealed class TfGraphBuilder
{
    public GraphDef Graph { get; } = new();

    public string Placeholder(string name, params long[] shape)
    {
        var node = Add(name, "Placeholder");
        node.Attr["dtype"] = new AttrValue { Type = DataType.DtFloat };
        node.Attr["shape"] = new AttrValue { Shape = TensorValue.ShapeProto(shape) };
        return name;
    }

    public string Const(string name, float[] values, params long[] shape) =>
        ConstValue(name, TensorValue.FromArray<float>(DataType.DtFloat, shape, values));

    public string ConstInt(string name, int[] values, params long[] shape) =>
        ConstValue(name, TensorValue.FromArray<int>(DataType.DtInt32, shape, values));

    public string ConstValue(string name, TensorValue value)
    {
        var node = Add(name, "Const");
        node.Attr["dtype"] = new AttrValue { Type = value.Type };
        node.Attr["value"] = new AttrValue { Tensor = value.ToProto() };
        return name;
    }

    public NodeDef Op(string name, string op, params string[] inputs)
    {
        var node = Add(name, op);
        node.Input.AddRange(inputs);
        node.Attr["T"] = new AttrValue { Type = DataType.DtFloat };
        return node;
    }

    private NodeDef Add(string name, string op)
    {
        var node = new NodeDef { Name = name, Op = op };
        Graph.Node.Add(node);
        return node;
    }

    public TfGraph Build() => TfGraph.Parse(Graph.ToByteArray(), "test-graph");

    public static AttrValue Ints(params long[] values)
    {
        var list = new AttrValue.Types.ListValue();
        list.I.AddRange(values);
        return new AttrValue { List = list };
    }

    public static AttrValue Str(string s) => new() { S = ByteString.CopyFromUtf8(s) };

    /// <summary>A placeholder of any dtype; a null shape has unknown rank (ops-math's name for <see cref="PlaceholderOf"/>).</summary>
    public string TypedPlaceholder(string name, DataType type, long[]? shape) => PlaceholderOf(name, type, shape);

    /// <summary>A placeholder of any dtype; -1 dims are unknown, and a null shape leaves even the rank unknown.</summary>
    public string PlaceholderOf(string name, DataType type, long[]? shape)
    {
        var node = Add(name, "Placeholder");
        node.Attr["dtype"] = new AttrValue { Type = type };
        node.Attr["shape"] = new AttrValue { Shape = shape is null ? new TensorShapeProto { UnknownRank = true } : TensorValue.ShapeProto(shape) };
        return name;
    }

    public string ConstLong(string name, long[] values, params long[] shape) =>
        ConstValue(name, TensorValue.FromArray<long>(DataType.DtInt64, shape, values));

    public string ConstBool(string name, bool[] values, params long[] shape) =>
        ConstValue(name, TensorValue.FromArray<bool>(DataType.DtBool, shape, values));

    /// <summary>An op whose T attribute is <paramref name="type"/>.</summary>
    public NodeDef Op(string name, string op, DataType type, params string[] inputs)
    {
        var node = Op(name, op, inputs);
        node.Attr["T"] = new AttrValue { Type = type };
        return node;
    }

    /// <summary>A node with no T attribute set (set the op's own type attributes on the result).</summary>
    public NodeDef Raw(string name, string op, params string[] inputs)
    {
        var node = Add(name, op);
        node.Input.AddRange(inputs);
        return node;
    }

    public static AttrValue Type(DataType type) => new() { Type = type };
}
