using TfPose.Graph.Proto;
using TfPose.Tests;
using static TfPose.Runtime.Tests.OpTestKit;

namespace TfPose.Runtime.Tests;

/// <summary>
/// The element-wise units that predate the maths family: each op alone, against its TensorFlow definition written
/// out here, on values that tell it apart from its neighbours (negatives, halves, zero, values past Relu6's cap).
/// </summary>
public class ElementwiseOpTests
{
    /// <summary>Negatives, halves (rounding), zero (Sign), past 6 (Relu6).</summary>
    internal static readonly double[] General = [-7.5, -3.7, -2.5, -1.5, -1, -0.5, -0.3, 0, 0.2, 0.5, 1.5, 2.5, 3.7, 6.5, 7.5];

    /// <summary>Inside the domain of Log, Sqrt, Rsqrt and Reciprocal.</summary>
    internal static readonly double[] Positive = [1e-3, 0.25, 0.5, 1, 2, 9, 100];

    private const double SeluScale = 1.0507009873554804934193349852946;
    private const double SeluAlpha = 1.6732632423543772848170429916717;

    /// <summary>TensorFlow's softplus: x above -log(eps)-2, exp(x) below log(eps)+2, log1p(exp(x)) between.</summary>
    internal static double Softplus(double x)
    {
        var threshold = Math.Log(1.1920928955078125e-7) + 2; // float32 machine epsilon
        return x > -threshold ? x : x < threshold ? Math.Exp(x) : Math.Log(1 + Math.Exp(x));
    }

    internal static (double[] Inputs, Func<double, double> Expected) UnaryCase(string op) => op switch
    {
        "Relu" => (General, x => Math.Max(x, 0)),
        "Relu6" => (General, x => Math.Min(Math.Max(x, 0), 6)),
        "Elu" => (General, x => x < 0 ? Math.Exp(x) - 1 : x),
        "Selu" => (General, x => x < 0 ? SeluScale * SeluAlpha * (Math.Exp(x) - 1) : SeluScale * x),
        "Sigmoid" => (General, x => 1 / (1 + Math.Exp(-x))),
        "Tanh" => (General, Math.Tanh),
        "Sqrt" => (Positive, Math.Sqrt),
        "Rsqrt" => (Positive, x => 1 / Math.Sqrt(x)),
        "Square" => (General, x => x * x),
        "Exp" => (General, Math.Exp),
        "Log" => (Positive, Math.Log),
        "Neg" => (General, x => -x),
        "Abs" => (General, Math.Abs),
        "Floor" => (General, Math.Floor),
        "Ceil" => (General, Math.Ceiling),
        // Half to even ("banker's rounding"): -2.5 → -2, -1.5 → -2, 0.5 → 0, 2.5 → 2.
        "Round" => (General, x => Math.Round(x, MidpointRounding.ToEven)),
        "Softplus" => ([.. General, -20, 20], Softplus),
        "Reciprocal" => (Positive.Concat(Positive.Select(p => -p)).ToArray(), x => 1 / x),
        "Sign" => (General, x => Math.Sign(x)),
        "Erf" => (General.Where(x => Math.Abs(x) <= 4).ToArray(), Erf),
        "LeakyRelu" => (General, x => x < 0 ? 0.2 * x : x),
        _ => throw new ArgumentException(op),
    };

    internal static void CheckUnary(string op, double[] inputs, Func<double, double> expected, double rel = 2e-6, double abs = 1e-6, Action<NodeDef>? attrs = null)
    {
        var b = new TfGraphBuilder();
        b.Placeholder("x", inputs.Length);
        var node = b.Op("y", op, "x");
        attrs?.Invoke(node);
        var x = inputs.Select(v => (float)v).ToArray();
        var (actual, shape) = Run<float>(b, "y", Feed("x", x, inputs.Length));
        Assert.Equal([inputs.Length], shape);
        Close(x.Select(v => expected(v)).ToArray(), actual, rel, abs, op);
    }

