using TfPose.Graph.Proto;
using TfPose.Tests;
using static TfPose.Runtime.Tests.ElementwiseOpTests;
using static TfPose.Runtime.Tests.OpTestKit;

namespace TfPose.Runtime.Tests;

/// <summary>The maths family and the broadcasting binary ops, each against TensorFlow's definition written out here.</summary>
public class MathOpTests
{
    // ---- unary ----

    /// <summary>expm1 to double precision: its series where exp(x) - 1 would cancel.</summary>
    private static double Expm1(double x) => Math.Abs(x) < 1e-3 ? x + x * x / 2 + x * x * x / 6 + x * x * x * x / 24 : Math.Exp(x) - 1;

    private static double Log1p(double x) => Math.Abs(x) < 1e-3 ? x - x * x / 2 + x * x * x / 3 - x * x * x * x / 4 : Math.Log(1 + x);

    [Theory]
    [OpTest("Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Softsign", "Inv", "Rint")]
    [InlineData("Sin")]
    [InlineData("Cos")]
    [InlineData("Tan")]
    [InlineData("Asin")]
    [InlineData("Acos")]
    [InlineData("Atan")]
    [InlineData("Sinh")]
    [InlineData("Cosh")]
    [InlineData("Softsign")]
    [InlineData("Inv")]
    [InlineData("Rint")]
    public void Float_unary_op_follows_its_tensorflow_definition(string op)
    {
        double[] unit = [-1, -0.7, -0.5, 0, 0.3, 0.5, 1];
        var (inputs, f) = Case();
        CheckUnary(op, inputs, f);

        (double[], Func<double, double>) Case() => op switch
        {
            "Sin" => (General, Math.Sin),
            "Cos" => (General, Math.Cos),
            "Tan" => ([-1.4, -1.2, -0.5, 0, 0.3, 1.0, 1.4], Math.Tan),
            "Asin" => (unit, Math.Asin),
            "Acos" => (unit, Math.Acos),
            "Atan" => ([.. General, -1e4, 1e4], Math.Atan),
            "Sinh" => (General, Math.Sinh),
            "Cosh" => (General, Math.Cosh),
            "Softsign" => (General, x => x / (1 + Math.Abs(x))),
            "Inv" => (Positive.Concat(Positive.Select(p => -p)).ToArray(), x => 1 / x),
            // Half to even, like Round.
            "Rint" => (General, x => Math.Round(x, MidpointRounding.ToEven)),
            _ => throw new ArgumentException(op),
        };
    }

    [Theory]
    [OpTest("Expm1", "Log1p")]
    [InlineData("Expm1")]
    [InlineData("Log1p")]
    public void Expm1_and_Log1p_keep_their_precision_near_zero(string op)
    {
        // Relative accuracy where exp(x) - 1 and log(1 + x) computed plainly in float lose every digit (|x| ≤ 1e-7),
        // and the ends: expm1(-inf) = -1, expm1(+inf) = log1p(+inf) = +inf, log1p(-1) = -inf, below -1 NaN.
        double[] inputs = op == "Expm1"
            ? [-200, -20, -1, -1e-3, -1e-7, 0, 1e-10, 1e-5, 0.5, 5, 100, double.NegativeInfinity, double.PositiveInfinity, double.NaN]
            : [-1, -0.999, -0.5, -1e-7, 0, 1e-10, 1e-5, 0.5, 5, 1e6, double.PositiveInfinity, -2, double.NaN];
        Func<double, double> f = op == "Expm1"
            ? x => float.IsPositiveInfinity((float)Math.Exp(x)) ? double.PositiveInfinity : Expm1(x)
            : Log1p;
        CheckUnary(op, inputs, f, rel: 1e-5, abs: 0);
    }

