using TfPose.Graph.Proto;
using TfPose.Graph.Translation;
using OnnxType = TfPose.Graph.Onnx.TensorProto.Types.DataType;

namespace TfPose.Graph.Ops;

/// <summary>
/// Reductions over axes given as a tensor (a scalar or a vector, negative counting from the end, known or fed at
/// run time), with keep_dims. An empty axes list reduces nothing, as in TensorFlow (noop_with_empty_axes in ONNX).
/// </summary>
internal static class ReductionOps
{
    public static IEnumerable<OpUnit> Units =>
    [
        new("Mean", ReduceShape, Reduce, ReduceFlops),
        new("Sum", ReduceShape, Reduce, ReduceFlops),
        new("Max", ReduceShape, Reduce, ReduceFlops),
        new("Min", ReduceShape, Reduce, ReduceFlops),
        new("Prod", ReduceShape, Reduce, ReduceFlops),
        new("All", ReduceShape, Reduce, ReduceFlops),
        new("Any", ReduceShape, Reduce, ReduceFlops),
    ];

    /// <summary>
    /// The axes made non-negative. TensorFlow rejects an axis out of range and an axis named twice
    /// ("Axes contains duplicate dimension"), and so does shape inference.
    /// </summary>
    private static int[] CheckAxes(long[] axes, int rank)
    {
        var result = axes.Select(a => ShapeOps.CheckAxis(a, rank, "reduction axis")).ToArray();
        if (result.Distinct().Count() != result.Length)
            throw new ArgumentException($"reduction axes [{string.Join(",", axes)}] name an axis twice.");
        return result;
    }

    /// <summary>The reduced shape: axes removed (or kept as 1); unknown axes leave the rank known only with keep_dims.</summary>
    public static void ReduceShape(ShapeContext s)
    {
        var shape = ReducedShape(s, out var axes);
        var type = s.Type(0);
        TensorValue? value = null;
        if (shape is not null && axes is not null && IntFolding.Foldable(shape) && IntFolding.Small(s.Value(0)) is { } xv)
            value = Fold(s.Node.Op, xv, s.Shape(0)!, axes, shape, type);
        s.Set(0, shape, type, value);
    }

    public static long[]? ReducedShape(ShapeContext s) => ReducedShape(s, out _);

    private static long[]? ReducedShape(ShapeContext s, out int[]? axes)
    {
        var x = s.Shape(0);
        var axesValue = s.Ints(1);
        var keep = s.Node.GetBool("keep_dims", false);
        axes = null;
        if (x is null)
            return null;
        if (axesValue is null)
            return keep ? ShapeOps.Unknowns(x.Length) : null;
        var set = CheckAxes(axesValue, x.Length);
        axes = set;
        return keep ? x.Select((d, i) => set.Contains(i) ? 1 : d).ToArray() : x.Where((_, i) => !set.Contains(i)).ToArray();
    }

    /// <summary>Reduces a small known integer tensor (shape arithmetic: the product of a shape, its sum, its largest size).</summary>
    private static TensorValue? Fold(string op, long[] x, long[] shape, int[] axes, long[] outShape, DataType type)
    {
        if (op is "All" or "Any")
            return null;
        var kept = Enumerable.Range(0, shape.Length).Where(d => !axes.Contains(d)).ToArray();
        var count = TensorValue.ElementCount(outShape);
        var acc = new long[count];
        var seen = new long[count];
        var strides = IntFolding.Strides(kept.Select(d => shape[d]).ToArray());
        var index = new long[shape.Length];
        for (var i = 0; i < x.Length; i++)
        {
            long o = 0;
            for (var k = 0; k < kept.Length; k++)
                o += index[kept[k]] * strides[k];
            var v = x[i];
            acc[o] = seen[o]++ == 0 ? v : op switch
            {
                "Sum" or "Mean" => acc[o] + v,
                "Prod" => acc[o] * v,
                "Max" => Math.Max(acc[o], v),
                _ => Math.Min(acc[o], v),
            };
            IntFolding.Next(index, shape);
        }
        for (var o = 0; o < count; o++)
        {
            if (seen[o] == 0)
            {
                // An empty reduction: the sum and product identities; TensorFlow's max/min of nothing are the type's extremes.
                if (op is "Max" or "Min")
                    return null;
                acc[o] = op == "Prod" ? 1 : 0;
            }
            else if (op == "Mean")
            {
                acc[o] /= seen[o]; // integer mean truncates toward zero, as TensorFlow's does
            }
        }
        // An int32 sum or product that overflows wraps in TensorFlow; such a value is left to the runtime.
        if (type == DataType.DtInt32 && acc.Any(v => v is < int.MinValue or > int.MaxValue))
            return null;
        return ShapeMath.IntValue(acc, outShape, type);
    }