    [Theory]
    [OpTest("Relu", "Relu6", "Elu", "Selu", "Sigmoid", "Tanh", "Sqrt", "Rsqrt", "Square", "Exp", "Log", "Neg", "Abs")]
    [OpTest("Floor", "Ceil", "Round", "Softplus", "Reciprocal", "Sign", "Erf", "LeakyRelu")]
    [InlineData("Relu")]
    [InlineData("Relu6")]
    [InlineData("Elu")]
    [InlineData("Selu")]
    [InlineData("Sigmoid")]
    [InlineData("Tanh")]
    [InlineData("Sqrt")]
    [InlineData("Rsqrt")]
    [InlineData("Square")]
    [InlineData("Exp")]
    [InlineData("Log")]
    [InlineData("Neg")]
    [InlineData("Abs")]
    [InlineData("Floor")]
    [InlineData("Ceil")]
    [InlineData("Round")]
    [InlineData("Softplus")]
    [InlineData("Reciprocal")]
    [InlineData("Sign")]
    [InlineData("Erf")]
    [InlineData("LeakyRelu")]
    public void Float_unary_op_follows_its_tensorflow_definition(string op)
    {
        var (inputs, expected) = UnaryCase(op);
        // ONNX Runtime's softplus is log(1 + exp(x)) without TensorFlow's log1p, off by up to 6e-8 where x is very negative.
        CheckUnary(op, inputs, expected, abs: op == "Softplus" ? 1e-7 : 1e-6);
    }

    [Fact]
    [OpTest("LeakyRelu")]
    public void LeakyRelu_takes_its_alpha_attribute()
    {
        CheckUnary("LeakyRelu", General, x => x < 0 ? 0.1 * x : x, attrs: n => n.Attr["alpha"] = new AttrValue { F = 0.1f });
    }

    [Theory]
    [OpTest("Abs", "Neg", "Sign", "Square", "Round")]
    [InlineData(DataType.DtInt32)]
    [InlineData(DataType.DtInt64)]
    public void Integer_unary_ops_fed_and_folded(DataType type)
    {
        long[] x = [-7, -2, -1, 0, 1, 3, 40];
        (string Op, Func<long, long> F)[] ops =
        [
            ("Abs", v => Math.Abs(v)), ("Neg", v => -v), ("Sign", v => Math.Sign(v)), ("Square", v => v * v),
            ("Round", v => v), // integers round to themselves
        ];
        foreach (var (op, f) in ops)
        {
            var expected = x.Select(f).ToArray();
            var fed = new TfGraphBuilder();
            fed.TypedPlaceholder("x", type, [x.Length]);
            fed.Op("y", op, type, "x");
            Assert.Equal(expected, RunInts(fed, "y", type, ("x", x)));

            var folded = new TfGraphBuilder();
            ConstInts(folded, "x", type, x, x.Length);
            folded.Op("y", op, type, "x");
            Assert.Equal(expected, FoldedInts(folded, "y"));
            Assert.Equal(expected, RunInts(folded, "y", type));
        }
    }

    internal static string ConstInts(TfGraphBuilder b, string name, DataType type, long[] values, params long[] shape) =>
        type == DataType.DtInt64 ? b.ConstLong(name, values, shape) : b.ConstInt(name, values.Select(v => (int)v).ToArray(), shape);

    /// <summary>Runs with integer feeds of <paramref name="type"/> (each a flat vector unless shaped) and returns output 0 widened to long.</summary>
    internal static long[] RunInts(TfGraphBuilder b, string fetch, DataType type, params (string Name, long[] Values)[] feeds) =>
        RunInts(b, fetch, type, feeds.Select(f => (f.Name, f.Values, new long[] { f.Values.Length })).ToArray());

    internal static long[] RunInts(TfGraphBuilder b, string fetch, DataType type, (string Name, long[] Values, long[] Shape)[] feeds)
    {
        if (type == DataType.DtInt64)
            return Run<long>(b, fetch, feeds.Select(f => Feed(f.Name, f.Values, f.Shape)).ToArray()).Values;
        return Run<int>(b, fetch, feeds.Select(f => Feed(f.Name, f.Values.Select(v => (int)v).ToArray(), f.Shape)).ToArray()).Values.Select(v => (long)v).ToArray();
    }

