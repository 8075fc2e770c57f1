using TfPose.Tests;
using static TfPose.Runtime.Tests.TfliteElementwiseOpTests;
using static TfPose.Runtime.Tests.TfliteOpTestKit;

namespace TfPose.Runtime.Tests;

/// <summary>
/// TensorFlow Lite's convolution, fully connected, pooling and resizing builtins in their own layouts (filters
/// [out, h, w, in], depthwise [1, h, w, in·multiplier]), against loops written here in those layouts.
/// </summary>
public class TfliteConvOpTests
{
    private static (int Out, int Before) Same(int size, int kernel, int stride, int dilation)
    {
        var output = (size + stride - 1) / stride;
        var effective = (kernel - 1) * dilation + 1;
        return (output, Math.Max((output - 1) * stride + effective - size, 0) / 2);
    }

    private static (int Out, int Before) Window(bool same, int size, int kernel, int stride, int dilation) =>
        same ? Same(size, kernel, stride, dilation) : ((size - (kernel - 1) * dilation - 1) / stride + 1, 0);

    /// <summary>
    /// Convolution of x [1, h, w, c] with a filter in TFLite's layout; depthwise: filter [1, kh, kw, c·m] and output
    /// channel c·m + j reads input channel c.
    /// </summary>
    private static double[] ConvRef(float[] x, int h, int w, int c, float[] f, int kh, int kw, int outC, float[]? bias, bool depthwise,
        int stride, int dilation, bool same, out int oh, out int ow)
    {
        var (oh_, top) = Window(same, h, kh, stride, dilation);
        var (ow_, left) = Window(same, w, kw, stride, dilation);
        oh = oh_;
        ow = ow_;
        var multiplier = depthwise ? outC / c : 0;
        var y = new double[oh * ow * outC];
        for (var i = 0; i < oh; i++)
        for (var j = 0; j < ow; j++)
        for (var o = 0; o < outC; o++)
        {
            double sum = bias?[o] ?? 0;
            for (var a = 0; a < kh; a++)
            for (var b = 0; b < kw; b++)
            {
                int r = i * stride + a * dilation - top, q = j * stride + b * dilation - left;
                if (r < 0 || r >= h || q < 0 || q >= w)
                    continue;
                if (depthwise)
                    sum += x[(r * w + q) * c + o / multiplier] * f[(a * kw + b) * outC + o];
                else
                    for (var k = 0; k < c; k++)
                        sum += x[(r * w + q) * c + k] * f[((o * kh + a) * kw + b) * c + k];
            }
            y[(i * ow + j) * outC + o] = sum;
        }
        return y;
    }

    [Theory]
    [InlineData(false, 1, 1, 0)]
    [InlineData(true, 1, 1, 1)]
    [InlineData(true, 2, 1, 3)]
    [InlineData(false, 2, 1, 4)]
    [InlineData(true, 1, 2, 2)]
    [InlineData(false, 1, 2, 0)]
    [TfliteOpTest("CONV_2D")]
    public void Conv2d_with_padding_strides_dilation_bias_and_activation(bool same, int stride, int dilation, byte activation)
    {
        const int h = 7, w = 6, c = 3, kh = 3, kw = 2, outC = 4;
        var x = Values(h * w * c, 1);
        var f = Values(outC * kh * kw * c, 2);
        var bias = Values(outC, 3);
        var b = new TfliteModelBuilder();
        var input = b.Input("x", [1, h, w, c]);
        var filter = b.Floats("filter", f, outC, kh, kw, c);
        var biasT = b.Floats("bias", bias, outC);
        var expected = ConvRef(x, h, w, c, f, kh, kw, outC, bias, false, stride, dilation, same, out var oh, out var ow);
        var y = b.Tensor("y", F32, [1, oh, ow, outC]);
        b.Operator("CONV_2D", [input, filter, biasT], [y], "Conv2D",
            TfliteModelBuilder.Options((0, (byte)(same ? 0 : 1)), (1, stride), (2, stride), (3, activation), (4, dilation), (5, dilation)));
        b.Output(y);
        var (actual, shape) = Run<float>(b, "y", Feed("x", x, 1, h, w, c));
        Assert.Equal([1, oh, ow, outC], shape);
        Close(expected.Select(v => Activation(activation, v)).ToList(), actual, 1e-4);
    }

