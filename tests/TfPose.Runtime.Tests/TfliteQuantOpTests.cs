using TfPose.Graph;
using TfPose.Graph.Proto;
using TfPose.Graph.Translation;
using TfPose.Tests;
using static TfPose.Runtime.Tests.TfliteOpTestKit;

namespace TfPose.Runtime.Tests;

/// <summary>
/// Quantized (int8 / uint8 / int16 activation) TensorFlow Lite operators, each alone in a .tflite built here, against
/// the quantization formulas worked out in the test: real = scale · (q − zero_point), q = clamp(round(real / scale) +
/// zero_point), the operator computed on the reals. QUANTIZE rounds half away from zero as TensorFlow Lite's kernel
/// (std::round) does, and must match exactly. Inside an integer kernel TensorFlow Lite requantizes in fixed point and
/// TfPose in float with ONNX's round-half-to-even, so operator outputs may differ from the formula by one step on ties
/// and rounding noise: they are checked within one step, and mostly exact.
/// </summary>
public class TfliteQuantOpTests
{
    internal const sbyte I8 = TfliteModelBuilder.Int8, U8 = TfliteModelBuilder.UInt8, I16 = TfliteModelBuilder.Int16;

    internal static long RoundAway(double v) => (long)Math.Round(v, MidpointRounding.AwayFromZero);

    internal static (long Min, long Max) Range(sbyte type) => type switch
    {
        I8 => (sbyte.MinValue, sbyte.MaxValue),
        U8 => (byte.MinValue, byte.MaxValue),
        I16 => (short.MinValue, short.MaxValue),
        _ => throw new ArgumentException(type.ToString()),
    };

    internal static long Quantize(double real, double scale, long zero, sbyte type)
    {
        var (min, max) = Range(type);
        return Math.Clamp(RoundAway(real / scale) + zero, min, max);
    }

