using TfPose.Graph.Proto;
using TfPose.Graph.Translation;

namespace TfPose.Graph.Ops;

/// <summary>
/// Affine quantization, <c>real = scale · (q − zero_point)</c>, per tensor or along one axis: TensorFlow's
/// UniformQuantize and UniformDequantize (inputs: x, scales, zero_points; attrs Tin, Tout, quantization_axis,
/// quantization_min_val, quantization_max_val). Besides TensorFlow's qint types TfPose accepts the plain integer types
/// TensorFlow Lite's quantized tensors have. They become ONNX QuantizeLinear / DequantizeLinear, the QDQ form from which
/// ONNX Runtime picks its integer kernels (QLinearConv, QLinearAdd, ...) when a float op sits between them.
/// </summary>
internal static class QuantizationOps
{
    /// <summary>
    /// Marks a UniformQuantize standing for the requantization inside a TensorFlow Lite integer kernel (its output
    /// rescaled to the output tensor's scale). TensorFlow Lite computes that in fixed point; such a node becomes a plain
    /// QuantizeLinear (ties to even), which ONNX Runtime fuses with the op before it.
    /// </summary>
    public const string RequantizeAttribute = "_tflite_requantize";

    public static IEnumerable<OpUnit> Units =>
    [
        new("UniformQuantize", s => s.Set(0, s.Shape(0), StorageType(s.Node.GetDataType("Tout", DataType.DtQint8))), Quantize, FlopRules.PerOutputElement(2)),
        new("UniformDequantize", s => s.Set(0, s.Shape(0), s.Node.GetDataType("Tout", DataType.DtFloat)), Dequantize, FlopRules.PerOutputElement(2)),
    ];

    /// <summary>The integer type holding a quantized type's values (qint8 is int8 in memory).</summary>
    public static DataType StorageType(DataType type) => DataTypes.BaseType(type) switch
    {
        DataType.DtQint8 => DataType.DtInt8,
        DataType.DtQuint8 => DataType.DtUint8,
        DataType.DtQint16 => DataType.DtInt16,
        DataType.DtQuint16 => DataType.DtUint16,
        DataType.DtQint32 => DataType.DtInt32,
        var other => other,
    };

    private static (long Min, long Max) TypeRange(DataType type) => StorageType(type) switch
    {
        DataType.DtInt8 => (sbyte.MinValue, sbyte.MaxValue),
        DataType.DtUint8 => (byte.MinValue, byte.MaxValue),
        DataType.DtInt16 => (short.MinValue, short.MaxValue),
        DataType.DtUint16 => (ushort.MinValue, ushort.MaxValue),
        DataType.DtInt32 => (int.MinValue, int.MaxValue),
        _ => throw new NotSupportedException($"quantization to {DataTypes.Name(type)} is not supported (int8, uint8, int16, uint16, int32 are)."),
    };

    /// <summary>The constant scales and zero points of a (de)quantize node, and the axis they run along (-1: one for the whole tensor).</summary>
    public sealed record Parameters(float[] Scales, long[] ZeroPoints, int Axis)
    {
        public bool PerAxis => Axis >= 0;
    }

    public static Parameters ParametersOf(NodeDef node, TranslationContext c)
    {
        var scales = c.Value(node.DataInput(1))?.ToFloatArray()
            ?? throw new NotSupportedException($"node '{node.Name}' ({node.Op}): the scales must be constants.");
        var zeros = c.Value(node.DataInput(2))?.ToInt64Array()
            ?? throw new NotSupportedException($"node '{node.Name}' ({node.Op}): the zero points must be constants.");
        var axis = (int)node.GetInt("quantization_axis", -1);
        if (axis < 0 && (scales.Length != 1 || zeros.Length != 1))
            throw new NotSupportedException($"node '{node.Name}' ({node.Op}): quantization_axis is -1 (per tensor) but it has {scales.Length} scales and {zeros.Length} zero points.");
        if (axis >= 0 && zeros.Length != scales.Length)
            throw new NotSupportedException($"node '{node.Name}' ({node.Op}): {scales.Length} scales but {zeros.Length} zero points along axis {axis}.");
        return new Parameters(scales, zeros, axis);
    }