    [Fact]
    [OpTest("Atan2")]
    public void Atan2_in_all_four_quadrants_and_on_the_axes()
    {
        (double Y, double X)[] points = [(1, 1), (1, -1), (-1, -1), (-1, 1), (0, -1), (2, 0), (-2, 0), (0, 0), (0, 3), (3.5, -0.5), (-0.2, -4), (1e-3, -1e3)];
        var y = points.Select(p => (float)p.Y).ToArray();
        var x = points.Select(p => (float)p.X).ToArray();
        var b = new TfGraphBuilder();
        b.Placeholder("y", y.Length);
        b.Placeholder("x", x.Length);
        b.Op("a", "Atan2", "y", "x");
        var expected = points.Select(p => Math.Atan2(p.Y, p.X)).ToArray();
        Close(expected, Run<float>(b, "a", Feed("y", y, y.Length), Feed("x", x, x.Length)).Values);
    }

    // ---- binary, float ----

    /// <summary>TensorFlow's float definitions; the division family in float arithmetic, as the kernels compute it.</summary>
    private static double FloatBinary(string op, float a, float b) => op switch
    {
        "Add" or "AddV2" => (double)a + b,
        "Sub" => (double)a - b,
        "Mul" => (double)a * b,
        "RealDiv" or "Div" => (double)a / b,
        "Maximum" => Math.Max(a, b),
        "Minimum" => Math.Min(a, b),
        "Pow" => Math.Pow(a, b),
        "SquaredDifference" => ((double)a - b) * ((double)a - b),
        "FloorDiv" => MathF.Floor(a / b),
        // C# % on floats is C's fmod (the dividend's sign); TensorFlow moves a non-zero remainder to the divisor's sign.
        "FloorMod" => a % b is var r && r != 0 && (b < 0) != (r < 0) ? r + b : a % b,
        "TruncateDiv" => MathF.Truncate(a / b),
        "TruncateMod" or "Mod" => a % b,
        "Atan2" => Math.Atan2(a, b),
        _ => throw new ArgumentException(op),
    };

    [Theory]
    [OpTest("Add", "AddV2", "Sub", "Mul", "RealDiv", "Div", "Maximum", "Minimum", "Pow", "SquaredDifference")]
    [OpTest("FloorDiv", "FloorMod", "TruncateDiv", "TruncateMod", "Mod")]
    [InlineData("Add", true)]
    [InlineData("AddV2", false)]
    [InlineData("Sub", true)]
    [InlineData("Sub", false)]
    [InlineData("Mul", false)]
    [InlineData("RealDiv", true)]
    [InlineData("Div", false)]
    [InlineData("Maximum", true)]
    [InlineData("Minimum", false)]
    [InlineData("Pow", true)]
    [InlineData("Pow", false)]
    [InlineData("SquaredDifference", true)]
    [InlineData("FloorDiv", true)]
    [InlineData("FloorDiv", false)]
    [InlineData("FloorMod", true)]
    [InlineData("FloorMod", false)]
    [InlineData("TruncateDiv", false)]
    [InlineData("TruncateMod", true)]
    [InlineData("Mod", false)]
    public void Float_binary_op_broadcasts_a_row(string op, bool constantRow)
    {
        // Signs on both sides of every division (-7.5 / 2, -7 / -2, 3 / -2, ...), non-integral quotients and a zero dividend;
        // Pow meets negative bases with integral (defined) and fractional (NaN) exponents, and 0 to a negative power (inf).
        float[] x = [-7.5f, -7f, -2.5f, 0f, 3f, 7f, 2.5f, -0.5f];
        float[] y = [2f, -2f, 0.75f, -3f];
        var b = new TfGraphBuilder();
        b.Placeholder("x", 2, 4);
        if (constantRow)
            b.Const("y", y, 4);
        else
            b.Placeholder("y", 4);
        b.Op("z", op, "x", "y");
        var expected = Broadcast2(x, [2, 4], y, [4], (p, q) => FloatBinary(op, p, q));
        var feeds = constantRow ? new[] { Feed("x", x, 2, 4) } : [Feed("x", x, 2, 4), Feed("y", y, 4)];
        var (actual, shape) = Run<float>(b, "z", feeds);
        Assert.Equal([2, 4], shape);
        Close(expected, actual, what: op);
    }

    // ---- binary, integer ----

    private static long FloorDivInt(long p, long q) => (long)Math.Floor((double)p / q);

