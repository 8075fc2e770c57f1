using TfPose.Graph.Proto;
using TfPose.Graph.Translation;

namespace TfPose.Graph.Ops;

/// <summary>Spatial ops: they run channels-first in ONNX, so their NHWC inputs are kept NCHW between them.</summary>
internal static class ConvOps
{
    public static IEnumerable<OpUnit> Units =>
    [
        new("Conv2D", ConvShape, Conv2D, ConvFlops),
        new("DepthwiseConv2dNative", ConvShape, Conv2D, ConvFlops),
        new("Conv2DBackpropInput", BackpropInputShape, Conv2DBackpropInput, ConvFlops),
        new("MaxPool", PoolShape, Pool, FlopRules.PerOutputElement()),
        new("AvgPool", PoolShape, Pool, FlopRules.PerOutputElement()),
        new("FusedBatchNorm", BatchNormShape, FusedBatchNorm, FlopRules.PerOutputElement(2)),
        new("FusedBatchNormV2", BatchNormShape, FusedBatchNorm, FlopRules.PerOutputElement(2)),
        new("FusedBatchNormV3", BatchNormShape, FusedBatchNorm, FlopRules.PerOutputElement(2)),
        new("ResizeBilinear", ResizeShape, Resize, FlopRules.PerOutputElement(4)),
        new("ResizeNearestNeighbor", ResizeShape, Resize),
        new("ResizeBicubic", ResizeShape, Resize, FlopRules.PerOutputElement(16)),
    ];

    private static void ConvShape(ShapeContext s)
    {
        var node = s.Node;
        var x = s.Shape(0);
        var w = s.Shape(1);
        var strides = node.GetInts("strides", [1, 1, 1, 1]);
        var dil = node.GetInts("dilations", [1, 1, 1, 1]);
        var padding = node.GetString("padding", "VALID");
        long[]? outShape = null;
        if (x is { Length: 4 } && w is { Length: 4 })
        {
            var (h, wd, c) = IsNhwc(node) ? (1, 2, 3) : (2, 3, 1);
            var explicitPads = padding == "EXPLICIT" ? node.GetInts("explicit_paddings") : null;
            outShape = (long[])x.Clone();
            outShape[h] = ShapeMath.ConvOut(x[h], w[0], strides[h], dil[h], padding, explicitPads, h);
            outShape[wd] = ShapeMath.ConvOut(x[wd], w[1], strides[wd], dil[wd], padding, explicitPads, wd);
            outShape[c] = node.Op == "DepthwiseConv2dNative" ? w[2] * w[3] : w[3];
        }
        s.Set(0, outShape, s.Type(0));
    }

    private static void BackpropInputShape(ShapeContext s)
    {
        var outShape = s.Ints(0);
        if (outShape is null && s.Shape(1) is { Length: 4 } w)
            outShape = IsNhwc(s.Node) ? [-1, -1, -1, w[2]] : [-1, w[2], -1, -1];
        s.Set(0, outShape, s.Type(2));
    }

    /// <summary>Two operations (multiply, add) per filter tap per output element; transposed convolutions count per input element.</summary>
    private static long? ConvFlops(NodeDef node, GraphShapes shapes)
    {
        var filter = shapes.Shape(node.DataInput(1));
        var reference = node.Op == "Conv2DBackpropInput" ? shapes.Shape(node.DataInput(2)) : shapes.Shape(new TensorName(node.Name, 0));
        if (!ShapeMath.IsKnown(filter) || !ShapeMath.IsKnown(reference) || filter!.Length != 4)
            return null;
        var taps = filter[0] * filter[1] * (node.Op == "DepthwiseConv2dNative" ? 1 : filter[2]);
        return 2 * TensorValue.ElementCount(reference) * taps;
    }