    /// <summary>A dequantized constant: the integers, their parameters, and the node that dequantizes them.</summary>
    public sealed record QuantizedConstant(NodeDef Node, TensorValue Values, Parameters Parameters)
    {
        /// <summary>The reals the integers stand for, as TensorFlow Lite's reference dequantization computes them.</summary>
        public TensorValue ToFloat()
        {
            var q = Values.ToInt64Array();
            var p = Parameters;
            var result = new float[q.Length];
            long inner = 1;
            if (p.PerAxis)
            {
                for (var d = p.Axis + 1; d < Values.Rank; d++)
                    inner *= Values.Shape[d];
            }
            for (var i = 0; i < q.Length; i++)
            {
                var k = p.PerAxis ? (int)(i / inner % p.Scales.Length) : 0;
                result[i] = (float)((double)p.Scales[k] * (q[i] - p.ZeroPoints[k]));
            }
            return TensorValue.FromArray<float>(DataType.DtFloat, Values.Shape, result);
        }
    }

    /// <summary>The tensor when it is a UniformDequantize of a constant (quantized weights), else null.</summary>
    public static QuantizedConstant? ConstantOf(TensorName t, TranslationContext c)
    {
        if (t.Index != 0 || c.Graph.FindNode(t.Node) is not { Op: "UniformDequantize" } node || c.Value(node.DataInput(0)) is not { } values)
            return null;
        if (c.Value(node.DataInput(1)) is null || c.Value(node.DataInput(2)) is null)
            return null;
        return new QuantizedConstant(node, values, ParametersOf(node, c));
    }

    /// <summary>A DequantizeLinear of integer weights (already in the layout their reader wants) along <paramref name="axis"/>.</summary>
    public static string DequantizeWeights(TranslationContext c, string hint, TensorValue values, Parameters p, int axis)
    {
        var type = StorageType(values.Type);
        var inputs = new List<string> { c.Builder.Initializer(hint, values), ScaleInitializer(c, p), ZeroPointInitializer(c, p, type) };
        return p.PerAxis
            ? c.Builder.Node("DequantizeLinear", inputs, attributes: ("axis", (long)axis))
            : c.Builder.Node("DequantizeLinear", inputs);
    }

    /// <summary>
    /// The int32 bias a quantized convolution's single reader, a BiasAdd, adds: folded into the ONNX Conv as its third
    /// input, the form ONNX Runtime's QLinearConv fusion needs. Null when the bias is anything else.
    /// </summary>
    public static (NodeDef BiasAdd, QuantizedConstant Bias)? FoldableBias(NodeDef conv, TranslationContext c, long channels)
    {
        if (c.IsFetched(conv.Name) || conv.GetString("data_format", "NHWC") != "NHWC")
            return null;
        var consumers = c.Consumers(conv.Name);
        if (consumers is not [{ Node: { Op: "BiasAdd" } biasAdd, Input: 0, Output: 0 }] || biasAdd.GetString("data_format", "NHWC") != "NHWC")
            return null;
        if (ConstantOf(biasAdd.DataInput(1), c) is not { } bias || StorageType(bias.Values.Type) != DataType.DtInt32 || bias.Values.Rank != 1 ||
            bias.Values.Count != channels || bias.Parameters is { PerAxis: true, Axis: not 0 } || bias.Parameters.ZeroPoints.Any(z => z != 0))
            return null;
        return (biasAdd, bias);
    }

    /// <summary>Whether every reader of a dequantized constant takes it into its own ONNX node (convolution filters, folded biases).</summary>
    private static bool ReadersTakeItThemselves(NodeDef node, TranslationContext c)
    {
        var consumers = c.Consumers(node.Name);
        return consumers.Count > 0 && consumers.All(u =>
            u.Node.Op is "Conv2D" or "DepthwiseConv2dNative" && u.Input == 1 ||
            u.Node.Op == "BiasAdd" && u.Input == 1 && c.Graph.FindNode(u.Node.DataInput(0).Node) is { Op: "Conv2D" or "DepthwiseConv2dNative" } conv &&
            ConstantOf(conv.DataInput(1), c) is not null && c.Shape(new TensorName(conv.Name, 0)) is { Length: 4 } shape &&
            FoldableBias(conv, c, shape[3]) is not null);
    }

