using TfPose.Graph.Proto;
using TfPose.Graph.Translation;

namespace TfPose.Graph.Ops;

/// <summary>Ops that move data between axes; most run in TensorFlow's layout, a few follow a channels-first input.</summary>
internal static class ShapeOps
{
    public static IEnumerable<OpUnit> Units =>
    [
        new("ConcatV2", ConcatShape, Concat),
        new("Pad", PadShape, Pad),
        new("PadV2", PadShape, Pad),
        new("Reshape", ReshapeShape, Reshape),
        new("Squeeze", SqueezeShape, Squeeze),
        new("ExpandDims", ExpandDimsShape, ExpandDims),
        new("Transpose", TransposeShape, Transpose),
        new("Shape", ShapeShape, ShapeOp),
        new("Size", SizeShape, SizeOp),
        new("Rank", s => s.Set(0, [], DataType.DtInt32, s.Rank(0) is { } r ? ShapeMath.IntValue([r], [], DataType.DtInt32) : null), RankOp),
        new("StridedSlice", StridedSliceShape, StridedSlice),
        new("Pack", PackShape, Pack),
        new("Unpack", UnpackShape, Unpack),
        new("Split", SplitShape, Split),
        new("Fill", FillShape, Fill),
        new("RandomUniform", s => s.Set(0, s.Ints(0), s.Node.GetDataType("dtype", DataType.DtFloat)), RandomUniform),
    ];

    private static long Axis(long axis, int rank) => axis < 0 ? axis + rank : axis;

    /// <summary>The value of a reshaped tensor: same bytes, new shape, when the value and the shape are known.</summary>
    private static TensorValue? Reshaped(TensorValue? value, long[]? shape) =>
        value is not null && ShapeMath.IsKnown(shape) && TensorValue.ElementCount(shape!) == value.Count ? new TensorValue(value.Type, shape!, value.Bytes.ToArray()) : null;

    private static void ConcatShape(ShapeContext s)
    {
        var parts = Enumerable.Range(0, s.InputCount - 1).ToArray();
        var axisValue = s.Ints(s.InputCount - 1);
        var shapes = parts.Select(s.Shape).ToList();
        var type = s.Type(0);
        long[]? outShape = null;
        if (axisValue is not null && shapes.Count > 0 && shapes.All(x => x is not null))
        {
            var rank = shapes[0]!.Length;
            var axis = ShapeMath.NormalizeAxis(axisValue[0], rank);
            outShape = (long[])shapes[0]!.Clone();
            outShape[axis] = shapes.Any(x => x![axis] < 0) ? -1 : shapes.Sum(x => x![axis]);
            for (var d = 0; d < rank; d++)
            {
                if (d != axis && outShape[d] < 0)
                    outShape[d] = shapes.Select(x => x![d]).FirstOrDefault(v => v >= 0, -1);
            }
        }
        TensorValue? value = null;
        if (axisValue is not null && parts.All(p => s.Value(p) is { Rank: 1 } pv && ShapeMath.IsInteger(pv)))
            value = ShapeMath.IntValue(parts.SelectMany(p => s.Value(p)!.ToInt64Array()).ToArray(), null, type);
        s.Set(0, outShape, type, value);
    }

    private static void PadShape(ShapeContext s)
    {
        var x = s.Shape(0);
        var pads = s.Ints(1);
        s.Set(0, x is not null && pads is not null
            ? x.Select((d, i) => d < 0 ? -1 : d + pads[2 * i] + pads[2 * i + 1]).ToArray()
            : x?.Select(_ => -1L).ToArray() ?? (s.Shape(1) is [var rank, 2] && rank >= 0 ? Enumerable.Repeat(-1L, (int)rank).ToArray() : null), s.Type(0));
    }

    private static void ReshapeShape(ShapeContext s)
    {
        var x = s.Shape(0);
        var target = s.Ints(1);
        long[]? outShape = null;
        if (target is not null)
        {
            outShape = (long[])target.Clone();
            var unknown = Array.IndexOf(outShape, -1);
            if (unknown >= 0 && ShapeMath.IsKnown(x))
            {
                var known = outShape.Where(d => d >= 0).Aggregate(1L, (a, b) => a * b);
                outShape[unknown] = known == 0 ? 0 : TensorValue.ElementCount(x!) / known;
            }
        }
        else if (s.Shape(1) is [var n] && n >= 0)
        {
            outShape = Enumerable.Repeat(-1L, (int)n).ToArray();
        }
        s.Set(0, outShape, s.Type(0), Reshaped(s.Value(0), outShape));
    }

