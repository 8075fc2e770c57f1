using System.Runtime.InteropServices;
using Google.FlatBuffers;

namespace TfPose.Tests;

/// <summary>
/// Writes small TensorFlow Lite models (schema v3 flatbuffers) in tests with Google.FlatBuffers' builder: one subgraph of
/// tensors, buffers and operators, as TensorFlow Lite's converter lays them out (buffer 0 the empty sentinel).
/// </summary>
internal sealed class TfliteModelBuilder
{
    public const sbyte Float32 = 0, Float16 = 1, Int32 = 2, UInt8 = 3, Int64 = 4, Bool = 6, Int16 = 7, Int8 = 9;

    private sealed record TensorSpec(string Name, sbyte Type, int[] Shape, int Buffer, int[]? Signature, float[]? Scale, long[]? ZeroPoint, int Dimension);

    private sealed record OperatorSpec(int Code, string? Custom, int[] Inputs, int[] Outputs, byte OptionsType, Func<FlatBufferBuilder, int>? Options,
        byte[]? CustomOptions = null, int Version = 1);

    private readonly List<TensorSpec> _tensors = [];
    private readonly List<byte[]> _buffers = [[]];
    private readonly List<OperatorSpec> _operators = [];
    private readonly List<int> _inputs = [];
    private readonly List<int> _outputs = [];
    private readonly List<(string Key, (string, int)[] Inputs, (string, int)[] Outputs)> _signatures = [];
    private readonly List<(string Name, int Buffer)> _metadata = [];
    private readonly List<TfliteModelBuilder> _subgraphs = [];
    private TfliteModelBuilder? _parent;

    /// <summary>The builder of the main subgraph, which holds the buffers, codes and subgraph list of the whole model.</summary>
    private TfliteModelBuilder Root => _parent ?? this;

    /// <summary>
    /// Another subgraph (for IF and WHILE to call): a builder of its own tensors, operators, inputs and outputs, whose
    /// constants share the model's buffers. Its index in the model is <paramref name="index"/> (the main one is 0).
    /// </summary>
    public TfliteModelBuilder Subgraph(out int index)
    {
        var child = new TfliteModelBuilder { _parent = Root };
        Root._subgraphs.Add(child);
        index = Root._subgraphs.Count;
        return child;
    }

    public uint Version { get; set; } = 3;

    /// <summary>Store constant data past the flatbuffer with offset/size, as TensorFlow Lite does for models over 2 GB.</summary>
    public bool ExternalBuffers { get; set; }

    public int Tensor(string name, sbyte type, int[] shape, int[]? signature = null, float[]? scale = null, long[]? zeroPoint = null, int dimension = 0)
    {
        _tensors.Add(new TensorSpec(name, type, shape, 0, signature, scale, zeroPoint, dimension));
        return _tensors.Count - 1;
    }

    public int Input(string name, int[] shape, sbyte type = Float32, int[]? signature = null, float[]? scale = null, long[]? zeroPoint = null)
    {
        var t = Tensor(name, type, shape, signature, scale, zeroPoint);
        _inputs.Add(t);
        return t;
    }

    public void Output(int tensor) => _outputs.Add(tensor);