    /// <summary>Whether every reader runs channels-first on its input 0 (NHWC convolutions and pools).</summary>
    private static bool OnlyChannelsFirstReaders(NodeDef node, TranslationContext c)
    {
        var consumers = c.Consumers(node.Name);
        return consumers.Count > 0 && consumers.All(u => u.Input == 0 && u.Output == 0 &&
            u.Node.Op is "Conv2D" or "DepthwiseConv2dNative" or "MaxPool" or "AvgPool" && u.Node.GetString("data_format", "NHWC") == "NHWC");
    }

    private static string ScaleInitializer(TranslationContext c, Parameters p) => p.PerAxis
        ? c.Builder.Floats("scale", [p.Scales.Length], p.Scales)
        : c.Builder.Floats("scale", [], [p.Scales[0]]);

    private static string ZeroPointInitializer(TranslationContext c, Parameters p, DataType type)
    {
        long[] shape = p.PerAxis ? [p.ZeroPoints.Length] : [];
        var zeros = p.PerAxis ? p.ZeroPoints : [p.ZeroPoints[0]];
        TensorValue value = type switch
        {
            DataType.DtInt8 => TensorValue.FromArray<sbyte>(type, shape, Array.ConvertAll(zeros, z => (sbyte)z)),
            DataType.DtUint8 => TensorValue.FromArray<byte>(type, shape, Array.ConvertAll(zeros, z => (byte)z)),
            DataType.DtInt32 => TensorValue.FromArray<int>(type, shape, Array.ConvertAll(zeros, z => (int)z)),
            _ => throw new NotSupportedException($"ONNX QuantizeLinear/DequantizeLinear do not take {DataTypes.Name(type)} zero points at opset {GraphTranslator.OpsetVersion}."),
        };
        return c.Builder.Initializer("zero_point", value);
    }

    /// <summary>Scales or zero points shaped to broadcast along <paramref name="axis"/> of a rank-<paramref name="rank"/> tensor.</summary>
    private static string Broadcastable(TranslationContext c, string hint, float[] values, int axis, int rank)
    {
        if (axis < 0)
            return c.Builder.Floats(hint, [], [values[0]]);
        var shape = Enumerable.Repeat(1L, rank).ToArray();
        shape[axis] = values.Length;
        return c.Builder.Floats(hint, shape, values);
    }

    private static bool HasOnnxKernel(DataType type, bool dequantize) =>
        StorageType(type) is DataType.DtInt8 or DataType.DtUint8 || dequantize && StorageType(type) == DataType.DtInt32;

    /// <summary>The input in a layout the parameters can apply to: per-tensor parameters fit any, per-axis ones TensorFlow's.</summary>
    private static (string Name, Layout Layout) Operand(NodeDef node, TranslationContext c, Parameters p)
    {
        var x = node.DataInput(0);
        return p.PerAxis ? (c.Get(x), Layout.Tf) : c.Lookup(x);
    }

    private static int Rank(NodeDef node, TranslationContext c) =>
        c.Rank(node.DataInput(0)) ?? throw new NotSupportedException($"node '{node.Name}' ({node.Op}): the rank of the input must be known to quantize along an axis.");