    [Theory]
    [OpTest("Cast")]
    [InlineData(DataType.DtInt32)]
    [InlineData(DataType.DtInt64)]
    public void Cast_float_to_integer_truncates_toward_zero(DataType type)
    {
        float[] x = [-2.7f, -2.5f, -0.5f, 0f, 0.5f, 2.5f, 2.7f, 3.99f, -100.9f];
        var b = new TfGraphBuilder();
        b.Placeholder("x", x.Length);
        b.Op("y", "Cast", "x").Attr["DstT"] = new AttrValue { Type = type };
        var expected = x.Select(v => (long)Math.Truncate(v)).ToArray();
        var actual = type == DataType.DtInt64
            ? Run<long>(b, "y", Feed("x", x, x.Length)).Values
            : Run<int>(b, "y", Feed("x", x, x.Length)).Values.Select(v => (long)v).ToArray();
        Assert.Equal(expected, actual);
    }

    [Fact]
    [OpTest("Cast")]
    public void Cast_to_and_from_bool_and_between_integers()
    {
        // float → bool is x != 0 (NaN is not zero); bool → float is 0/1.
        float[] x = [0f, -0.5f, 2f, float.NaN, -0f];
        var toBool = new TfGraphBuilder();
        toBool.Placeholder("x", x.Length);
        toBool.Op("y", "Cast", "x").Attr["DstT"] = new AttrValue { Type = DataType.DtBool };
        Assert.Equal(x.Select(v => v != 0).ToArray(), Run<bool>(toBool, "y", Feed("x", x, x.Length)).Values);

        bool[] flags = [true, false, true];
        var fromBool = new TfGraphBuilder();
        fromBool.TypedPlaceholder("x", DataType.DtBool, [3]);
        var cast = fromBool.Op("y", "Cast", "x");
        cast.Attr["SrcT"] = new AttrValue { Type = DataType.DtBool };
        cast.Attr["DstT"] = new AttrValue { Type = DataType.DtFloat };
        var toInt = fromBool.Op("i", "Cast", "x");
        toInt.Attr["DstT"] = new AttrValue { Type = DataType.DtInt32 };
        Assert.Equal([1f, 0f, 1f], Run<float>(fromBool, "y", Feed("x", flags, 3)).Values);
        Assert.Equal([1, 0, 1], Run<int>(fromBool, "i", Feed("x", flags, 3)).Values);

        // int32 → float and, folded, int32 → int64 and bool → int32.
        var ints = new TfGraphBuilder();
        ints.TypedPlaceholder("x", DataType.DtInt32, [3]);
        ints.Op("f", "Cast", "x").Attr["DstT"] = new AttrValue { Type = DataType.DtFloat };
        ints.ConstInt("k", [-3, 0, 7], 3);
        ints.Op("l", "Cast", "k").Attr["DstT"] = new AttrValue { Type = DataType.DtInt64 };
        ints.ConstBool("flags", [true, false], 2);
        ints.Op("bi", "Cast", "flags").Attr["DstT"] = new AttrValue { Type = DataType.DtInt32 };
        Assert.Equal([-3f, 0f, 7f], Run<float>(ints, "f", Feed("x", new[] { -3, 0, 7 }, 3)).Values);
        var folded = Folded(ints, "l");
        Assert.Equal(DataType.DtInt64, folded?.Type);
        Assert.Equal([-3L, 0, 7], folded!.ToInt64Array());
        Assert.Equal([1L, 0], FoldedInts(ints, "bi"));
        Assert.Equal([-3L, 0, 7], Run<long>(ints, "l", Feed("x", new[] { 1, 2, 3 }, 3)).Values);
    }

