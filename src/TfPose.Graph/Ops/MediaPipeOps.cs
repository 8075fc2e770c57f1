using TfPose.Graph.Proto;
using TfPose.Graph.Translation;
using OnnxType = TfPose.Graph.Onnx.TensorProto.Types.DataType;

namespace TfPose.Graph.Ops;

/// <summary>
/// MediaPipe's TensorFlow Lite custom operators that have no TensorFlow op (mediapipe/util/tflite/operations), as the
/// TFLite importer writes them: NHWC float tensors, their C-struct or flexbuffer options turned into attributes. Each
/// computes exactly what MediaPipe's CPU kernel computes, tie-breaking and edge handling included.
/// </summary>
internal static class MediaPipeOps
{
    public static IEnumerable<OpUnit> Units =>
    [
        new("MaxPoolingWithArgmax2D", ArgmaxPoolShape, MaxPoolingWithArgmax, FlopRules.PerOutputElement()),
        new("MaxUnpooling2D", UnpoolShape, MaxUnpooling, FlopRules.PerOutputElement()),
        new("TransformTensorBilinear", TransformTensorShape, TransformTensorBilinear, FlopRules.PerOutputElement(8)),
        new("TransformLandmarks", s => s.SameAsInput(), TransformLandmarks, FlopRules.PerOutputElement(2)),
    ];

    private static (long Kh, long Kw, long Sh, long Sw) Window(NodeDef node)
    {
        var k = node.GetInts("ksize");
        var s = node.GetInts("strides");
        return (k[1], k[2], s[1], s[2]);
    }

    /// <summary>MediaPipe's output size: TensorFlow's windowed size for SAME and VALID.</summary>
    private static long PoolOut(long size, long filter, long stride, string padding) =>
        size < 0 ? -1 : padding == "SAME" ? (size + stride - 1) / stride : (size - filter + stride) / stride;

    /// <summary>TensorFlow Lite's ComputePadding (dilation 1): the padding before, half the total rounded down, never negative.</summary>
    private static long PadBefore(long stride, long inSize, long filter, long outSize) => Math.Max(0, ((outSize - 1) * stride + filter - inSize) / 2);

    private static void ArgmaxPoolShape(ShapeContext s)
    {
        var x = s.Shape(0);
        long[]? shape = null;
        if (x is { Length: 4 })
        {
            var (kh, kw, sh, sw) = Window(s.Node);
            var padding = s.Node.GetString("padding", "VALID");
            shape = [x[0], PoolOut(x[1], kh, sh, padding), PoolOut(x[2], kw, sw, padding), x[3]];
        }
        s.Set(0, shape, DataType.DtFloat);
        s.Set(1, shape, DataType.DtFloat);
    }

    private static long[] StaticShape(NodeDef node, TranslationContext c, TensorName t, string what)
    {
        var shape = c.Shape(t);
        if (shape is not { Length: 4 } || shape.Any(d => d < 0))
            throw new NotSupportedException($"node '{node.Name}' ({node.Op}): {what} must have a static 4-D shape, not {(shape is null ? "unknown" : "[" + string.Join(",", shape) + "]")}.");
        return shape;
    }

    /// <summary>
    /// Max pooling whose second output is, per output cell, the position of the maximum inside its window,
    /// row · filter_width + column, as a float plus 0.1 (so that truncating it gives the integer back); the window is
    /// cut at the edges and the first maximum in row-major order wins. ONNX MaxPool's flat input index gives the row
    /// and column; subtracting the window's origin makes them window-local.
    /// </summary>
    private static void MaxPoolingWithArgmax(NodeDef node, TranslationContext c)
    {
        var x = node.DataInput(0);
        var shape = StaticShape(node, c, x, "the input");
        var (kh, kw, sh, sw) = Window(node);
        var padding = node.GetString("padding", "VALID");
        long h = shape[1], w = shape[2];
        long oh = PoolOut(h, kh, sh, padding), ow = PoolOut(w, kw, sw, padding);
        long pt = PadBefore(sh, h, kh, oh), pl = PadBefore(sw, w, kw, ow);
        long pb = Math.Max(0, (oh - 1) * sh + kh - h - pt), pr = Math.Max(0, (ow - 1) * sw + kw - w - pl);
        var b = c.Builder;
        var outs = b.NodeMulti("MaxPool", [c.Get(x, Layout.Nchw)], 2, node.Name,
            ("kernel_shape", new[] { kh, kw }), ("strides", new[] { sh, sw }), ("pads", new[] { pt, pl, pb, pr }));
        var flat = outs[1];
        var row = b.Node("Mod", [b.Node("Div", [flat, b.Int64Scalar("w", w)]), b.Int64Scalar("h", h)]);
        var col = b.Node("Mod", [flat, b.Int64Scalar("w", w)]);
        var origin = new long[oh * ow];
        for (var y = 0; y < oh; y++)
        {
            for (var xx = 0; xx < ow; xx++)
                origin[y * ow + xx] = (y * sh - pt) * kw + (xx * sw - pl);
        }
        var local = b.Node("Sub", [b.Node("Add", [b.Node("Mul", [row, b.Int64Scalar("kw", kw)]), col]),
            b.Initializer(node.Name + "/origin", TensorValue.FromArray<long>(DataType.DtInt64, [1, 1, oh, ow], origin))]);
        var asFloat = b.Node("Cast", [local], attributes: ("to", (long)OnnxType.Float));
        var indices = b.Node("Add", [asFloat, b.Floats("tenth", [], [0.1f])]);
        c.Set(node, 0, outs[0], Layout.Nchw);
        c.Set(node, 1, indices, Layout.Nchw);
    }