    private static void PoolShape(ShapeContext s)
    {
        var x = s.Shape(0);
        var k = s.Node.GetInts("ksize");
        var st = s.Node.GetInts("strides");
        var padding = s.Node.GetString("padding", "VALID");
        long[]? outShape = null;
        if (x is { Length: 4 })
        {
            outShape = (long[])x.Clone();
            var (h, wd) = SpatialAxes(s.Node);
            outShape[h] = ShapeMath.ConvOut(x[h], k[h], st[h], 1, padding, null, h);
            outShape[wd] = ShapeMath.ConvOut(x[wd], k[wd], st[wd], 1, padding, null, wd);
        }
        s.Set(0, outShape, s.Type(0));
    }

    private static void BatchNormShape(ShapeContext s)
    {
        var x = s.Shape(0);
        s.Set(0, x, s.Type(0));
        var c = x is { Length: 4 } ? x[IsNhwc(s.Node) ? 3 : 1] : -1;
        for (var i = 1; i <= (s.Node.Op == "FusedBatchNormV3" ? 5 : 4); i++)
            s.Set(i, [c], DataType.DtFloat);
    }

    private static void ResizeShape(ShapeContext s)
    {
        var x = s.Shape(0);
        var size = s.Ints(1);
        s.Set(0, x is { Length: 4 } ? [x[0], size?[0] ?? -1, size?[1] ?? -1, x[3]] : null, s.Node.Op == "ResizeNearestNeighbor" ? s.Type(0) : DataType.DtFloat);
    }

    private static bool IsNhwc(NodeDef node) => node.GetString("data_format", "NHWC") == "NHWC";

    private static (int H, int W) SpatialAxes(NodeDef node) => IsNhwc(node) ? (1, 2) : (2, 3);

    /// <summary>Input in ONNX's channels-first order: our NCHW copy for NHWC ops, the tensor itself for NCHW ops.</summary>
    private static string ChannelsFirst(NodeDef node, TranslationContext c, TensorName t) =>
        IsNhwc(node) ? c.Get(t, Layout.Nchw) : c.Get(t, Layout.Tf);

    private static Layout OutputLayout(NodeDef node) => IsNhwc(node) ? Layout.Nchw : Layout.Tf;

    /// <summary>ONNX pads (begins then ends) for TensorFlow's padding mode; null means let ONNX compute SAME_UPPER at run time.</summary>
    private static long[]? Pads(NodeDef node, long[]? inputShape, long[] kernel, long[] strides, long[] dilations)
    {
        var padding = node.GetString("padding", "VALID");
        var (h, w) = SpatialAxes(node);
        switch (padding)
        {
            case "VALID":
                return [0, 0, 0, 0];
            case "EXPLICIT":
            {
                var p = node.GetInts("explicit_paddings");
                return [p[2 * h], p[2 * w], p[2 * h + 1], p[2 * w + 1]];
            }
            default:
            {
                var begins = new long[2];
                var ends = new long[2];
                long[] sizes = [inputShape?[h] ?? -1, inputShape?[w] ?? -1];
                for (var i = 0; i < 2; i++)
                {
                    var effective = (kernel[i] - 1) * dilations[i] + 1;
                    // With stride 1 the SAME padding does not depend on the size; otherwise it does.
                    if (sizes[i] < 0 && strides[i] != 1)
                        return null;
                    var output = sizes[i] < 0 ? 0 : (sizes[i] + strides[i] - 1) / strides[i];
                    var total = sizes[i] < 0 ? effective - 1 : Math.Max((output - 1) * strides[i] + effective - sizes[i], 0);
                    begins[i] = total / 2;
                    ends[i] = total - begins[i];
                }
                return [begins[0], begins[1], ends[0], ends[1]];
            }
        }
    }