    /// <summary>TensorFlow's integer definitions: Div and TruncateDiv truncate (C), FloorDiv floors (Python), Mod is C's %.</summary>
    private static long IntBinary(string op, long p, long q) => op switch
    {
        "Add" or "AddV2" => p + q,
        "Sub" => p - q,
        "Mul" => p * q,
        "Div" or "TruncateDiv" => p / q,
        "FloorDiv" => FloorDivInt(p, q),
        "FloorMod" => p - FloorDivInt(p, q) * q,
        "TruncateMod" or "Mod" => p % q,
        "Maximum" => Math.Max(p, q),
        "Minimum" => Math.Min(p, q),
        "SquaredDifference" => (p - q) * (p - q),
        "Pow" => Enumerable.Repeat(p, (int)q).Aggregate(1L, (a, v) => a * v),
        _ => throw new ArgumentException(op),
    };

    public static TheoryData<string, DataType> IntegerBinaryCases()
    {
        var data = new TheoryData<string, DataType>();
        foreach (var op in new[] { "Add", "AddV2", "Sub", "Mul", "Div", "FloorDiv", "FloorMod", "TruncateDiv", "TruncateMod", "Mod", "Maximum", "Minimum", "SquaredDifference", "Pow" })
        {
            data.Add(op, DataType.DtInt32);
            data.Add(op, DataType.DtInt64);
        }
        return data;
    }

    [Theory]
    [OpTest("Add", "AddV2", "Sub", "Mul", "Div", "FloorDiv", "FloorMod", "TruncateDiv", "TruncateMod", "Mod", "Maximum", "Minimum")]
    [OpTest("SquaredDifference", "Pow")]
    [MemberData(nameof(IntegerBinaryCases))]
    public void Integer_binary_op_fed_and_folded(string op, DataType type)
    {
        // Every sign pairing of dividend and divisor, exact and inexact quotients.
        long[] x = op == "Pow" ? [2, -3, 5, 0, -1, 1, -2, 3, 10, 7] : [7, -7, 7, -7, 6, -6, 0, 5, -1, 9];
        long[] y = op == "Pow" ? [3, 3, 0, 2, 5, 9, 4, 1, 2, 0] : [2, 2, -2, -2, 3, -3, 4, 1, 3, -4];
        var fed = new TfGraphBuilder();
        fed.TypedPlaceholder("x", type, [x.Length]);
        fed.TypedPlaceholder("y", type, [y.Length]);
        fed.Op("z", op, type, "x", "y");
        var expected = x.Zip(y, (p, q) => IntBinary(op, p, q)).ToArray();
        Assert.Equal(expected, RunInts(fed, "z", type, ("x", x), ("y", y)));

        // Known at translation time (shape arithmetic): folded by the shape rule, broadcasting a row against two.
        var folded = new TfGraphBuilder();
        ConstInts(folded, "x", type, x, 2, 5);
        ConstInts(folded, "y", type, y[..5], 5);
        folded.Op("z", op, type, "x", "y");
        var expectedFolded = Broadcast2(x, [2, 5], y[..5], [5], (p, q) => IntBinary(op, p, q));
        if (op != "Pow")
        {
            var value = Folded(folded, "z");
            Assert.Equal(type, value?.Type);
            Assert.Equal(expectedFolded, value!.ToInt64Array());
        }
        Assert.Equal(expectedFolded, RunInts(folded, "z", type));
    }

    [Theory]
    [OpTest("Div", "FloorDiv", "FloorMod", "TruncateDiv", "TruncateMod")]
    [InlineData("Div")]
    [InlineData("FloorDiv")]
    [InlineData("FloorMod")]
    [InlineData("TruncateDiv")]
    [InlineData("TruncateMod")]
    public void Integer_division_by_zero_is_an_error(string op)
    {
        // TensorFlow fails the run ("Integer division by zero"); so does ONNX Runtime, instead of crashing the process.
        var b = new TfGraphBuilder();
        b.TypedPlaceholder("x", DataType.DtInt32, [3]);
        b.TypedPlaceholder("y", DataType.DtInt32, [3]);
        b.Op("z", op, DataType.DtInt32, "x", "y");
        var error = Assert.Throws<InvalidOperationException>(() => RunInts(b, "z", DataType.DtInt32, ("x", [5, -5, 7]), ("y", [1, 0, 2])));
        Assert.Contains("by zero", error.Message);
    }