    [Fact]
    [TfliteOpTest("CONV_2D", "DEQUANTIZE")]
    public void Conv2d_without_bias_and_with_float16_weights_behind_dequantize()
    {
        const int h = 4, w = 5, c = 2, outC = 3;
        var x = Values(h * w * c, 4);
        // Values a float16 holds exactly, so the expected sums need no rounding of the weights.
        var f = Values(outC * 3 * 3 * c, 5).Select(v => (float)(Half)v).ToArray();
        var b = new TfliteModelBuilder();
        var input = b.Input("x", [1, h, w, c]);
        var half = b.Halves("filter_fp16", f, outC, 3, 3, c);
        var filter = b.Tensor("filter", F32, [outC, 3, 3, c]);
        b.Operator("DEQUANTIZE", [half], [filter]);
        var y = b.Tensor("y", F32, [1, h, w, outC]);
        b.Operator("CONV_2D", [input, filter, -1], [y], "Conv2D", TfliteModelBuilder.Options((1, 1), (2, 1)));
        b.Output(y);
        var (actual, _) = Run<float>(b, "y", Feed("x", x, 1, h, w, c));
        Close(ConvRef(x, h, w, c, f, 3, 3, outC, null, false, 1, 1, true, out _, out _), actual, 1e-4);
    }

    [Theory]
    [InlineData(true, 1, 1, 1, 0)]
    [InlineData(true, 2, 1, 2, 3)]
    [InlineData(false, 1, 2, 2, 1)]
    [InlineData(true, 1, 2, 3, 0)]
    [InlineData(false, 2, 1, 1, 2)]
    [TfliteOpTest("DEPTHWISE_CONV_2D")]
    public void Depthwise_conv2d_with_depth_multiplier_dilation_and_activation(bool same, int stride, int dilation, int multiplier, byte activation)
    {
        const int h = 7, w = 8, c = 3, k = 3;
        var outC = c * multiplier;
        var x = Values(h * w * c, 6);
        var f = Values(k * k * outC, 7);
        var bias = Values(outC, 8);
        var b = new TfliteModelBuilder();
        var input = b.Input("x", [1, h, w, c]);
        var filter = b.Floats("filter", f, 1, k, k, outC);
        var biasT = b.Floats("bias", bias, outC);
        var expected = ConvRef(x, h, w, c, f, k, k, outC, bias, true, stride, dilation, same, out var oh, out var ow);
        var y = b.Tensor("y", F32, [1, oh, ow, outC]);
        b.Operator("DEPTHWISE_CONV_2D", [input, filter, biasT], [y], "DepthwiseConv2D",
            TfliteModelBuilder.Options((0, (byte)(same ? 0 : 1)), (1, stride), (2, stride), (3, multiplier), (4, activation), (5, dilation), (6, dilation)));
        b.Output(y);
        var (actual, shape) = Run<float>(b, "y", Feed("x", x, 1, h, w, c));
        Assert.Equal([1, oh, ow, outC], shape);
        Close(expected.Select(v => Activation(activation, v)).ToList(), actual, 1e-4);
    }

    [Theory]
    [InlineData(true, 2, 4, 0)]
    [InlineData(false, 2, 5, 1)]
    [InlineData(true, 1, 3, 3)]
    [TfliteOpTest("TRANSPOSE_CONV")]
    public void Transpose_conv_scatters_each_input_through_the_filter(bool same, int stride, int outSize, byte activation)
    {
        const int inSize = 2, c = 3, outC = 2, k = 3;
        var x = Values(inSize * inSize * c, 9);
        var f = Values(outC * k * k * c, 10);
        var bias = Values(outC, 11);
        var b = new TfliteModelBuilder();
        var shapeT = b.Ints("output_shape", [1, outSize, outSize, outC], 4);
        var filter = b.Floats("filter", f, outC, k, k, c);
        var input = b.Input("x", [1, inSize, inSize, c]);
        var biasT = b.Floats("bias", bias, outC);
        var y = b.Tensor("y", F32, [1, outSize, outSize, outC]);
        b.Operator("TRANSPOSE_CONV", [shapeT, filter, input, biasT], [y], "TransposeConv",
            TfliteModelBuilder.Options((0, (byte)(same ? 0 : 1)), (1, stride), (2, stride), (3, activation)));
        b.Output(y);
        var top = same ? Math.Max((inSize - 1) * stride + k - outSize, 0) / 2 : 0;
        var expected = new double[outSize * outSize * outC];
        for (var o = 0; o < expected.Length; o++)
            expected[o] = bias[o % outC];
        for (var i = 0; i < inSize; i++)
        for (var j = 0; j < inSize; j++)
        for (var a = 0; a < k; a++)
        for (var bb = 0; bb < k; bb++)
        {
            int r = i * stride + a - top, q = j * stride + bb - top;
            if (r < 0 || r >= outSize || q < 0 || q >= outSize)
                continue;
            for (var o = 0; o < outC; o++)
            for (var ch = 0; ch < c; ch++)
                expected[(r * outSize + q) * outC + o] += x[(i * inSize + j) * c + ch] * f[((o * k + a) * k + bb) * c + ch];
        }
        var (actual, shape) = Run<float>(b, "y", Feed("x", x, 1, inSize, inSize, c));
        Assert.Equal([1, outSize, outSize, outC], shape);
        Close(expected.Select(v => Activation(activation, v)).ToList(), actual, 1e-4);
    }