    /// <summary>
    /// A channels-first input padded as TensorFlow's SAME does for sizes known only at run time: total padding
    /// max((ceil(size / stride) − 1)·stride + effective kernel − size, 0), the odd cell at the end.
    /// </summary>
    private static string SamePadAtRunTime(TranslationContext c, string input, long[] kernel, long[] strides, long[] dilations)
    {
        var b = c.Builder;
        var size = b.Node("Slice", [b.Node("Shape", [input]), b.Int64s("start", 2), b.Int64s("end", 4)]);
        var stride = b.Int64s("stride", strides);
        var output = b.Node("Div", [b.Node("Sub", [b.Node("Add", [size, stride]), b.Int64s("one", 1, 1)]), stride]);
        var effective = b.Int64s("effective", [.. kernel.Select((k, i) => (k - 1) * dilations[i] + 1)]);
        var needed = b.Node("Sub", [b.Node("Add", [b.Node("Mul", [b.Node("Sub", [output, b.Int64s("one", 1, 1)]), stride]), effective]), size]);
        var total = b.Node("Max", [needed, b.Int64s("zero", 0, 0)]);
        var begin = b.Node("Div", [total, b.Int64s("two", 2, 2)]);
        var pads = b.Node("Concat", [begin, b.Node("Sub", [total, begin])], attributes: ("axis", 0L));
        return b.Node("Pad", [input, pads, "", b.Int64s("axes", 2, 3)]);
    }

    private static (string, object)[] WindowAttributes(long[] kernel, long[] strides, long[] dilations, long[]? pads, bool withDilations = true)
    {
        var attrs = new List<(string, object)> { ("kernel_shape", kernel), ("strides", strides) };
        if (withDilations)
            attrs.Add(("dilations", dilations));
        attrs.Add(pads is null ? ("auto_pad", "SAME_UPPER") : ("pads", pads));
        return [.. attrs];
    }

    public static void Conv2D(NodeDef node, TranslationContext c)
    {
        var x = node.DataInput(0);
        var filter = node.DataInput(1);
        var (h, w) = SpatialAxes(node);
        var strides4 = node.GetInts("strides", [1, 1, 1, 1]);
        var dil4 = node.GetInts("dilations", [1, 1, 1, 1]);
        long[] strides = [strides4[h], strides4[w]];
        long[] dilations = [dil4[h], dil4[w]];
        var depthwise = node.Op == "DepthwiseConv2dNative";
        // Integer weights stay integers behind a DequantizeLinear along the output channels (ONNX axis 0), so ONNX
        // Runtime can run the convolution as QLinearConv; along any other axis they are dequantized here.
        var quantized = QuantizationOps.ConstantOf(filter, c);
        if (quantized is { Parameters: { PerAxis: true } p } && p.Axis != (depthwise ? 2 : 3) || quantized is not null && depthwise && quantized.Values.Shape[3] != 1)
            quantized = null;
        var filterValue = quantized?.Values ?? c.Value(filter) ?? QuantizationOps.ConstantOf(filter, c)?.ToFloat()
            ?? throw new NotSupportedException($"node '{node.Name}' ({node.Op}): the filter must be a constant (the graph must be frozen).");
        if (depthwise && ScalesChannels(node, c, filterValue, strides, dilations))
        {
            c.SetChannelScale(node, x, filterValue.ToFloatArray());
            return;
        }
        if (!depthwise && quantized is null && c.ChannelScaleOf(x) is { } scaled)
        {
            x = scaled.Source;
            filterValue = ScaleInputChannels(filterValue, scaled.Scale);
        }
        var fs = filterValue.Shape;
        var input = ChannelsFirst(node, c, x);
        if (!depthwise && quantized is null && (BatchStatisticsFolding.TryFold(node, c, input, filterValue, strides, dilations) ||
                           BatchStatisticsFolding.TryAsMatMul(node, c, input, filterValue, strides, dilations)))
            return;
        // TensorFlow: [kh, kw, in, out] (depthwise: [kh, kw, in, multiplier]); ONNX: [out, in/group, kh, kw].
        var weights = depthwise
            ? OnnxBuilder.Reshape(OnnxBuilder.Permute(filterValue, [2, 3, 0, 1]), [fs[2] * fs[3], 1, fs[0], fs[1]])
            : OnnxBuilder.Permute(filterValue, [3, 2, 0, 1]);
        var pads = Pads(node, c.Shape(x), [fs[0], fs[1]], strides, dilations);
        if (pads is null && dilations.Any(d => d != 1))
        {
            // ONNX Runtime's auto_pad SAME rejects dilations: pad at run time as TensorFlow's SAME does, then convolve VALID.
            input = SamePadAtRunTime(c, input, [fs[0], fs[1]], strides, dilations);
            pads = [0, 0, 0, 0];
        }
        var attrs = WindowAttributes([fs[0], fs[1]], strides, dilations, pads).ToList();
        var groups = depthwise ? fs[2] : 1L;
        long? paddedOutput = null;
        if (depthwise && filterValue.Type == DataType.DtFloat && PadsToBlocks(node, c, fs))
        {
            // ONNX Runtime runs a convolution in its blocked NCHWc layout only when the channels fill whole
            // blocks; otherwise the convolution and the reorders around it run in plain NCHW, several
            // times slower. Zero channels appended here (and zero filters for them) make the block whole;
            // the pointwise convolutions that read the result get zero weights for them.
            var channels = RoundUpToBlock(fs[2]);
            if (c.PhysicalChannels(input, fs[2]) < channels)
                input = c.Builder.Node("Pad", [input, c.Builder.Int64s("pads", 0, 0, 0, 0, 0, channels - fs[2], 0, 0)]);
            weights = ZeroExtend(weights, 0, channels);
            groups = channels;
            paddedOutput = channels;
        }
        else if (!depthwise && c.PhysicalChannels(input, fs[2]) is var physical && physical > fs[2])
        {
            if (quantized is not null)
                throw new NotSupportedException($"node '{node.Name}' ({node.Op}): a quantized filter cannot read zero-padded channels.");
            weights = ZeroExtend(weights, 1, physical);
        }
        attrs.Add(("group", groups));
        List<string> inputs = [input, quantized is null ? c.Builder.Initializer(node.Name + "/W", weights)
            : QuantizationOps.DequantizeWeights(c, node.Name + "/W", weights, quantized.Parameters, 0)];
        var bias = quantized is null ? null : QuantizationOps.FoldableBias(node, c, weights.Shape[0]);
        if (bias is { } b)
            inputs.Add(QuantizationOps.DequantizeWeights(c, b.BiasAdd.Name + "/bias", b.Bias.Values, b.Bias.Parameters, 0));
        var output = c.Builder.Node("Conv", inputs, name: node.Name, attributes: [.. attrs]);
        if (paddedOutput is { } padded)
            c.SetPhysicalChannels(output, padded);
        c.Set(node, 0, output, OutputLayout(node));
        if (bias is { } folded)
            c.Set(folded.BiasAdd, 0, output, OutputLayout(node));
    }

