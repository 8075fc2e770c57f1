using TfPose.Graph;
using TfPose.Graph.Proto;

namespace TfPose.Runtime.Translation;

/// <summary>Ops that move data between axes; most run in TensorFlow's layout, a few follow a channels-first input.</summary>
internal static class ShapeConverters
{
    private static long Axis(long axis, int rank) => axis < 0 ? axis + rank : axis;

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

    public static void Reduce(NodeDef node, TranslationContext c)
    {
        var x = node.DataInput(0);
        var rank = c.Rank(x) ?? throw new NotSupportedException($"node '{node.Name}' ({node.Op}): input rank unknown.");
        var axes = c.RequireInts(node, 1, "the reduction axes").Select(a => Axis(a, rank)).Distinct().ToArray();
        var keep = node.GetBool("keep_dims", false);
        var layout = c.LayoutOf(x);
        if (layout == Layout.Nchw && !keep)
        {
            // The remaining axes must keep TensorFlow's relative order in the channels-first copy.
            var remainingTf = Enumerable.Range(0, 4).Where(a => !axes.Contains(a)).ToArray();
            var remainingNchw = remainingTf.Select(a => TranslationContext.NhwcAxisInNchw[a]).ToArray();
            if (!remainingNchw.SequenceEqual(remainingNchw.Order()))
                layout = Layout.Tf;
        }
        var onnxAxes = layout == Layout.Nchw ? axes.Select(a => (long)TranslationContext.NhwcAxisInNchw[a]).ToArray() : axes;
        var op = node.Op switch { "Mean" => "ReduceMean", "Sum" => "ReduceSum", "Max" => "ReduceMax", "Min" => "ReduceMin", _ => "ReduceProd" };
        var output = c.Builder.Node(op, [c.Get(x, layout), c.Builder.Int64s("axes", onnxAxes)], name: node.Name, attributes: ("keepdims", keep ? 1L : 0L));
        c.Set(node, 0, output, keep ? layout : Layout.Tf);
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
            shape = c.Builder.Node("Cast", [shape], attributes: ("to", (long)Onnx.TensorProto.Types.DataType.Int32));
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