    // ---- n-ary, clipping ----

    [Fact]
    [OpTest("AddN")]
    public void AddN_sums_any_number_of_inputs()
    {
        float[] a = [1, -2, 3.5f, 0, 4, -6], c = [-0.5f, 0.25f, 8, 1, 1, 1];
        float[] k = [10, 20, 30, 40, 50, 60];
        var b = new TfGraphBuilder();
        b.Placeholder("a", 2, 3);
        b.Const("k", k, 2, 3);
        b.Placeholder("c", 2, 3);
        b.Op("sum", "AddN", "a", "k", "c");
        b.Op("one", "AddN", "a");
        Close(a.Select((v, i) => (double)v + k[i] + c[i]).ToArray(), Run<float>(b, "sum", Feed("a", a, 2, 3), Feed("c", c, 2, 3)).Values);
        Close(a.Select(v => (double)v).ToArray(), Run<float>(b, "one", Feed("a", a, 2, 3)).Values);

        foreach (var type in new[] { DataType.DtInt32, DataType.DtInt64 })
        {
            var ints = new TfGraphBuilder();
            ints.TypedPlaceholder("p", type, [4]);
            ints.TypedPlaceholder("q", type, [4]);
            ints.Op("s", "AddN", type, "p", "q", "p");
            Assert.Equal([-1L, 9, 0, 6], RunInts(ints, "s", type, ("p", [1, 3, -2, 0]), ("q", [-3, 3, 4, 6])));

            var folded = new TfGraphBuilder();
            ConstInts(folded, "p", type, [1, 3, -2, 0], 4);
            ConstInts(folded, "q", type, [-3, 3, 4, 6], 4);
            folded.Op("s", "AddN", type, "p", "q", "p");
            Assert.Equal([-1L, 9, 0, 6], FoldedInts(folded, "s"));
        }
    }

    [Fact]
    [OpTest("ClipByValue")]
    public void ClipByValue_takes_scalar_or_elementwise_bounds_and_the_lower_wins_when_they_cross()
    {
        float[] t = [-3, -1, 0, 0.5f, 2, 9];
        var b = new TfGraphBuilder();
        b.Placeholder("t", 2, 3);
        b.Const("lo", [-1.5f]);
        b.Const("hi", [1f]);
        b.Op("scalar", "ClipByValue", "t", "lo", "hi");
        b.Placeholder("los", 2, 3);
        b.Placeholder("his", 2, 3);
        b.Op("tensor", "ClipByValue", "t", "los", "his");
        Close(t.Select(v => (double)Math.Max(Math.Min(v, 1f), -1.5f)).ToArray(), Run<float>(b, "scalar", Feed("t", t, 2, 3)).Values);
        // TensorFlow computes max(min(t, hi), lo): where lo > hi (the last two) the result is lo.
        float[] los = [-4, 0, -1, 0, 5, 4];
        float[] his = [4, 1, 1, 0.25f, 3, 2];
        var expected = t.Select((v, i) => (double)Math.Max(Math.Min(v, his[i]), los[i])).ToArray();
        Assert.Equal(5, expected[4]);
        Close(expected, Run<float>(b, "tensor", Feed("t", t, 2, 3), Feed("los", los, 2, 3), Feed("his", his, 2, 3)).Values);

        var ints = new TfGraphBuilder();
        ints.TypedPlaceholder("t", DataType.DtInt32, [5]);
        ints.ConstInt("lo", [-2]);
        ints.ConstInt("hi", [3]);
        ints.Op("c", "ClipByValue", DataType.DtInt32, "t", "lo", "hi");
        Assert.Equal([-2L, -2, 0, 3, 3], RunInts(ints, "c", DataType.DtInt32, ("t", [-9, -2, 0, 3, 8])));
        var folded = new TfGraphBuilder();
        folded.ConstInt("t", [-9, -2, 0, 3, 8], 5);
        folded.ConstInt("lo", [-2]);
        folded.ConstInt("hi", [3]);
        folded.Op("c", "ClipByValue", DataType.DtInt32, "t", "lo", "hi");
        Assert.Equal([-2L, -2, 0, 3, 3], FoldedInts(folded, "c"));
    }