    /// <summary>
    /// A 1×1 depthwise convolution (multiplier 1, stride 1) read only by ordinary convolutions: a per-channel scale
    /// that their filters absorb, saving a pass over the tensor (the OpenPose stages have 24 of them).
    /// </summary>
    private static bool ScalesChannels(NodeDef node, TranslationContext c, TensorValue filter, long[] strides, long[] dilations)
    {
        var fs = filter.Shape;
        return fs[0] == 1 && fs[1] == 1 && fs[3] == 1 && filter.Type == DataType.DtFloat &&
               strides.All(s => s == 1) && dilations.All(d => d == 1) && node.GetString("padding", "VALID") != "EXPLICIT" &&
               IsNhwc(node) && !c.IsFetched(node.Name) && OnlyConvolutionsRead(node, c);
    }

    /// <summary>Whether every reader of the node is an ordinary NHWC convolution taking it as its input, with a constant float filter.</summary>
    private static bool OnlyConvolutionsRead(NodeDef node, TranslationContext c)
    {
        var consumers = c.Consumers(node.Name);
        return consumers.Count > 0 && consumers.All(u =>
            u.Node.Op == "Conv2D" && u.Input == 0 && u.Output == 0 && IsNhwc(u.Node) && c.Value(u.Node.DataInput(1)) is { Type: DataType.DtFloat });
    }