    private static void SqueezeShape(ShapeContext s)
    {
        var x = s.Shape(0);
        var dims = s.Node.GetInts("squeeze_dims", []);
        long[]? outShape = null;
        if (x is not null)
        {
            var set = dims.Select(a => ShapeMath.NormalizeAxis(a, x.Length)).ToHashSet();
            // Without squeeze_dims every size-1 axis goes; an unknown size might be 1, so the rank is then unknown.
            if (set.Count > 0 || x.All(d => d >= 0))
                outShape = x.Where((d, i) => set.Count > 0 ? !set.Contains(i) : d != 1).ToArray();
        }
        s.Set(0, outShape, s.Type(0), Reshaped(s.Value(0), outShape));
    }

    private static void ExpandDimsShape(ShapeContext s)
    {
        var x = s.Shape(0);
        var axisV = s.Ints(1);
        long[]? outShape = null;
        if (x is not null && axisV is { Length: > 0 })
        {
            var axis = (int)axisV[0];
            if (axis < 0)
                axis += x.Length + 1;
            var list = x.ToList();
            list.Insert(axis, 1);
            outShape = [.. list];
        }
        s.Set(0, outShape, s.Type(0), Reshaped(s.Value(0), outShape));
    }

    private static void TransposeShape(ShapeContext s)
    {
        var x = s.Shape(0);
        var perm = s.Ints(1);
        s.Set(0, x is not null && perm is not null ? perm.Select(p => x[p]).ToArray() : x?.Select(_ => -1L).ToArray(), s.Type(0));
    }

    private static void ShapeShape(ShapeContext s)
    {
        var shape = s.Shape(0);
        var outType = s.Node.GetDataType("out_type", DataType.DtInt32);
        s.Set(0, shape is null ? [-1] : [shape.Length], outType, ShapeMath.IsKnown(shape) ? ShapeMath.IntValue(shape!, [shape!.Length], outType) : null);
    }

    private static void SizeShape(ShapeContext s)
    {
        var shape = s.Shape(0);
        var outType = s.Node.GetDataType("out_type", DataType.DtInt32);
        s.Set(0, [], outType, ShapeMath.IsKnown(shape) ? ShapeMath.IntValue([TensorValue.ElementCount(shape!)], [], outType) : null);
    }

    private static void StridedSliceShape(ShapeContext s)
    {
        var node = s.Node;
        var x = s.Shape(0);
        var begin = s.Ints(1);
        var end = s.Ints(2);
        var strides = s.Ints(3);
        if (x is null || begin is null || end is null || strides is null)
        {
            s.Unknown();
            return;
        }
        var spec = StridedSliceSpec.Resolve(x, begin, end, strides,
            node.GetInt("begin_mask", 0), node.GetInt("end_mask", 0), node.GetInt("ellipsis_mask", 0),
            node.GetInt("new_axis_mask", 0), node.GetInt("shrink_axis_mask", 0));
        TensorValue? value = null;
        var xv = s.Value(0);
        if (xv is { Rank: 1 } && ShapeMath.IsInteger(xv) && spec.Dims.Count == 1 && spec.Dims[0].Input == 0)
        {
            var src = xv.ToInt64Array();
            var d = spec.Dims[0];
            var picked = new List<long>();
            for (long i = d.Begin; d.Stride > 0 ? i < d.End : i > d.End; i += d.Stride)
                picked.Add(src[i]);
            value = ShapeMath.IntValue([.. picked], spec.OutputShape, xv.Type);
        }
        s.Set(0, spec.OutputShape, s.Type(0), value);
    }

    private static void PackShape(ShapeContext s)
    {
        var axis = (int)s.Node.GetInt("axis", 0);
        var first = Enumerable.Range(0, s.InputCount).Select(s.Shape).FirstOrDefault(x => x is not null);
        long[]? outShape = null;
        if (first is not null)
        {
            var list = first.ToList();
            if (axis < 0)
                axis += first.Length + 1;
            list.Insert(axis, s.InputCount);
            outShape = [.. list];
        }
        TensorValue? value = null;
        if (first is { Length: 0 } && Enumerable.Range(0, s.InputCount).All(i => s.Value(i) is { } v && ShapeMath.IsInteger(v)))
            value = ShapeMath.IntValue(Enumerable.Range(0, s.InputCount).Select(i => s.Value(i)!.ToInt64Array()[0]).ToArray(), null, s.Type(0));
        s.Set(0, outShape, s.Type(0), value);
    }

