using TfPose.Graph;
using TfPose.Graph.Proto;
using TfPose.Graph.Translation;
using TfPose.Tests;

namespace TfPose.Runtime.Tests;

/// <summary>Single TensorFlow ops through the ONNX translation, against values computed here from TensorFlow's definitions.</summary>
public class SingleOpTests
{
    private static float[] Ramp(int n, float scale = 0.1f) => Enumerable.Range(0, n).Select(i => (i % 13 - 6) * scale + i * 0.01f).ToArray();

    private static float[] Run(TfGraphBuilder b, string output, float[] x, params long[] shape)
    {
        using var session = new GraphSession(b.Build());
        using var input = GraphTensor.FromArray(x, shape);
        using var result = session.Run(new Dictionary<string, GraphTensor> { ["x"] = input }, [output]);
        return result[0].ToArray<float>();
    }

    /// <summary>A convolution node (Conv2D or DepthwiseConv2dNative) with unit strides.</summary>
    private static NodeDef ConvOp(TfGraphBuilder b, string name, string op, string input, string filter, string padding)
    {
        var node = b.Op(name, op, input, filter);
        node.Attr["strides"] = TfGraphBuilder.Ints(1, 1, 1, 1);
        node.Attr["padding"] = TfGraphBuilder.Str(padding);
        return node;
    }

    /// <summary>NHWC convolution with TensorFlow's SAME padding (extra padding at the end).</summary>
    private static float[] ReferenceConv(float[] x, int n, int h, int w, int c, float[] k, int kh, int kw, int cout, int stride, bool depthwise)
    {
        var oh = (h + stride - 1) / stride;
        var ow = (w + stride - 1) / stride;
        var padTop = Math.Max((oh - 1) * stride + kh - h, 0) / 2;
        var padLeft = Math.Max((ow - 1) * stride + kw - w, 0) / 2;
        var oc = depthwise ? c : cout;
        var y = new float[n * oh * ow * oc];
        for (var b = 0; b < n; b++)
        for (var i = 0; i < oh; i++)
        for (var j = 0; j < ow; j++)
        for (var o = 0; o < oc; o++)
        {
            double sum = 0;
            for (var di = 0; di < kh; di++)
            for (var dj = 0; dj < kw; dj++)
            {
                var yi = i * stride + di - padTop;
                var xj = j * stride + dj - padLeft;
                if (yi < 0 || yi >= h || xj < 0 || xj >= w)
                    continue;
                if (depthwise)
                    sum += x[((b * h + yi) * w + xj) * c + o] * k[(di * kw + dj) * c + o];
                else
                    for (var ci = 0; ci < c; ci++)
                        sum += x[((b * h + yi) * w + xj) * c + ci] * k[((di * kw + dj) * c + ci) * cout + o];
            }
            y[((b * oh + i) * ow + j) * oc + o] = (float)sum;
        }
        return y;
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(2, true)]
    [OpTest("Conv2D", "DepthwiseConv2dNative")]
    public void Conv2D_and_depthwise_match_direct_convolution(int stride, bool depthwise)
    {
        const int h = 7, w = 6, c = 3, cout = 4;
        var b = new TfGraphBuilder();
        b.Placeholder("x", 2, h, w, c);
        var k = Ramp(3 * 3 * c * (depthwise ? 1 : cout), 0.05f);
        b.Const("k", k, 3, 3, c, depthwise ? 1 : cout);
        var conv = b.Op("conv", depthwise ? "DepthwiseConv2dNative" : "Conv2D", "x", "k");
        conv.Attr["strides"] = TfGraphBuilder.Ints(1, stride, stride, 1);
        conv.Attr["padding"] = TfGraphBuilder.Str("SAME");
        var x = Ramp(2 * h * w * c);
        var expected = ReferenceConv(x, 2, h, w, c, k, 3, 3, cout, stride, depthwise);
        var actual = Run(b, "conv", x, 2, h, w, c);
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
            Assert.Equal(expected[i], actual[i], 4);
    }