    /// <summary>A TensorFlow filter [kh, kw, in, out] with input channel i multiplied by scale[i].</summary>
    private static TensorValue ScaleInputChannels(TensorValue filter, float[] scale)
    {
        var fs = filter.Shape;
        var values = filter.ToFloatArray();
        long inputs = fs[2], outputs = fs[3];
        for (long i = 0; i < values.LongLength; i++)
            values[i] *= scale[i / outputs % inputs];
        return TensorValue.FromArray<float>(DataType.DtFloat, fs, values);
    }

    /// <summary>Channels of one NCHWc block on the widest x86 kernels (AVX-512; AVX2 blocks of 8 divide it).</summary>
    private const long NchwcBlock = 16;

    private static long RoundUpToBlock(long channels) => (channels + NchwcBlock - 1) / NchwcBlock * NchwcBlock;

    /// <summary>
    /// A depthwise convolution (multiplier 1) whose channels do not fill NCHWc blocks, read only by
    /// ordinary NHWC convolutions with constant filters and not fetched: its output can carry zero
    /// channels that nothing but those convolutions ever sees.
    /// </summary>
    private static bool PadsToBlocks(NodeDef node, TranslationContext c, long[] filterShape)
    {
        if (filterShape[3] != 1 || filterShape[2] < 8 || filterShape[2] % NchwcBlock == 0 || !IsNhwc(node) || c.IsFetched(node.Name))
            return false;
        return OnlyConvolutionsRead(node, c);
    }

    /// <summary>The float tensor grown along <paramref name="axis"/> to <paramref name="size"/> with zeros.</summary>
    private static TensorValue ZeroExtend(TensorValue value, int axis, long size)
    {
        var shape = value.Shape;
        long outer = 1, inner = 1;
        for (var i = 0; i < axis; i++) outer *= shape[i];
        for (var i = axis + 1; i < shape.Length; i++) inner *= shape[i];
        var source = value.Span<float>();
        var grown = new float[outer * size * inner];
        var chunk = (int)(shape[axis] * inner);
        for (long o = 0; o < outer; o++)
            source.Slice((int)(o * chunk), chunk).CopyTo(grown.AsSpan((int)(o * size * inner), chunk));
        var newShape = (long[])shape.Clone();
        newShape[axis] = size;
        return TensorValue.FromArray<float>(DataType.DtFloat, newShape, grown);
    }

    public static void Conv2DBackpropInput(NodeDef node, TranslationContext c)
    {
        var filter = node.DataInput(1);
        var dy = node.DataInput(2);
        var (h, w) = SpatialAxes(node);
        var strides4 = node.GetInts("strides", [1, 1, 1, 1]);
        var dil4 = node.GetInts("dilations", [1, 1, 1, 1]);
        long[] strides = [strides4[h], strides4[w]];
        long[] dilations = [dil4[h], dil4[w]];
        var filterValue = c.Value(filter) ?? throw new NotSupportedException($"node '{node.Name}' (Conv2DBackpropInput): the filter must be a constant.");
        var fs = filterValue.Shape;
        var outShape = c.Shape(new TensorName(node.Name, 0));
        var inShape = c.Shape(dy);
        if (outShape is null || inShape is null || outShape[h] < 0 || outShape[w] < 0 || inShape[h] < 0 || inShape[w] < 0)
            throw new NotSupportedException($"node '{node.Name}' (Conv2DBackpropInput): output and input spatial sizes must be static; fold shapes first with `tfpose graph fold`.");
        long[] outSize = [outShape[h], outShape[w]];
        long[] inSize = [inShape[h], inShape[w]];
        var padding = node.GetString("padding", "VALID");
        var pads = new long[4];
        var outputPadding = new long[2];
        for (var i = 0; i < 2; i++)
        {
            var effective = (fs[i] - 1) * dilations[i] + 1;
            long total = 0;
            if (padding == "SAME")
                total = Math.Max((inSize[i] - 1) * strides[i] + effective - outSize[i], 0);
            pads[i] = total / 2;
            pads[i + 2] = total - total / 2;
            outputPadding[i] = outSize[i] - ((inSize[i] - 1) * strides[i] + effective - total);
        }
        // TensorFlow's filter is [kh, kw, out_channels, in_channels]; ONNX ConvTranspose wants [in, out, kh, kw].
        var weights = OnnxBuilder.Permute(filterValue, [3, 2, 0, 1]);
        var output = c.Builder.Node("ConvTranspose", [ChannelsFirst(node, c, dy), c.Builder.Initializer(node.Name + "/W", weights)], name: node.Name,
            attributes: [("kernel_shape", new[] { fs[0], fs[1] }), ("strides", strides), ("dilations", dilations), ("pads", pads), ("output_padding", outputPadding)]);
        c.Set(node, 0, output, OutputLayout(node));
    }