    private static void UnpoolShape(ShapeContext s)
    {
        var x = s.Shape(0);
        var (kh, kw, _, _) = Window(s.Node);
        s.Set(0, x is { Length: 4 } ? [x[0], x[1] < 0 ? -1 : x[1] * kh, x[2] < 0 ? -1 : x[2] * kw, x[3]] : null, DataType.DtFloat);
    }

    /// <summary>
    /// The inverse of <see cref="MaxPoolingWithArgmax"/>: an output filter_size times the input's size, zero except
    /// where each input value goes back to the window position its (truncated) index names. Built as ONNX MaxUnpool
    /// with flat output indices made from the window-local ones.
    /// </summary>
    private static void MaxUnpooling(NodeDef node, TranslationContext c)
    {
        var x = node.DataInput(0);
        var shape = StaticShape(node, c, x, "the input");
        var (kh, kw, sh, sw) = Window(node);
        long n = shape[0], h = shape[1], w = shape[2], ch = shape[3];
        long oh = h * kh, ow = w * kw;
        long pt = PadBefore(sh, oh, kh, h), pl = PadBefore(sw, ow, kw, w);
        var b = c.Builder;
        var index = b.Node("Cast", [c.Get(node.DataInput(1), Layout.Nchw)], attributes: ("to", (long)OnnxType.Int64));
        var windowRow = b.Node("Div", [index, b.Int64Scalar("kw", kw)]);
        var windowCol = b.Node("Mod", [index, b.Int64Scalar("kw", kw)]);
        // Flat NCHW output index: plane (n·C + c) · OH·OW, plus the window origin's row and column, plus the offsets.
        var planes = Enumerable.Range(0, (int)(n * ch)).Select(p => p * oh * ow).ToArray();
        var origins = new long[h * w];
        for (var y = 0; y < h; y++)
        {
            for (var xx = 0; xx < w; xx++)
                origins[y * w + xx] = (y * sh - pt) * ow + xx * sw - pl;
        }
        var planeStart = b.Initializer(node.Name + "/planes", TensorValue.FromArray<long>(DataType.DtInt64, [n, ch, 1, 1], planes));
        var origin = b.Initializer(node.Name + "/origins", TensorValue.FromArray<long>(DataType.DtInt64, [1, 1, h, w], origins));
        var offset = b.Node("Add", [b.Node("Mul", [windowRow, b.Int64Scalar("ow", ow)]), windowCol]);
        var flat = b.Node("Add", [b.Node("Add", [planeStart, origin]), offset]);
        var output = b.Node("MaxUnpool", [c.Get(x, Layout.Nchw), flat, b.Int64s("shape", n, ch, oh, ow)], name: node.Name,
            attributes: [("kernel_shape", new[] { kh, kw }), ("strides", new[] { sh, sw })]);
        c.Set(node, 0, output, Layout.Nchw);
    }

    private static void TransformTensorShape(ShapeContext s)
    {
        var x = s.Shape(0);
        var size = s.Node.GetInts("output_size");
        s.Set(0, [x is { Length: 4 } ? x[0] : -1, size[0], size[1], x is { Length: 4 } ? x[3] : -1], DataType.DtFloat);
    }