    // ---- cumulative ----

    /// <summary>Cumulative sum or product along an axis, from the definition: exclusive starts from the identity, reverse runs from the end.</summary>
    private static double[] Cumulative(double[] x, long[] shape, int axis, bool exclusive, bool reverse, bool product)
    {
        var y = new double[x.Length];
        foreach (var index in Indices(shape))
        {
            var acc = product ? 1.0 : 0.0;
            var n = (int)shape[axis];
            for (var j = 0; j < n; j++)
            {
                var take = reverse ? (exclusive ? j > index[axis] : j >= index[axis]) : (exclusive ? j < index[axis] : j <= index[axis]);
                if (!take)
                    continue;
                var source = (int[])index.Clone();
                source[axis] = j;
                var v = x[Broadcast(source, shape)];
                acc = product ? acc * v : acc + v;
            }
            y[Broadcast(index, shape)] = acc;
        }
        return y;
    }

    public static TheoryData<string, int, bool, bool> CumulativeCases()
    {
        var data = new TheoryData<string, int, bool, bool>();
        foreach (var op in new[] { "Cumsum", "Cumprod" })
        foreach (var axis in new[] { 0, 1, -1 })
        foreach (var exclusive in new[] { false, true })
        foreach (var reverse in new[] { false, true })
            data.Add(op, axis, exclusive, reverse);
        return data;
    }

    [Theory]
    [OpTest("Cumsum", "Cumprod")]
    [MemberData(nameof(CumulativeCases))]
    public void Cumulative_ops_follow_axis_exclusive_and_reverse(string op, int axis, bool exclusive, bool reverse)
    {
        long[] shape = [2, 3, 4];
        var x = Enumerable.Range(0, 24).Select(i => (float)((i * 7 % 11 - 5) * 0.25)).ToArray();
        var product = op == "Cumprod";
        var expected = Cumulative(x.Select(v => (double)v).ToArray(), shape, axis < 0 ? axis + 3 : axis, exclusive, reverse, product);

        NodeDef AddOp(TfGraphBuilder g, string input, string axisInput, DataType type)
        {
            var node = g.Op("y", op, type, input, axisInput);
            node.Attr["exclusive"] = new AttrValue { B = exclusive };
            node.Attr["reverse"] = new AttrValue { B = reverse };
            return node;
        }

        var b = new TfGraphBuilder();
        b.Placeholder("x", shape);
        b.ConstInt("axis", [axis]);
        AddOp(b, "x", "axis", DataType.DtFloat);
        Close(expected, Run<float>(b, "y", Feed("x", x, shape)).Values, 1e-5, 1e-6, op);

        // Unknown length along the axis (Cumprod builds its mask at run time).
        var dynamic = new TfGraphBuilder();
        dynamic.TypedPlaceholder("x", DataType.DtFloat, [-1, -1, -1]);
        dynamic.ConstInt("axis", [axis]);
        AddOp(dynamic, "x", "axis", DataType.DtFloat);
        Close(expected, Run<float>(dynamic, "y", Feed("x", x, shape)).Values, 1e-5, 1e-6, op);

        // Integers, fed and folded.
        var ints = x.Select(v => (long)(v * 4)).ToArray();
        var expectedInts = Cumulative(ints.Select(v => (double)v).ToArray(), shape, axis < 0 ? axis + 3 : axis, exclusive, reverse, product).Select(v => (long)v).ToArray();
        var intType = exclusive ? DataType.DtInt64 : DataType.DtInt32;
        var fed = new TfGraphBuilder();
        fed.TypedPlaceholder("x", intType, shape);
        fed.ConstInt("axis", [axis]);
        AddOp(fed, "x", "axis", intType);
        Assert.Equal(expectedInts, RunInts(fed, "y", intType, [("x", ints, shape)]));
        var folded = new TfGraphBuilder();
        folded.ConstLong("x", ints, shape);
        folded.ConstInt("axis", [axis]);
        AddOp(folded, "x", "axis", DataType.DtInt64);
        Assert.Equal(expectedInts, FoldedInts(folded, "y"));
    }