    private static void UnpackShape(ShapeContext s)
    {
        var x = s.Shape(0);
        var num = (int)s.Node.GetInt("num");
        var axis = (int)s.Node.GetInt("axis", 0);
        long[]? outShape = x?.Where((_, i) => i != ShapeMath.NormalizeAxis(axis, x.Length)).ToArray();
        var xv = s.Value(0);
        for (var i = 0; i < num; i++)
        {
            // Unpacking a known shape vector (a common way to read its dimensions) keeps the scalars known.
            TensorValue? value = xv is { Rank: 1 } && ShapeMath.IsInteger(xv) && xv.Count == num ? ShapeMath.IntValue([xv.ToInt64Array()[i]], [], xv.Type) : null;
            s.Set(i, outShape, s.Type(0), value);
        }
    }

    private static void SplitShape(ShapeContext s)
    {
        var x = s.Shape(1);
        var num = (int)s.Node.GetInt("num_split");
        var dimV = s.Ints(0);
        long[]? outShape = null;
        if (x is not null && dimV is not null)
        {
            var axis = ShapeMath.NormalizeAxis(dimV[0], x.Length);
            outShape = (long[])x.Clone();
            outShape[axis] = x[axis] < 0 ? -1 : x[axis] / num;
        }
        for (var i = 0; i < num; i++)
            s.Set(i, outShape, s.Type(1));
    }

    /// <summary>Fill's dims: known values, else a rank from the dims vector's length when that is known.</summary>
    private static void FillShape(ShapeContext s)
    {
        var dims = s.Ints(0);
        var shape = dims ?? (s.Shape(0) is [var rank] && rank >= 0 ? Enumerable.Repeat(-1L, (int)rank).ToArray() : null);
        s.Set(0, shape, s.Type(1));
    }

    public static void Concat(NodeDef node, TranslationContext c)
    {
        var inputs = node.DataInputs().ToArray();
        var parts = inputs[..^1];
        var rank = c.Rank(parts[0]) ?? throw new NotSupportedException($"node '{node.Name}' (ConcatV2): input rank unknown.");
        var axis = Axis(c.RequireInts(node, inputs.Length - 1, "the axis")[0], rank);
        var channelsFirst = rank == 4 && parts.Any(p => c.LayoutOf(p) == Layout.Nchw);
        var layout = channelsFirst ? Layout.Nchw : Layout.Tf;
        var onnxAxis = channelsFirst ? TranslationContext.NhwcAxisInNchw[axis] : axis;
        var names = parts.Select(p => c.Get(p, layout)).ToArray();
        c.Set(node, 0, c.Builder.Node("Concat", names, name: node.Name, attributes: ("axis", onnxAxis)), layout);
    }

    public static void Pad(NodeDef node, TranslationContext c)
    {
        var x = node.DataInput(0);
        var paddings = c.RequireInts(node, 1, "the paddings");
        var rank = paddings.Length / 2;
        var layout = rank == 4 ? c.LayoutOf(x) : Layout.Tf;
        var begins = new long[rank];
        var ends = new long[rank];
        for (var i = 0; i < rank; i++)
        {
            var target = layout == Layout.Nchw ? TranslationContext.NhwcAxisInNchw[i] : i;
            begins[target] = paddings[2 * i];
            ends[target] = paddings[2 * i + 1];
        }
        var inputs = new List<string> { c.Get(x, layout), c.Builder.Int64s("pads", [.. begins, .. ends]) };
        var mode = "constant";
        if (node.Op == "PadV2")
            inputs.Add(c.Get(node.DataInput(2)));
        if (node.Op == "MirrorPad")
        {
            var tfMode = node.GetString("mode");
            if (tfMode != "REFLECT")
                throw new NotSupportedException($"node '{node.Name}' (MirrorPad): mode {tfMode} is not supported, only REFLECT.");
            mode = "reflect";
        }
        c.Set(node, 0, c.Builder.Node("Pad", inputs, name: node.Name, attributes: ("mode", mode)), layout);
    }