    /// <summary>Deterministic quantized values spread over the type's range.</summary>
    internal static long[] Levels(int count, int seed, long min = -128, long max = 127)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => random.NextInt64(min, max + 1)).ToArray();
    }

    internal static sbyte[] Int8s(long[] values) => Array.ConvertAll(values, v => (sbyte)v);

    /// <summary>Runs a built model and returns output 0 widened to long (integer outputs) or as double.</summary>
    internal static double[] RunModel(TfliteModelBuilder b, string fetch, params (string Name, GraphTensor Tensor)[] feeds)
    {
        try
        {
            using var session = new GraphSession(Load(b));
            using var results = session.Run(feeds.ToDictionary(f => f.Name, f => f.Tensor), [fetch]);
            var r = results[0];
            return r.ElementType switch
            {
                Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Int8 => Array.ConvertAll(r.ToArray<sbyte>(), v => (double)v),
                Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.UInt8 => Array.ConvertAll(r.ToArray<byte>(), v => (double)v),
                Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Int16 => Array.ConvertAll(r.ToArray<short>(), v => (double)v),
                Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float => Array.ConvertAll(r.ToArray<float>(), v => (double)v),
                var other => throw new NotSupportedException(other.ToString()),
            };
        }
        finally
        {
            foreach (var (_, tensor) in feeds)
                tensor.Dispose();
        }
    }

    /// <summary>Every value within one quantization step of the formula, and at least <paramref name="exact"/> of them equal to it.</summary>
    internal static void WithinOneStep(long[] expected, double[] actual, double exact = 0.9, string what = "")
    {
        Assert.Equal(expected.Length, actual.Length);
        var same = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            var diff = Math.Abs(expected[i] - actual[i]);
            Assert.True(diff <= 1, $"{what}[{i}]: expected {expected[i]}, got {actual[i]}");
            if (diff == 0)
                same++;
        }
        Assert.True(same >= exact * expected.Length, $"{what}: only {same} of {expected.Length} values equal the formula");
    }

    [Fact]
    [TfliteOpTest("QUANTIZE")]
    public void Quantize_rounds_half_away_from_zero_and_saturates()
    {
        // x / scale lands on ties (-2.5, -1.5, ... 2.5), where rounding half to even would differ in every other case.
        float[] x = [-1.25f, -0.75f, -0.25f, 0.25f, 0.75f, 1.25f, 0.13f, 300f, -300f, 0f];
        foreach (var (type, zero) in new[] { (I8, 3L), (U8, 128L), (I16, 0L) })
        {
            var b = new TfliteModelBuilder();
            var input = b.Input("x", [x.Length]);
            var y = b.Tensor("y", type, [x.Length], scale: [0.5f], zeroPoint: [zero]);
            b.Operator("QUANTIZE", [input], [y]);
            b.Output(y);
            var actual = RunModel(b, "y", Feed("x", x, x.Length));
            var expected = x.Select(v => (double)Quantize(v, 0.5, zero, type)).ToArray();
            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    [TfliteOpTest("QUANTIZE")]
    public void Quantize_between_integer_types_shifts_the_zero_point()
    {
        // int8 → uint8 with the same scale, as converters put at uint8 model inputs: q + 128 exactly.
        var q = Levels(20, 1);
        var b = new TfliteModelBuilder();
        var input = b.Input("q", [q.Length], I8, scale: [0.1f], zeroPoint: [-5]);
        var y = b.Tensor("y", U8, [q.Length], scale: [0.1f], zeroPoint: [123]);
        b.Operator("QUANTIZE", [input], [y]);
        b.Output(y);
        var actual = RunModel(b, "y", Feed("q", Int8s(q), q.Length));
        Assert.Equal(q.Select(v => (double)Math.Clamp(v + 128, 0, 255)).ToArray(), actual);
    }

    [Fact]
    [TfliteOpTest("DEQUANTIZE")]
    public void Dequantize_of_an_activation_is_scale_times_the_offset_from_the_zero_point()
    {
        var q = Levels(16, 2);
        var b = new TfliteModelBuilder();
        var input = b.Input("q", [q.Length], I8, scale: [0.25f], zeroPoint: [-7]);
        var y = b.Tensor("y", F32, [q.Length]);
        b.Operator("DEQUANTIZE", [input], [y]);
        b.Output(y);
        Assert.Equal(q.Select(v => 0.25 * (v + 7)).ToArray(), RunModel(b, "y", Feed("q", Int8s(q), q.Length)));
    }

    /// <summary>A quantized convolution (per-channel int8 weights, int32 bias at scale input·weight) against the formula.</summary>
    [Theory]
    [InlineData(false, (byte)0)]
    [InlineData(false, (byte)3)]
    [InlineData(true, (byte)1)]
    [TfliteOpTest("CONV_2D", "DEPTHWISE_CONV_2D")]
    public void Int8_convolution_with_per_channel_weights(bool depthwise, byte activation)
    {
        const int h = 5, w = 6, c = 3, k = 3;
        var outC = depthwise ? c : 4;
        const float inScale = 0.05f, outScale = 0.08f;
        const long inZero = -3, outZero = 5;
        float[] wScale = depthwise ? [0.01f, 0.02f, 0.005f] : [0.01f, 0.02f, 0.005f, 0.015f];
        var x = Levels(h * w * c, 3);
        var f = Levels(k * k * c * (depthwise ? 1 : outC), 4, -127, 127);
        var bias = Levels(outC, 5, -3000, 3000);
        var b = new TfliteModelBuilder();
        var input = b.Input("x", [1, h, w, c], I8, scale: [inScale], zeroPoint: [inZero]);
        var filter = depthwise
            ? b.Const("filter", I8, [1, k, k, c], Int8s(f), wScale, new long[c], 3)
            : b.Const("filter", I8, [outC, k, k, c], Int8s(f), wScale, new long[outC], 0);
        var biasT = b.Const("bias", TfliteModelBuilder.Int32, [outC], Array.ConvertAll(bias, v => (int)v), wScale.Select(s => inScale * s).ToArray(), new long[outC], 0);
        var y = b.Tensor("y", I8, [1, h, w, outC], scale: [outScale], zeroPoint: [outZero]);
        if (depthwise)
            b.Operator("DEPTHWISE_CONV_2D", [input, filter, biasT], [y], "DepthwiseConv2D", TfliteModelBuilder.Options((0, (byte)0), (1, 1), (2, 1), (3, 1), (4, activation)));
        else
            b.Operator("CONV_2D", [input, filter, biasT], [y], "Conv2D", TfliteModelBuilder.Options((0, (byte)0), (1, 1), (2, 1), (3, activation)));
        b.Output(y);

        var expected = new long[h * w * outC];
        for (var i = 0; i < h; i++)
        for (var j = 0; j < w; j++)
        for (var o = 0; o < outC; o++)
        {
            double sum = (double)inScale * wScale[o] * bias[o];
            for (var a = 0; a < k; a++)
            for (var d = 0; d < k; d++)
            {
                int r = i + a - 1, s = j + d - 1;
                if (r < 0 || r >= h || s < 0 || s >= w)
                    continue;
                if (depthwise)
                {
                    sum += inScale * (x[(r * w + s) * c + o] - inZero) * (wScale[o] * f[(a * k + d) * c + o]);
                }
                else
                {
                    for (var m = 0; m < c; m++)
                        sum += inScale * (x[(r * w + s) * c + m] - inZero) * (wScale[o] * f[((o * k + a) * k + d) * c + m]);
                }
            }
            var real = activation switch { 1 => Math.Max(sum, 0), 3 => Math.Clamp(sum, 0, 6), _ => sum };
            expected[(i * w + j) * outC + o] = Quantize(real, outScale, outZero, I8);
        }
        var actual = RunModel(b, "y", Feed("x", Int8s(x), 1, h, w, c));
        WithinOneStep(expected, actual, what: depthwise ? "depthwise" : "conv");

        // The weights stay int8 behind a DequantizeLinear and the int32 bias is the convolution's own input: the QDQ
        // form ONNX Runtime turns into QLinearConv.
        var onnx = TfPose.Graph.Onnx.ModelProto.Parser.ParseFrom(GraphTranslator.Translate(Load(b)).OnnxModel);
        var conv = Assert.Single(onnx.Graph.Node, n => n.OpType == "Conv");
        Assert.Equal(3, conv.Input.Count);
        Assert.All(conv.Input, i => Assert.Contains(onnx.Graph.Node, n => n.OpType == "DequantizeLinear" && n.Output[0] == i));
    }

    [Fact]
    [TfliteOpTest("CONV_2D")]
    public void Uint8_convolution_with_per_tensor_weights_and_zero_points()
    {
        const int h = 4, w = 4, c = 2, outC = 3;
        var x = Levels(h * w * c, 6, 0, 255);
        var f = Levels(outC * c, 7, 0, 255);
        var bias = Levels(outC, 8, -500, 500);
        const float inScale = 0.02f, wScale = 0.01f, outScale = 0.05f;
        const long inZero = 128, wZero = 120, outZero = 100;
        var b = new TfliteModelBuilder();
        var input = b.Input("x", [1, h, w, c], U8, scale: [inScale], zeroPoint: [inZero]);
        var filter = b.Const("filter", U8, [outC, 1, 1, c], Array.ConvertAll(f, v => (byte)v), [wScale], [wZero]);
        var biasT = b.Const("bias", TfliteModelBuilder.Int32, [outC], Array.ConvertAll(bias, v => (int)v), [inScale * wScale], [0]);
        var y = b.Tensor("y", U8, [1, h, w, outC], scale: [outScale], zeroPoint: [outZero]);
        b.Operator("CONV_2D", [input, filter, biasT], [y], "Conv2D", TfliteModelBuilder.Options((0, (byte)1), (1, 1), (2, 1)));
        b.Output(y);
        var expected = new long[h * w * outC];
        for (var p = 0; p < h * w; p++)
        for (var o = 0; o < outC; o++)
        {
            double sum = (double)inScale * wScale * bias[o];
            for (var m = 0; m < c; m++)
                sum += inScale * (x[p * c + m] - inZero) * wScale * (f[o * c + m] - wZero);
            expected[p * outC + o] = Quantize(sum, outScale, outZero, U8);
        }
        WithinOneStep(expected, RunModel(b, "y", Feed("x", Array.ConvertAll(x, v => (byte)v), 1, h, w, c)), what: "uint8 conv");
    }

    [Fact]
    [TfliteOpTest("FULLY_CONNECTED")]
    public void Int8_fully_connected()
    {
        const int n = 2, inputs = 6, units = 4;
        var x = Levels(n * inputs, 9);
        var wq = Levels(units * inputs, 10, -127, 127);
        var bias = Levels(units, 11, -2000, 2000);
        const float inScale = 0.1f, wScale = 0.004f, outScale = 0.2f;
        const long inZero = 10, outZero = -20;
        var b = new TfliteModelBuilder();
        var input = b.Input("x", [n, inputs], I8, scale: [inScale], zeroPoint: [inZero]);
        var weights = b.Const("w", I8, [units, inputs], Int8s(wq), [wScale], [0]);
        var biasT = b.Const("bias", TfliteModelBuilder.Int32, [units], Array.ConvertAll(bias, v => (int)v), [inScale * wScale], [0]);
        var y = b.Tensor("y", I8, [n, units], scale: [outScale], zeroPoint: [outZero]);
        b.Operator("FULLY_CONNECTED", [input, weights, biasT], [y], "FullyConnected", TfliteModelBuilder.Options());
        b.Output(y);
        var expected = new long[n * units];
        for (var r = 0; r < n; r++)
        for (var u = 0; u < units; u++)
        {
            double sum = (double)inScale * wScale * bias[u];
            for (var m = 0; m < inputs; m++)
                sum += inScale * (x[r * inputs + m] - inZero) * wScale * wq[u * inputs + m];
            expected[r * units + u] = Quantize(sum, outScale, outZero, I8);
        }
        WithinOneStep(expected, RunModel(b, "y", Feed("x", Int8s(x), n, inputs)), what: "fully connected");
    }

    /// <summary>Two int8 inputs with their own scales, one output with a third; the fused RELU clamps at the output's zero point.</summary>
    [Theory]
    [InlineData("ADD", "Add")]
    [InlineData("MUL", "Mul")]
    [TfliteOpTest("ADD", "MUL")]
    public void Int8_binary_op_with_different_scales(string op, string options)
    {
        var a = Levels(24, 12);
        var c = Levels(24, 13);
        const float aScale = 0.1f, cScale = 0.05f, outScale = 0.12f;
        const long aZero = 2, cZero = -7, outZero = -30;
        var outScaleOp = op == "MUL" ? 0.3f : outScale;
        var b = new TfliteModelBuilder();
        var ta = b.Input("a", [2, 3, 4], I8, scale: [aScale], zeroPoint: [aZero]);
        var tc = b.Input("c", [2, 3, 4], I8, scale: [cScale], zeroPoint: [cZero]);
        var y = b.Tensor("y", I8, [2, 3, 4], scale: [outScaleOp], zeroPoint: [outZero]);
        b.Operator(op, [ta, tc], [y], options, TfliteModelBuilder.Options((0, (byte)1)));
        b.Output(y);
        var expected = a.Select((v, i) =>
        {
            double p = aScale * (v - aZero), q = cScale * (c[i] - cZero);
            return Quantize(Math.Max(op == "ADD" ? p + q : p * q, 0), outScaleOp, outZero, I8);
        }).ToArray();
        WithinOneStep(expected, RunModel(b, "y", Feed("a", Int8s(a), 2, 3, 4), Feed("c", Int8s(c), 2, 3, 4)), what: op);
    }

    [Fact]
    [TfliteOpTest("CONCATENATION", "RESHAPE", "MAX_POOL_2D", "AVERAGE_POOL_2D")]
    public void Int8_pools_concatenation_and_reshape_requantize_to_their_outputs()
    {
        var x = Levels(4 * 4 * 2, 14);
        const float s = 0.1f, s2 = 0.07f;
        const long z = 4, z2 = -10;
        var b = new TfliteModelBuilder();
        var input = b.Input("x", [1, 4, 4, 2], I8, scale: [s], zeroPoint: [z]);
        var max = b.Tensor("max", I8, [1, 2, 2, 2], scale: [s], zeroPoint: [z]);
        var avg = b.Tensor("avg", I8, [1, 2, 2, 2], scale: [s2], zeroPoint: [z2]);
        var pool = TfliteModelBuilder.Options((0, (byte)1), (1, 2), (2, 2), (3, 2), (4, 2));
        b.Operator("MAX_POOL_2D", [input], [max], "Pool2D", pool);
        b.Operator("AVERAGE_POOL_2D", [input], [avg], "Pool2D", pool);
        var joined = b.Tensor("joined", I8, [1, 2, 2, 4], scale: [0.09f], zeroPoint: [1]);
        b.Operator("CONCATENATION", [max, avg], [joined], "Concatenation", TfliteModelBuilder.Options((0, 3)));
        var flat = b.Tensor("flat", I8, [1, 16], scale: [0.09f], zeroPoint: [1]);
        b.Operator("RESHAPE", [joined, b.Ints("shape", [1, 16], 2)], [flat]);
        b.Output(flat);
        var expected = new long[16];
        for (var i = 0; i < 2; i++)
        for (var j = 0; j < 2; j++)
        for (var ch = 0; ch < 2; ch++)
        {
            var window = new[] { (0, 0), (0, 1), (1, 0), (1, 1) }.Select(p => s * (x[((2 * i + p.Item1) * 4 + 2 * j + p.Item2) * 2 + ch] - z)).ToArray();
            var real = window.Max();
            var mean = Quantize(window.Average(), s2, z2, I8);
            var cell = (i * 2 + j) * 4;
            // Concatenation requantizes each input's reals (the max pool's own levels, the average's) to its output.
            expected[cell + ch] = Quantize(Quantize(real, s, z, I8) is var m ? s * (m - z) : 0, 0.09, 1, I8);
            expected[cell + 2 + ch] = Quantize(s2 * (mean - z2), 0.09, 1, I8);
        }
        WithinOneStep(expected, RunModel(b, "flat", Feed("x", Int8s(x), 1, 4, 4, 2)), exact: 0.8, what: "pools");
    }

    /// <summary>TensorFlow Lite fixes int8 softmax and logistic outputs at scale 1/256, zero point −128.</summary>
    [Theory]
    [InlineData("SOFTMAX")]
    [InlineData("LOGISTIC")]
    [TfliteOpTest("SOFTMAX", "LOGISTIC")]
    public void Int8_softmax_and_logistic(string op)
    {
        var x = Levels(12, 15);
        const float s = 0.05f;
        const long z = -10;
        var b = new TfliteModelBuilder();
        var input = b.Input("x", [3, 4], I8, scale: [s], zeroPoint: [z]);
        var y = b.Tensor("y", I8, [3, 4], scale: [1 / 256f], zeroPoint: [-128]);
        if (op == "SOFTMAX")
            b.Operator(op, [input], [y], "Softmax", TfliteModelBuilder.Options((0, 1f)));
        else
            b.Operator(op, [input], [y]);
        b.Output(y);
        var reals = x.Select(v => s * (v - z)).ToArray();
        var expected = new long[12];
        for (var r = 0; r < 3; r++)
        {
            var row = reals.Skip(r * 4).Take(4).ToArray();
            var total = row.Sum(v => Math.Exp(v));
            for (var i = 0; i < 4; i++)
                expected[r * 4 + i] = Quantize(op == "SOFTMAX" ? Math.Exp(row[i]) / total : 1 / (1 + Math.Exp(-row[i])), 1 / 256.0, -128, I8);
        }
        WithinOneStep(expected, RunModel(b, "y", Feed("x", Int8s(x), 3, 4)), what: op);
    }

    [Fact]
    [TfliteOpTest("ADD")]
    public void Int16_activations_add_with_zero_points_zero()
    {
        var a = Levels(10, 16, -30000, 30000);
        var c = Levels(10, 17, -30000, 30000);
        var b = new TfliteModelBuilder();
        var ta = b.Input("a", [10], I16, scale: [0.001f], zeroPoint: [0]);
        var tc = b.Input("c", [10], I16, scale: [0.0005f], zeroPoint: [0]);
        var y = b.Tensor("y", I16, [10], scale: [0.002f], zeroPoint: [0]);
        b.Operator("ADD", [ta, tc], [y], "Add", TfliteModelBuilder.Options());
        b.Output(y);
        var expected = a.Select((v, i) => Quantize(0.001 * v + 0.0005 * c[i], 0.002, 0, I16)).ToArray();
        WithinOneStep(expected, RunModel(b, "y", Feed("a", Array.ConvertAll(a, v => (short)v), 10), Feed("c", Array.ConvertAll(c, v => (short)v), 10)),
            what: "int16 add");
    }
}

/// <summary>TensorFlow's UniformQuantize / UniformDequantize, the ops quantized TensorFlow Lite tensors become, against the formulas.</summary>
public class QuantizationOpTests
{
    private static TfGraphBuilder RoundTrip(float[] scales, int[] zeros, long axis, DataType type, bool requantize)
    {
        var b = new TfGraphBuilder();
        b.Placeholder("x", 3, 2);
        long[] shape = axis < 0 ? [] : [scales.Length];
        var s = b.ConstValue("scales", TensorValue.FromArray<float>(DataType.DtFloat, shape, scales));
        var z = b.ConstValue("zeros", TensorValue.FromArray<int>(DataType.DtInt32, shape, zeros));
        var q = b.Raw("q", "UniformQuantize", "x", s, z);
        q.Attr["Tin"] = TfGraphBuilder.Type(DataType.DtFloat);
        q.Attr["Tout"] = TfGraphBuilder.Type(type);
        q.Attr["quantization_axis"] = new AttrValue { I = axis };
        q.Attr["quantization_min_val"] = new AttrValue { I = -100 };
        q.Attr["quantization_max_val"] = new AttrValue { I = 100 };
        if (requantize)
            q.Attr["_tflite_requantize"] = new AttrValue { B = true };
        var d = b.Raw("d", "UniformDequantize", "q", s, z);
        d.Attr["Tin"] = TfGraphBuilder.Type(type);
        d.Attr["Tout"] = TfGraphBuilder.Type(DataType.DtFloat);
        d.Attr["quantization_axis"] = new AttrValue { I = axis };
        return b;
    }

    private static readonly float[] X = [-0.75f, 0.25f, 1.3f, -2.01f, 40f, -40f];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [OpTest("UniformQuantize", "UniformDequantize")]
    public void Per_axis_quantize_rounds_clamps_to_the_attribute_range_and_dequantizes(bool requantize)
    {
        float[] scales = [0.5f, 0.1f];
        int[] zeros = [1, -3];
        var b = RoundTrip(scales, zeros, 1, DataType.DtQint8, requantize);
        var (q, _) = OpTestKit.Run<sbyte>(b, "q", OpTestKit.Feed("x", X, 3, 2));
        // 0.25 / 0.1 is 2.5 in float, a tie: TensorFlow's UniformQuantize takes 3, a requantization (QuantizeLinear) 2.
        var expected = X.Select((v, i) => Math.Clamp(
            (requantize ? (long)Math.Round(v / scales[i % 2], MidpointRounding.ToEven) : TfliteQuantOpTests.RoundAway(v / scales[i % 2])) + zeros[i % 2], -100, 100)).ToArray();
        Assert.Equal(expected, Array.ConvertAll(q, v => (long)v));
        var (d, _) = OpTestKit.Run<float>(b, "d", OpTestKit.Feed("x", X, 3, 2));
        Assert.Equal(expected.Select((v, i) => (float)(scales[i % 2] * (v - zeros[i % 2]))).ToArray(), d);
    }

    [Fact]
    [OpTest("UniformQuantize", "UniformDequantize")]
    public void Per_tensor_quantize_breaks_ties_away_from_zero_unless_it_stands_for_a_requantization()
    {
        float[] x = [0.5f, 1.5f, 2.5f, -0.5f, -2.5f, 3f];
        foreach (var requantize in new[] { false, true })
        {
            var b = RoundTrip([1f], [0], -1, DataType.DtQuint8, requantize);
            b.Graph.Node.Single(n => n.Name == "x").Attr["shape"] = new AttrValue { Shape = TensorValue.ShapeProto([6]) };
            var (q, _) = OpTestKit.Run<byte>(b, "q", OpTestKit.Feed("x", x, 6));
            // uint8 with quantization_min_val -100 clamps at 0; ties go away from zero (TensorFlow) or to even (ONNX QuantizeLinear).
            long[] expected = requantize ? [0, 2, 2, 0, 0, 3] : [1, 2, 3, 0, 0, 3];
            Assert.Equal(expected, Array.ConvertAll(q, v => (long)v));
        }
    }
}

public class QuantizedNpyTests
{
    /// <summary>Quantized models are fed and give int8 / int16 tensors, which `graph run` reads and writes as .npy (numpy's |i1 and &lt;i2).</summary>
    [Fact]
    public void Int8_and_int16_tensors_round_trip_through_npy()
    {
        var path = Path.Combine(Path.GetTempPath(), $"tfpose-npy-{Guid.NewGuid():N}.npy");
        try
        {
            using (var int8 = GraphTensor.FromArray(new sbyte[] { -128, -1, 0, 127, 5, -7 }, 2, 3))
                NpyFile.Write(path, int8);
            Assert.Contains("'descr': '|i1'", System.Text.Encoding.Latin1.GetString(File.ReadAllBytes(path)));
            using (var back = NpyFile.Read(path))
            {
                Assert.Equal(new long[] { 2, 3 }, back.Shape);
                Assert.Equal(new sbyte[] { -128, -1, 0, 127, 5, -7 }, back.ToArray<sbyte>());
            }
            using (var int16 = GraphTensor.FromArray(new short[] { -32768, 300, 32767 }, 3))
                NpyFile.Write(path, int16);
            using var wide = NpyFile.Read(path);
            Assert.Equal(new short[] { -32768, 300, 32767 }, wide.ToArray<short>());
        }
        finally
        {
            File.Delete(path);
        }
    }
}