    /// <summary>One operation per input element.</summary>
    private static long? ReduceFlops(NodeDef node, GraphShapes shapes) =>
        shapes.Shape(node.DataInput(0)) is { } x && ShapeMath.IsKnown(x) ? TensorValue.ElementCount(x) : null;

    public static void Reduce(NodeDef node, TranslationContext c)
    {
        var x = node.DataInput(0);
        var keep = node.GetBool("keep_dims", false);
        var logical = node.Op is "All" or "Any";
        // ONNX reduces no bools: All is a product of 0/1 and Any a sum (both right for empty reductions, unlike min/max).
        var op = node.Op switch
        {
            "Mean" => "ReduceMean",
            "Sum" or "Any" => "ReduceSum",
            "Max" => "ReduceMax",
            "Min" => "ReduceMin",
            _ => "ReduceProd",
        };
        var attributes = new (string, object)[] { ("keepdims", keep ? 1L : 0L), ("noop_with_empty_axes", 1L) };
        string output;
        var layout = Layout.Tf;
        if (c.Value(node.DataInput(1)) is { } known)
        {
            var rank = c.Rank(x);
            var axes = rank is { } r ? CheckAxes(known.ToInt64Array(), r) : known.ToInt64Array().Select(a => (int)a).ToArray();
            layout = logical || rank is null ? Layout.Tf : c.LayoutOf(x);
            if (layout == Layout.Nchw && !keep)
            {
                // The remaining axes must keep TensorFlow's relative order in the channels-first copy.
                var remainingTf = Enumerable.Range(0, 4).Where(a => !axes.Contains(a)).ToArray();
                var remainingNchw = remainingTf.Select(a => TranslationContext.NhwcAxisInNchw[a]).ToArray();
                if (!remainingNchw.SequenceEqual(remainingNchw.Order()))
                    layout = Layout.Tf;
            }
            var onnxAxes = layout == Layout.Nchw ? axes.Select(a => (long)TranslationContext.NhwcAxisInNchw[a]).ToArray() : axes.Select(a => (long)a).ToArray();
            var input = c.Get(x, layout);
            if (logical)
                input = c.Builder.Node("Cast", [input], attributes: ("to", (long)OnnxType.Int32));
            output = c.Builder.Node(op, [input, c.Builder.Int64s("axes", onnxAxes)], name: logical ? null : node.Name, attributes: attributes);
        }
        else
        {
            // Axes fed at run time: ONNX takes them as a tensor too (a scalar made a vector), in TensorFlow's layout.
            var axes = ShapeOps.Int64Vector(c, node.DataInput(1));
            var input = c.Get(x);
            if (logical)
                input = c.Builder.Node("Cast", [input], attributes: ("to", (long)OnnxType.Int32));
            output = c.Builder.Node(op, [input, axes], name: logical ? null : node.Name, attributes: attributes);
        }
        if (logical)
            output = c.Builder.Node("Cast", [output], name: node.Name, attributes: ("to", (long)OnnxType.Bool));
        c.Set(node, 0, output, keep ? layout : Layout.Tf);
    }
}