    public static void Reshape(NodeDef node, TranslationContext c) =>
        c.Set(node, 0, c.Builder.Node("Reshape", [c.Get(node.DataInput(0)), c.GetInt64(node.DataInput(1))], name: node.Name));

    public static void Squeeze(NodeDef node, TranslationContext c)
    {
        var x = node.DataInput(0);
        var dims = node.GetInts("squeeze_dims", []);
        var inputs = new List<string> { c.Get(x) };
        if (dims.Length > 0)
            inputs.Add(c.Builder.Int64s("axes", dims));
        c.Set(node, 0, c.Builder.Node("Squeeze", inputs, name: node.Name));
    }

    public static void ExpandDims(NodeDef node, TranslationContext c)
    {
        var axis = c.RequireInts(node, 1, "the axis")[0];
        c.Set(node, 0, c.Builder.Node("Unsqueeze", [c.Get(node.DataInput(0)), c.Builder.Int64s("axes", axis)], name: node.Name));
    }

    public static void Transpose(NodeDef node, TranslationContext c)
    {
        var x = node.DataInput(0);
        var perm = c.RequireInts(node, 1, "the permutation");
        var (name, layout) = c.Lookup(x);
        if (layout == Layout.Nchw)
        {
            // Compose with the layout permutation instead of first transposing back to NHWC.
            perm = perm.Select(p => (long)TranslationContext.NhwcAxisInNchw[p]).ToArray();
        }
        if (perm.Select((p, i) => p == i).All(b => b))
        {
            c.Set(node, 0, name);
            return;
        }
        c.Set(node, 0, c.Builder.Node("Transpose", [name], name: node.Name, attributes: ("perm", perm)));
    }

    public static void ShapeOp(NodeDef node, TranslationContext c)
    {
        var x = node.DataInput(0);
        var (name, layout) = c.Lookup(x);
        var shape = c.Builder.Node("Shape", [name]);
        if (layout == Layout.Nchw)
            shape = c.Builder.Node("Gather", [shape, c.Builder.Int64s("nhwc", 0, 2, 3, 1)], attributes: ("axis", 0L));
        if (node.GetDataType("out_type", DataType.DtInt32) == DataType.DtInt32)
            shape = c.Builder.Node("Cast", [shape], attributes: ("to", (long)TfPose.Graph.Onnx.TensorProto.Types.DataType.Int32));
        c.Set(node, 0, c.Builder.Node("Identity", [shape], name: node.Name));
    }

    public static void StridedSlice(NodeDef node, TranslationContext c)
    {
        var x = node.DataInput(0);
        var shape = c.Shape(x) ?? throw new NotSupportedException($"node '{node.Name}' (StridedSlice): input rank unknown.");
        var begin = c.RequireInts(node, 1, "begin");
        var end = c.RequireInts(node, 2, "end");
        var strides = c.RequireInts(node, 3, "strides");
        var beginMask = node.GetInt("begin_mask", 0);
        var endMask = node.GetInt("end_mask", 0);
        var shrinkMask = node.GetInt("shrink_axis_mask", 0);
        var spec = StridedSliceSpec.Resolve(shape, begin, end, strides, beginMask, endMask,
            node.GetInt("ellipsis_mask", 0), node.GetInt("new_axis_mask", 0), shrinkMask);
        var starts = new List<long>();
        var ends = new List<long>();
        var axes = new List<long>();
        var steps = new List<long>();
        var shrinkAxes = new List<long>();
        foreach (var d in spec.Dims.Where(d => d.Sparse >= 0))
        {
            var i = d.Sparse;
            var stride = strides[i];
            long s, e;
            if (d.Shrink)
            {
                s = begin[i];
                e = begin[i] == -1 ? long.MaxValue : begin[i] + 1;
                stride = 1;
                shrinkAxes.Add(d.Input);
            }
            else
            {
                s = (beginMask >> i & 1) != 0 ? (stride > 0 ? 0 : long.MaxValue) : begin[i];
                e = (endMask >> i & 1) != 0 ? (stride > 0 ? long.MaxValue : long.MinValue) : end[i];
            }
            if (s == 0 && e == long.MaxValue && stride == 1)
                continue;
            starts.Add(s);
            ends.Add(e);
            axes.Add(d.Input);
            steps.Add(stride);
        }
        var current = c.Get(x);
        if (axes.Count > 0)
        {
            current = c.Builder.Node("Slice", [current, c.Builder.Int64s("starts", [.. starts]), c.Builder.Int64s("ends", [.. ends]),
                c.Builder.Int64s("axes", [.. axes]), c.Builder.Int64s("steps", [.. steps])]);
        }
        if (shrinkAxes.Count > 0)
            current = c.Builder.Node("Squeeze", [current, c.Builder.Int64s("axes", [.. shrinkAxes])]);
        if (spec.NewAxes.Count > 0)
            current = c.Builder.Node("Unsqueeze", [current, c.Builder.Int64s("axes", [.. spec.NewAxes.Select(a => (long)a)])]);
        c.Set(node, 0, c.Builder.Node("Identity", [current], name: node.Name));
    }

