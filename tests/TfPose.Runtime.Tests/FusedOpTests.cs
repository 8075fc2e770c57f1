using Google.Protobuf;
using TfPose.Graph;
using TfPose.Graph.Proto;
using TfPose.Graph.Translation;
using TfPose.Tests;

namespace TfPose.Runtime.Tests;

/// <summary>
/// The fused ops TensorFlow's optimizer and the TensorFlow.js converter write, against the plain computation done here
/// step by step (convolution, then bias or batch normalisation, residual add, activation, in TensorFlow's order).
/// </summary>
public class FusedOpTests
{
    private const int N = 1, H = 5, W = 4, Cin = 3, Cout = 4;

    private static float[] Values(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
    }

    private static AttrValue Strings(params string[] values)
    {
        var list = new AttrValue.Types.ListValue();
        list.S.AddRange(values.Select(ByteString.CopyFromUtf8));
        return new AttrValue { List = list };
    }

    /// <summary>NHWC convolution, stride 1, SAME padding (3×3 kernel: one pixel each side).</summary>
    private static double[] Conv(float[] x, float[] k, int cin, int cout, bool depthwise)
    {
        var oc = depthwise ? cin : cout;
        var y = new double[N * H * W * oc];
        for (var i = 0; i < H; i++)
        for (var j = 0; j < W; j++)
        for (var o = 0; o < oc; o++)
        {
            double sum = 0;
            for (var di = 0; di < 3; di++)
            for (var dj = 0; dj < 3; dj++)
            {
                int yi = i + di - 1, xj = j + dj - 1;
                if (yi < 0 || yi >= H || xj < 0 || xj >= W)
                    continue;
                if (depthwise)
                    sum += x[(yi * W + xj) * cin + o] * k[(di * 3 + dj) * cin + o];
                else
                    for (var ci = 0; ci < cin; ci++)
                        sum += x[(yi * W + xj) * cin + ci] * k[((di * 3 + dj) * cin + ci) * cout + o];
            }
            y[(i * W + j) * oc + o] = sum;
        }
        return y;
    }

    private static double Activate(string op, double v, double alpha, double prelu) => op switch
    {
        "Relu" => Math.Max(v, 0),
        "Relu6" => Math.Clamp(v, 0, 6),
        "Elu" => v > 0 ? v : Math.Exp(v) - 1,
        "Selu" => 1.0507009873554805 * (v > 0 ? v : 1.6732632423543772 * (Math.Exp(v) - 1)),
        "LeakyRelu" => v > 0 ? v : alpha * v,
        "Sigmoid" => 1 / (1 + Math.Exp(-v)),
        "Tanh" => Math.Tanh(v),
        "Prelu" => v >= 0 ? v : prelu * v,
        _ => v,
    };

    [Theory]
    [OpTest("_FusedConv2D")]
    [InlineData("BiasAdd")]
    [InlineData("BiasAdd", "Relu")]
    [InlineData("BiasAdd", "Relu6")]
    [InlineData("BiasAdd", "Elu")]
    [InlineData("BiasAdd", "Selu")]
    [InlineData("BiasAdd", "LeakyRelu")]
    [InlineData("BiasAdd", "Sigmoid")]
    [InlineData("BiasAdd", "Tanh")]
    [InlineData("BiasAdd", "Prelu")]
    [InlineData("BiasAdd", "Add")]
    [InlineData("BiasAdd", "Add", "Relu")]
    [InlineData("FusedBatchNorm")]
    [InlineData("FusedBatchNorm", "Relu")]
    [InlineData("FusedBatchNorm", "LeakyRelu")]
    public void FusedConv2D_applies_its_fused_ops_in_order(params string[] fusedOps) => CheckFusedConvolution("_FusedConv2D", fusedOps);

    [Theory]
    [OpTest("FusedDepthwiseConv2dNative", "_FusedDepthwiseConv2dNative")]
    [InlineData("FusedDepthwiseConv2dNative", "BiasAdd")]
    [InlineData("FusedDepthwiseConv2dNative", "BiasAdd", "Relu6")]
    [InlineData("FusedDepthwiseConv2dNative", "BiasAdd", "Prelu")]
    [InlineData("_FusedDepthwiseConv2dNative", "BiasAdd", "Relu")]
    public void Fused_depthwise_convolution_applies_its_fused_ops(string op, params string[] fusedOps) => CheckFusedConvolution(op, fusedOps);