    [Fact]
    [OpTest("Cumsum")]
    public void Cumsum_with_an_axis_known_only_at_run_time()
    {
        var x = Enumerable.Range(0, 6).Select(i => (float)(i - 2)).ToArray();
        var b = new TfGraphBuilder();
        b.Placeholder("x", 2, 3);
        b.TypedPlaceholder("axis", DataType.DtInt32, []);
        b.Op("y", "Cumsum", "x", "axis").Attr["reverse"] = new AttrValue { B = true };
        // Rows of [-2, -1, 0] and [1, 2, 3] summed from the end of axis 1.
        Close([-3, -1, 0, 6, 5, 3], Run<float>(b, "y", Feed("x", x, 2, 3), Feed("axis", new[] { 1 })).Values);
    }

    // ---- softmax, identities ----

    [Fact]
    [OpTest("LogSoftmax")]
    public void LogSoftmax_is_the_log_of_the_last_axis_softmax_also_after_a_convolution()
    {
        var x = new float[] { 1, 2, 3, -1, 0.5f, 0.5f, 0.5f, 0.5f, -30, 70 };
        var b = new TfGraphBuilder();
        b.Placeholder("x", 2, 5);
        b.Op("y", "LogSoftmax", "x");
        // Computed as x - max - log(sum(exp(x - max))) so that -100 stays finite, as TensorFlow's kernel does.
        Close(LogSoftmaxRows(x, 5), Run<float>(b, "y", Feed("x", x, 2, 5)).Values, 1e-5, 1e-5);

        var c = new TfGraphBuilder();
        c.Placeholder("x", 1, 2, 2, 5);
        c.Const("k", Enumerable.Range(0, 25).Select(i => i % 6 == 0 ? 1f : 0f).ToArray(), 1, 1, 5, 5);
        ConvNode(c, "conv", "x", "k");
        c.Op("y", "LogSoftmax", "conv");
        var image = Enumerable.Range(0, 20).Select(i => (float)(3 * Math.Sin(i))).ToArray();
        Close(LogSoftmaxRows(image, 5), Run<float>(c, "y", Feed("x", image, 1, 2, 2, 5)).Values, 1e-5, 1e-5);
    }

    private static double[] LogSoftmaxRows(float[] x, int width)
    {
        var y = new double[x.Length];
        for (var r = 0; r < x.Length / width; r++)
        {
            var row = x.Skip(r * width).Take(width).Select(v => (double)v).ToArray();
            var max = row.Max();
            var log = Math.Log(row.Sum(v => Math.Exp(v - max)));
            for (var j = 0; j < width; j++)
                y[r * width + j] = row[j] - max - log;
        }
        return y;
    }

    private static NodeDef ConvNode(TfGraphBuilder b, string name, string input, string filter)
    {
        var conv = b.Op(name, "Conv2D", input, filter);
        conv.Attr["strides"] = TfGraphBuilder.Ints(1, 1, 1, 1);
        conv.Attr["padding"] = TfGraphBuilder.Str("VALID");
        return conv;
    }

    [Fact]
    [OpTest("EnsureShape", "CheckNumerics")]
    public void EnsureShape_and_CheckNumerics_pass_the_tensor_on()
    {
        var x = new float[] { 1, -2, 3.5f, 0, 4, -6 };
        var b = new TfGraphBuilder();
        b.TypedPlaceholder("x", DataType.DtFloat, [-1, 3]);
        var ensure = b.Op("e", "EnsureShape", "x");
        ensure.Attr["shape"] = new AttrValue { Shape = new TensorShapeProto { Dim = { new TensorShapeProto.Types.Dim { Size = 2 }, new TensorShapeProto.Types.Dim { Size = -1 } } } };
        b.Op("n", "CheckNumerics", "e").Attr["message"] = TfGraphBuilder.Str("bad");
        // The asserted shape fills what the input leaves unknown.
        Assert.Equal(new long[] { 2, 3 }, InferredShape(b, "e"));
        Assert.Equal(new long[] { 2, 3 }, InferredShape(b, "n"));
        Assert.Equal(x, Run<float>(b, "n", Feed("x", x, 2, 3)).Values);

        var folded = new TfGraphBuilder();
        folded.ConstInt("k", [4, 5], 2);
        folded.Op("e", "EnsureShape", DataType.DtInt32, "k").Attr["shape"] = new AttrValue { Shape = TfPose.Graph.TensorValue.ShapeProto([2]) };
        Assert.Equal([4L, 5], FoldedInts(folded, "e"));
    }