    public static void SizeOp(NodeDef node, TranslationContext c)
    {
        var size = c.Builder.Node("Size", [c.Get(node.DataInput(0))]);
        var type = OnnxBuilder.ElementType(node.GetDataType("out_type", DataType.DtInt32));
        c.Set(node, 0, c.Builder.Node("Cast", [size], name: node.Name, attributes: ("to", (long)type)));
    }

    public static void RankOp(NodeDef node, TranslationContext c)
    {
        var rank = c.Builder.Node("Size", [c.Builder.Node("Shape", [c.Get(node.DataInput(0))])]);
        c.Set(node, 0, c.Builder.Node("Cast", [rank], name: node.Name, attributes: ("to", (long)TfPose.Graph.Onnx.TensorProto.Types.DataType.Int32)));
    }

    public static void Pack(NodeDef node, TranslationContext c)
    {
        var inputs = node.DataInputs().ToArray();
        var rank = c.Rank(inputs[0]) ?? throw new NotSupportedException($"node '{node.Name}' (Pack): input rank unknown.");
        var axis = node.GetInt("axis", 0);
        if (axis < 0)
            axis += rank + 1;
        var axesName = c.Builder.Int64s("axes", axis);
        var parts = inputs.Select(t => c.Builder.Node("Unsqueeze", [c.Get(t), axesName])).ToArray();
        c.Set(node, 0, c.Builder.Node("Concat", parts, name: node.Name, attributes: ("axis", axis)));
    }

    public static void Unpack(NodeDef node, TranslationContext c)
    {
        var x = node.DataInput(0);
        var rank = c.Rank(x) ?? throw new NotSupportedException($"node '{node.Name}' (Unpack): input rank unknown.");
        var num = (int)node.GetInt("num");
        var axis = Axis(node.GetInt("axis", 0), rank);
        var pieces = c.Builder.NodeMulti("Split", [c.Get(x)], num, node.Name, ("axis", axis), ("num_outputs", (long)num));
        var axesName = c.Builder.Int64s("axes", axis);
        for (var i = 0; i < num; i++)
            c.Set(node, i, c.Builder.Node("Squeeze", [pieces[i], axesName]));
    }

    public static void Split(NodeDef node, TranslationContext c)
    {
        var x = node.DataInput(1);
        var rank = c.Rank(x) ?? throw new NotSupportedException($"node '{node.Name}' (Split): input rank unknown.");
        var axis = Axis(c.RequireInts(node, 0, "the split axis")[0], rank);
        var num = (int)node.GetInt("num_split");
        var pieces = c.Builder.NodeMulti("Split", [c.Get(x)], num, node.Name, ("axis", axis), ("num_outputs", (long)num));
        for (var i = 0; i < num; i++)
            c.Set(node, i, pieces[i]);
    }

    public static void Fill(NodeDef node, TranslationContext c)
    {
        var dims = c.GetInt64(node.DataInput(0));
        c.Set(node, 0, c.Builder.Node("Expand", [c.Get(node.DataInput(1)), dims], name: node.Name));
    }

    public static void RandomUniform(NodeDef node, TranslationContext c)
    {
        var dims = c.GetInt64(node.DataInput(0));
        var zeros = c.Builder.Node("ConstantOfShape", [dims]);
        var dtype = (long)OnnxBuilder.ElementType(node.GetDataType("dtype", DataType.DtFloat));
        c.Set(node, 0, c.Builder.Node("RandomUniformLike", [zeros], name: node.Name, attributes: [("dtype", dtype), ("low", 0f), ("high", 1f)]));
    }
}