    /// <summary>
    /// Samples the input bilinearly at (x, y) = the first two rows of a 4×4 matrix times (column, row, 0, 1) for each
    /// output cell (with <c>half_pixel</c>, version 2, at pixel centres: M·(c + ½, r + ½, 0, 1) − ½). A point outside
    /// [0, W−1] × [0, H−1] gives 0 for every channel. ONNX GridSample (align_corners) samples; a mask zeroes the
    /// points outside, where GridSample would blend in its zero padding instead.
    /// </summary>
    private static void TransformTensorBilinear(NodeDef node, TranslationContext c)
    {
        var x = node.DataInput(0);
        var shape = StaticShape(node, c, x, "the input");
        var size = node.GetInts("output_size");
        long h = shape[1], w = shape[2], oh = size[0], ow = size[1];
        if (h < 2 || w < 2)
            throw new NotSupportedException($"node '{node.Name}' ({node.Op}): the input must be at least 2×2, not {h}×{w}.");
        var half = node.GetBool("half_pixel", false) ? 0.5f : 0f;
        var b = c.Builder;
        var coords = new float[oh * ow * 4];
        for (var r = 0; r < oh; r++)
        {
            for (var col = 0; col < ow; col++)
            {
                var i = (r * ow + col) * 4;
                (coords[i], coords[i + 1], coords[i + 2], coords[i + 3]) = (col + half, r + half, 0, 1);
            }
        }
        var rows = TwoRows(node, c);
        var points = b.Node("MatMul", [b.Floats(node.Name + "/coords", [oh * ow, 4], coords), b.Node("Transpose", [rows], attributes: ("perm", new long[] { 1, 0 }))]);
        if (half != 0)
            points = b.Node("Sub", [points, b.Floats("half", [], [half])]);
        var px = b.Node("Slice", [points, b.Int64s("start", 0), b.Int64s("end", 1), b.Int64s("axes", 1)]);
        var py = b.Node("Slice", [points, b.Int64s("start", 1), b.Int64s("end", 2), b.Int64s("axes", 1)]);
        string Inside(string v, long max) => b.Node("And", [
            b.Node("GreaterOrEqual", [v, b.Floats("zero", [], [0f])]),
            b.Node("LessOrEqual", [v, b.Floats("max", [], [max - 1])])]);
        var inside = b.Node("Cast", [b.Node("And", [Inside(px, w), Inside(py, h)])], attributes: ("to", (long)OnnxType.Float));
        var grid = b.Node("Sub", [b.Node("Mul", [points, b.Floats("scale", [2], [2f / (w - 1), 2f / (h - 1)])]), b.Floats("one", [], [1f])]);
        var sampled = b.Node("GridSample", [c.Get(x, Layout.Nchw), b.Node("Reshape", [grid, b.Int64s("shape", 1, oh, ow, 2)])],
            attributes: [("mode", "bilinear"), ("padding_mode", "zeros"), ("align_corners", 1L)]);
        var output = b.Node("Mul", [sampled, b.Node("Reshape", [inside, b.Int64s("shape", 1, 1, oh, ow)])], name: node.Name);
        c.Set(node, 0, output, Layout.Nchw);
    }

    /// <summary>The first two rows of the transform matrix (its first 8 values, row-major), as a [2, 4] tensor.</summary>
    private static string TwoRows(NodeDef node, TranslationContext c)
    {
        var b = c.Builder;
        var flat = b.Node("Reshape", [c.Get(node.DataInput(1)), b.Int64s("shape", -1)]);
        var first8 = b.Node("Slice", [flat, b.Int64s("start", 0), b.Int64s("end", 8), b.Int64s("axes", 0)]);
        return b.Node("Reshape", [first8, b.Int64s("shape", 2, 4)]);
    }

    /// <summary>
    /// Landmarks (x, y[, z]) in the last axis, <c>dimensions</c> values each, moved by the matrix's first two rows:
    /// x' = m00·x + m01·y + m03·scale, y' = m10·x + m11·y + m13·scale; z is kept.
    /// </summary>
    private static void TransformLandmarks(NodeDef node, TranslationContext c)
    {
        var d = node.GetInt("dimensions");
        if (d is not (2 or 3))
            throw new NotSupportedException($"node '{node.Name}' ({node.Op}): landmarks have 2 or 3 dimensions, not {d}.");
        var scale = node.GetFloat("scale", 1f);
        var b = c.Builder;
        var input = c.Get(node.DataInput(0));
        var points = b.Node("Reshape", [input, b.Int64s("shape", -1, d)]);
        var xy = b.Node("Slice", [points, b.Int64s("start", 0), b.Int64s("end", 2), b.Int64s("axes", 1)]);
        var rows = TwoRows(node, c);
        var linear = b.Node("Slice", [rows, b.Int64s("start", 0), b.Int64s("end", 2), b.Int64s("axes", 1)]);
        var shift = b.Node("Reshape", [b.Node("Slice", [rows, b.Int64s("start", 3), b.Int64s("end", 4), b.Int64s("axes", 1)]), b.Int64s("shape", 2)]);
        if (scale != 1f)
            shift = b.Node("Mul", [shift, b.Floats("scale", [], [scale])]);
        var moved = b.Node("Add", [b.Node("MatMul", [xy, b.Node("Transpose", [linear], attributes: ("perm", new long[] { 1, 0 }))]), shift]);
        if (d == 3)
            moved = b.Node("Concat", [moved, b.Node("Slice", [points, b.Int64s("start", 2), b.Int64s("end", 3), b.Int64s("axes", 1)])], attributes: ("axis", 1L));
        c.Set(node, 0, b.Node("Reshape", [moved, b.Node("Shape", [input])], name: node.Name));
    }
}
