using TfPose.Tests;
using static TfPose.Runtime.Tests.TfliteOpTestKit;

namespace TfPose.Runtime.Tests;

/// <summary>TensorFlow Lite's elementwise builtins, each alone, against the formulas of TensorFlow Lite's kernels.</summary>
public class TfliteElementwiseOpTests
{
    private static readonly float[] X = [-7.5f, -3, -2.5f, -1, -0.5f, -0.25f, 0, 0.25f, 0.5f, 1, 1.5f, 2.5f, 3, 5.5f, 8];
    private static readonly float[] Positive = [0.01f, 0.25f, 0.5f, 1, 1.5f, 2, 3, 4.5f, 7, 10, 0.1f, 0.75f, 2.25f, 16, 100];

    private static double Erf(double x) => OpTestKit.Erf(x);

    [Theory]
    [InlineData("ABS")]
    [InlineData("NEG")]
    [InlineData("EXP")]
    [InlineData("LOG")]
    [InlineData("SQRT")]
    [InlineData("RSQRT")]
    [InlineData("SQUARE")]
    [InlineData("SIN")]
    [InlineData("COS")]
    [InlineData("FLOOR")]
    [InlineData("CEIL")]
    [InlineData("ROUND")]
    [InlineData("SIGN")]
    [InlineData("LOGISTIC")]
    [InlineData("TANH")]
    [InlineData("RELU")]
    [InlineData("RELU6")]
    [InlineData("ELU")]
    [InlineData("RELU_N1_TO_1")]
    [InlineData("RELU_0_TO_1")]
    [InlineData("HARD_SWISH")]
    [InlineData("GELU")]
    [InlineData("GELU approximate")]
    [InlineData("LEAKY_RELU")]
    [InlineData("ZEROS_LIKE")]
    [TfliteOpTest("ABS", "NEG", "EXP", "LOG", "SQRT", "RSQRT", "SQUARE", "SIN", "COS", "FLOOR", "CEIL", "ROUND", "SIGN", "LOGISTIC", "TANH",
        "RELU", "RELU6", "ELU", "RELU_N1_TO_1", "RELU_0_TO_1", "HARD_SWISH", "GELU", "LEAKY_RELU", "ZEROS_LIKE")]
    public void Unary(string op)
    {
        var name = op.Split(' ')[0];
        // The reference erf is a series, exact only for |x| ≤ 4, so GELU gets the values halved.
        var x = name is "LOG" or "SQRT" or "RSQRT" ? Positive : name == "GELU" ? Array.ConvertAll(X, v => v / 2) : X;
        Func<double, double> f = op switch
        {
            "ABS" => Math.Abs,
            "NEG" => v => -v,
            "EXP" => Math.Exp,
            "LOG" => Math.Log,
            "SQRT" => Math.Sqrt,
            "RSQRT" => v => 1 / Math.Sqrt(v),
            "SQUARE" => v => v * v,
            "SIN" => Math.Sin,
            "COS" => Math.Cos,
            "FLOOR" => Math.Floor,
            "CEIL" => Math.Ceiling,
            "ROUND" => v => Math.Round(v, MidpointRounding.ToEven), // TensorFlow Lite rounds halves to even: -2.5 → -2, 0.5 → 0, 1.5 → 2
            "SIGN" => v => Math.Sign(v),
            "LOGISTIC" => v => 1 / (1 + Math.Exp(-v)),
            "TANH" => Math.Tanh,
            "RELU" => v => Math.Max(v, 0),
            "RELU6" => v => Math.Clamp(v, 0, 6),
            "ELU" => v => v > 0 ? v : Math.Exp(v) - 1,
            "RELU_N1_TO_1" => v => Math.Clamp(v, -1, 1),
            "RELU_0_TO_1" => v => Math.Clamp(v, 0, 1),
            "HARD_SWISH" => v => v * Math.Clamp(v + 3, 0, 6) / 6,
            "GELU" => v => 0.5 * v * (1 + Erf(v / Math.Sqrt(2))),
            "GELU approximate" => v => 0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))),
            "LEAKY_RELU" => v => v > 0 ? v : 0.2 * v,
            "ZEROS_LIKE" => _ => 0,
            _ => throw new ArgumentException(op),
        };
        var b = new TfliteModelBuilder();
        var input = b.Input("x", [3, 5]);
        var y = b.Tensor("y", F32, [3, 5]);
        switch (op)
        {
            case "GELU approximate": b.Operator(name, [input], [y], "Gelu", TfliteModelBuilder.Options((0, true))); break;
            case "LEAKY_RELU": b.Operator(name, [input], [y], "LeakyRelu", TfliteModelBuilder.Options((0, 0.2f))); break;
            default: b.Operator(name, [input], [y]); break;
        }
        b.Output(y);
        var (actual, shape) = Run<float>(b, "y", Feed("x", x, 3, 5));
        Assert.Equal([3, 5], shape);
        Close(x.Select(v => f(v)).ToList(), actual, 2e-6, op);
    }

    /// <summary>Fused activations as TensorFlow Lite's ActivationFunctionType numbers them.</summary>
    internal static double Activation(byte activation, double v) => activation switch
    {
        0 => v,
        1 => Math.Max(v, 0),
        2 => Math.Clamp(v, -1, 1),
        3 => Math.Clamp(v, 0, 6),
        4 => Math.Tanh(v),
        _ => throw new ArgumentException(activation.ToString()),
    };

    [Theory]
    [InlineData("ADD", 0)]
    [InlineData("ADD", 1)]
    [InlineData("ADD", 2)]
    [InlineData("ADD", 3)]
    [InlineData("ADD", 4)]
    [InlineData("SUB", 0)]
    [InlineData("SUB", 1)]
    [InlineData("MUL", 0)]
    [InlineData("MUL", 2)]
    [InlineData("DIV", 0)]
    [InlineData("DIV", 4)]
    [InlineData("SQUARED_DIFFERENCE", 0)]
    [InlineData("MAXIMUM", 0)]
    [InlineData("MINIMUM", 0)]
    [InlineData("POW", 0)]
    [InlineData("FLOOR_DIV", 0)]
    [InlineData("FLOOR_MOD", 0)]
    [InlineData("ATAN2", 0)]
    [TfliteOpTest("ADD", "SUB", "MUL", "DIV", "SQUARED_DIFFERENCE", "MAXIMUM", "MINIMUM", "POW", "FLOOR_DIV", "FLOOR_MOD", "ATAN2")]
    public void Binary_with_broadcasting_and_fused_activation(string op, byte activation)
    {
        float[] a = [-3.5f, -1, 0.5f, 2, 4.25f, 7];
        float[] c = [1.5f, -2, 4];
        if (op == "POW")
            a = Array.ConvertAll(a, v => Math.Abs(v) + 0.5f);
        Func<double, double, double> f = op switch
        {
            "ADD" => (p, q) => p + q,
            "SUB" => (p, q) => p - q,
            "MUL" => (p, q) => p * q,
            "DIV" => (p, q) => p / q,
            "SQUARED_DIFFERENCE" => (p, q) => (p - q) * (p - q),
            "MAXIMUM" => Math.Max,
            "MINIMUM" => Math.Min,
            "POW" => Math.Pow,
            "FLOOR_DIV" => (p, q) => Math.Floor(p / q),
            "FLOOR_MOD" => (p, q) => p - Math.Floor(p / q) * q, // the divisor's sign, as Python's %
            "ATAN2" => Math.Atan2,
            _ => throw new ArgumentException(op),
        };
        var b = new TfliteModelBuilder();
        var x = b.Input("a", [2, 3]);
        var bias = b.Input("b", [3]);
        var y = b.Tensor("y", F32, [2, 3]);
        var options = op switch { "ADD" => "Add", "SUB" => "Sub", "MUL" => "Mul", "DIV" => "Div", _ => null };
        b.Operator(op, [x, bias], [y], options, options is null ? null : TfliteModelBuilder.Options((0, activation)));
        b.Output(y);
        var (actual, _) = Run<float>(b, "y", Feed("a", a, 2, 3), Feed("b", c, 3));
        Close(a.Select((v, i) => Activation(activation, f(v, c[i % 3]))).ToList(), actual, 2e-6, $"{op} activation {activation}");
    }

    [Fact]
    [TfliteOpTest("MUL", "CAST")]
    public void Quantized_constants_read_by_float_ops_are_their_real_values_and_cast_keeps_the_integers()
    {
        // Dynamic-range quantized models feed int8 constants (scale · (q − zero point)) to float ops directly.
        var b = new TfliteModelBuilder();
        var x = b.Input("x", [3]);
        var q = b.Const("q", TfliteModelBuilder.Int8, [3], new sbyte[] { 4, -8, 12 }, [0.25f], [2]);
        var y = b.Tensor("y", F32, [3]);
        b.Operator("MUL", [x, q], [y], "Mul");
        var cast = b.Tensor("cast", F32, [3]);
        b.Operator("CAST", [q], [cast]);
        b.Output(y);
        b.Output(cast);
        var results = RunAll(b, ["y", "cast"], Feed("x", new[] { 2f, 1, -1 }, 3));
        Assert.Equal([1f, -2.5f, -2.5f], (float[])results[0].Values); // q is 0.5, -2.5, 2.5
        Assert.Equal([4f, -8, 12], (float[])results[1].Values);
    }

    [Fact]
    [TfliteOpTest("PRELU")]
    public void Prelu_with_per_channel_slopes()
    {
        var b = new TfliteModelBuilder();
        var x = b.Input("x", [1, 2, 2, 2]);
        var alpha = b.Floats("alpha", [0.25f, -0.5f], 1, 1, 2);
        var y = b.Tensor("y", F32, [1, 2, 2, 2]);
        b.Operator("PRELU", [x, alpha], [y]);
        b.Output(y);
        float[] input = [-4, -4, 2, 3, -1, 0, 5, -2];
        var (actual, _) = Run<float>(b, "y", Feed("x", input, 1, 2, 2, 2));
        Close([-1, 2, 2, 3, -0.25f, 0, 5, 1], actual);
    }

    [Theory]
    [InlineData("LESS")]
    [InlineData("LESS_EQUAL")]
    [InlineData("GREATER")]
    [InlineData("GREATER_EQUAL")]
    [InlineData("EQUAL")]
    [InlineData("NOT_EQUAL")]
    [TfliteOpTest("LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL", "EQUAL", "NOT_EQUAL")]
    public void Comparisons(string op)
    {
        float[] a = [1, 2, 3, 4, 5, 6];
        float[] c = [2, 5, 3];
        Func<float, float, bool> f = op switch
        {
            "LESS" => (p, q) => p < q,
            "LESS_EQUAL" => (p, q) => p <= q,
            "GREATER" => (p, q) => p > q,
            "GREATER_EQUAL" => (p, q) => p >= q,
            "EQUAL" => (p, q) => p == q,
            _ => (p, q) => p != q,
        };
        var b = new TfliteModelBuilder();
        var x = b.Input("a", [2, 3]);
        var z = b.Floats("b", c, 3);
        var y = b.Tensor("y", Bool, [2, 3]);
        b.Operator(op, [x, z], [y]);
        b.Output(y);
        var (actual, _) = Run<bool>(b, "y", Feed("a", a, 2, 3));
        Assert.Equal(a.Select((v, i) => f(v, c[i % 3])), actual);
    }

    [Fact]
    [TfliteOpTest("LOGICAL_AND", "LOGICAL_OR", "LOGICAL_NOT")]
    public void Logical_ops()
    {
        bool[] p = [true, true, false, false];
        bool[] q = [true, false, true, false];
        foreach (var op in new[] { "LOGICAL_AND", "LOGICAL_OR", "LOGICAL_NOT" })
        {
            var b = new TfliteModelBuilder();
            var x = b.Input("p", [4], Bool);
            var z = b.Input("q", [4], Bool);
            var y = b.Tensor("y", Bool, [4]);
            b.Operator(op, op == "LOGICAL_NOT" ? [x] : [x, z], [y]);
            b.Output(y);
            var feeds = op == "LOGICAL_NOT" ? new[] { Feed("p", p, 4) } : [Feed("p", p, 4), Feed("q", q, 4)];
            var (actual, _) = Run<bool>(b, "y", feeds);
            bool[] expected = op switch
            {
                "LOGICAL_AND" => [true, false, false, false],
                "LOGICAL_OR" => [true, true, true, false],
                _ => [false, false, true, true],
            };
            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    [TfliteOpTest("SELECT", "SELECT_V2")]
    public void Select_and_broadcasting_select_v2()
    {
        float[] x = [1, 2, 3, 4, 5, 6];
        float[] z = [-1, -2, -3, -4, -5, -6];
        var b = new TfliteModelBuilder();
        var cond = b.Input("c", [2, 3], Bool);
        var p = b.Input("x", [2, 3]);
        var q = b.Input("z", [2, 3]);
        var y = b.Tensor("y", F32, [2, 3]);
        b.Operator("SELECT", [cond, p, q], [y]);
        b.Output(y);
        var (actual, _) = Run<float>(b, "y", Feed("c", new[] { true, false, true, false, false, true }, 2, 3), Feed("x", x, 2, 3), Feed("z", z, 2, 3));
        Assert.Equal([1, -2, 3, -4, -5, 6], actual);

        var v2 = new TfliteModelBuilder();
        var c2 = v2.Input("c", [3], Bool);
        var p2 = v2.Input("x", [2, 3]);
        var q2 = v2.Floats("z", [0], 1);
        var y2 = v2.Tensor("y", F32, [2, 3]);
        v2.Operator("SELECT_V2", [c2, p2, q2], [y2]);
        v2.Output(y2);
        (actual, _) = Run<float>(v2, "y", Feed("c", new[] { false, true, true }, 3), Feed("x", x, 2, 3));
        Assert.Equal([0, 2, 3, 0, 5, 6], actual);
    }

    [Fact]
    [TfliteOpTest("SOFTMAX", "LOG_SOFTMAX")]
    public void Softmax_with_beta_and_log_softmax()
    {
        float[] x = [1, 2, 3, 4, -1, 0, 0.5f, 2];
        foreach (var (op, beta) in new[] { ("SOFTMAX", 1f), ("SOFTMAX", 0.5f), ("LOG_SOFTMAX", 1f) })
        {
            var b = new TfliteModelBuilder();
            var input = b.Input("x", [2, 4]);
            var y = b.Tensor("y", F32, [2, 4]);
            if (op == "SOFTMAX")
                b.Operator(op, [input], [y], "Softmax", TfliteModelBuilder.Options((0, beta)));
            else
                b.Operator(op, [input], [y]);
            b.Output(y);
            var (actual, _) = Run<float>(b, "y", Feed("x", x, 2, 4));
            var expected = new List<double>();
            for (var r = 0; r < 2; r++)
            {
                var row = x.Skip(4 * r).Take(4).Select(v => beta * (double)v).ToArray();
                var sum = row.Sum(Math.Exp);
                expected.AddRange(row.Select(v => op == "SOFTMAX" ? Math.Exp(v) / sum : v - Math.Log(sum)));
            }
            Close(expected, actual, 2e-6, $"{op} beta {beta}");
        }
    }

    [Fact]
    [TfliteOpTest("L2_NORMALIZATION")]
    public void L2_normalization_over_the_last_axis()
    {
        float[] x = [3, 4, 0, 1, -2, 2, 0, 0, 0];
        var b = new TfliteModelBuilder();
        var input = b.Input("x", [3, 3]);
        var y = b.Tensor("y", F32, [3, 3]);
        b.Operator("L2_NORMALIZATION", [input], [y]);
        b.Output(y);
        var (actual, _) = Run<float>(b, "y", Feed("x", x, 3, 3));
        // A zero row stays zero: the norm is floored at 1e-6 before dividing.
        Close([0.6f, 0.8f, 0, 1 / 3f, -2 / 3f, 2 / 3f, 0, 0, 0], actual, 2e-6);
    }

    [Fact]
    [TfliteOpTest("CAST")]
    public void Cast_between_float_int_and_bool()
    {
        var b = new TfliteModelBuilder();
        var x = b.Input("x", [5]);
        var i = b.Tensor("i", I32, [5]);
        b.Operator("CAST", [x], [i]);
        var back = b.Tensor("f", F32, [5]);
        b.Operator("CAST", [i], [back]);
        var flag = b.Tensor("flag", Bool, [5]);
        b.Operator("CAST", [x], [flag]);
        b.Output(i);
        b.Output(back);
        b.Output(flag);
        var results = RunAll(b, ["i", "f", "flag"], Feed("x", new[] { -1.7f, 2.9f, 0, 0.4f, -0f }, 5));
        Assert.Equal([-1, 2, 0, 0, 0], (int[])results[0].Values); // truncation toward zero
        Assert.Equal([-1f, 2, 0, 0, 0], (float[])results[1].Values);
        Assert.Equal([true, true, false, true, false], (bool[])results[2].Values);
    }

    [Fact]
    [TfliteOpTest("ADD_N")]
    public void Add_n_sums_every_input()
    {
        var b = new TfliteModelBuilder();
        var p = b.Input("p", [3]);
        var q = b.Input("q", [3]);
        var r = b.Floats("r", [100, 200, 300], 3);
        var y = b.Tensor("y", F32, [3]);
        b.Operator("ADD_N", [p, q, r], [y]);
        b.Output(y);
        var (actual, _) = Run<float>(b, "y", Feed("p", new[] { 1f, 2, 3 }, 3), Feed("q", new[] { 0.5f, -2, 7 }, 3));
        Assert.Equal([101.5f, 200, 310], actual);
    }
}