    public static void Dequantize(NodeDef node, TranslationContext c)
    {
        if (c.Value(node.DataInput(0)) is not null && ReadersTakeItThemselves(node, c))
            return;
        var p = ParametersOf(node, c);
        var source = node.DataInput(0);
        var type = StorageType(c.Type(source));
        if (ShiftedSource(source, c) is { } unsigned)
        {
            // Read the uint8 copy the producing QuantizeLinear made (see Shifts): the same reals with zero points + 128.
            source = unsigned;
            type = DataType.DtUint8;
            p = p with { ZeroPoints = Array.ConvertAll(p.ZeroPoints, z => z + 128) };
        }
        var (x, layout) = p.PerAxis ? (c.Get(source), Layout.Tf) : c.Lookup(source);
        if (!p.PerAxis && layout == Layout.Tf && c.Rank(node.DataInput(0)) == 4 && OnlyChannelsFirstReaders(node, c))
        {
            // The integers are moved to channels-first, not the reals: a Transpose between DequantizeLinear and the
            // convolution would hide the QDQ pattern from ONNX Runtime, and it moves a quarter of the bytes.
            x = c.Get(source, Layout.Nchw);
            layout = Layout.Nchw;
        }
        string output;
        if (HasOnnxKernel(type, dequantize: true))
        {
            var inputs = new List<string> { x, ScaleInitializer(c, p), ZeroPointInitializer(c, p, type) };
            output = p.PerAxis
                ? c.Builder.Node("DequantizeLinear", inputs, name: node.Name, attributes: ("axis", (long)p.Axis))
                : c.Builder.Node("DequantizeLinear", inputs, name: node.Name);
        }
        else
        {
            // int16 and others: (q − zero_point) · scale computed in float, exact for integers below 2^24.
            var rank = p.PerAxis ? Rank(node, c) : 0;
            var real = c.Builder.Node("Cast", [x], attributes: ("to", (long)TfPose.Graph.Onnx.TensorProto.Types.DataType.Float));
            var shifted = c.Builder.Node("Sub", [real, Broadcastable(c, "zero_point", Array.ConvertAll(p.ZeroPoints, z => (float)z), p.Axis, rank)]);
            output = c.Builder.Node("Mul", [shifted, Broadcastable(c, "scale", p.Scales, p.Axis, rank)], name: node.Name);
        }
        c.Set(node, 0, output, layout);
    }

    /// <summary>
    /// Whether an int8 quantize is computed as uint8 (zero points + 128, the same reals) for the dequantizes reading
    /// it. ONNX Runtime's x86 integer kernels take uint8 activations; it converts an int8 QuantizeLinear whose only
    /// reader is one DequantizeLinear itself, but not one read by several (a residual branch) or through a Transpose,
    /// and an int8 pair left over keeps the ops around it in float.
    /// </summary>
    private static bool Shifts(NodeDef quantize, TranslationContext c) =>
        StorageType(quantize.GetDataType("Tout", DataType.DtQint8)) == DataType.DtInt8 &&
        c.Consumers(quantize.Name).Any(u => u.Node.Op == "UniformDequantize" && u.Input == 0);

    /// <summary>Where the uint8 copy of a shifted quantize's output is (its output slot 1 in the translation), or null.</summary>
    private static TensorName? ShiftedSource(TensorName t, TranslationContext c) =>
        t.Index == 0 && c.Graph.FindNode(t.Node) is { Op: "UniformQuantize" } producer && Shifts(producer, c) ? new TensorName(producer.Name, 1) : null;

    /// <summary>
    /// The quantize's output: when it <see cref="Shifts"/>, the uint8 copy goes to slot 1 and int8 readers (outputs,
    /// data movement on the integers) get it shifted back.
    /// </summary>
    private static void SetQuantized(NodeDef node, TranslationContext c, string x, Parameters p, DataType type, long min, long max, Layout layout)
    {
        if (!Shifts(node, c))
        {
            c.Set(node, 0, QuantizeLinear(node, c, x, p, type, min, max), layout);
            return;
        }
        var unsigned = QuantizeLinear(null, c, x, p with { ZeroPoints = Array.ConvertAll(p.ZeroPoints, z => z + 128) }, DataType.DtUint8, min + 128, max + 128);
        c.Set(node, 1, unsigned, layout);
        if (c.IsFetched(node.Name) || c.Consumers(node.Name).Any(u => u.Node.Op != "UniformDequantize"))
        {
            var wide = c.Builder.Node("Cast", [unsigned], attributes: ("to", (long)TfPose.Graph.Onnx.TensorProto.Types.DataType.Int16));
            var back = c.Builder.Node("Sub", [wide, c.Builder.Initializer("offset", TensorValue.FromArray<short>(DataType.DtInt16, [], [128]))]);
            c.Set(node, 0, c.Builder.Node("Cast", [back], name: node.Name, attributes: ("to", (long)TfPose.Graph.Onnx.TensorProto.Types.DataType.Int8)), layout);
        }
        else
        {
            c.Set(node, 0, unsigned, layout); // read only by the dequantizes, which take slot 1
        }
    }