    [Theory]
    [OpTest("MatMul")]
    [InlineData(false, false, false)]
    [InlineData(true, false, false)]
    [InlineData(false, true, false)]
    [InlineData(true, true, false)]
    [InlineData(false, true, true)]
    [InlineData(true, true, true)]
    public void MatMul_with_transposed_operands(bool transposeA, bool transposeB, bool constantB)
    {
        const int m = 2, k = 3, n = 4;
        // a is m×k and b is k×n as TensorFlow multiplies them; the graph holds each transposed where asked.
        var a = Enumerable.Range(0, m * k).Select(i => (float)(i * 0.5 - 1.2)).ToArray();
        var bm = Enumerable.Range(0, k * n).Select(i => (float)(0.3 * i - 1.7 + (i % 3))).ToArray();
        float At(int i, int j) => a[i * k + j];
        float Bt(int i, int j) => bm[i * n + j];
        var aStored = transposeA ? Enumerable.Range(0, k * m).Select(i => At(i % m, i / m)).ToArray() : a;
        var bStored = transposeB ? Enumerable.Range(0, n * k).Select(i => Bt(i % k, i / k)).ToArray() : bm;
        long[] aShape = transposeA ? [k, m] : [m, k];
        long[] bShape = transposeB ? [n, k] : [k, n];
        var g = new TfGraphBuilder();
        g.Placeholder("a", aShape);
        if (constantB)
            g.Const("b", bStored, bShape);
        else
            g.Placeholder("b", bShape);
        var mm = g.Op("y", "MatMul", "a", "b");
        mm.Attr["transpose_a"] = new AttrValue { B = transposeA };
        mm.Attr["transpose_b"] = new AttrValue { B = transposeB };
        var expected = new double[m * n];
        for (var i = 0; i < m; i++)
        for (var j = 0; j < n; j++)
        for (var p = 0; p < k; p++)
            expected[i * n + j] += At(i, p) * Bt(p, j);
        var feeds = constantB ? new[] { Feed("a", aStored, aShape) } : [Feed("a", aStored, aShape), Feed("b", bStored, bShape)];
        var (actual, shape) = Run<float>(g, "y", feeds);
        Assert.Equal([m, n], shape);
        Close(expected, actual, 1e-5, 1e-5);
    }

    [Theory]
    [OpTest("BiasAdd", "BiasAddV1")]
    [InlineData("BiasAdd", "NHWC")]
    [InlineData("BiasAdd", "NCHW")]
    [InlineData("BiasAddV1", null)]
    public void BiasAdd_adds_along_the_channel_axis(string op, string? format)
    {
        // NHWC: channels last; NCHW: channels at axis 1 of a 4-D value; BiasAddV1 has no data_format and is NHWC.
        long[] shape = format == "NCHW" ? [2, 3, 2, 2] : [2, 2, 2, 3];
        var x = Enumerable.Range(0, 24).Select(i => (float)(i * 0.25 - 3)).ToArray();
        float[] bias = [10, -20, 30];
        var b = new TfGraphBuilder();
        b.Placeholder("x", shape);
        b.Const("bias", bias, 3);
        var node = b.Op("y", op, "x", "bias");
        if (format is not null)
            node.Attr["data_format"] = TfGraphBuilder.Str(format);
        var channelAxis = format == "NCHW" ? 1 : 3;
        var expected = Indices(shape).Select((idx, i) => (double)x[i] + bias[idx[channelAxis]]).ToArray();
        Close(expected, Run<float>(b, "y", Feed("x", x, shape)).Values);
    }

    [Fact]
    [OpTest("Softmax")]
    public void Softmax_normalises_the_last_axis_also_after_a_convolution()
    {
        var x = new float[] { 1, 2, 3, -1, 0.5f, 0.5f, 0.5f, 0.5f, -3, 7 };
        var b = new TfGraphBuilder();
        b.Placeholder("x", 2, 5);
        b.Op("y", "Softmax", "x");
        Close(SoftmaxRows(x, 5), Run<float>(b, "y", Feed("x", x, 2, 5)).Values);

        // A convolution's output is held channels-first; softmax must still run over TensorFlow's last (channel) axis.
        var c = new TfGraphBuilder();
        c.Placeholder("x", 1, 2, 2, 5);
        c.Const("k", Enumerable.Range(0, 25).Select(i => i % 6 == 0 ? 1f : 0f).ToArray(), 1, 1, 5, 5);
        var conv = c.Op("conv", "Conv2D", "x", "k");
        conv.Attr["strides"] = TfGraphBuilder.Ints(1, 1, 1, 1);
        conv.Attr["padding"] = TfGraphBuilder.Str("VALID");
        c.Op("y", "Softmax", "conv");
        var image = Enumerable.Range(0, 20).Select(i => (float)Math.Sin(i)).ToArray();
        Close(SoftmaxRows(image, 5), Run<float>(c, "y", Feed("x", image, 1, 2, 2, 5)).Values);
    }

    internal static double[] SoftmaxRows(float[] x, int width)
    {
        var y = new double[x.Length];
        for (var r = 0; r < x.Length / width; r++)
        {
            var row = x.Skip(r * width).Take(width).Select(v => (double)v).ToArray();
            var max = row.Max();
            var sum = row.Sum(v => Math.Exp(v - max));
            for (var j = 0; j < width; j++)
                y[r * width + j] = Math.Exp(row[j] - max) / sum;
        }
        return y;
    }
}