    public static void Pool(NodeDef node, TranslationContext c)
    {
        var x = node.DataInput(0);
        var (h, w) = SpatialAxes(node);
        var k4 = node.GetInts("ksize");
        var s4 = node.GetInts("strides");
        long[] kernel = [k4[h], k4[w]];
        long[] strides = [s4[h], s4[w]];
        var pads = Pads(node, c.Shape(x), kernel, strides, [1, 1]);
        var attrs = WindowAttributes(kernel, strides, [1, 1], pads, withDilations: false).ToList();
        if (node.Op == "AvgPool")
            attrs.Add(("count_include_pad", 0L)); // TensorFlow averages over the valid window only
        var op = node.Op == "MaxPool" ? "MaxPool" : "AveragePool";
        c.Set(node, 0, c.Builder.Node(op, [ChannelsFirst(node, c, x)], name: node.Name, attributes: [.. attrs]), OutputLayout(node));
    }

    public static void FusedBatchNorm(NodeDef node, TranslationContext c)
    {
        if (c.IsKnown(new TensorName(node.Name, 0)))
            return; // folded into the convolution before it (BatchStatisticsFolding)
        var x = node.DataInput(0);
        var epsilon = node.GetFloat("epsilon", 0.0001f);
        var scale = c.Value(node.DataInput(1));
        var offset = c.Value(node.DataInput(2));
        if (scale is null || offset is null)
            throw new NotSupportedException($"node '{node.Name}' ({node.Op}): scale and offset must be constants (the graph must be frozen).");
        var scaleName = c.Builder.Initializer(node.Name + "/scale", scale);
        var offsetName = c.Builder.Initializer(node.Name + "/offset", offset);
        var input = ChannelsFirst(node, c, x);
        string output;
        if (node.GetBool("is_training", true))
        {
            // Batch statistics: per channel over N, H and W, with the biased variance. For one image
            // that is exactly InstanceNormalization; for a batch, the batch is folded into the spatial axes.
            var shape = c.Shape(x);
            if (shape is { Length: 4 } && shape[0] == 1)
            {
                output = c.Builder.Node("InstanceNormalization", [input, scaleName, offsetName], name: node.Name, attributes: ("epsilon", epsilon));
            }
            else
            {
                var cnhw = c.Builder.Node("Transpose", [input], attributes: ("perm", new long[] { 1, 0, 2, 3 }));
                var shape4 = c.Builder.Node("Shape", [cnhw]);
                var flat = c.Builder.Node("Reshape", [cnhw, c.Builder.Int64s("shape", 1, scale.Count, -1)]);
                var normed = c.Builder.Node("InstanceNormalization", [flat, scaleName, offsetName], attributes: ("epsilon", epsilon));
                var back = c.Builder.Node("Reshape", [normed, shape4]);
                output = c.Builder.Node("Transpose", [back], name: node.Name, attributes: ("perm", new long[] { 1, 0, 2, 3 }));
            }
        }
        else
        {
            var mean = c.Value(node.DataInput(3));
            var variance = c.Value(node.DataInput(4));
            if (mean is null || variance is null)
                throw new NotSupportedException($"node '{node.Name}' ({node.Op}): mean and variance must be constants in inference mode.");
            output = c.Builder.Node("BatchNormalization",
                [input, scaleName, offsetName, c.Builder.Initializer(node.Name + "/mean", mean), c.Builder.Initializer(node.Name + "/variance", variance)],
                name: node.Name, attributes: ("epsilon", epsilon));
        }
        c.Set(node, 0, output, OutputLayout(node));
    }