    public int Const<T>(string name, sbyte type, int[] shape, T[] values, float[]? scale = null, long[]? zeroPoint = null, int dimension = 0) where T : unmanaged
    {
        Root._buffers.Add(MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
        _tensors.Add(new TensorSpec(name, type, shape, Root._buffers.Count - 1, null, scale, zeroPoint, dimension));
        return _tensors.Count - 1;
    }

    public int Floats(string name, float[] values, params int[] shape) => Const(name, Float32, shape, values);

    public int Ints(string name, int[] values, params int[] shape) => Const(name, Int32, shape, values);

    public int Halves(string name, float[] values, params int[] shape) => Const(name, Float16, shape, Array.ConvertAll(values, v => (Half)v));

    /// <summary>An operator by builtin code; <paramref name="options"/> writes its options table (see <see cref="Options"/>).</summary>
    public void Operator(int code, int[] inputs, int[] outputs, byte optionsType = 0, Func<FlatBufferBuilder, int>? options = null) =>
        _operators.Add(new OperatorSpec(code, null, inputs, outputs, optionsType, options));

    /// <summary>BuiltinOperator codes, from TensorFlow Lite's schema.fbs (written out here, not taken from the code under test).</summary>
    public static readonly Dictionary<string, int> Builtins = new()
    {
        ["ADD"] = 0, ["AVERAGE_POOL_2D"] = 1, ["CONCATENATION"] = 2, ["CONV_2D"] = 3, ["DEPTHWISE_CONV_2D"] = 4, ["DEPTH_TO_SPACE"] = 5,
        ["DEQUANTIZE"] = 6, ["EMBEDDING_LOOKUP"] = 7, ["FLOOR"] = 8, ["FULLY_CONNECTED"] = 9, ["L2_NORMALIZATION"] = 11,
        ["L2_POOL_2D"] = 12, ["LOCAL_RESPONSE_NORMALIZATION"] = 13, ["LOGISTIC"] = 14, ["LSTM"] = 16, ["MAX_POOL_2D"] = 17, ["MUL"] = 18,
        ["RELU"] = 19, ["RELU_N1_TO_1"] = 20, ["RELU6"] = 21, ["RESHAPE"] = 22, ["RESIZE_BILINEAR"] = 23, ["SOFTMAX"] = 25,
        ["SPACE_TO_DEPTH"] = 26, ["TANH"] = 28, ["PAD"] = 34, ["GATHER"] = 36, ["BATCH_TO_SPACE_ND"] = 37, ["SPACE_TO_BATCH_ND"] = 38,
        ["TRANSPOSE"] = 39, ["MEAN"] = 40, ["SUB"] = 41, ["DIV"] = 42, ["SQUEEZE"] = 43, ["STRIDED_SLICE"] = 45, ["EXP"] = 47,
        ["TOPK_V2"] = 48, ["SPLIT"] = 49, ["LOG_SOFTMAX"] = 50, ["CAST"] = 53, ["PRELU"] = 54, ["MAXIMUM"] = 55, ["ARG_MAX"] = 56,
        ["MINIMUM"] = 57, ["LESS"] = 58, ["NEG"] = 59, ["PADV2"] = 60, ["GREATER"] = 61, ["GREATER_EQUAL"] = 62, ["LESS_EQUAL"] = 63,
        ["SELECT"] = 64, ["SLICE"] = 65, ["SIN"] = 66, ["TRANSPOSE_CONV"] = 67, ["SPARSE_TO_DENSE"] = 68, ["TILE"] = 69,
        ["EXPAND_DIMS"] = 70, ["EQUAL"] = 71, ["NOT_EQUAL"] = 72, ["LOG"] = 73, ["SUM"] = 74, ["SQRT"] = 75, ["RSQRT"] = 76, ["SHAPE"] = 77,
        ["POW"] = 78, ["ARG_MIN"] = 79, ["REDUCE_PROD"] = 81, ["REDUCE_MAX"] = 82, ["PACK"] = 83, ["LOGICAL_OR"] = 84, ["ONE_HOT"] = 85,
        ["LOGICAL_AND"] = 86, ["LOGICAL_NOT"] = 87, ["UNPACK"] = 88, ["REDUCE_MIN"] = 89, ["FLOOR_DIV"] = 90, ["REDUCE_ANY"] = 91,
        ["SQUARE"] = 92, ["ZEROS_LIKE"] = 93, ["FILL"] = 94, ["FLOOR_MOD"] = 95, ["RANGE"] = 96, ["RESIZE_NEAREST_NEIGHBOR"] = 97,
        ["LEAKY_RELU"] = 98, ["SQUARED_DIFFERENCE"] = 99, ["MIRROR_PAD"] = 100, ["ABS"] = 101, ["SPLIT_V"] = 102, ["CEIL"] = 104,
        ["REVERSE_V2"] = 105, ["ADD_N"] = 106, ["GATHER_ND"] = 107, ["COS"] = 108, ["WHERE"] = 109, ["RANK"] = 110, ["ELU"] = 111,
        ["QUANTIZE"] = 114, ["ROUND"] = 116, ["HARD_SWISH"] = 117, ["NON_MAX_SUPPRESSION_V4"] = 120, ["NON_MAX_SUPPRESSION_V5"] = 121,
        ["SELECT_V2"] = 123, ["BATCH_MATMUL"] = 126, ["CUMSUM"] = 128, ["BROADCAST_TO"] = 130, ["REDUCE_ALL"] = 140, ["GELU"] = 150,
        ["RELU_0_TO_1"] = 152, ["ATAN2"] = 156, ["SIGN"] = 158, ["IF"] = 118, ["WHILE"] = 119,
    };

    /// <summary>BuiltinOptions union type values, from schema.fbs (NONE = 0, then the union's members in order).</summary>
    public static readonly Dictionary<string, byte> OptionTypes = new()
    {
        ["Conv2D"] = 1, ["DepthwiseConv2D"] = 2, ["Pool2D"] = 5, ["FullyConnected"] = 8, ["Softmax"] = 9, ["Concatenation"] = 10,
        ["Add"] = 11, ["L2Norm"] = 12, ["ResizeBilinear"] = 15, ["Reshape"] = 17, ["SpaceToDepth"] = 19, ["Mul"] = 21, ["Gather"] = 23,
        ["Reducer"] = 27, ["Sub"] = 28, ["Div"] = 29, ["Squeeze"] = 30, ["StridedSlice"] = 32, ["Split"] = 35, ["ArgMax"] = 40,
        ["TransposeConv"] = 49, ["SparseToDense"] = 50, ["Shape"] = 55, ["ArgMin"] = 57, ["Pack"] = 59, ["OneHot"] = 61, ["Unpack"] = 64,
        ["ResizeNearestNeighbor"] = 74, ["LeakyRelu"] = 75, ["MirrorPad"] = 77, ["SplitV"] = 79, ["DepthToSpace"] = 94,
        ["BatchMatMul"] = 101, ["Cumsum"] = 102, ["Gelu"] = 116, ["If"] = 92, ["While"] = 93,
    };

    /// <summary>An operator by builtin name; its options table has the union type named <paramref name="optionsType"/>.</summary>
    public void Operator(string name, int[] inputs, int[] outputs, string? optionsType = null, Func<FlatBufferBuilder, int>? options = null) =>
        Operator(Builtins[name], inputs, outputs, optionsType is null ? (byte)0 : OptionTypes[optionsType], options ?? (optionsType is null ? null : Options()));

    /// <summary>A custom operator; <paramref name="options"/> become its custom_options bytes, <paramref name="version"/> its code's version.</summary>
    public void Custom(string name, int[] inputs, int[] outputs, byte[]? options = null, int version = 1) =>
        _operators.Add(new OperatorSpec(32, name, inputs, outputs, 0, null, options, version));

    public void Signature(string key, (string, int)[] inputs, (string, int)[] outputs) => _signatures.Add((key, inputs, outputs));

    public void Metadata(string name, byte[] data)
    {
        _buffers.Add(data);
        _metadata.Add((name, _buffers.Count - 1));
    }

    /// <summary>An options table with the given fields: byte, sbyte, bool, int, float, long or int[] values by field id.</summary>
    public static Func<FlatBufferBuilder, int> Options(params (int Id, object Value)[] fields) => fb =>
    {
        var vectors = new Dictionary<int, VectorOffset>();
        foreach (var (id, value) in fields)
        {
            if (value is int[] list)
                vectors[id] = IntVector(fb, list);
        }
        fb.StartTable(fields.Length == 0 ? 0 : fields.Max(f => f.Id) + 1);
        foreach (var (id, value) in fields)
        {
            switch (value)
            {
                case byte b: fb.AddByte(id, b, 0); break;
                case sbyte sb: fb.AddSbyte(id, sb, 0); break;
                case bool flag: fb.AddBool(id, flag, false); break;
                case int i: fb.AddInt(id, i, 0); break;
                case float f: fb.AddFloat(id, f, 0); break;
                case long l: fb.AddLong(id, l, 0); break;
                case int[]: fb.AddOffset(id, vectors[id].Value, 0); break;
                default: throw new ArgumentException($"options field {id}: {value.GetType()}");
            }
        }
        return fb.EndTable();
    };

    public byte[] Build(string identifier = "TFL3")
    {
        if (!ExternalBuffers)
            return Serialize(identifier, 0);
        // Offsets of outside data depend on the flatbuffer's size, which does not depend on their values: size it, then write.
        var size = Serialize(identifier, 1 << 20).Length;
        var start = (size + 15) / 16 * 16;
        var model = Serialize(identifier, start);
        if (model.Length != size)
            throw new InvalidOperationException("the flatbuffer changed size between passes");
        var file = new List<byte>(model);
        foreach (var data in _buffers.Skip(1))
        {
            while (file.Count % 16 != 0)
                file.Add(0);
            file.AddRange(data);
        }
        while (file.Count < start)
            file.Add(0);
        return [.. file];
    }

    private byte[] Serialize(string identifier, long externalStart)
    {
        var fb = new FlatBufferBuilder(1024);
        var codes = _operators.Concat(_subgraphs.SelectMany(g => g._operators)).Select(o => (o.Code, o.Custom, o.Version)).Distinct().ToList();

        var bufferOffsets = new int[_buffers.Count];
        var position = externalStart;
        for (var i = 0; i < _buffers.Count; i++)
        {
            var data = _buffers[i];
            if (externalStart > 0 && data.Length > 0)
            {
                position = (position + 15) / 16 * 16;
                fb.StartTable(3);
                fb.AddUlong(1, (ulong)position, 0);
                fb.AddUlong(2, (ulong)data.Length, 0);
                bufferOffsets[i] = fb.EndTable();
                position += data.Length;
                continue;
            }
            VectorOffset? vector = data.Length > 0 ? ByteVector(fb, data) : null;
            fb.StartTable(1);
            if (vector is { } v)
                fb.AddOffset(0, v.Value, 0);
            bufferOffsets[i] = fb.EndTable();
        }
        var buffers = TableVector(fb, bufferOffsets);

        var subgraphs = TableVector(fb, [.. new[] { this }.Concat(_subgraphs).Select((g, i) => g.WriteSubgraph(fb, codes, i == 0 ? "main" : $"subgraph_{i}"))]);

        var codeOffsets = codes.Select(c =>
        {
            StringOffset? custom = c.Custom is null ? null : fb.CreateString(c.Custom);
            fb.StartTable(4);
            fb.AddSbyte(0, (sbyte)Math.Min(c.Code, 127), 0);
            if (custom is { } s)
                fb.AddOffset(1, s.Value, 0);
            fb.AddInt(2, c.Version, 1);
            fb.AddInt(3, c.Code, 0);
            return fb.EndTable();
        }).ToArray();
        var operatorCodes = TableVector(fb, codeOffsets);

        var signatureOffsets = _signatures.Select(s =>
        {
            int Map((string Name, int Tensor) m)
            {
                var n = fb.CreateString(m.Name);
                fb.StartTable(2);
                fb.AddOffset(0, n.Value, 0);
                fb.AddUint(1, (uint)m.Tensor, 0);
                return fb.EndTable();
            }
            var ins = TableVector(fb, s.Inputs.Select(Map).ToArray());
            var outs = TableVector(fb, s.Outputs.Select(Map).ToArray());
            var key = fb.CreateString(s.Key);
            fb.StartTable(5);
            fb.AddOffset(0, ins.Value, 0);
            fb.AddOffset(1, outs.Value, 0);
            fb.AddOffset(2, key.Value, 0);
            fb.AddUint(4, 0, 0);
            return fb.EndTable();
        }).ToArray();
        var signatures = TableVector(fb, signatureOffsets);
        var metadataOffsets = _metadata.Select(m =>
        {
            var n = fb.CreateString(m.Name);
            fb.StartTable(2);
            fb.AddOffset(0, n.Value, 0);
            fb.AddUint(1, (uint)m.Buffer, 0);
            return fb.EndTable();
        }).ToArray();
        var metadata = TableVector(fb, metadataOffsets);
        var description = fb.CreateString("TfPose test model");

        fb.StartTable(8);
        fb.AddUint(0, Version, 0);
        fb.AddOffset(1, operatorCodes.Value, 0);
        fb.AddOffset(2, subgraphs.Value, 0);
        fb.AddOffset(3, description.Value, 0);
        fb.AddOffset(4, buffers.Value, 0);
        fb.AddOffset(6, metadata.Value, 0);
        fb.AddOffset(7, signatures.Value, 0);
        var root = fb.EndTable();
        fb.Finish(root, identifier);
        return fb.SizedByteArray();
    }

    private int WriteSubgraph(FlatBufferBuilder fb, List<(int Code, string? Custom, int Version)> codes, string name)
    {
        var tensorOffsets = _tensors.Select(t =>
        {
            var name = fb.CreateString(t.Name);
            var shape = IntVector(fb, t.Shape);
            VectorOffset? signature = t.Signature is null ? null : IntVector(fb, t.Signature);
            int? quantization = null;
            if (t.Scale is not null)
            {
                var scale = FloatVector(fb, t.Scale);
                var zero = LongVector(fb, t.ZeroPoint ?? new long[t.Scale.Length]);
                fb.StartTable(7);
                fb.AddOffset(2, scale.Value, 0);
                fb.AddOffset(3, zero.Value, 0);
                fb.AddInt(6, t.Dimension, 0);
                quantization = fb.EndTable();
            }
            fb.StartTable(9);
            fb.AddOffset(0, shape.Value, 0);
            fb.AddSbyte(1, t.Type, 0);
            fb.AddUint(2, (uint)t.Buffer, 0);
            fb.AddOffset(3, name.Value, 0);
            if (quantization is { } q)
                fb.AddOffset(4, q, 0);
            if (signature is { } s)
                fb.AddOffset(7, s.Value, 0);
            return fb.EndTable();
        }).ToArray();
        var tensors = TableVector(fb, tensorOffsets);

        var operatorOffsets = _operators.Select(o =>
        {
            var inputs = IntVector(fb, o.Inputs);
            var outputs = IntVector(fb, o.Outputs);
            int? options = o.Options?.Invoke(fb);
            VectorOffset? custom = o.CustomOptions is { Length: > 0 } bytes ? ByteVector(fb, bytes) : null;
            fb.StartTable(6);
            fb.AddUint(0, (uint)codes.IndexOf((o.Code, o.Custom, o.Version)), 0);
            if (custom is { } c)
                fb.AddOffset(5, c.Value, 0);
            fb.AddOffset(1, inputs.Value, 0);
            fb.AddOffset(2, outputs.Value, 0);
            if (options is { } opt)
            {
                fb.AddByte(3, o.OptionsType, 0);
                fb.AddOffset(4, opt, 0);
            }
            return fb.EndTable();
        }).ToArray();
        var operators = TableVector(fb, operatorOffsets);
        var subgraphInputs = IntVector(fb, [.. _inputs]);
        var subgraphOutputs = IntVector(fb, [.. _outputs]);
        var subgraphName = fb.CreateString(name);
        fb.StartTable(5);
        fb.AddOffset(0, tensors.Value, 0);
        fb.AddOffset(1, subgraphInputs.Value, 0);
        fb.AddOffset(2, subgraphOutputs.Value, 0);
        fb.AddOffset(3, operators.Value, 0);
        fb.AddOffset(4, subgraphName.Value, 0);
        return fb.EndTable();
    }

    private static VectorOffset ByteVector(FlatBufferBuilder fb, byte[] data)
    {
        fb.StartVector(1, data.Length, 16);
        for (var i = data.Length - 1; i >= 0; i--)
            fb.AddByte(data[i]);
        return fb.EndVector();
    }

    private static VectorOffset IntVector(FlatBufferBuilder fb, int[] values)
    {
        fb.StartVector(4, values.Length, 4);
        for (var i = values.Length - 1; i >= 0; i--)
            fb.AddInt(values[i]);
        return fb.EndVector();
    }

    private static VectorOffset FloatVector(FlatBufferBuilder fb, float[] values)
    {
        fb.StartVector(4, values.Length, 4);
        for (var i = values.Length - 1; i >= 0; i--)
            fb.AddFloat(values[i]);
        return fb.EndVector();
    }

    private static VectorOffset LongVector(FlatBufferBuilder fb, long[] values)
    {
        fb.StartVector(8, values.Length, 8);
        for (var i = values.Length - 1; i >= 0; i--)
            fb.AddLong(values[i]);
        return fb.EndVector();
    }

    private static VectorOffset TableVector(FlatBufferBuilder fb, int[] tables)
    {
        fb.StartVector(4, tables.Length, 4);
        for (var i = tables.Length - 1; i >= 0; i--)
            fb.AddOffset(tables[i]);
        return fb.EndVector();
    }
}
