using TfPose.Graph.Proto;
using TfPose.Graph.Translation;

namespace TfPose.Graph.Ops;

/// <summary>Reductions over axes given as a tensor, with keep_dims.</summary>
internal static class ReductionOps
{
    public static IEnumerable<OpUnit> Units =>
    [
        new("Mean", ReduceShape, Reduce, ReduceFlops),
        new("Sum", ReduceShape, Reduce, ReduceFlops),
        new("Max", ReduceShape, Reduce, ReduceFlops),
        new("Min", ReduceShape, Reduce, ReduceFlops),
        new("Prod", ReduceShape, Reduce, ReduceFlops),
    ];

    private static long Axis(long axis, int rank) => axis < 0 ? axis + rank : axis;

    /// <summary>The reduced shape: axes removed (or kept as 1); unknown axes leave the rank known only with keep_dims.</summary>
    public static void ReduceShape(ShapeContext s) => s.Set(0, ReducedShape(s), s.Type(0));

    public static long[]? ReducedShape(ShapeContext s)
    {
        var x = s.Shape(0);
        var axes = s.Ints(1);
        var keep = s.Node.GetBool("keep_dims", false);
        if (x is null)
            return null;
        if (axes is null)
            return keep ? x.Select(_ => -1L).ToArray() : null;
        var set = axes.Select(a => ShapeMath.NormalizeAxis(a, x.Length)).ToHashSet();
        return keep ? x.Select((d, i) => set.Contains(i) ? 1 : d).ToArray() : x.Where((_, i) => !set.Contains(i)).ToArray();
    }

    /// <summary>One operation per input element.</summary>
    private static long? ReduceFlops(NodeDef node, GraphShapes shapes) =>
        shapes.Shape(node.DataInput(0)) is { } x && ShapeMath.IsKnown(x) ? TensorValue.ElementCount(x) : null;

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
}