    private static void CheckFusedConvolution(string op, string[] fusedOps)
    {
        var depthwise = op.Contains("Depthwise", StringComparison.Ordinal);
        var cout = depthwise ? Cin : Cout;
        var b = new TfGraphBuilder();
        b.Placeholder("x", N, H, W, Cin);
        var k = Values(3 * 3 * Cin * (depthwise ? 1 : Cout), 1);
        b.Const("k", k, 3, 3, Cin, depthwise ? 1 : cout);
        var bias = Values(cout, 2);
        var scale = Values(cout, 3).Select(v => 1 + v / 2).ToArray();
        var offset = Values(cout, 4);
        var mean = Values(cout, 5);
        var variance = Values(cout, 6).Select(v => 0.5f + Math.Abs(v)).ToArray();
        var residual = Values(N * H * W * cout, 7);
        var alpha = Values(cout, 8).Select(v => v / 2).ToArray();
        var args = new List<string>();
        if (fusedOps[0] == "BiasAdd")
            args.Add(b.Const("bias", bias, cout));
        else
            args.AddRange([b.Const("scale", scale, cout), b.Const("offset", offset, cout), b.Const("mean", mean, cout), b.Const("variance", variance, cout)]);
        if (fusedOps.Contains("Add"))
        {
            b.Placeholder("residual", N, H, W, cout);
            args.Add("residual");
        }
        if (fusedOps.Contains("Prelu"))
            args.Add(b.Const("alpha", alpha, cout));
        var node = b.Op("fused", op, ["x", "k", .. args]);
        node.Attr["strides"] = TfGraphBuilder.Ints(1, 1, 1, 1);
        node.Attr["padding"] = TfGraphBuilder.Str("SAME");
        node.Attr["data_format"] = TfGraphBuilder.Str("NHWC");
        node.Attr["fused_ops"] = Strings(fusedOps);
        node.Attr["num_args"] = new AttrValue { I = args.Count };
        node.Attr["epsilon"] = new AttrValue { F = 0.001f };
        node.Attr["leakyrelu_alpha"] = new AttrValue { F = 0.3f };

        var x = Values(N * H * W * Cin, 9);
        var expected = Conv(x, k, Cin, cout, depthwise);
        for (var p = 0; p < expected.Length; p++)
        {
            var c = p % cout;
            var v = fusedOps[0] == "BiasAdd" ? expected[p] + bias[c] : (expected[p] - mean[c]) / Math.Sqrt(variance[c] + 0.001) * scale[c] + offset[c];
            if (fusedOps.Contains("Add"))
                v += residual[p];
            expected[p] = Activate(fusedOps[^1], v, 0.3, alpha[c]);
        }

        using var session = new GraphSession(b.Build());
        using var xt = GraphTensor.FromArray(x, N, H, W, Cin);
        using var rt = GraphTensor.FromArray(residual, N, H, W, cout);
        var feeds = new Dictionary<string, GraphTensor> { ["x"] = xt };
        if (fusedOps.Contains("Add"))
            feeds["residual"] = rt;
        using var result = session.Run(feeds, ["fused"]);
        Assert.Equal([N, H, W, cout], result[0].Shape);
        var actual = result[0].ToArray<float>();
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-4, $"{string.Join("+", fusedOps)} [{i}]: {actual[i]} vs {expected[i]}");
    }

    [Theory]
    [OpTest("_FusedMatMul")]
    [InlineData(false, false, "BiasAdd")]
    [InlineData(false, true, "BiasAdd", "Relu")]
    [InlineData(true, false, "BiasAdd", "Tanh")]
    [InlineData(true, true, "BiasAdd", "LeakyRelu")]
    [InlineData(false, false, "BiasAdd", "Add", "Relu6")]
    public void FusedMatMul_transposes_then_applies_its_fused_ops(bool transposeA, bool transposeB, params string[] fusedOps)
    {
        const int m = 3, kk = 5, n = 4;
        var a = Values(m * kk, 11);
        var w = Values(kk * n, 12);
        var bias = Values(n, 13);
        var residual = Values(m * n, 14);
        var b = new TfGraphBuilder();
        b.Placeholder("a", transposeA ? [kk, m] : [m, kk]);
        // Stored as TensorFlow would hold them when transposed: a[i,k] = stored[k,i].
        var aFed = transposeA ? Enumerable.Range(0, kk * m).Select(t => a[t % m * kk + t / m]).ToArray() : a;
        var wStored = transposeB ? Enumerable.Range(0, n * kk).Select(t => w[t % kk * n + t / kk]).ToArray() : w;
        b.Const("w", wStored, transposeB ? [n, kk] : [kk, n]);
        var args = new List<string> { b.Const("bias", bias, n) };
        if (fusedOps.Contains("Add"))
            args.Add(b.Const("residual", residual, m, n));
        var node = b.Op("fused", "_FusedMatMul", ["a", "w", .. args]);
        node.Attr["transpose_a"] = new AttrValue { B = transposeA };
        node.Attr["transpose_b"] = new AttrValue { B = transposeB };
        node.Attr["fused_ops"] = Strings(fusedOps);
        node.Attr["num_args"] = new AttrValue { I = args.Count };
        node.Attr["leakyrelu_alpha"] = new AttrValue { F = 0.1f };

        using var session = new GraphSession(b.Build());
        using var at = GraphTensor.FromArray(aFed, transposeA ? [kk, m] : [m, kk]);
        using var result = session.Run(new Dictionary<string, GraphTensor> { ["a"] = at }, ["fused"]);
        var actual = result[0].ToArray<float>();
        for (var i = 0; i < m; i++)
        for (var j = 0; j < n; j++)
        {
            double v = bias[j];
            for (var t = 0; t < kk; t++)
                v += a[i * kk + t] * w[t * n + j];
            if (fusedOps.Contains("Add"))
                v += residual[i * n + j];
            var expected = Activate(fusedOps[^1], v, 0.1, 0);
            Assert.True(Math.Abs(expected - actual[i * n + j]) < 1e-5, $"[{i},{j}]: {actual[i * n + j]} vs {expected}");
        }
    }

    [Theory]
    [OpTest("_FusedBatchNormEx")]
    [InlineData("Identity", false)]
    [InlineData("Relu", false)]
    [InlineData("Relu", true)]
    public void FusedBatchNormEx_normalises_adds_the_side_input_and_activates(string activation, bool sideInput)
    {
        const int c = 3;
        var b = new TfGraphBuilder();
        b.Placeholder("x", 1, 2, 2, c);
        float[] scale = [1.5f, 0.5f, 2f], offset = [0.1f, -0.2f, 0.3f], mean = [0.2f, -0.1f, 0f], variance = [0.5f, 1f, 2f];
        var side = Values(4 * c, 21);
        string[] inputs = ["x", b.Const("scale", scale, c), b.Const("offset", offset, c), b.Const("mean", mean, c), b.Const("variance", variance, c)];
        if (sideInput)
            inputs = [.. inputs, b.Const("side", side, 1, 2, 2, c)];
        var node = b.Op("bn", "_FusedBatchNormEx", inputs);
        node.Attr["epsilon"] = new AttrValue { F = 0.01f };
        node.Attr["is_training"] = new AttrValue { B = false };
        node.Attr["activation_mode"] = TfGraphBuilder.Str(activation);
        node.Attr["num_side_inputs"] = new AttrValue { I = sideInput ? 1 : 0 };
        var x = Values(4 * c, 22);
        using var session = new GraphSession(b.Build());
        using var xt = GraphTensor.FromArray(x, 1, 2, 2, c);
        using var result = session.Run(new Dictionary<string, GraphTensor> { ["x"] = xt }, ["bn"]);
        var actual = result[0].ToArray<float>();
        for (var p = 0; p < x.Length; p++)
        {
            var ch = p % c;
            var v = (x[p] - mean[ch]) / Math.Sqrt(variance[ch] + 0.01) * scale[ch] + offset[ch] + (sideInput ? side[p] : 0);
            var expected = activation == "Relu" ? Math.Max(v, 0) : v;
            Assert.True(Math.Abs(expected - actual[p]) < 1e-5, $"[{p}]: {actual[p]} vs {expected}");
        }
    }

    [Theory]
    [OpTest("Prelu")]
    [InlineData(false)]
    [InlineData(true)]
    public void Prelu_scales_negative_values_per_channel(bool afterConvolution)
    {
        // After a convolution the input is held channels-first, so alpha must be laid out per channel there too.
        const int c = 3;
        var b = new TfGraphBuilder();
        b.Placeholder("x", 1, 2, 3, c);
        var source = "x";
        if (afterConvolution)
        {
            b.Const("identity", [1f, 0, 0, 0, 1f, 0, 0, 0, 1f], 1, 1, c, c);
            var conv = b.Op("conv", "Conv2D", "x", "identity");
            conv.Attr["strides"] = TfGraphBuilder.Ints(1, 1, 1, 1);
            conv.Attr["padding"] = TfGraphBuilder.Str("VALID");
            source = "conv";
        }
        float[] alpha = [0.1f, 0.5f, -2f];
        b.Const("alpha", alpha, c);
        b.Op("prelu", "Prelu", source, "alpha");
        var x = Values(6 * c, 31);
        using var session = new GraphSession(b.Build());
        using var xt = GraphTensor.FromArray(x, 1, 2, 3, c);
        using var result = session.Run(new Dictionary<string, GraphTensor> { ["x"] = xt }, ["prelu"]);
        var actual = result[0].ToArray<float>();
        for (var p = 0; p < x.Length; p++)
            Assert.Equal(x[p] >= 0 ? x[p] : alpha[p % c] * x[p], actual[p], 5);
    }

    [Fact]
    public void Fused_and_plain_forms_translate_to_the_same_onnx_ops()
    {
        // Same ONNX ops means the same ONNX Runtime kernels and fusions (Conv + activation, NCHWc): the speed promise.
        static TfGraph Build(bool fused)
        {
            var b = new TfGraphBuilder();
            b.Placeholder("x", 1, 16, 16, 8);
            b.Const("k", Values(3 * 3 * 8 * 16, 1), 3, 3, 8, 16);
            b.Const("bias", Values(16, 2), 16);
            b.Const("dk", Values(3 * 3 * 16, 3), 3, 3, 16, 1);
            b.Const("dbias", Values(16, 4), 16);
            if (fused)
            {
                var conv = b.Op("conv", "_FusedConv2D", "x", "k", "bias");
                conv.Attr["fused_ops"] = Strings("BiasAdd", "Relu6");
                var dw = b.Op("dw", "FusedDepthwiseConv2dNative", "conv", "dk", "dbias");
                dw.Attr["fused_ops"] = Strings("BiasAdd", "Relu");
                foreach (var n in new[] { conv, dw })
                {
                    n.Attr["strides"] = TfGraphBuilder.Ints(1, 1, 1, 1);
                    n.Attr["padding"] = TfGraphBuilder.Str("SAME");
                    n.Attr["num_args"] = new AttrValue { I = 1 };
                }
            }
            else
            {
                var conv = b.Op("c", "Conv2D", "x", "k");
                b.Op("cb", "BiasAdd", "c", "bias");
                b.Op("conv", "Relu6", "cb");
                var dw = b.Op("d", "DepthwiseConv2dNative", "conv", "dk");
                b.Op("db", "BiasAdd", "d", "dbias");
                b.Op("dw", "Relu", "db");
                foreach (var n in new[] { conv, dw })
                {
                    n.Attr["strides"] = TfGraphBuilder.Ints(1, 1, 1, 1);
                    n.Attr["padding"] = TfGraphBuilder.Str("SAME");
                }
            }
            return b.Build();
        }
        static string[] OpsOf(TfGraph g) => TfPose.Graph.Onnx.ModelProto.Parser.ParseFrom(GraphTranslator.Translate(g).OnnxModel)
            .Graph.Node.Select(n => n.OpType).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(OpsOf(Build(fused: false)), OpsOf(Build(fused: true)));
    }

    [Fact]
    public void Unknown_fused_combinations_are_reported_with_the_combination()
    {
        var b = new TfGraphBuilder();
        b.Placeholder("x", 1, 4, 4, 2);
        b.Const("k", new float[2 * 2], 1, 1, 2, 2);
        b.Const("bias", new float[2], 2);
        var node = b.Op("fused", "_FusedConv2D", "x", "k", "bias");
        node.Attr["strides"] = TfGraphBuilder.Ints(1, 1, 1, 1);
        node.Attr["padding"] = TfGraphBuilder.Str("SAME");
        node.Attr["fused_ops"] = Strings("BiasAdd", "Swoosh");
        node.Attr["num_args"] = new AttrValue { I = 1 };
        var error = Assert.Throws<GraphFormatException>(() => new GraphSession(b.Build()));
        Assert.Contains("_FusedConv2D", error.Message);
        Assert.Contains("fused: fused_ops [BiasAdd, Swoosh]", error.Message);
    }
}
