using System.Runtime.InteropServices;
using Google.Protobuf;
using TfPose.Graph.Onnx;
using TfDataType = TfPose.Graph.Proto.DataType;

namespace TfPose.Graph.Translation;

/// <summary>
/// Appends ONNX nodes and initializers with fresh, readable names. A loop body or conditional branch is built by a
/// <see cref="Child"/> builder: it shares the name counter (ONNX forbids a subgraph to redefine any name visible
/// from outside it) and puts its initializers in the main graph, where the subgraph reads them as outer-scope values.
/// </summary>
internal sealed class OnnxBuilder
{
    /// <summary>What every builder of one model shares.</summary>
    private sealed class Scope
    {
        public int Counter;
        public readonly HashSet<string> NodeNames = new(StringComparer.Ordinal);
        public readonly Dictionary<string, TfDataType> Sequences = new(StringComparer.Ordinal);
        public GraphProto Root = null!;
    }

    private readonly Scope _scope;

    public OnnxBuilder()
    {
        _scope = new Scope();
        _scope.Root = Graph;
    }

    private OnnxBuilder(Scope scope, string name)
    {
        _scope = scope;
        Graph.Name = name;
    }

    public GraphProto Graph { get; } = new() { Name = "tfpose" };

    /// <summary>A builder for a subgraph (loop body, branch) of this model.</summary>
    public OnnxBuilder Child(string hint) => new(_scope, Fresh(hint));

    public string Fresh(string hint) => $"{hint}__{_scope.Counter++}";

    /// <summary>Records that an ONNX value is a sequence of tensors of <paramref name="elementType"/> (a TensorArray or TensorList).</summary>
    public void SetSequence(string onnxName, TfDataType elementType) => _scope.Sequences[onnxName] = elementType;

    /// <summary>The element type when the ONNX value is a sequence; null for a tensor.</summary>
    public TfDataType? SequenceType(string onnxName) => _scope.Sequences.TryGetValue(onnxName, out var t) ? t : null;

    public string Node(string op, IEnumerable<string> inputs, string? output = null, string? name = null, params (string Name, object Value)[] attributes)
    {
        output ??= Fresh(op);
        AddNode(op, inputs, [output], name ?? output, attributes);
        return output;
    }

    public string[] NodeMulti(string op, IEnumerable<string> inputs, int outputs, string hint, params (string Name, object Value)[] attributes)
    {
        var names = Enumerable.Range(0, outputs).Select(i => Fresh($"{hint}_{i}")).ToArray();
        AddNode(op, inputs, names, Fresh(hint), attributes);
        return names;
    }

    private void AddNode(string op, IEnumerable<string> inputs, IEnumerable<string> outputs, string name, (string Name, object Value)[] attributes)
    {
        // A TensorFlow node translated more than once (a loop predicate, before the loop and in its body) names
        // several ONNX nodes; ONNX Runtime rejects duplicate node names.
        if (!_scope.NodeNames.Add(name))
        {
            name = Fresh(name);
            _scope.NodeNames.Add(name);
        }
        var node = new NodeProto { OpType = op, Name = name };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        foreach (var (attrName, value) in attributes)
            node.Attribute.Add(Attribute(attrName, value));
        Graph.Node.Add(node);
    }

    private static AttributeProto Attribute(string name, object value)
    {
        var attr = new AttributeProto { Name = name };
        switch (value)
        {
            case int i: attr.Type = AttributeProto.Types.AttributeType.Int; attr.I = i; break;
            case long l: attr.Type = AttributeProto.Types.AttributeType.Int; attr.I = l; break;
            case float f: attr.Type = AttributeProto.Types.AttributeType.Float; attr.F = f; break;
            case string s: attr.Type = AttributeProto.Types.AttributeType.String; attr.S = ByteString.CopyFromUtf8(s); break;
            case long[] ls: attr.Type = AttributeProto.Types.AttributeType.Ints; attr.Ints.AddRange(ls); break;
            case float[] fs: attr.Type = AttributeProto.Types.AttributeType.Floats; attr.Floats.AddRange(fs); break;
            case TensorProto t: attr.Type = AttributeProto.Types.AttributeType.Tensor; attr.T = t; break;
            case GraphProto g: attr.Type = AttributeProto.Types.AttributeType.Graph; attr.G = g; break;
            default: throw new ArgumentException($"Unsupported attribute value {value.GetType().Name}");
        }
        return attr;
    }

    public string Initializer(string hint, TensorValue value)
    {
        var name = Fresh(hint);
        _scope.Root.Initializer.Add(Tensor(name, value));
        return name;
    }