    /// <summary>
    /// ResizeBilinear / ResizeNearestNeighbor / ResizeBicubic with TensorFlow's coordinate conventions mapped to
    /// ONNX Resize modes: legacy (asymmetric), align_corners, and half_pixel_centers. The size may be computed
    /// at run time (typically from the Shape of another tensor).
    /// </summary>
    public static void Resize(NodeDef node, TranslationContext c)
    {
        var x = node.DataInput(0);
        var alignCorners = node.GetBool("align_corners", false);
        var halfPixel = node.GetBool("half_pixel_centers", false);
        var nearest = node.Op == "ResizeNearestNeighbor";
        var bicubic = node.Op == "ResizeBicubic";
        string transform;
        string nearestMode;
        if (alignCorners)
        {
            transform = "align_corners";
            nearestMode = "round_prefer_ceil";
        }
        else if (halfPixel)
        {
            transform = nearest ? "tf_half_pixel_for_nn" : "half_pixel";
            nearestMode = "floor";
        }
        else
        {
            transform = "asymmetric";
            nearestMode = "floor";
        }
        var input = c.Get(x, Layout.Nchw);
        if (!nearest && c.Type(x) != DataType.DtFloat)
            input = c.Builder.Node("Cast", [input], attributes: ("to", (long)TfPose.Graph.Onnx.TensorProto.Types.DataType.Float));
        // Full NCHW sizes: batch and channels from the input at run time, height and width from TensorFlow.
        var batchAndChannels = c.Builder.Node("Slice", [c.Builder.Node("Shape", [input]), c.Builder.Int64s("start", 0), c.Builder.Int64s("end", 2)]);
        var sizes = c.Builder.Node("Concat", [batchAndChannels, c.GetInt64(node.DataInput(1))], attributes: ("axis", 0L));
        var attrs = new List<(string, object)>
        {
            ("mode", nearest ? "nearest" : bicubic ? "cubic" : "linear"), ("coordinate_transformation_mode", transform), ("nearest_mode", nearestMode),
        };
        if (bicubic)
        {
            // TensorFlow's legacy bicubic is Keys' kernel with a = -0.75 reading clamped (edge) pixels; with
            // half_pixel_centers it is a = -0.5 with taps outside the image dropped and the weights renormalised,
            // which is ONNX's exclude_outside. (TensorFlow looks its weights up in a 1024-entry table; ONNX
            // computes them exactly, so results can differ by about 1e-3 of the local pixel differences.)
            attrs.Add(("cubic_coeff_a", halfPixel ? -0.5f : -0.75f));
            attrs.Add(("exclude_outside", halfPixel ? 1L : 0L));
        }
        string output;
        if (bicubic)
        {
            // ONNX Runtime's optimizer may move the layout transposes around a Resize through it, and its cubic Resize
            // rejects channels-last downscaling; images and channels flattened into one axis keep it channels-first.
            var flat = c.Builder.Node("Reshape", [input, c.Builder.Int64s("planes", -1, 1, 0, 0)]);
            var planes = c.Builder.Node("Slice", [c.Builder.Node("Shape", [flat]), c.Builder.Int64s("start", 0), c.Builder.Int64s("end", 2)]);
            var planeSizes = c.Builder.Node("Concat", [planes, c.GetInt64(node.DataInput(1))], attributes: ("axis", 0L));
            var resized = c.Builder.Node("Resize", [flat, "", "", planeSizes], attributes: [.. attrs]);
            output = c.Builder.Node("Reshape", [resized, sizes], name: node.Name);
        }
        else
        {
            output = c.Builder.Node("Resize", [input, "", "", sizes], name: node.Name, attributes: [.. attrs]);
        }
        c.Set(node, 0, output, Layout.Nchw);
    }
}