    [Theory]
    [InlineData(false, 0)]
    [InlineData(true, 1)]
    [InlineData(false, 3)]
    [TfliteOpTest("FULLY_CONNECTED")]
    public void Fully_connected_flattens_or_keeps_leading_dimensions(bool keepDims, byte activation)
    {
        const int units = 4, depth = 3;
        var x = Values(2 * 2 * depth, 12);
        var wt = Values(units * depth, 13);
        var bias = Values(units, 14);
        var b = new TfliteModelBuilder();
        var input = b.Input("x", [2, 2, depth]);
        var weights = b.Floats("w", wt, units, depth);
        var biasT = b.Floats("bias", bias, units);
        int[] outShape = keepDims ? [2, 2, units] : [4, units];
        var y = b.Tensor("y", F32, outShape);
        b.Operator("FULLY_CONNECTED", [input, weights, biasT], [y], "FullyConnected", TfliteModelBuilder.Options((0, activation), (2, keepDims)));
        b.Output(y);
        var expected = new List<double>();
        for (var r = 0; r < 4; r++)
        for (var u = 0; u < units; u++)
            expected.Add(Activation(activation, bias[u] + Enumerable.Range(0, depth).Sum(k => (double)x[r * depth + k] * wt[u * depth + k])));
        var (actual, shape) = Run<float>(b, "y", Feed("x", x, 2, 2, depth));
        Assert.Equal(outShape.Select(d => (long)d), shape);
        Close(expected, actual, 1e-5);
    }

    [Fact]
    [TfliteOpTest("FULLY_CONNECTED")]
    public void Fully_connected_keeps_leading_dimensions_known_only_at_run_time()
    {
        // Two unknown leading sizes: the output shape is built from the input's shape at run time.
        const int units = 2, depth = 3;
        var wt = Values(units * depth, 30);
        var b = new TfliteModelBuilder();
        var input = b.Input("x", [1, 1, depth], signature: [-1, -1, depth]);
        var y = b.Tensor("y", F32, [1, 1, units], signature: [-1, -1, units]);
        b.Operator("FULLY_CONNECTED", [input, b.Floats("w", wt, units, depth), -1], [y], "FullyConnected", TfliteModelBuilder.Options((2, true)));
        b.Output(y);
        var x = Values(2 * 5 * depth, 31);
        var (actual, shape) = Run<float>(b, "y", Feed("x", x, 2, 5, depth));
        Assert.Equal([2, 5, units], shape);
        var expected = new List<double>();
        for (var r = 0; r < 10; r++)
        for (var u = 0; u < units; u++)
            expected.Add(Enumerable.Range(0, depth).Sum(k => (double)x[r * depth + k] * wt[u * depth + k]));
        Close(expected, actual, 1e-5);
    }

    [Fact]
    [TfliteOpTest("FULLY_CONNECTED")]
    public void Fully_connected_with_int8_weights_and_no_bias_dequantizes_them_at_load()
    {
        // Dynamic-range quantized models keep int8 weights with per-channel scales and feed them to a float op directly.
        sbyte[] q = [10, -20, 30, 127, -128, 0];
        float[] scale = [0.5f, 0.25f];
        long[] zero = [0, 2];
        var b = new TfliteModelBuilder();
        var input = b.Input("x", [1, 3]);
        var weights = b.Const("w", TfliteModelBuilder.Int8, [2, 3], q, scale, zero, dimension: 0);
        var y = b.Tensor("y", F32, [1, 2]);
        b.Operator("FULLY_CONNECTED", [input, weights, -1], [y], "FullyConnected");
        b.Output(y);
        float[] x = [1, 2, -1];
        var w = q.Select((v, i) => scale[i / 3] * (v - zero[i / 3])).ToArray();
        var (actual, _) = Run<float>(b, "y", Feed("x", x, 1, 3));
        Close([x[0] * w[0] + x[1] * w[1] + x[2] * w[2], x[0] * w[3] + x[1] * w[4] + x[2] * w[5]], actual);
    }