    public string Int64s(string hint, params long[] values) =>
        Initializer(hint, TensorValue.FromArray<long>(TfDataType.DtInt64, [values.Length], values));

    public string Int64Scalar(string hint, long value) =>
        Initializer(hint, TensorValue.FromArray<long>(TfDataType.DtInt64, [], [value]));

    public string Floats(string hint, long[] shape, float[] values) =>
        Initializer(hint, TensorValue.FromArray<float>(TfDataType.DtFloat, shape, values));

    public static TensorProto Tensor(string name, TensorValue value)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)ElementType(value.Type) };
        tensor.Dims.AddRange(value.Shape);
        tensor.RawData = ByteString.CopyFrom(value.Bytes);
        return tensor;
    }

    public static TensorProto.Types.DataType ElementType(TfDataType type) => DataTypes.BaseType(type) switch
    {
        TfDataType.DtFloat => TensorProto.Types.DataType.Float,
        TfDataType.DtDouble => TensorProto.Types.DataType.Double,
        TfDataType.DtInt32 => TensorProto.Types.DataType.Int32,
        TfDataType.DtInt64 => TensorProto.Types.DataType.Int64,
        TfDataType.DtUint8 => TensorProto.Types.DataType.Uint8,
        TfDataType.DtInt8 => TensorProto.Types.DataType.Int8,
        TfDataType.DtInt16 => TensorProto.Types.DataType.Int16,
        TfDataType.DtUint16 => TensorProto.Types.DataType.Uint16,
        TfDataType.DtBool => TensorProto.Types.DataType.Bool,
        TfDataType.DtHalf => TensorProto.Types.DataType.Float16,
        TfDataType.DtBfloat16 => TensorProto.Types.DataType.Bfloat16,
        TfDataType.DtUint32 => TensorProto.Types.DataType.Uint32,
        TfDataType.DtUint64 => TensorProto.Types.DataType.Uint64,
        _ => throw new NotSupportedException($"TensorFlow type {DataTypes.Name(type)} has no ONNX equivalent here."),
    };

    public static ValueInfoProto ValueInfo(string name, TfDataType type, long[]? shape)
    {
        var tensorType = new TypeProto.Types.Tensor { ElemType = (int)ElementType(type) };
        if (shape is not null)
        {
            tensorType.Shape = new TensorShapeProto();
            for (var i = 0; i < shape.Length; i++)
            {
                tensorType.Shape.Dim.Add(shape[i] >= 0
                    ? new TensorShapeProto.Types.Dimension { DimValue = shape[i] }
                    : new TensorShapeProto.Types.Dimension { DimParam = $"{name.Replace(':', '_')}_d{i}" });
            }
        }
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensorType } };
    }

    /// <summary>
    /// A subgraph input or output: a tensor of the element type with no shape (a loop-carried value may change shape
    /// from one iteration to the next), or a sequence when <paramref name="sequence"/>.
    /// </summary>
    public static ValueInfoProto ValueInfoOf(string name, TfDataType type, bool sequence)
    {
        var tensor = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)ElementType(type) } };
        var info = sequence ? new TypeProto { SequenceType = new TypeProto.Types.Sequence { ElemType = tensor } } : tensor;
        return new ValueInfoProto { Name = name, Type = info };
    }

    /// <summary>Permutes a constant's axes at translation time so the ONNX graph carries no Transpose for it.</summary>
    public static TensorValue Permute(TensorValue value, int[] perm)
    {
        var shape = value.Shape;
        var rank = shape.Length;
        var outShape = perm.Select(p => shape[p]).ToArray();
        var size = DataTypes.SizeOf(value.Type);
        var src = value.Bytes;
        var dst = new byte[src.Length];
        var inStrides = new long[rank];
        var acc = 1L;
        for (var i = rank - 1; i >= 0; i--)
        {
            inStrides[i] = acc;
            acc *= shape[i];
        }
        var count = value.Count;
        var index = new long[rank];
        for (long o = 0; o < count; o++)
        {
            long srcOffset = 0;
            for (var d = 0; d < rank; d++)
                srcOffset += index[d] * inStrides[perm[d]];
            src.Slice((int)(srcOffset * size), size).CopyTo(dst.AsSpan((int)(o * size), size));
            for (var d = rank - 1; d >= 0; d--)
            {
                if (++index[d] < outShape[d])
                    break;
                index[d] = 0;
            }
        }
        return new TensorValue(value.Type, outShape, dst);
    }

    public static TensorValue Reshape(TensorValue value, long[] shape) => new(value.Type, shape, MemoryMarshal.AsBytes(value.Bytes).ToArray());
}