    // ---- layout ----

    [Fact]
    [OpTest("FloorMod", "Greater", "SelectV2", "Select", "ClipByValue", "AddN", "Maximum", "Cumsum", "Cumprod")]
    public void Elementwise_ops_after_a_convolution_stay_channels_first_and_broadcast_per_channel()
    {
        // A convolution's output is held channels-first; each op below broadcasts against a per-channel [C] constant or
        // a scalar, or reads a rows condition over the batch, or runs along the channel axis, so none needs a transpose.
        const int n = 2, h = 3, w = 4, c = 2;
        var b = new TfGraphBuilder();
        b.Placeholder("x", n, h, w, c);
        b.Const("k", [1, 0.5f, -0.25f, 1], 1, 1, c, c);
        ConvNode(b, "conv", "x", "k");
        float[] threshold = [0.1f, -0.2f], divisor = [0.7f, -0.4f], floor = [-0.3f, 0.05f];
        b.Const("threshold", threshold, c);
        b.Const("divisor", divisor, c);
        b.Const("floor", floor, c);
        b.Const("lo", [-0.5f]);
        b.Const("hi", [0.6f]);
        b.ConstInt("channels", [3]);
        b.ConstInt("height", [-3]);
        b.ConstBool("rows", [false, true], n);
        b.Op("greater", "Greater", "conv", "threshold");
        b.Op("mod", "FloorMod", "conv", "divisor");
        b.Op("pick", "SelectV2", "greater", "conv", "mod");
        b.Op("clip", "ClipByValue", "pick", "lo", "hi");
        b.Op("sum", "AddN", "clip", "conv", "clip");
        b.Op("max", "Maximum", "sum", "floor");
        b.Op("cumsum", "Cumsum", "max", "channels");
        b.Op("cumprod", "Cumprod", "cumsum", "height");
        b.Op("out", "Select", "rows", "cumprod", "conv");

        var x = Enumerable.Range(0, n * h * w * c).Select(i => (float)Math.Sin(0.7 * i) * 1.3f).ToArray();
        long[] shape = [n, h, w, c];
        var conv = new float[x.Length];
        var stage = new double[x.Length];
        foreach (var idx in Indices(shape))
        {
            var at = Broadcast(idx, shape);
            var pixel = at - idx[3];
            conv[at] = x[pixel] * (idx[3] == 0 ? 1f : 0.5f) + x[pixel + 1] * (idx[3] == 0 ? -0.25f : 1f);
        }
        foreach (var idx in Indices(shape))
        {
            var at = Broadcast(idx, shape);
            var ch = idx[3];
            var v = conv[at];
            var r = v % divisor[ch];
            var mod = r != 0 && (divisor[ch] < 0) != (r < 0) ? r + divisor[ch] : r;
            var pick = v > threshold[ch] ? v : mod;
            var clip = Math.Max(Math.Min(pick, 0.6f), -0.5f);
            stage[at] = Math.Max(2.0 * clip + v, floor[ch]);
        }
        stage = Cumulative(stage, shape, 3, false, false, product: false);
        stage = Cumulative(stage, shape, 1, false, false, product: true);
        var expected = stage.Select((v, i) => i < h * w * c ? conv[i] : v).ToArray();
        Close(expected, Run<float>(b, "out", Feed("x", x, shape)).Values, 1e-5, 1e-5);
        // One transpose into the convolution's layout and one back for the output: no op in between left it.
        Assert.Equal(2, OnnxNodes(b, "out", "Transpose"));
    }
}