    [Theory]
    [InlineData("MAX_POOL_2D", true, 2, 0)]
    [InlineData("MAX_POOL_2D", false, 1, 1)]
    [InlineData("AVERAGE_POOL_2D", true, 2, 0)]
    [InlineData("AVERAGE_POOL_2D", false, 2, 2)]
    [InlineData("L2_POOL_2D", true, 2, 0)]
    [InlineData("L2_POOL_2D", false, 1, 0)]
    [TfliteOpTest("MAX_POOL_2D", "AVERAGE_POOL_2D", "L2_POOL_2D")]
    public void Pools_over_the_window_cells_inside_the_input(string op, bool same, int stride, byte activation)
    {
        const int h = 5, w = 6, c = 2, kh = 3, kw = 2;
        var x = Values(h * w * c, 15);
        var (oh, top) = Window(same, h, kh, stride, 1);
        var (ow, left) = Window(same, w, kw, stride, 1);
        var expected = new List<double>();
        for (var i = 0; i < oh; i++)
        for (var j = 0; j < ow; j++)
        for (var ch = 0; ch < c; ch++)
        {
            var cells = new List<double>();
            for (var a = 0; a < kh; a++)
            for (var bb = 0; bb < kw; bb++)
            {
                int r = i * stride + a - top, q = j * stride + bb - left;
                if (r >= 0 && r < h && q >= 0 && q < w)
                    cells.Add(x[(r * w + q) * c + ch]);
            }
            var v = op switch
            {
                "MAX_POOL_2D" => cells.Max(),
                "AVERAGE_POOL_2D" => cells.Average(),
                _ => Math.Sqrt(cells.Average(e => e * e)),
            };
            expected.Add(Activation(activation, v));
        }
        var b = new TfliteModelBuilder();
        var input = b.Input("x", [1, h, w, c]);
        var y = b.Tensor("y", F32, [1, oh, ow, c]);
        b.Operator(op, [input], [y], "Pool2D",
            TfliteModelBuilder.Options((0, (byte)(same ? 0 : 1)), (1, stride), (2, stride), (3, kw), (4, kh), (5, activation)));
        b.Output(y);
        var (actual, shape) = Run<float>(b, "y", Feed("x", x, 1, h, w, c));
        Assert.Equal([1, oh, ow, c], shape);
        Close(expected, actual, 1e-5, op);
    }

    /// <summary>TensorFlow's bilinear source coordinate and neighbours for output index <paramref name="o"/>.</summary>
    private static (int Lo, int Hi, double T) Bilinear(int o, int inSize, int outSize, bool alignCorners, bool halfPixel)
    {
        var scale = alignCorners && outSize > 1 ? (inSize - 1) / (double)(outSize - 1) : inSize / (double)outSize;
        var src = halfPixel ? (o + 0.5) * scale - 0.5 : o * scale;
        var floor = Math.Floor(src);
        var lo = (int)Math.Max(floor, 0);
        var hi = (int)Math.Min(halfPixel ? Math.Ceiling(src) : floor + 1, inSize - 1);
        return (lo, hi, src - floor);
    }

    private static int Nearest(int o, int inSize, int outSize, bool alignCorners, bool halfPixel)
    {
        var scale = alignCorners && outSize > 1 ? (inSize - 1) / (double)(outSize - 1) : inSize / (double)outSize;
        var src = (o + (halfPixel ? 0.5 : 0)) * scale;
        var index = Math.Min(alignCorners ? (int)Math.Round(src, MidpointRounding.AwayFromZero) : (int)Math.Floor(src), inSize - 1);
        return Math.Max(index, 0);
    }