    [Theory]
    [InlineData(false, false)] // padded to a whole NCHWc block: only the pointwise convolution reads it
    [InlineData(true, false)]  // the depthwise output is fetched too: it must keep its 12 channels
    [InlineData(false, true)]  // a Relu also reads it: no padding
    public void Depthwise_then_pointwise_with_channels_off_the_block_size(bool fetchDepthwise, bool extraReader)
    {
        const int h = 6, w = 5, c = 12, cout = 5;
        var b = new TfGraphBuilder();
        b.Placeholder("x", 1, h, w, c);
        var kd = Ramp(3 * 3 * c, 0.05f);
        b.Const("kd", kd, 3, 3, c, 1);
        ConvOp(b, "dw", "DepthwiseConv2dNative", "x", "kd", "SAME");
        var kp = Ramp(c * cout, 0.03f);
        b.Const("kp", kp, 1, 1, c, cout);
        ConvOp(b, "pw", "Conv2D", "dw", "kp", "VALID");
        if (extraReader)
            b.Op("relu", "Relu", "dw");
        var x = Ramp(h * w * c);
        var expectedDw = ReferenceConv(x, 1, h, w, c, kd, 3, 3, c, 1, depthwise: true);
        var expected = ReferenceConv(expectedDw, 1, h, w, c, kp, 1, 1, cout, 1, depthwise: false);

        var graph = b.Build();
        string[] fetches = fetchDepthwise ? ["pw", "dw"] : ["pw"];
        using var session = new GraphSession(graph);
        using var input = GraphTensor.FromArray(x, 1, h, w, c);
        using var result = session.Run(new Dictionary<string, GraphTensor> { ["x"] = input }, fetches);
        var actual = result[0].ToArray<float>();
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 * Math.Max(1, Math.Abs(expected[i])), $"pw[{i}]: {actual[i]} vs {expected[i]}");
        if (fetchDepthwise)
        {
            Assert.Equal(new long[] { 1, h, w, c }, result[1].Shape);
            var dwOut = result[1].ToArray<float>();
            for (var i = 0; i < expectedDw.Length; i++)
                Assert.True(Math.Abs(expectedDw[i] - dwOut[i]) <= 1e-5 * Math.Max(1, Math.Abs(expectedDw[i])), $"dw[{i}]: {dwOut[i]} vs {expectedDw[i]}");
        }
        var onnx = TfPose.Graph.Onnx.ModelProto.Parser.ParseFrom(GraphTranslator.Translate(graph, new TranslationOptions { Outputs = fetches }).OnnxModel);
        var padded = onnx.Graph.Node.Any(n => n.OpType == "Pad");
        Assert.Equal(!fetchDepthwise && !extraReader, padded);
    }

    [Theory]
    [InlineData(false)] // the 1x1 depthwise scale folds into the 3x3 convolution's filter
    [InlineData(true)]  // a Relu also reads it: computed as a convolution of its own
    public void One_by_one_depthwise_then_convolution(bool extraReader)
    {
        const int h = 5, w = 6, c = 5, cout = 4;
        var b = new TfGraphBuilder();
        b.Placeholder("x", 1, h, w, c);
        var kd = Enumerable.Range(0, c).Select(i => 0.5f - 0.3f * i).ToArray();
        b.Const("kd", kd, 1, 1, c, 1);
        ConvOp(b, "dw", "DepthwiseConv2dNative", "x", "kd", "SAME");
        var k = Ramp(3 * 3 * c * cout, 0.04f);
        b.Const("k", k, 3, 3, c, cout);
        ConvOp(b, "conv", "Conv2D", "dw", "k", "SAME");
        if (extraReader)
            b.Op("relu", "Relu", "dw");
        var x = Ramp(h * w * c);
        var scaled = x.Select((v, i) => v * kd[i % c]).ToArray();
        var expected = ReferenceConv(scaled, 1, h, w, c, k, 3, 3, cout, 1, depthwise: false);
        var graph = b.Build();
        var actual = Run(b, "conv", x, 1, h, w, c);
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 * Math.Max(1, Math.Abs(expected[i])), $"[{i}]: {actual[i]} vs {expected[i]}");
        var onnx = TfPose.Graph.Onnx.ModelProto.Parser.ParseFrom(GraphTranslator.Translate(graph, new TranslationOptions { Outputs = ["conv"] }).OnnxModel);
        Assert.Equal(extraReader ? 2 : 1, onnx.Graph.Node.Count(n => n.OpType == "Conv"));
    }

    [Theory]
    [InlineData(1, false, 3, 8)] // widening: folded, the moments come from the convolution's input
    [InlineData(2, false, 3, 8)] // a batch of two: normalised after the convolution
    [InlineData(1, true, 3, 8)]  // the convolution's output is fetched too: not folded
    [InlineData(1, false, 8, 3)] // narrowing: a MatMul, then the instance normalisation
    public void Pointwise_convolution_then_batch_statistics(int batch, bool fetchConv, int cin, int cout)
    {
        const int h = 5, w = 4;
        var b = new TfGraphBuilder();
        b.Placeholder("x", batch, h, w, cin);
        var k = Ramp(cin * cout, 0.21f);
        b.Const("k", k, 1, 1, cin, cout);
        ConvOp(b, "conv", "Conv2D", "x", "k", "SAME");
        var scale = Enumerable.Range(0, cout).Select(i => 0.5f + 0.25f * i).ToArray();
        var offset = Enumerable.Range(0, cout).Select(i => 0.3f * i - 1f).ToArray();
        b.Const("scale", scale, cout);
        b.Const("offset", offset, cout);
        b.Const("empty", [], 0);
        var bn = b.Op("bn", "FusedBatchNormV3", "conv", "scale", "offset", "empty", "empty");
        bn.Attr["is_training"] = new AttrValue { B = true };
        bn.Attr["epsilon"] = new AttrValue { F = 0.001f };
        b.Op("relu6", "Relu6", "bn");
        // Input channels with a large shared mean and small spread: the moments must not cancel away.
        var x = Ramp(batch * h * w * cin, 0.05f).Select(v => v + 3f).ToArray();
        var z = ReferenceConv(x, batch, h, w, cin, k, 1, 1, cout, 1, depthwise: false);

        var graph = b.Build();
        string[] fetches = fetchConv ? ["relu6", "conv"] : ["relu6"];
        using var session = new GraphSession(graph);
        using var input = GraphTensor.FromArray(x, batch, h, w, cin);
        using var result = session.Run(new Dictionary<string, GraphTensor> { ["x"] = input }, fetches);
        var actual = result[0].ToArray<float>();
        var pixels = batch * h * w;
        for (var ch = 0; ch < cout; ch++)
        {
            var values = Enumerable.Range(0, pixels).Select(p => (double)z[p * cout + ch]).ToArray();
            var mean = values.Average();
            var variance = values.Select(v => (v - mean) * (v - mean)).Average();
            for (var p = 0; p < pixels; p++)
            {
                var expected = Math.Clamp((values[p] - mean) / Math.Sqrt(variance + 0.001) * scale[ch] + offset[ch], 0, 6);
                Assert.True(Math.Abs(expected - actual[p * cout + ch]) < 2e-4, $"channel {ch} pixel {p}: {actual[p * cout + ch]} vs {expected}");
            }
        }
        if (fetchConv)
            Assert.Equal(z.Length, result[1].ToArray<float>().Length);
        var onnx = TfPose.Graph.Onnx.ModelProto.Parser.ParseFrom(GraphTranslator.Translate(graph, new TranslationOptions
        {
            Outputs = fetches,
            InputShapes = new Dictionary<string, long[]> { ["x"] = [batch, -1, -1, cin] },
        }).OnnxModel);
        var folded = onnx.Graph.Node.Any(n => n.Name == "bn" && n.OpType == "Conv");
        Assert.Equal(batch == 1 && !fetchConv && cin < cout, folded);
        var atFedSize = TfPose.Graph.Onnx.ModelProto.Parser.ParseFrom(GraphTranslator.Translate(graph, new TranslationOptions
        {
            Outputs = fetches,
            InputShapes = new Dictionary<string, long[]> { ["x"] = [batch, h, w, cin] },
        }).OnnxModel);
        var asMatMul = atFedSize.Graph.Node.Any(n => n.Name == "conv" && n.OpType == "Reshape"); // MatMul, reshaped back to NCHW
        Assert.Equal(batch == 1 && !fetchConv && cin > cout, asMatMul);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [OpTest("FusedBatchNorm")]
    public void FusedBatchNorm_in_training_mode_normalises_with_batch_statistics(int batch)
    {
        const int h = 3, w = 4, c = 2;
        var b = new TfGraphBuilder();
        b.Placeholder("x", batch, h, w, c);
        b.Const("scale", [2f, 0.5f], 2);
        b.Const("offset", [1f, -1f], 2);
        b.Const("empty", [], 0);
        var bn = b.Op("bn", "FusedBatchNorm", "x", "scale", "offset", "empty", "empty");
        bn.Attr["is_training"] = new AttrValue { B = true };
        bn.Attr["epsilon"] = new AttrValue { F = 0.001f };
        var x = Ramp(batch * h * w * c, 0.7f);
        var actual = Run(b, "bn", x, batch, h, w, c);
        float[] scale = [2f, 0.5f];
        float[] offset = [1f, -1f];
        for (var ch = 0; ch < c; ch++)
        {
            var values = Enumerable.Range(0, batch * h * w).Select(p => (double)x[p * c + ch]).ToArray();
            var mean = values.Average();
            var variance = values.Select(v => (v - mean) * (v - mean)).Average(); // biased, as TensorFlow normalises
            for (var p = 0; p < values.Length; p++)
            {
                var expected = (values[p] - mean) / Math.Sqrt(variance + 0.001) * scale[ch] + offset[ch];
                Assert.Equal(expected, actual[p * c + ch], 3);
            }
        }
    }

    [Fact]
    public void Batch_statistics_graph_runs_at_many_sizes_in_one_session()
    {
        // Such graphs are translated per input shape (up to a bound, then per batch): every size must still be right.
        var b = new TfGraphBuilder();
        b.Placeholder("x", 1, -1, -1, 2);
        b.Const("scale", [2f, 0.5f], 2);
        b.Const("offset", [1f, -1f], 2);
        b.Const("empty", [], 0);
        var bn = b.Op("bn", "FusedBatchNormV3", "x", "scale", "offset", "empty", "empty");
        bn.Attr["is_training"] = new AttrValue { B = true };
        bn.Attr["epsilon"] = new AttrValue { F = 0.001f };
        using var session = new GraphSession(b.Build());
        for (var i = 0; i < 12; i++)
        {
            int h = 2 + i % 5, w = 3 + i;
            var x = Ramp(h * w * 2, 0.3f + 0.1f * i);
            using var input = GraphTensor.FromArray(x, 1, h, w, 2);
            using var result = session.Run(new Dictionary<string, GraphTensor> { ["x"] = input }, ["bn"]);
            var y = result[0].ToArray<float>();
            for (var ch = 0; ch < 2; ch++)
            {
                var values = Enumerable.Range(0, h * w).Select(p => (double)x[p * 2 + ch]).ToArray();
                var mean = values.Average();
                var variance = values.Select(v => (v - mean) * (v - mean)).Average();
                for (var p = 0; p < values.Length; p++)
                    Assert.Equal((values[p] - mean) / Math.Sqrt(variance + 0.001) * (ch == 0 ? 2 : 0.5) + (ch == 0 ? 1 : -1), y[p * 2 + ch], 3);
            }
        }
        using var wrong = GraphTensor.FromArray(new float[12], 1, 2, 2, 3);
        var ex = Assert.Throws<ArgumentException>(() => session.Run(new Dictionary<string, GraphTensor> { ["x"] = wrong }, ["bn"]));
        Assert.Contains("input 'x' expects shape", ex.Message);
    }

    [Fact]
    [OpTest("FusedBatchNormV3")]
    public void FusedBatchNorm_in_inference_mode_uses_the_given_moments()
    {
        var b = new TfGraphBuilder();
        b.Placeholder("x", 1, 2, 2, 2);
        b.Const("scale", [2f, 1f], 2);
        b.Const("offset", [0.5f, 0f], 2);
        b.Const("mean", [1f, -1f], 2);
        b.Const("var", [4f, 0.25f], 2);
        var bn = b.Op("bn", "FusedBatchNormV3", "x", "scale", "offset", "mean", "var");
        bn.Attr["is_training"] = new AttrValue { B = false };
        bn.Attr["epsilon"] = new AttrValue { F = 0f };
        float[] x = [3, 0, 1, -1, 5, 1, -1, -2];
        var y = Run(b, "bn", x, 1, 2, 2, 2);
        // channel 0: (x-1)/2*2+0.5 ; channel 1: (x+1)/0.5
        float[] expected = [2.5f, 2f, 0.5f, 0f, 4.5f, 4f, -1.5f, -2f];
        Assert.Equal(expected, y);
    }

    /// <summary>TensorFlow's resize_bilinear source coordinate, from its definition.</summary>
    private static float[] ReferenceBilinear(float[] x, int h, int w, int oh, int ow, bool alignCorners, bool halfPixel)
    {
        float Scale(int i, int o) => alignCorners && o > 1 ? (i - 1f) / (o - 1) : (float)i / o;
        var sy = Scale(h, oh);
        var sx = Scale(w, ow);
        var y = new float[oh * ow];
        for (var i = 0; i < oh; i++)
        for (var j = 0; j < ow; j++)
        {
            var fy = halfPixel ? (i + 0.5f) * sy - 0.5f : i * sy;
            var fx = halfPixel ? (j + 0.5f) * sx - 0.5f : j * sx;
            var y0 = (int)Math.Floor(fy);
            var x0 = (int)Math.Floor(fx);
            var ly = fy - y0;
            var lx = fx - x0;
            int Cy(int v) => Math.Clamp(v, 0, h - 1);
            int Cx(int v) => Math.Clamp(v, 0, w - 1);
            float At(int r, int c) => x[Cy(r) * w + Cx(c)];
            var top = At(y0, x0) + (At(y0, x0 + 1) - At(y0, x0)) * lx;
            var bottom = At(y0 + 1, x0) + (At(y0 + 1, x0 + 1) - At(y0 + 1, x0)) * lx;
            y[i * ow + j] = top + (bottom - top) * ly;
        }
        return y;
    }

    [Theory]
    [InlineData(false, false, 7, 5)]
    [InlineData(true, false, 7, 5)]
    [InlineData(false, true, 7, 5)]
    [InlineData(false, false, 2, 3)]
    [InlineData(false, true, 2, 2)]
    [OpTest("ResizeBilinear")]
    public void ResizeBilinear_follows_tensorflow_coordinate_modes(bool alignCorners, bool halfPixel, int oh, int ow)
    {
        const int h = 3, w = 4;
        var b = new TfGraphBuilder();
        b.Placeholder("x", 1, h, w, 1);
        b.ConstInt("size", [oh, ow], 2);
        var resize = b.Op("resize", "ResizeBilinear", "x", "size");
        resize.Attr["align_corners"] = new AttrValue { B = alignCorners };
        resize.Attr["half_pixel_centers"] = new AttrValue { B = halfPixel };
        var x = Ramp(h * w, 1f);
        var expected = ReferenceBilinear(x, h, w, oh, ow, alignCorners, halfPixel);
        var actual = Run(b, "resize", x, 1, h, w, 1);
        for (var i = 0; i < expected.Length; i++)
            Assert.Equal(expected[i], actual[i], 4);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [OpTest("ResizeNearestNeighbor")]
    public void ResizeNearestNeighbor_follows_tensorflow_coordinate_modes(bool alignCorners, bool halfPixel)
    {
        const int h = 3, w = 5, oh = 7, ow = 4;
        var b = new TfGraphBuilder();
        b.Placeholder("x", 1, h, w, 1);
        b.ConstInt("size", [oh, ow], 2);
        var resize = b.Op("resize", "ResizeNearestNeighbor", "x", "size");
        resize.Attr["align_corners"] = new AttrValue { B = alignCorners };
        resize.Attr["half_pixel_centers"] = new AttrValue { B = halfPixel };
        var x = Enumerable.Range(0, h * w).Select(i => (float)i).ToArray();
        var actual = Run(b, "resize", x, 1, h, w, 1);
        int Source(int o, int inSize, int outSize)
        {
            var scale = alignCorners && outSize > 1 ? (inSize - 1f) / (outSize - 1) : (float)inSize / outSize;
            var v = halfPixel ? (int)Math.Floor((o + 0.5f) * scale) : alignCorners ? (int)MathF.Round(o * scale, MidpointRounding.AwayFromZero) : (int)Math.Floor(o * scale);
            return Math.Min(v, inSize - 1);
        }
        for (var i = 0; i < oh; i++)
        for (var j = 0; j < ow; j++)
            Assert.Equal(x[Source(i, h, oh) * w + Source(j, w, ow)], actual[i * ow + j]);
    }

    [Fact]
    [OpTest("ResizeBilinear", "MaxPool")]
    public void Runtime_sized_resize_from_shape_and_strided_slice()
    {
        // The pose graph's pattern: resize one tensor to the spatial size of another, read at run time.
        var b = new TfGraphBuilder();
        b.Placeholder("x", 1, -1, -1, 1);
        b.Const("k", [1f], 1, 1, 1, 1);
        var pool = b.Op("pool", "MaxPool", "x");
        pool.Attr["ksize"] = TfGraphBuilder.Ints(1, 2, 2, 1);
        pool.Attr["strides"] = TfGraphBuilder.Ints(1, 2, 2, 1);
        pool.Attr["padding"] = TfGraphBuilder.Str("VALID");
        var shape = b.Op("shape", "Shape", "x");
        shape.Attr["out_type"] = new AttrValue { Type = DataType.DtInt32 };
        b.ConstInt("b", [1], 1);
        b.ConstInt("e", [3], 1);
        b.ConstInt("s", [1], 1);
        var slice = b.Op("hw", "StridedSlice", "shape", "b", "e", "s");
        slice.Attr["Index"] = new AttrValue { Type = DataType.DtInt32 };
        var resize = b.Op("up", "ResizeBilinear", "pool", "hw");
        resize.Attr["align_corners"] = new AttrValue { B = false };
        float[] x = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
        var y = Run(b, "up", x, 1, 4, 4, 1);
        // max pool -> [[6,8],[14,16]], then asymmetric bilinear x2
        float[] expected = [6, 7, 8, 8, 10, 11, 12, 12, 14, 15, 16, 16, 14, 15, 16, 16];
        Assert.Equal(expected, y);
        var y2 = Run(b, "up", Enumerable.Range(1, 36).Select(i => (float)i).ToArray(), 1, 6, 6, 1);
        Assert.Equal(36, y2.Length);
    }

    [Fact]
    [OpTest("AvgPool")]
    public void Average_pool_with_same_padding_excludes_the_padding()
    {
        var b = new TfGraphBuilder();
        b.Placeholder("x", 1, 3, 3, 1);
        var pool = b.Op("pool", "AvgPool", "x");
        pool.Attr["ksize"] = TfGraphBuilder.Ints(1, 2, 2, 1);
        pool.Attr["strides"] = TfGraphBuilder.Ints(1, 2, 2, 1);
        pool.Attr["padding"] = TfGraphBuilder.Str("SAME");
        var y = Run(b, "pool", [1, 2, 3, 4, 5, 6, 7, 8, 9], 1, 3, 3, 1);
        Assert.Equal([3f, 4.5f, 7.5f, 9f], y);
    }

    [Fact]
    public void Concat_mean_and_bias_after_a_convolution_keep_tensorflow_axes()
    {
        var b = new TfGraphBuilder();
        b.Placeholder("x", 1, 2, 3, 2);
        b.Const("k", [1, 0, 0, 1], 1, 1, 2, 2); // identity 1x1 conv: output stays channels-first inside
        ConvOp(b, "conv", "Conv2D", "x", "k", "VALID");
        b.Const("bias", [10, 20], 2);
        b.Op("biased", "BiasAdd", "conv", "bias");
        b.ConstInt("axis", [3]);
        b.Op("cat", "ConcatV2", "biased", "x", "axis").Attr["N"] = new AttrValue { I = 2 };
        b.ConstInt("axes", [1, 2], 2);
        b.Op("mean", "Mean", "cat", "axes").Attr["keep_dims"] = new AttrValue { B = false };
        var x = Enumerable.Range(0, 12).Select(i => (float)i).ToArray();
        var y = Run(b, "mean", x, 1, 2, 3, 2);
        // channel means of x: even entries 0..10 -> 5, odd 1..11 -> 6
        Assert.Equal([15f, 26f, 5f, 6f], y);
    }

    [Fact]
    public void Unsupported_ops_are_all_listed_with_node_names()
    {
        var b = new TfGraphBuilder();
        b.Placeholder("x", 1, 4);
        b.Op("a", "FancyOp", "x");
        b.Op("b", "OtherOp", "a");
        b.Op("c", "FancyOp", "b");
        var error = Assert.Throws<GraphFormatException>(() => new GraphSession(b.Build()));
        Assert.Contains("3 node(s)", error.Message);
        Assert.Contains("FancyOp (a, c)", error.Message);
        Assert.Contains("OtherOp (b)", error.Message);
    }
}
