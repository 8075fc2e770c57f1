using Microsoft.ML.OnnxRuntime.Tensors;
using TfPose.Graph;
using TfPose.Graph.Proto;
using TfPose.Graph.Translation;
using TfPose.Tests;

namespace TfPose.Runtime.Tests;

/// <summary>
/// Spatial rearrangements (DepthToSpace, SpaceToBatchND, ...), the atrous-convolution fold, batched matrix products,
/// mirror padding, run-time-sized resizes and the convolution family, each against TensorFlow's definition written out here.
/// </summary>
public class SpatialOpTests
{
    internal static float[] Values(int n, int seed = 3)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
    }

    internal sealed record Output(long[] Shape, Array Values)
    {
        public float[] F => (float[])Values;

        public int[] I => (int[])Values;
    }

    internal static Dictionary<string, GraphTensor> Feeds(params (string Name, GraphTensor Tensor)[] feeds) => feeds.ToDictionary(f => f.Name, f => f.Tensor);

    /// <summary>Runs the graph and copies the fetched tensors out before anything is disposed.</summary>
    internal static Output[] Run(TfGraphBuilder b, Dictionary<string, GraphTensor> feeds, params string[] fetches)
    {
        try
        {
            using var session = new GraphSession(b.Build());
            using var results = session.Run(feeds, fetches);
            return results.Select(r => new Output(r.Shape, r.ElementType switch
            {
                TensorElementType.Float => r.ToArray<float>(),
                TensorElementType.Int32 => r.ToArray<int>(),
                TensorElementType.Int64 => r.ToArray<long>(),
                var other => throw new InvalidOperationException($"unexpected {other}"),
            })).ToArray();
        }
        finally
        {
            foreach (var t in feeds.Values)
                t.Dispose();
        }
    }

    /// <summary>A placeholder of any dtype; an empty shape is a scalar, -1 a dynamic dimension.</summary>
    internal static string Input(TfGraphBuilder b, string name, DataType type, params long[] shape)
    {
        var node = b.Op(name, "Placeholder");
        node.Attr.Remove("T");
        node.Attr["dtype"] = new AttrValue { Type = type };
        node.Attr["shape"] = new AttrValue { Shape = TensorValue.ShapeProto(shape) };
        return name;
    }

    internal static TfPose.Graph.Onnx.ModelProto Onnx(TfGraphBuilder b, params string[] outputs) =>
        TfPose.Graph.Onnx.ModelProto.Parser.ParseFrom(GraphTranslator.Translate(b.Build(), new TranslationOptions { Outputs = outputs }).OnnxModel);

    private static void AssertClose(float[] expected, float[] actual, double tolerance = 1e-4)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * Math.Max(1, Math.Abs(expected[i])), $"[{i}]: {actual[i]} vs {expected[i]}");
    }

    /// <summary>A 1×1 identity convolution: its output equals its input but is held channels-first inside the ONNX graph.</summary>
    private static string IdentityConv(TfGraphBuilder b, string name, string input, int channels)
    {
        var k = new float[channels * channels];
        for (var i = 0; i < channels; i++)
            k[i * channels + i] = 1;
        b.Const(name + "_k", k, 1, 1, channels, channels);
        var conv = b.Op(name, "Conv2D", input, name + "_k");
        conv.Attr["strides"] = TfGraphBuilder.Ints(1, 1, 1, 1);
        conv.Attr["padding"] = TfGraphBuilder.Str("VALID");
        return name;
    }

    // ---------------------------------------------------------------- DepthToSpace / SpaceToDepth

    /// <summary>TensorFlow NHWC DepthToSpace: out[b, h·s+i, w·s+j, c] = in[b, h, w, (i·s+j)·C' + c].</summary>
    private static T[] DepthToSpaceRef<T>(T[] x, int n, int h, int w, int c, int s)
    {
        var oc = c / (s * s);
        var y = new T[x.Length];
        for (var b = 0; b < n; b++)
        for (var i = 0; i < h * s; i++)
        for (var j = 0; j < w * s; j++)
        for (var k = 0; k < oc; k++)
            y[((b * h * s + i) * w * s + j) * oc + k] = x[((b * h + i / s) * w + j / s) * c + ((i % s) * s + j % s) * oc + k];
        return y;
    }

    [Fact]
    [OpTest("DepthToSpace", "SpaceToDepth")]
    public void DepthToSpace_and_SpaceToDepth_follow_tensorflow_channel_order()
    {
        // TensorFlow's documented example: [1, 1, 1, 4] of 1..4 with block 2 becomes [[1, 2], [3, 4]].
        var b = new TfGraphBuilder();
        b.Placeholder("x", 1, 1, 1, 4);
        b.Op("d2s", "DepthToSpace", "x").Attr["block_size"] = new AttrValue { I = 2 };
        var y = Run(b, Feeds(("x", GraphTensor.FromArray(new float[] { 1, 2, 3, 4 }, 1, 1, 1, 4))), "d2s")[0];
        Assert.Equal(new long[] { 1, 2, 2, 1 }, y.Shape);
        Assert.Equal([1f, 2, 3, 4], y.F);

        // Dynamic spatial size, block 3, inverse by SpaceToDepth.
        const int n = 2, h = 2, w = 3, c = 18, s = 3;
        b = new TfGraphBuilder();
        b.Placeholder("x", n, -1, -1, c);
        b.Op("d2s", "DepthToSpace", "x").Attr["block_size"] = new AttrValue { I = s };
        b.Op("back", "SpaceToDepth", "d2s").Attr["block_size"] = new AttrValue { I = s };
        var x = Values(n * h * w * c);
        var outputs = Run(b, Feeds(("x", GraphTensor.FromArray(x, n, h, w, c))), "d2s", "back");
        Assert.Equal(new long[] { n, h * s, w * s, c / (s * s) }, outputs[0].Shape);
        Assert.Equal(DepthToSpaceRef(x, n, h, w, c, s), outputs[0].F);
        Assert.Equal(x, outputs[1].F);

        // int32, and data_format NCHW (the same channel order on axis 1).
        b = new TfGraphBuilder();
        Input(b, "x", DataType.DtInt32, 1, 8, 2, 2);
        var d2s = b.Op("d2s", "DepthToSpace", "x");
        d2s.Attr["T"] = new AttrValue { Type = DataType.DtInt32 };
        d2s.Attr["block_size"] = new AttrValue { I = 2 };
        d2s.Attr["data_format"] = TfGraphBuilder.Str("NCHW");
        var xi = Enumerable.Range(0, 32).ToArray();
        var yi = Run(b, Feeds(("x", GraphTensor.FromArray(xi, 1, 8, 2, 2))), "d2s")[0];
        Assert.Equal(new long[] { 1, 2, 4, 4 }, yi.Shape);
        // NCHW -> NHWC, reference, -> NCHW.
        var nhwc = new int[32];
        for (var ch = 0; ch < 8; ch++)
        for (var p = 0; p < 4; p++)
            nhwc[p * 8 + ch] = xi[ch * 4 + p];
        var refNhwc = DepthToSpaceRef(nhwc, 1, 2, 2, 8, 2);
        var expected = new int[32];
        for (var ch = 0; ch < 2; ch++)
        for (var p = 0; p < 16; p++)
            expected[ch * 16 + p] = refNhwc[p * 2 + ch];
        Assert.Equal(expected, yi.I);
    }

    [Fact]
    [OpTest("DepthToSpace", "SpaceToDepth")]
    public void DepthToSpace_between_convolutions_runs_channels_first_without_transposes()
    {
        const int h = 3, w = 2, c = 8;
        var b = new TfGraphBuilder();
        b.Placeholder("x", 1, h, w, c);
        IdentityConv(b, "conv1", "x", c);
        b.Op("d2s", "DepthToSpace", "conv1").Attr["block_size"] = new AttrValue { I = 2 };
        IdentityConv(b, "conv2", "d2s", c / 4);
        b.Op("s2d", "SpaceToDepth", "conv2").Attr["block_size"] = new AttrValue { I = 2 };
        IdentityConv(b, "conv3", "s2d", c);
        var x = Values(h * w * c);
        var outputs = Run(b, Feeds(("x", GraphTensor.FromArray(x, 1, h, w, c))), "conv2", "conv3");
        Assert.Equal(DepthToSpaceRef(x, 1, h, w, c, 2), outputs[0].F);
        Assert.Equal(x, outputs[1].F);
        // Only the graph's entry and its two exits change layout.
        var model = Onnx(b, "conv2", "conv3");
        Assert.Equal(3, model.Graph.Node.Count(n => n.OpType == "Transpose"));
        Assert.Contains(model.Graph.Node, n => n.OpType == "DepthToSpace" && n.Attribute.Any(a => a.Name == "mode" && a.S.ToStringUtf8() == "DCR"));
    }

    // ---------------------------------------------------------------- SpaceToBatchND / BatchToSpaceND

    private static long Count(long[] shape) => shape.Aggregate(1L, (a, d) => a * d);

    /// <summary>Row-major index of <paramref name="index"/> in <paramref name="shape"/>.</summary>
    private static long Flat(long[] index, long[] shape)
    {
        long offset = 0;
        for (var d = 0; d < shape.Length; d++)
            offset = offset * shape[d] + index[d];
        return offset;
    }

    private static long[] Unflat(long offset, long[] shape)
    {
        var index = new long[shape.Length];
        for (var d = shape.Length - 1; d >= 0; d--)
        {
            index[d] = offset % shape[d];
            offset /= shape[d];
        }
        return index;
    }

    /// <summary>
    /// TensorFlow's SpaceToBatchND: output batch (o · batch + b), where o is the row-major position in the block, holds
    /// input position j·block + o − pad_begin of each spatial axis (zero outside the input).
    /// </summary>
    internal static T[] SpaceToBatchRef<T>(T[] x, long[] shape, long[] block, long[] pads, out long[] outShape)
    {
        var m = block.Length;
        var batch = shape[0];
        outShape = (long[])shape.Clone();
        outShape[0] = batch * Count(block);
        for (var i = 0; i < m; i++)
            outShape[1 + i] = (shape[1 + i] + pads[2 * i] + pads[2 * i + 1]) / block[i];
        var y = new T[Count(outShape)];
        for (long o = 0; o < y.LongLength; o++)
        {
            var index = Unflat(o, outShape);
            var offsets = Unflat(index[0] / batch, block);
            var source = (long[])index.Clone();
            source[0] = index[0] % batch;
            var inside = true;
            for (var i = 0; i < m; i++)
            {
                source[1 + i] = index[1 + i] * block[i] + offsets[i] - pads[2 * i];
                inside &= source[1 + i] >= 0 && source[1 + i] < shape[1 + i];
            }
            y[o] = inside ? x[Flat(source, shape)] : default!;
        }
        return y;
    }

    /// <summary>TensorFlow's BatchToSpaceND: output position p (after the begin crop) reads batch (p mod block)·batch' + b at p / block.</summary>
    internal static T[] BatchToSpaceRef<T>(T[] x, long[] shape, long[] block, long[] crops, out long[] outShape)
    {
        var m = block.Length;
        var batch = shape[0] / Count(block);
        outShape = (long[])shape.Clone();
        outShape[0] = batch;
        for (var i = 0; i < m; i++)
            outShape[1 + i] = shape[1 + i] * block[i] - crops[2 * i] - crops[2 * i + 1];
        var y = new T[Count(outShape)];
        for (long o = 0; o < y.LongLength; o++)
        {
            var index = Unflat(o, outShape);
            var offsets = new long[m];
            var source = (long[])index.Clone();
            for (var i = 0; i < m; i++)
            {
                var p = index[1 + i] + crops[2 * i];
                offsets[i] = p % block[i];
                source[1 + i] = p / block[i];
            }
            source[0] = Flat(offsets, block) * batch + index[0];
            y[o] = x[Flat(source, shape)];
        }
        return y;
    }

    private static NodeDef BlockOp(TfGraphBuilder b, string name, string op, string x, string block, string pads, DataType type = DataType.DtFloat)
    {
        var node = b.Op(name, op, x, block, pads);
        node.Attr["T"] = new AttrValue { Type = type };
        return node;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [OpTest("SpaceToBatchND", "BatchToSpaceND")]
    public void SpaceToBatchND_and_BatchToSpaceND_follow_tensorflow_batch_placement(bool dynamic)
    {
        // M = 2 on [2, 5, 4, 3] with uneven paddings; then back with crops of the same sizes.
        long[] shape = [2, 5, 4, 3];
        long[] block = [2, 3];
        long[] pads = [1, 0, 0, 2];
        var b = new TfGraphBuilder();
        b.Placeholder("x", dynamic ? [-1, -1, -1, 3] : shape);
        b.ConstInt("block", [2, 3], 2);
        if (dynamic)
        {
            Input(b, "pads", DataType.DtInt32, 2, 2);
            Input(b, "crops", DataType.DtInt32, -1, 2);
        }
        else
        {
            b.ConstInt("pads", [1, 0, 0, 2], 2, 2);
            b.ConstInt("crops", [1, 0, 0, 2], 2, 2);
        }
        BlockOp(b, "s2b", "SpaceToBatchND", "x", "block", "pads");
        BlockOp(b, "b2s", "BatchToSpaceND", "s2b", "block", "crops");
        var x = Values((int)Count(shape));
        var feeds = Feeds(("x", GraphTensor.FromArray(x, shape)));
        if (dynamic)
        {
            feeds["pads"] = GraphTensor.FromArray(new[] { 1, 0, 0, 2 }, 2, 2);
            feeds["crops"] = GraphTensor.FromArray(new[] { 1, 0, 0, 2 }, 2, 2);
        }
        var outputs = Run(b, feeds, "s2b", "b2s");
        var expected = SpaceToBatchRef(x, shape, block, pads, out var outShape);
        Assert.Equal(new long[] { 12, 3, 2, 3 }, outShape);
        Assert.Equal(outShape, outputs[0].Shape);
        Assert.Equal(expected, outputs[0].F);
        Assert.Equal(shape, outputs[1].Shape);
        Assert.Equal(x, outputs[1].F);
    }

    [Fact]
    [OpTest("SpaceToBatchND", "BatchToSpaceND")]
    public void BatchToSpaceND_alone_with_one_block_axis_and_int32_data()
    {
        // M = 1 on a rank-3 int32 tensor [6, 2, 2]: block 3, crops (1, 2).
        long[] shape = [6, 2, 2];
        var b = new TfGraphBuilder();
        Input(b, "x", DataType.DtInt32, shape);
        b.ConstInt("block", [3], 1);
        b.ConstInt("crops", [1, 2], 1, 2);
        BlockOp(b, "b2s", "BatchToSpaceND", "x", "block", "crops", DataType.DtInt32);
        b.ConstInt("pads", [1, 0], 1, 2);
        BlockOp(b, "s2b", "SpaceToBatchND", "x", "block", "pads", DataType.DtInt32);
        var x = Enumerable.Range(1, 24).ToArray();
        var outputs = Run(b, Feeds(("x", GraphTensor.FromArray(x, shape))), "b2s", "s2b");
        var expected = BatchToSpaceRef(x, shape, [3], [1, 2], out var outShape);
        Assert.Equal(new long[] { 2, 3, 2 }, outShape);
        // By hand: batch' = 2; output row p reads input batch (p+1) mod 3 · 2 + b, row (p+1) / 3.
        // b = 0: p = 0 -> batch 2 row 0 = [9, 10]; p = 1 -> batch 4 row 0 = [17, 18]; p = 2 -> batch 0 row 1 = [3, 4].
        Assert.Equal([9, 10, 17, 18, 3, 4], expected[..6]);
        Assert.Equal(outShape, outputs[0].Shape);
        Assert.Equal(expected, outputs[0].I);
        var s2b = SpaceToBatchRef(x, shape, [3], [1, 0], out var s2bShape);
        Assert.Equal(s2bShape, outputs[1].Shape);
        Assert.Equal(s2b, outputs[1].I);
    }

    // ---------------------------------------------------------------- convolution references

    /// <summary>
    /// Direct NHWC convolution from TensorFlow's definition: stride, dilation and explicit pads (top, bottom, left,
    /// right); depthwise output channel c·multiplier + q uses filter [kh, kw, c, q].
    /// </summary>
    internal static float[] ConvRef(float[] x, int n, int h, int w, int c, float[] k, int kh, int kw, int kout, bool depthwise,
        (int H, int W) stride, (int H, int W) dilation, (int Top, int Bottom, int Left, int Right) pads, out int oh, out int ow)
    {
        oh = (h + pads.Top + pads.Bottom - ((kh - 1) * dilation.H + 1)) / stride.H + 1;
        ow = (w + pads.Left + pads.Right - ((kw - 1) * dilation.W + 1)) / stride.W + 1;
        var oc = depthwise ? c * kout : kout;
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
                var yi = i * stride.H + di * dilation.H - pads.Top;
                var xj = j * stride.W + dj * dilation.W - pads.Left;
                if (yi < 0 || yi >= h || xj < 0 || xj >= w)
                    continue;
                var pixel = ((b * h + yi) * w + xj) * c;
                if (depthwise)
                    sum += x[pixel + o / kout] * k[((di * kw + dj) * c + o / kout) * kout + o % kout];
                else
                    for (var ci = 0; ci < c; ci++)
                        sum += x[pixel + ci] * k[((di * kw + dj) * c + ci) * kout + o];
            }
            y[((b * oh + i) * ow + j) * oc + o] = (float)sum;
        }
        return y;
    }

    /// <summary>TensorFlow's SAME padding along one axis: output ceil(size / stride), the odd cell at the end.</summary>
    internal static (int Begin, int End) SamePads(int size, int kernel, int stride, int dilation)
    {
        var output = (size + stride - 1) / stride;
        var total = Math.Max((output - 1) * stride + (kernel - 1) * dilation + 1 - size, 0);
        return (total / 2, total - total / 2);
    }

    private static NodeDef ConvNode(TfGraphBuilder b, string name, string op, string x, string filter, string padding, int strideH = 1, int strideW = 1)
    {
        var conv = b.Op(name, op, x, filter);
        conv.Attr["strides"] = TfGraphBuilder.Ints(1, strideH, strideW, 1);
        conv.Attr["padding"] = TfGraphBuilder.Str(padding);
        return conv;
    }

    // ---------------------------------------------------------------- atrous convolution

    /// <summary>TensorFlow's required_space_to_batch_paddings for a dilated convolution: (paddings, crops) of one axis.</summary>
    private static (long[] Paddings, long[] Crops) AtrousPaddings(int size, int kernel, int rate, bool same)
    {
        var effective = (kernel - 1) * rate + 1;
        var begin = same ? (effective - 1) / 2 : 0;
        var end = same ? effective - 1 - begin : 0;
        var extra = (rate - (size + begin + end) % rate) % rate;
        return ([begin, end + extra], [0, extra]);
    }

    [Theory]
    [InlineData("Conv2D", "SAME", 2, 2, 7, 6, 1)]
    [InlineData("Conv2D", "VALID", 2, 2, 9, 8, 1)]
    [InlineData("Conv2D", "SAME", 2, 3, 8, 7, 1)]
    [InlineData("DepthwiseConv2dNative", "SAME", 3, 3, 10, 9, 1)]
    [InlineData("DepthwiseConv2dNative", "VALID", 2, 2, 8, 7, 2)]
    [OpTest("SpaceToBatchND", "BatchToSpaceND")]
    public void Atrous_pattern_becomes_one_dilated_convolution(string op, string padding, int rateH, int rateW, int h, int w, int multiplier)
    {
        const int n = 2, c = 3, kh = 3, kw = 3, cout = 4;
        var depthwise = op == "DepthwiseConv2dNative";
        var kout = depthwise ? multiplier : cout;
        var (padH, cropH) = AtrousPaddings(h, kh, rateH, padding == "SAME");
        var (padW, cropW) = AtrousPaddings(w, kw, rateW, padding == "SAME");
        var b = new TfGraphBuilder();
        b.Placeholder("x", n, h, w, c);
        b.ConstInt("block", [rateH, rateW], 2);
        b.ConstInt("paddings", [(int)padH[0], (int)padH[1], (int)padW[0], (int)padW[1]], 2, 2);
        b.ConstInt("crops", [(int)cropH[0], (int)cropH[1], (int)cropW[0], (int)cropW[1]], 2, 2);
        var k = Values(kh * kw * c * kout, 11);
        b.Const("k", k, kh, kw, c, kout);
        BlockOp(b, "s2b", "SpaceToBatchND", "x", "block", "paddings");
        ConvNode(b, "conv", op, "s2b", "k", "VALID");
        BlockOp(b, "b2s", "BatchToSpaceND", "conv", "block", "crops");

        var x = Values(n * h * w * c, 5);
        var actual = Run(b, Feeds(("x", GraphTensor.FromArray(x, n, h, w, c))), "b2s")[0];
        var (top, bottom) = padding == "SAME" ? SamePads(h, kh, 1, rateH) : (0, 0);
        var (left, right) = padding == "SAME" ? SamePads(w, kw, 1, rateW) : (0, 0);
        var expected = ConvRef(x, n, h, w, c, k, kh, kw, kout, depthwise, (1, 1), (rateH, rateW), (top, bottom, left, right), out var oh, out var ow);
        Assert.Equal(new long[] { n, oh, ow, depthwise ? c * kout : kout }, actual.Shape);
        AssertClose(expected, actual.F);

        var model = Onnx(b, "b2s");
        var conv = Assert.Single(model.Graph.Node, node => node.OpType == "Conv");
        Assert.Equal(new long[] { rateH, rateW }, conv.Attribute.Single(a => a.Name == "dilations").Ints);
        Assert.DoesNotContain(model.Graph.Node, node => node.OpType is "Reshape" or "Pad" or "Slice");
    }

    [Fact]
    [OpTest("SpaceToBatchND", "BatchToSpaceND")]
    public void Atrous_pattern_with_other_paddings_and_crops_still_computes_the_three_ops()
    {
        // Paddings and crops TensorFlow would not write for SAME or VALID: the fold needs explicit pads. The reference
        // composes the three ops from their definitions.
        const int n = 1, h = 5, w = 5, c = 2, cout = 3;
        long[] block = [2, 2];
        long[] paddings = [2, 1, 1, 2];
        long[] crops = [1, 0, 0, 1];
        var b = new TfGraphBuilder();
        b.Placeholder("x", n, h, w, c);
        b.ConstInt("block", [2, 2], 2);
        b.ConstInt("paddings", paddings.Select(p => (int)p).ToArray(), 2, 2);
        b.ConstInt("crops", crops.Select(p => (int)p).ToArray(), 2, 2);
        var k = Values(3 * 3 * c * cout, 13);
        b.Const("k", k, 3, 3, c, cout);
        BlockOp(b, "s2b", "SpaceToBatchND", "x", "block", "paddings");
        ConvNode(b, "conv", "Conv2D", "s2b", "k", "VALID");
        BlockOp(b, "b2s", "BatchToSpaceND", "conv", "block", "crops");
        // The same around a stride-2 convolution, which is not a dilated convolution: the ops run as written.
        ConvNode(b, "strided", "Conv2D", "s2b", "k", "VALID", 2, 2);
        BlockOp(b, "b2s_strided", "BatchToSpaceND", "strided", "block", "crops");

        var x = Values(n * h * w * c, 17);
        var outputs = Run(b, Feeds(("x", GraphTensor.FromArray(x, n, h, w, c))), "b2s", "b2s_strided");
        float[] Reference(int stride, out long[] shape)
        {
            var s2b = SpaceToBatchRef(x, [n, h, w, c], block, paddings, out var s2bShape);
            var conv = ConvRef(s2b, (int)s2bShape[0], (int)s2bShape[1], (int)s2bShape[2], c, k, 3, 3, cout, false, (stride, stride), (1, 1), (0, 0, 0, 0), out var oh, out var ow);
            return BatchToSpaceRef(conv, [s2bShape[0], oh, ow, cout], block, crops, out shape);
        }
        var expected = Reference(1, out var expectedShape);
        Assert.Equal(expectedShape, outputs[0].Shape);
        AssertClose(expected, outputs[0].F);
        var strided = Reference(2, out var stridedShape);
        Assert.Equal(stridedShape, outputs[1].Shape);
        AssertClose(strided, outputs[1].F);

        var folded = Onnx(b, "b2s");
        var conv = Assert.Single(folded.Graph.Node, node => node.OpType == "Conv");
        Assert.Equal(new long[] { 2, 2 }, conv.Attribute.Single(a => a.Name == "dilations").Ints);
        Assert.Equal(new long[] { 1, 1, 1, 1 }, conv.Attribute.Single(a => a.Name == "pads").Ints); // paddings − crops
        Assert.Contains(Onnx(b, "b2s_strided").Graph.Node, node => node.OpType == "Reshape");
    }

    // ---------------------------------------------------------------- BatchMatMul

    /// <summary>Per broadcast batch entry, op(x) · op(y) with op the transpose of the last two axes when adj is set.</summary>
    private static float[] BatchMatMulRef(float[] x, long[] xs, float[] y, long[] ys, bool adjX, bool adjY, out long[] outShape)
    {
        long rows = adjX ? xs[^1] : xs[^2], inner = adjX ? xs[^2] : xs[^1], cols = adjY ? ys[^2] : ys[^1];
        var batchRank = Math.Max(xs.Length, ys.Length) - 2;
        long[] Pad(long[] s) => [.. Enumerable.Repeat(1L, batchRank - (s.Length - 2)), .. s[..^2]];
        var bx = Pad(xs);
        var by = Pad(ys);
        var batch = bx.Zip(by, Math.Max).ToArray();
        outShape = [.. batch, rows, cols];
        var result = new float[Count(outShape)];
        for (long p = 0; p < Count(batch); p++)
        {
            var index = Unflat(p, batch);
            var ox = Flat(index.Select((v, d) => bx[d] == 1 ? 0 : v).ToArray(), bx) * xs[^2] * xs[^1];
            var oy = Flat(index.Select((v, d) => by[d] == 1 ? 0 : v).ToArray(), by) * ys[^2] * ys[^1];
            for (long i = 0; i < rows; i++)
            for (long j = 0; j < cols; j++)
            {
                double sum = 0;
                for (long t = 0; t < inner; t++)
                    sum += x[ox + (adjX ? t * xs[^1] + i : i * xs[^1] + t)] * y[oy + (adjY ? j * ys[^1] + t : t * ys[^1] + j)];
                result[(p * rows + i) * cols + j] = (float)sum;
            }
        }
        return result;
    }

    [Theory]
    [InlineData("BatchMatMul", false, false)]
    [InlineData("BatchMatMul", true, false)]
    [InlineData("BatchMatMulV2", false, true)]
    [InlineData("BatchMatMulV3", true, true)]
    [OpTest("BatchMatMul", "BatchMatMulV2", "BatchMatMulV3")]
    public void BatchMatMul_with_adjoints_against_a_direct_product(string op, bool adjX, bool adjY)
    {
        long[] xs = adjX ? [2, 4, 3] : [2, 3, 4];
        long[] ys = adjY ? [2, 5, 4] : [2, 4, 5];
        var b = new TfGraphBuilder();
        b.Placeholder("x", -1, -1, -1);
        b.Placeholder("y", ys);
        var mm = b.Op("mm", op, "x", "y");
        mm.Attr["adj_x"] = new AttrValue { B = adjX };
        mm.Attr["adj_y"] = new AttrValue { B = adjY };
        if (op == "BatchMatMulV3")
        {
            mm.Attr.Remove("T");
            foreach (var attr in new[] { "Ta", "Tb", "Tout" })
                mm.Attr[attr] = new AttrValue { Type = DataType.DtFloat };
        }
        // The same product with y a constant (transposed at translation time when adj_y).
        var yv = Values((int)Count(ys), 9);
        b.Const("yc", yv, ys);
        var mmc = b.Op("mmc", op, "x", "yc");
        mmc.Attr["adj_x"] = new AttrValue { B = adjX };
        mmc.Attr["adj_y"] = new AttrValue { B = adjY };
        if (op == "BatchMatMulV3")
        {
            mmc.Attr.Remove("T");
            foreach (var attr in new[] { "Ta", "Tb", "Tout" })
                mmc.Attr[attr] = new AttrValue { Type = DataType.DtFloat };
        }
        var xv = Values((int)Count(xs), 7);
        var outputs = Run(b, Feeds(("x", GraphTensor.FromArray(xv, xs)), ("y", GraphTensor.FromArray(yv, ys))), "mm", "mmc");
        var expected = BatchMatMulRef(xv, xs, yv, ys, adjX, adjY, out var shape);
        Assert.Equal(new long[] { 2, 3, 5 }, shape);
        foreach (var output in outputs)
        {
            Assert.Equal(shape, output.Shape);
            AssertClose(expected, output.F);
        }
        var graph = b.Build();
        var stats = GraphStats.Compute(graph, ShapeInference.Infer(graph, new Dictionary<string, long[]> { ["x"] = xs }));
        Assert.Equal(2 * (2 * 2 * 3 * 5 * 4L), stats.Flops); // two products, each 2·batch·rows·cols·inner
    }

    [Fact]
    [OpTest("BatchMatMulV2", "BatchMatMulV3")]
    public void BatchMatMul_V2_broadcasts_batch_axes_and_V3_casts_to_Tout()
    {
        long[] xs = [2, 1, 3, 4];
        long[] ys = [3, 4, 2];
        var b = new TfGraphBuilder();
        b.Placeholder("x", xs);
        b.Placeholder("y", ys);
        b.Op("mm", "BatchMatMulV2", "x", "y");
        // V3 with int8 operands and an int32 result: TensorFlow multiplies in Tout.
        Input(b, "xi", DataType.DtInt8, 2, 3);
        Input(b, "yi", DataType.DtInt8, 3, 2);
        var v3 = b.Op("mmi", "BatchMatMulV3", "xi", "yi");
        v3.Attr.Remove("T");
        v3.Attr["Ta"] = new AttrValue { Type = DataType.DtInt8 };
        v3.Attr["Tb"] = new AttrValue { Type = DataType.DtInt8 };
        v3.Attr["Tout"] = new AttrValue { Type = DataType.DtInt32 };
        var xv = Values((int)Count(xs), 2);
        var yv = Values((int)Count(ys), 4);
        sbyte[] xi = [100, -100, 3, 4, 5, 6];
        sbyte[] yi = [100, 1, 100, 2, -7, 3];
        var outputs = Run(b, Feeds(("x", GraphTensor.FromArray(xv, xs)), ("y", GraphTensor.FromArray(yv, ys)),
            ("xi", GraphTensor.FromArray(xi, 2, 3)), ("yi", GraphTensor.FromArray(yi, 3, 2))), "mm", "mmi");
        var expected = BatchMatMulRef(xv, xs, yv, ys, false, false, out var shape);
        Assert.Equal(new long[] { 2, 3, 3, 2 }, shape);
        Assert.Equal(shape, outputs[0].Shape);
        AssertClose(expected, outputs[0].F);
        // [100, -100, 3] · columns [100, 100, -7] and [1, 2, 3]: 10000 - 10000 - 21 = -21, 100 - 200 + 9 = -91;
        // [4, 5, 6]: 400 + 500 - 42 = 858, 4 + 10 + 18 = 32 (beyond int8: the product is int32).
        Assert.Equal([-21, -91, 858, 32], outputs[1].I);
    }

    // ---------------------------------------------------------------- MirrorPad

    /// <summary>Source index of padded position j on an axis of size n with begin padding a.</summary>
    private static int Mirror(int j, int a, int n, bool symmetric)
    {
        var i = j - a;
        if (i < 0)
            return symmetric ? -i - 1 : -i;
        if (i >= n)
            return symmetric ? 2 * n - 1 - i : 2 * n - 2 - i;
        return i;
    }

    [Theory]
    [InlineData("REFLECT")]
    [InlineData("SYMMETRIC")]
    [OpTest("MirrorPad")]
    public void MirrorPad_reflect_and_symmetric(string mode)
    {
        var symmetric = mode == "SYMMETRIC";
        // 2-D int32 [3, 4] padded [[2, 1], [3 or 2, 2]]: SYMMETRIC may pad by the full size, REFLECT by one less.
        int[] pads = [2, 1, symmetric ? 4 : 3, 2];
        var b = new TfGraphBuilder();
        Input(b, "x", DataType.DtInt32, 3, 4);
        b.ConstInt("pads", pads, 2, 2);
        var pad = b.Op("pad", "MirrorPad", "x", "pads");
        pad.Attr["T"] = new AttrValue { Type = DataType.DtInt32 };
        pad.Attr["mode"] = TfGraphBuilder.Str(mode);
        var x = Enumerable.Range(0, 12).ToArray();
        var y = Run(b, Feeds(("x", GraphTensor.FromArray(x, 3, 4))), "pad")[0];
        int oh = 3 + pads[0] + pads[1], ow = 4 + pads[2] + pads[3];
        Assert.Equal(new long[] { oh, ow }, y.Shape);
        var expected = new int[oh * ow];
        for (var i = 0; i < oh; i++)
        for (var j = 0; j < ow; j++)
            expected[i * ow + j] = x[Mirror(i, pads[0], 3, symmetric) * 4 + Mirror(j, pads[2], 4, symmetric)];
        Assert.Equal(expected, y.I);
        // By hand, the first row of SYMMETRIC is input row 1 (pads 2: rows 1, 0, then 0, 1, 2) read as 7 6 5 4 | 4 5 6 7 | 7 6.
        if (symmetric)
            Assert.Equal([7, 6, 5, 4, 4, 5, 6, 7, 7, 6], y.I[..10]);
        else
            Assert.Equal([11, 10, 9, 8, 9, 10, 11, 10, 9], y.I[..9]); // REFLECT: rows 2, 1, then 0, 1, 2; cols 3 2 1 | 0 1 2 3 | 2 1

        // 4-D after a convolution (held channels-first), spatial axes and channels padded.
        const int h = 3, w = 2, c = 3;
        b = new TfGraphBuilder();
        b.Placeholder("x", 1, h, w, c);
        IdentityConv(b, "conv", "x", c);
        int[] pads4 = [0, 0, 2, 1, 1, 1, 1, 0];
        b.ConstInt("pads", pads4, 4, 2);
        b.Op("pad", "MirrorPad", "conv", "pads").Attr["mode"] = TfGraphBuilder.Str(mode);
        var xf = Values(h * w * c);
        var yf = Run(b, Feeds(("x", GraphTensor.FromArray(xf, 1, h, w, c))), "pad")[0];
        int ph = h + 3, pw = w + 2, pc = c + 1;
        Assert.Equal(new long[] { 1, ph, pw, pc }, yf.Shape);
        var expectedF = new float[ph * pw * pc];
        for (var i = 0; i < ph; i++)
        for (var j = 0; j < pw; j++)
        for (var k = 0; k < pc; k++)
            expectedF[(i * pw + j) * pc + k] = xf[(Mirror(i, 2, h, symmetric) * w + Mirror(j, 1, w, symmetric)) * c + Mirror(k, 1, c, symmetric)];
        Assert.Equal(expectedF, yf.F);
    }

    // ---------------------------------------------------------------- Resize with a run-time size

    /// <summary>TensorFlow's resize_bilinear: source y = (i + ½)·scale − ½ with half_pixel_centers, else i·scale; clamped taps.</summary>
    private static float[] BilinearRef(float[] x, int h, int w, int oh, int ow, bool alignCorners, bool halfPixel)
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
            int y0 = (int)Math.Floor(fy), x0 = (int)Math.Floor(fx);
            float ly = fy - y0, lx = fx - x0;
            float At(int r, int c) => x[Math.Clamp(r, 0, h - 1) * w + Math.Clamp(c, 0, w - 1)];
            var top = At(y0, x0) + (At(y0, x0 + 1) - At(y0, x0)) * lx;
            var bottom = At(y0 + 1, x0) + (At(y0 + 1, x0 + 1) - At(y0 + 1, x0)) * lx;
            y[i * ow + j] = top + (bottom - top) * ly;
        }
        return y;
    }

    /// <summary>TensorFlow's resize_nearest_neighbor source index.</summary>
    private static int NearestSource(int o, int inSize, int outSize, bool alignCorners, bool halfPixel)
    {
        var scale = alignCorners && outSize > 1 ? (inSize - 1f) / (outSize - 1) : (float)inSize / outSize;
        var v = halfPixel ? (int)Math.Floor((o + 0.5f) * scale) : alignCorners ? (int)MathF.Round(o * scale, MidpointRounding.AwayFromZero) : (int)Math.Floor(o * scale);
        return Math.Clamp(v, 0, inSize - 1);
    }

    /// <summary>A resize of x to the spatial size of "like", read at run time as TensorFlow graphs do (Shape, StridedSlice).</summary>
    private static TfGraphBuilder RuntimeSizedResize(string op, bool alignCorners, bool halfPixel)
    {
        var b = new TfGraphBuilder();
        b.Placeholder("x", 1, -1, -1, 2);
        b.Placeholder("like", 1, -1, -1, 1);
        var shape = b.Op("shape", "Shape", "like");
        shape.Attr["out_type"] = new AttrValue { Type = DataType.DtInt32 };
        b.ConstInt("begin", [1], 1);
        b.ConstInt("end", [3], 1);
        b.ConstInt("stride", [1], 1);
        b.Op("hw", "StridedSlice", "shape", "begin", "end", "stride").Attr["Index"] = new AttrValue { Type = DataType.DtInt32 };
        var resize = b.Op("resize", op, "x", "hw");
        resize.Attr["align_corners"] = new AttrValue { B = alignCorners };
        resize.Attr["half_pixel_centers"] = new AttrValue { B = halfPixel };
        // The same with the size itself fed.
        Input(b, "size", DataType.DtInt32, 2);
        var fed = b.Op("resize_fed", op, "x", "size");
        fed.Attr["align_corners"] = new AttrValue { B = alignCorners };
        fed.Attr["half_pixel_centers"] = new AttrValue { B = halfPixel };
        return b;
    }

    /// <summary>Channel <paramref name="channel"/> of an NHWC single image as a plane.</summary>
    private static float[] Plane(float[] x, int pixels, int channels, int channel) =>
        Enumerable.Range(0, pixels).Select(p => x[p * channels + channel]).ToArray();

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [OpTest("ResizeBilinear", "ResizeNearestNeighbor")]
    public void Resize_to_a_size_read_at_run_time_keeps_the_coordinate_mode(bool alignCorners, bool halfPixel)
    {
        foreach (var op in new[] { "ResizeBilinear", "ResizeNearestNeighbor" })
        {
            var b = RuntimeSizedResize(op, alignCorners, halfPixel);
            using var session = new GraphSession(b.Build());
            // Several sizes through one session: up, down, and one of them 1.
            foreach (var (h, w, oh, ow) in new[] { (3, 4, 7, 5), (5, 6, 2, 3), (4, 3, 1, 6) })
            {
                var x = Values(h * w * 2, h * 10 + w);
                using var input = GraphTensor.FromArray(x, 1, h, w, 2);
                using var like = GraphTensor.FromArray(new float[oh * ow], 1, oh, ow, 1);
                using var size = GraphTensor.FromArray(new[] { oh, ow }, 2);
                using var result = session.Run(Feeds(("x", input), ("like", like), ("size", size)), ["resize", "resize_fed"]);
                foreach (var output in result)
                {
                    Assert.Equal(new long[] { 1, oh, ow, 2 }, output.Shape);
                    var y = output.ToArray<float>();
                    for (var ch = 0; ch < 2; ch++)
                    {
                        var plane = Plane(x, h * w, 2, ch);
                        var expected = op == "ResizeBilinear"
                            ? BilinearRef(plane, h, w, oh, ow, alignCorners, halfPixel)
                            : Enumerable.Range(0, oh * ow).Select(p => plane[NearestSource(p / ow, h, oh, alignCorners, halfPixel) * w + NearestSource(p % ow, w, ow, alignCorners, halfPixel)]).ToArray();
                        AssertClose(expected, Plane(y, oh * ow, 2, ch));
                    }
                }
            }
        }
    }

    /// <summary>
    /// TensorFlow's resize_bicubic along one axis: taps floor(in)−1 … floor(in)+2 with Keys' weights at
    /// delta = in − floor(in) rounded to 1/1024 (TensorFlow's table). Legacy: a = −0.75, taps clamped to the
    /// image; half_pixel_centers: a = −0.5, taps outside dropped and the weights renormalised.
    /// </summary>
    private static (int[] Index, float[] Weight)[] BicubicTaps(int inSize, int outSize, bool alignCorners, bool halfPixel)
    {
        var scale = alignCorners && outSize > 1 ? (inSize - 1f) / (outSize - 1) : (float)inSize / outSize;
        var a = halfPixel ? -0.5 : -0.75;
        double Near(double t) => ((a + 2) * t - (a + 3)) * t * t + 1; // |t| ≤ 1
        double Far(double t) => ((a * t - 5 * a) * t + 8 * a) * t - 4 * a; // 1 < |t| < 2
        var taps = new (int[], float[])[outSize];
        for (var o = 0; o < outSize; o++)
        {
            var at = halfPixel ? (o + 0.5f) * scale - 0.5f : o * scale;
            var floor = (int)Math.Floor(at);
            var delta = Math.Round((at - floor) * 1024) / 1024;
            double[] weights = [Far(1 + delta), Near(delta), Near(1 - delta), Far(2 - delta)];
            var index = new int[4];
            for (var t = 0; t < 4; t++)
            {
                var raw = floor - 1 + t;
                index[t] = Math.Clamp(raw, 0, inSize - 1);
                if (halfPixel && raw != index[t])
                    weights[t] = 0;
            }
            var sum = halfPixel ? weights.Sum() : 1;
            taps[o] = (index, weights.Select(v => (float)(v / sum)).ToArray());
        }
        return taps;
    }

    private static float[] BicubicRef(float[] x, int h, int w, int oh, int ow, bool alignCorners, bool halfPixel)
    {
        var ty = BicubicTaps(h, oh, alignCorners, halfPixel);
        var tx = BicubicTaps(w, ow, alignCorners, halfPixel);
        var y = new float[oh * ow];
        for (var i = 0; i < oh; i++)
        for (var j = 0; j < ow; j++)
        {
            double sum = 0;
            for (var p = 0; p < 4; p++)
            for (var q = 0; q < 4; q++)
                sum += ty[i].Weight[p] * tx[j].Weight[q] * x[ty[i].Index[p] * w + tx[j].Index[q]];
            y[i * ow + j] = (float)sum;
        }
        return y;
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [OpTest("ResizeBicubic")]
    public void ResizeBicubic_follows_tensorflow_kernels_and_coordinate_modes(bool alignCorners, bool halfPixel)
    {
        var b = RuntimeSizedResize("ResizeBicubic", alignCorners, halfPixel);
        b.ConstInt("fixed_size", [8, 6], 2);
        var fixedSize = b.Op("fixed", "ResizeBicubic", "x", "fixed_size");
        fixedSize.Attr["align_corners"] = new AttrValue { B = alignCorners };
        fixedSize.Attr["half_pixel_centers"] = new AttrValue { B = halfPixel };
        using var session = new GraphSession(b.Build());
        // Without align_corners, 4 -> 8 and 3 -> 6 put every sample at an exact entry of TensorFlow's weight table;
        // other sizes may fall between entries, where ONNX's exact weights differ slightly.
        const double between = 5e-3;
        foreach (var (h, w, oh, ow) in new[] { (4, 3, 8, 6), (5, 4, 3, 7) })
        {
            var exact = !alignCorners && h == 4 && w == 3;
            var x = Values(h * w * 2, h + w);
            using var input = GraphTensor.FromArray(x, 1, h, w, 2);
            using var like = GraphTensor.FromArray(new float[oh * ow], 1, oh, ow, 1);
            using var size = GraphTensor.FromArray(new[] { oh, ow }, 2);
            using var result = session.Run(Feeds(("x", input), ("like", like), ("size", size)), ["resize", "fixed", "resize_fed"]);
            Assert.Equal(new long[] { 1, oh, ow, 2 }, result[0].Shape);
            Assert.Equal(new long[] { 1, 8, 6, 2 }, result[1].Shape);
            var y = result[0].ToArray<float>();
            var yFixed = result[1].ToArray<float>();
            for (var ch = 0; ch < 2; ch++)
            {
                var plane = Plane(x, h * w, 2, ch);
                AssertClose(BicubicRef(plane, h, w, oh, ow, alignCorners, halfPixel), Plane(y, oh * ow, 2, ch), exact ? 1e-5 : between);
                AssertClose(BicubicRef(plane, h, w, 8, 6, alignCorners, halfPixel), Plane(yFixed, 48, 2, ch), exact ? 1e-5 : between);
                AssertClose(BicubicRef(plane, h, w, oh, ow, alignCorners, halfPixel), Plane(result[2].ToArray<float>(), oh * ow, 2, ch), exact ? 1e-5 : between);
            }
        }
    }
}