    [Theory]
    [InlineData("RESIZE_BILINEAR", false, false)]
    [InlineData("RESIZE_BILINEAR", true, false)]
    [InlineData("RESIZE_BILINEAR", false, true)]
    [InlineData("RESIZE_NEAREST_NEIGHBOR", false, false)]
    [InlineData("RESIZE_NEAREST_NEIGHBOR", true, false)]
    [InlineData("RESIZE_NEAREST_NEIGHBOR", false, true)]
    [TfliteOpTest("RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR")]
    public void Resize_with_align_corners_and_half_pixel_centers(string op, bool alignCorners, bool halfPixel)
    {
        const int h = 3, w = 4, c = 2, oh = 7, ow = 5;
        var x = Values(h * w * c, 16);
        var b = new TfliteModelBuilder();
        var input = b.Input("x", [1, h, w, c]);
        var size = b.Ints("size", [oh, ow], 2);
        var y = b.Tensor("y", F32, [1, oh, ow, c]);
        if (op == "RESIZE_BILINEAR")
            b.Operator(op, [input, size], [y], "ResizeBilinear", TfliteModelBuilder.Options((2, alignCorners), (3, halfPixel)));
        else
            b.Operator(op, [input, size], [y], "ResizeNearestNeighbor", TfliteModelBuilder.Options((0, alignCorners), (1, halfPixel)));
        b.Output(y);
        var expected = new List<double>();
        for (var i = 0; i < oh; i++)
        for (var j = 0; j < ow; j++)
        for (var ch = 0; ch < c; ch++)
        {
            double At(int r, int q) => x[(r * w + q) * c + ch];
            if (op == "RESIZE_NEAREST_NEIGHBOR")
            {
                expected.Add(At(Nearest(i, h, oh, alignCorners, halfPixel), Nearest(j, w, ow, alignCorners, halfPixel)));
                continue;
            }
            var (r0, r1, ty) = Bilinear(i, h, oh, alignCorners, halfPixel);
            var (q0, q1, tx) = Bilinear(j, w, ow, alignCorners, halfPixel);
            var top = At(r0, q0) + (At(r0, q1) - At(r0, q0)) * tx;
            var bottom = At(r1, q0) + (At(r1, q1) - At(r1, q0)) * tx;
            expected.Add(top + (bottom - top) * ty);
        }
        var (actual, _) = Run<float>(b, "y", Feed("x", x, 1, h, w, c));
        Close(expected, actual, 1e-5, $"{op} align {alignCorners} half {halfPixel}");
    }

    [Fact]
    [TfliteOpTest("DEPTH_TO_SPACE", "SPACE_TO_DEPTH")]
    public void Depth_to_space_and_back()
    {
        const int h = 2, w = 3, c = 8, block = 2;
        var x = Enumerable.Range(0, h * w * c).Select(i => (float)i).ToArray();
        var b = new TfliteModelBuilder();
        var input = b.Input("x", [1, h, w, c]);
        var d2s = b.Tensor("d2s", F32, [1, h * block, w * block, c / 4]);
        b.Operator("DEPTH_TO_SPACE", [input], [d2s], "DepthToSpace", TfliteModelBuilder.Options((0, block)));
        var s2d = b.Tensor("s2d", F32, [1, h, w, c]);
        b.Operator("SPACE_TO_DEPTH", [d2s], [s2d], "SpaceToDepth", TfliteModelBuilder.Options((0, block)));
        b.Output(d2s);
        b.Output(s2d);
        var results = RunAll(b, ["d2s", "s2d"], Feed("x", x, 1, h, w, c));
        var expected = new float[x.Length];
        const int outC = c / (block * block);
        for (var r = 0; r < h * block; r++)
        for (var q = 0; q < w * block; q++)
        for (var ch = 0; ch < outC; ch++)
            expected[(r * w * block + q) * outC + ch] = x[((r / block) * w + q / block) * c + ((r % block) * block + q % block) * outC + ch];
        Assert.Equal(expected, (float[])results[0].Values);
        Assert.Equal(x, (float[])results[1].Values);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [TfliteOpTest("BATCH_MATMUL")]
    public void Batch_matmul_with_adjoints(bool adjX, bool adjY)
    {
        const int batch = 2, m = 2, k = 3, n = 4;
        var a = Values(batch * m * k, 17);
        var c = Values(batch * k * n, 18);
        var b = new TfliteModelBuilder();
        var p = b.Input("a", adjX ? [batch, k, m] : [batch, m, k]);
        var q = b.Input("b", adjY ? [batch, n, k] : [batch, k, n]);
        var y = b.Tensor("y", F32, [batch, m, n]);
        b.Operator("BATCH_MATMUL", [p, q], [y], "BatchMatMul", TfliteModelBuilder.Options((0, adjX), (1, adjY)));
        b.Output(y);
        double A(int bt, int i, int kk) => adjX ? a[(bt * k + kk) * m + i] : a[(bt * m + i) * k + kk];
        double B(int bt, int kk, int j) => adjY ? c[(bt * n + j) * k + kk] : c[(bt * k + kk) * n + j];
        var expected = new List<double>();
        for (var bt = 0; bt < batch; bt++)
        for (var i = 0; i < m; i++)
        for (var j = 0; j < n; j++)
            expected.Add(Enumerable.Range(0, k).Sum(kk => A(bt, i, kk) * B(bt, kk, j)));
        var (actual, _) = Run<float>(b, "y", Feed("a", a, adjX ? [batch, k, m] : [batch, m, k]), Feed("b", c, adjY ? [batch, n, k] : [batch, k, n]));
        Close(expected, actual, 1e-5);
    }
}
