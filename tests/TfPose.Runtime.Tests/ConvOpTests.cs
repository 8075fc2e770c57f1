using TfPose.Graph.Proto;
using TfPose.Tests;
using static TfPose.Runtime.Tests.SpatialOpTests;

namespace TfPose.Runtime.Tests;

/// <summary>The convolution family's less common settings (dilations, depth multipliers, explicit pads), pooling and batch normalisation.</summary>
public class ConvOpTests
{
    private static void AssertClose(float[] expected, float[] actual, double tolerance = 1e-4)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * Math.Max(1, Math.Abs(expected[i])), $"[{i}]: {actual[i]} vs {expected[i]}");
    }

    [Theory]
    [InlineData("Conv2D", "SAME", 2, 1, 1, 1)]
    [InlineData("Conv2D", "VALID", 1, 2, 2, 1)]
    [InlineData("Conv2D", "EXPLICIT", 2, 2, 1, 1)]
    [InlineData("DepthwiseConv2dNative", "SAME", 1, 2, 1, 2)]
    [InlineData("DepthwiseConv2dNative", "SAME", 2, 1, 1, 3)]
    [InlineData("DepthwiseConv2dNative", "VALID", 2, 3, 1, 2)]
    [InlineData("Conv2D", "SAME", 2, 2, 3, 1)]                // SAME padding of a dilated strided convolution, size known at run time only
    [InlineData("DepthwiseConv2dNative", "SAME", 2, 2, 2, 2)]
    [OpTest("Conv2D", "DepthwiseConv2dNative")]
    public void Convolutions_with_dilations_strides_and_depth_multipliers(string op, string padding, int stride, int dilationH, int dilationW, int multiplier)
    {
        const int n = 2, h = 9, w = 8, c = 3, kh = 3, kw = 2, cout = 4;
        var depthwise = op == "DepthwiseConv2dNative";
        var kout = depthwise ? multiplier : cout;
        var b = new TfGraphBuilder();
        b.Placeholder("x", n, -1, -1, c);
        var k = Values(kh * kw * c * kout, 21);
        b.Const("k", k, kh, kw, c, kout);
        var conv = b.Op("conv", op, "x", "k");
        conv.Attr["strides"] = TfGraphBuilder.Ints(1, stride, stride, 1);
        conv.Attr["dilations"] = TfGraphBuilder.Ints(1, dilationH, dilationW, 1);
        conv.Attr["padding"] = TfGraphBuilder.Str(padding);
        (int, int, int, int) pads = (0, 0, 0, 0);
        if (padding == "EXPLICIT")
        {
            pads = (2, 0, 1, 3);
            conv.Attr["explicit_paddings"] = TfGraphBuilder.Ints(0, 0, 2, 0, 1, 3, 0, 0);
        }
        else if (padding == "SAME")
        {
            var (top, bottom) = SamePads(h, kh, stride, dilationH);
            var (left, right) = SamePads(w, kw, stride, dilationW);
            pads = (top, bottom, left, right);
        }
        var x = Values(n * h * w * c, 23);
        var y = Run(b, Feeds(("x", GraphTensor.FromArray(x, n, h, w, c))), "conv")[0];
        var expected = ConvRef(x, n, h, w, c, k, kh, kw, kout, depthwise, (stride, stride), (dilationH, dilationW), pads, out var oh, out var ow);
        Assert.Equal(new long[] { n, oh, ow, depthwise ? c * multiplier : cout }, y.Shape);
        AssertClose(expected, y.F);
    }

    /// <summary>Max and average over the window cells inside the input (TensorFlow's padding takes no part in either).</summary>
    private static float[] PoolRef(float[] x, int h, int w, int c, int k, int stride, bool same, bool max, out int oh, out int ow)
    {
        oh = same ? (h + stride - 1) / stride : (h - k) / stride + 1;
        ow = same ? (w + stride - 1) / stride : (w - k) / stride + 1;
        var top = same ? Math.Max((oh - 1) * stride + k - h, 0) / 2 : 0;
        var left = same ? Math.Max((ow - 1) * stride + k - w, 0) / 2 : 0;
        var y = new float[oh * ow * c];
        for (var i = 0; i < oh; i++)
        for (var j = 0; j < ow; j++)
        for (var ch = 0; ch < c; ch++)
        {
            var cells = new List<float>();
            for (var di = 0; di < k; di++)
            for (var dj = 0; dj < k; dj++)
            {
                int r = i * stride + di - top, q = j * stride + dj - left;
                if (r >= 0 && r < h && q >= 0 && q < w)
                    cells.Add(x[(r * w + q) * c + ch]);
            }
            y[(i * ow + j) * c + ch] = max ? cells.Max() : cells.Average();
        }
        return y;
    }

    [Theory]
    [InlineData("MaxPool", "SAME", 3, 2)]
    [InlineData("MaxPool", "VALID", 2, 1)]
    [InlineData("AvgPool", "SAME", 3, 1)]
    [InlineData("AvgPool", "VALID", 3, 2)]
    [OpTest("MaxPool", "AvgPool")]
    public void Pooling_over_valid_cells(string op, string padding, int k, int stride)
    {
        const int h = 7, w = 6, c = 2;
        var b = new TfGraphBuilder();
        b.Placeholder("x", 1, h, w, c);
        var pool = b.Op("pool", op, "x");
        pool.Attr["ksize"] = TfGraphBuilder.Ints(1, k, k, 1);
        pool.Attr["strides"] = TfGraphBuilder.Ints(1, stride, stride, 1);
        pool.Attr["padding"] = TfGraphBuilder.Str(padding);
        // All negative: a zero from padding would win a max and pull an average up.
        var x = Values(h * w * c, 31).Select(v => v - 2).ToArray();
        var y = Run(b, Feeds(("x", GraphTensor.FromArray(x, 1, h, w, c))), "pool")[0];
        var expected = PoolRef(x, h, w, c, k, stride, padding == "SAME", op == "MaxPool", out var oh, out var ow);
        Assert.Equal(new long[] { 1, oh, ow, c }, y.Shape);
        AssertClose(expected, y.F, 1e-5);
    }

    [Theory]
    [InlineData("FusedBatchNorm")]
    [InlineData("FusedBatchNormV2")]
    [InlineData("FusedBatchNormV3")]
    [OpTest("FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3")]
    public void FusedBatchNorm_versions_in_inference_and_training_mode(string op)
    {
        const int n = 2, h = 3, w = 2, c = 3;
        float[] scale = [1.5f, -0.5f, 2f];
        float[] offset = [0.1f, 0.2f, -0.3f];
        float[] mean = [0.5f, -1f, 0f];
        float[] variance = [2f, 0.5f, 1f];
        const float epsilon = 0.01f;
        var b = new TfGraphBuilder();
        b.Placeholder("x", n, h, w, c);
        b.Const("scale", scale, c);
        b.Const("offset", offset, c);
        b.Const("mean", mean, c);
        b.Const("var", variance, c);
        b.Const("empty", [], 0);
        foreach (var training in new[] { false, true })
        {
            var bn = b.Op(training ? "train" : "infer", op, "x", "scale", "offset", training ? "empty" : "mean", training ? "empty" : "var");
            bn.Attr["is_training"] = new AttrValue { B = training };
            bn.Attr["epsilon"] = new AttrValue { F = epsilon };
            if (op != "FusedBatchNorm")
                bn.Attr["U"] = new AttrValue { Type = DataType.DtFloat };
        }
        var x = Values(n * h * w * c, 41).Select(v => v * 3).ToArray();
        var outputs = Run(b, Feeds(("x", GraphTensor.FromArray(x, n, h, w, c))), "infer", "train");
        for (var ch = 0; ch < c; ch++)
        {
            var values = Enumerable.Range(0, n * h * w).Select(p => (double)x[p * c + ch]).ToArray();
            var batchMean = values.Average();
            var batchVariance = values.Select(v => (v - batchMean) * (v - batchMean)).Average(); // biased, as TensorFlow normalises
            for (var p = 0; p < values.Length; p++)
            {
                Assert.Equal((values[p] - mean[ch]) / Math.Sqrt(variance[ch] + epsilon) * scale[ch] + offset[ch], outputs[0].F[p * c + ch], 4);
                Assert.Equal((values[p] - batchMean) / Math.Sqrt(batchVariance + epsilon) * scale[ch] + offset[ch], outputs[1].F[p * c + ch], 4);
            }
        }
    }
}
