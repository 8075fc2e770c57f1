using TfPose.Graph;
using TfPose.Graph.Proto;
using TfPose.Tests;

namespace TfPose.Runtime.Tests;

/// <summary>The rest of the common CNN op set, each against arithmetic done here.</summary>
public class MoreOpTests
{
    private static float[] Values(int n, int seed = 3)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
    }

    private static float[] Run(TfGraphBuilder b, string output, float[] x, params long[] shape)
    {
        using var session = new GraphSession(b.Build());
        using var input = GraphTensor.FromArray(x, shape);
        using var result = session.Run(new Dictionary<string, GraphTensor> { ["x"] = input }, [output]);
        return result[0].ToArray<float>();
    }

    private static NodeDef Conv(TfGraphBuilder b, string name, string input, string filter, int stride, string padding, string op = "Conv2D")
    {
        var conv = b.Op(name, op, input, filter);
        conv.Attr["strides"] = TfGraphBuilder.Ints(1, stride, stride, 1);
        conv.Attr["padding"] = TfGraphBuilder.Str(padding);
        return conv;
    }

    [Theory]
    [InlineData("SAME", 2, 8, 6)]
    [InlineData("VALID", 2, 9, 7)]
    [InlineData("SAME", 1, 4, 3)]
    [OpTest("Conv2DBackpropInput")]
    public void Conv2DBackpropInput_is_the_gradient_of_convolution(string padding, int stride, int outH, int outW)
    {
        const int kh = 3, kw = 3, cin = 2, cout = 3;
        var inH = padding == "SAME" ? (outH + stride - 1) / stride : (outH - kh) / stride + 1;
        var inW = padding == "SAME" ? (outW + stride - 1) / stride : (outW - kw) / stride + 1;
        var b = new TfGraphBuilder();
        b.Placeholder("x", 1, inH, inW, cout);
        var filter = Values(kh * kw * cin * cout, 5);
        b.Const("f", filter, kh, kw, cin, cout);
        b.ConstInt("sizes", [1, outH, outW, cin], 4);
        var node = b.Op("dx", "Conv2DBackpropInput", "sizes", "f", "x");
        node.Attr["strides"] = TfGraphBuilder.Ints(1, stride, stride, 1);
        node.Attr["padding"] = TfGraphBuilder.Str(padding);
        var dy = Values(inH * inW * cout, 7);
        var actual = Run(b, "dx", dy, 1, inH, inW, cout);

        // Scatter each output-gradient element back through the forward convolution's window.
        var padTop = padding == "SAME" ? Math.Max((inH - 1) * stride + kh - outH, 0) / 2 : 0;
        var padLeft = padding == "SAME" ? Math.Max((inW - 1) * stride + kw - outW, 0) / 2 : 0;
        var expected = new double[outH * outW * cin];
        for (var i = 0; i < inH; i++)
        for (var j = 0; j < inW; j++)
        for (var co = 0; co < cout; co++)
        for (var di = 0; di < kh; di++)
        for (var dj = 0; dj < kw; dj++)
        {
            var y = i * stride + di - padTop;
            var x = j * stride + dj - padLeft;
            if (y < 0 || y >= outH || x < 0 || x >= outW)
                continue;
            for (var ci = 0; ci < cin; ci++)
                expected[(y * outW + x) * cin + ci] += dy[(i * inW + j) * cout + co] * filter[((di * kw + dj) * cin + ci) * cout + co];
        }
        Assert.Equal(expected.Length, actual.Length);
        for (var k = 0; k < expected.Length; k++)
            Assert.Equal(expected[k], actual[k], 4);
    }

    [Fact]
    public void Elementwise_ops_inside_a_channels_first_region_broadcast_like_tensorflow()
    {
        // conv (channels-first inside) followed by ops whose other operand is a scalar, a [C] vector,
        // a [W,C] constant and a rank-4 tensor in TensorFlow layout.
        const int h = 3, w = 4, c = 2;
        var b = new TfGraphBuilder();
        b.Placeholder("x", 1, h, w, c);
        b.Const("k", [1, 0, 0, 1], 1, 1, c, c);
        Conv(b, "conv", "x", "k", 1, "VALID");
        b.Const("vec", [2f, -3f], c);
        b.Const("wc", Enumerable.Range(0, w * c).Select(i => i * 0.5f).ToArray(), w, c);
        b.Const("half", [0.5f]);
        b.Op("m", "Mul", "conv", "vec");
        b.Op("s", "Sub", "wc", "m");
        b.Op("d", "RealDiv", "s", "half");
        b.Op("mx", "Maximum", "d", "x");
        b.Op("mn", "Minimum", "mx", "conv");
        b.Op("sq", "Square", "mn");
        var lr = b.Op("lr", "LeakyRelu", "sq");
        lr.Attr["alpha"] = new AttrValue { F = 0.1f };
        b.Op("r6", "Relu6", "d");
        b.Op("out", "AddV2", "lr", "r6");
        var x = Values(h * w * c);
        var y = Run(b, "out", x, 1, h, w, c);
        float[] vec = [2f, -3f];
        for (var i = 0; i < h; i++)
        for (var j = 0; j < w; j++)
        for (var ch = 0; ch < c; ch++)
        {
            var idx = (i * w + j) * c + ch;
            var conv = x[idx];
            var d = ((j * c + ch) * 0.5f - conv * vec[ch]) / 0.5f;
            var mn = Math.Min(Math.Max(d, x[idx]), conv);
            var sq = mn * mn;
            var expected = sq + Math.Clamp(d, 0, 6); // LeakyRelu of a square is the square
            Assert.Equal(expected, y[idx], 4);
        }
    }

    [Fact]
    public void Shape_ops_after_a_convolution_see_tensorflow_layout()
    {
        const int h = 2, w = 3, c = 4;
        var b = new TfGraphBuilder();
        b.Placeholder("x", 1, h, w, c);
        b.Const("k", Enumerable.Range(0, c * c).Select(i => i % (c + 1) == 0 ? 1f : 0f).ToArray(), 1, 1, c, c);
        Conv(b, "conv", "x", "k", 1, "VALID");
        b.ConstInt("pads", [0, 0, 1, 0, 0, 2, 0, 0], 4, 2);
        b.Op("pad", "Pad", "conv", "pads");               // [1, 3, 5, 4]
        b.ConstInt("perm", [0, 3, 1, 2], 4);
        b.Op("tr", "Transpose", "pad", "perm");            // [1, 4, 3, 5]
        b.ConstInt("shape", [4, 15], 2);
        b.Op("rs", "Reshape", "tr", "shape");              // [4, 15]
        b.ConstInt("axis", [0]);
        b.Op("ex", "ExpandDims", "rs", "axis");            // [1, 4, 15]
        var sq = b.Op("sq", "Squeeze", "ex");
        sq.Attr["squeeze_dims"] = TfGraphBuilder.Ints(0);   // [4, 15]
        var sm = b.Op("sm", "Softmax", "sq");
        var x = Values(h * w * c);
        var y = Run(b, "sm", x, 1, h, w, c);
        Assert.Equal(60, y.Length);
        // Reference: pad H by (1,0) and W by (0,2), move channels first, softmax over the 15 values of each channel.
        for (var ch = 0; ch < c; ch++)
        {
            var row = new double[15];
            for (var i = 0; i < 3; i++)
            for (var j = 0; j < 5; j++)
                row[i * 5 + j] = i >= 1 && j < 3 ? x[((i - 1) * w + j) * c + ch] : 0;
            var max = row.Max();
            var sum = row.Sum(v => Math.Exp(v - max));
            for (var k = 0; k < 15; k++)
                Assert.Equal(Math.Exp(row[k] - max) / sum, y[ch * 15 + k], 5);
        }
    }

    [Fact]
    public void MatMul_with_transposed_constant_and_pack_of_dynamic_dimensions()
    {
        var b = new TfGraphBuilder();
        b.Placeholder("x", -1, 3);
        b.Const("wt", [1, 2, 3, 4, 5, 6], 2, 3);            // transposed: effective W is [3,2]
        var mm = b.Op("mm", "MatMul", "x", "wt");
        mm.Attr["transpose_b"] = new AttrValue { B = true };
        var shape = b.Op("shape", "Shape", "mm");
        shape.Attr["out_type"] = new AttrValue { Type = DataType.DtInt32 };
        b.ConstInt("b0", [0], 1);
        b.ConstInt("e0", [1], 1);
        b.ConstInt("s1", [1], 1);
        var batch = b.Op("batch", "StridedSlice", "shape", "b0", "e0", "s1");
        batch.Attr["shrink_axis_mask"] = new AttrValue { I = 1 };
        b.ConstInt("two", [2]);
        b.ConstInt("one", [1]);
        var pack = b.Op("pack", "Pack", "batch", "one", "two");
        pack.Attr["N"] = new AttrValue { I = 3 };
        pack.Attr["T"] = new AttrValue { Type = DataType.DtInt32 };
        b.Op("out", "Reshape", "mm", "pack");               // [batch, 1, 2]
        float[] x = [1, 0, 2, -1, 1, 1];
        using var session = new GraphSession(b.Build());
        using var input = GraphTensor.FromArray(x, 2, 3);
        using var result = session.Run(new Dictionary<string, GraphTensor> { ["x"] = input }, ["out"]);
        Assert.Equal([2L, 1, 2], result[0].Shape);
        // rows: [1,0,2]·[[1,4],[2,5],[3,6]] = [7,16]; [-1,1,1] -> [4,7]
        Assert.Equal([7f, 16f, 4f, 7f], result[0].ToArray<float>());
    }

    [Fact]
    public void Concurrent_runs_give_the_same_results_as_sequential_ones()
    {
        using var session = new GraphSession(SharedData.Model("cpm-mobile", "model.pb"));
        var inputs = Enumerable.Range(0, 4).Select(i => Values(192 * 192 * 3, i + 10)).ToArray();
        var sequential = inputs.Select(x =>
        {
            using var t = GraphTensor.FromArray(x, 1, 192, 192, 3);
            using var r = session.Run(t);
            return r[0].ToArray<float>();
        }).ToArray();
        var parallel = new float[4][];
        Parallel.For(0, 16, new ParallelOptions { MaxDegreeOfParallelism = 4 }, k =>
        {
            var i = k % 4;
            using var t = GraphTensor.FromArray(inputs[i], 1, 192, 192, 3);
            using var r = session.Run(t);
            var y = r[0].ToArray<float>();
            lock (parallel)
                parallel[i] = y;
            Assert.Equal(sequential[i], y);
        });
        Assert.All(parallel, Assert.NotNull);
    }

    [Fact]
    public void Rnn_test_graphs_run_and_keep_batch_rows_independent()
    {
        foreach (var name in new[] { "gru", "lstm" })
        {
            using var session = new GraphSession(SharedData.Path("data", "models", "tf2onnx-tests", name, "frozen.pb"));
            var a = Values(784, 1);
            var c = Values(784, 2);
            float[] Run(float[] first, float[] second)
            {
                using var x = GraphTensor.FromArray([.. first, .. second], 2, 784);
                using var keep = GraphTensor.FromArray([1f], 1); // keep_prob 1: dropout is the identity
                using var r = session.Run(new Dictionary<string, GraphTensor> { ["X"] = x, ["keep_prob"] = keep });
                Assert.Equal([2L, 10], r[0].Shape);
                return r[0].ToArray<float>();
            }
            var ac = Run(a, c);
            var ca = Run(c, a);
            Assert.Equal(ac[..10], ca[10..]);
            Assert.Equal(ac[10..], ca[..10]);
            Assert.NotEqual(ac[..10], ac[10..]);
        }
    }

    [Fact]
    public void Regression_graph_computes_its_line()
    {
        var path = SharedData.Path("data", "models", "tf2onnx-tests", "regression", "frozen.pb");
        var graph = TfGraph.Load(path);
        var weights = graph.Nodes.Where(n => n.Op == "Const").Select(n => graph.GetConstant(n.Name).ToFloatArray()[0]).ToArray();
        using var session = new GraphSession(graph);
        using var x = GraphTensor.FromArray([0f, 1f, 2f], 3);
        using var r = session.Run(x);
        var y = r[0].ToArray<float>();
        // pred = X * W + b: two points determine the line, the third must lie on it.
        Assert.Equal(y[1] - y[0], y[2] - y[1], 5);
        Assert.Contains(weights, v => Math.Abs(v - (y[1] - y[0])) < 1e-5);
        Assert.Contains(weights, v => Math.Abs(v - y[0]) < 1e-5);
    }

    [Fact]
    public void Requesting_cuda_without_the_gpu_build_names_what_is_missing()
    {
        var error = Assert.Throws<ExecutionProviderUnavailableException>(() =>
        {
            using var session = new GraphSession(SharedData.Model("cpm-mobile", "model.pb"), new GraphSessionOptions { Device = ExecutionDevice.Cuda });
            using var t = GraphTensor.FromArray(new float[192 * 192 * 3], 1, 192, 192, 3);
            using var r = session.Run(t);
        });
        Assert.Contains("CUDAExecutionProvider", error.Message);
        Assert.Contains("onnxruntime_providers_cuda", error.Message);
        Assert.Contains("Microsoft.ML.OnnxRuntime.Gpu", error.Message);
    }
}