    /// <summary>QuantizeLinear (saturating to the type), then a Clip when the node's range is narrower than the type's.</summary>
    private static string QuantizeLinear(NodeDef? node, TranslationContext c, string x, Parameters p, DataType type, long min, long max)
    {
        var (typeMin, typeMax) = TypeRange(type);
        var inputs = new List<string> { x, ScaleInitializer(c, p), ZeroPointInitializer(c, p, type) };
        var narrower = min > typeMin || max < typeMax;
        var name = narrower ? null : node?.Name;
        var q = p.PerAxis
            ? c.Builder.Node("QuantizeLinear", inputs, name: name, attributes: ("axis", (long)p.Axis))
            : c.Builder.Node("QuantizeLinear", inputs, name: name);
        if (!narrower)
            return q;
        var lower = ZeroPointInitializer(c, new Parameters([0f], [min], -1), type);
        var upper = ZeroPointInitializer(c, new Parameters([0f], [max], -1), type);
        return c.Builder.Node("Clip", [q, lower, upper], name: node?.Name);
    }

    public static void Quantize(NodeDef node, TranslationContext c)
    {
        var p = ParametersOf(node, c);
        var type = StorageType(node.GetDataType("Tout", DataType.DtQint8));
        var (typeMin, typeMax) = TypeRange(type);
        var min = node.Attr.ContainsKey("quantization_min_val") ? Math.Max(node.GetInt("quantization_min_val"), typeMin) : typeMin;
        var max = node.Attr.ContainsKey("quantization_max_val") ? Math.Min(node.GetInt("quantization_max_val"), typeMax) : typeMax;
        var (x, layout) = Operand(node, c, p);
        if (node.GetBool(RequantizeAttribute, false) && HasOnnxKernel(type, dequantize: false))
        {
            SetQuantized(node, c, x, p, type, min, max, layout);
            return;
        }
        // UniformQuantize (TensorFlow) and QUANTIZE (TensorFlow Lite's reference kernel) round half away from zero,
        // std::round; ONNX QuantizeLinear rounds half to even. They differ on exact ties (x / scale = k + 0.5), which
        // real inputs hit often (pixel values over a power-of-two scale), so this rounding is spelled out: Round, except
        // that a tie goes away from zero.
        var rank = p.PerAxis ? Rank(node, c) : 0;
        var b = c.Builder;
        var r = b.Node("Div", [x, Broadcastable(c, "scale", p.Scales, p.Axis, rank)]);
        var magnitude = b.Node("Abs", [r]);
        var whole = b.Node("Floor", [magnitude]);
        var tie = b.Node("Equal", [b.Node("Sub", [magnitude, whole]), b.Floats("half", [], [0.5f])]);
        var away = b.Node("Mul", [b.Node("Sign", [r]), b.Node("Add", [whole, b.Floats("one", [], [1f])])]);
        var rounded = b.Node("Where", [tie, away, b.Node("Round", [r])]);
        if (HasOnnxKernel(type, dequantize: false))
        {
            // A QuantizeLinear of the rounded levels times the scale (which it divides back to within a few ulps of the
            // same whole numbers, so its own rounding has no tie to break) adds the zero point and saturates, and makes
            // the tensor a QuantizeLinear output, which ONNX Runtime needs to pair it with the DequantizeLinear after it.
            SetQuantized(node, c, b.Node("Mul", [rounded, Broadcastable(c, "scale", p.Scales, p.Axis, rank)]), p, type, min, max, layout);
            return;
        }
        var shifted = b.Node("Add", [rounded, Broadcastable(c, "zero_point", Array.ConvertAll(p.ZeroPoints, z => (float)z), p.Axis, rank)]);
        var clipped = b.Node("Clip", [shifted, b.Floats("min", [], [min]), b.Floats("max", [], [max])]);
        c.Set(node, 0, b.Node("Cast", [clipped], name: node.Name, attributes: ("to", (long)OnnxBuilder.ElementType(type))), layout);
    }
}
