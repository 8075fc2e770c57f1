using TfPose.Graph.Proto;
using TfPose.Graph.Translation;
using OnnxType = TfPose.Graph.Onnx.TensorProto.Types.DataType;

namespace TfPose.Graph.Ops;

/// <summary>
/// Ops that pick elements by index or produce indices: gathers, arg-max/min, top-k, where, range, one-hot and
/// sparse-to-dense. All run in TensorFlow's layout.
/// </summary>
/// <remarks>
/// Negative indices: TensorFlow's CPU kernels reject any index outside [0, n) (its GPU kernels write zeros), so no
/// graph that runs in TensorFlow gathers with one. ONNX Gather, GatherND and ScatterND count an index in [-n, 0) from
/// the end, and TfPose keeps that (folding at translation time does the same) instead of paying for a check on
/// every gather; indices outside [-n, n) fail at run time, as in TensorFlow. OneHot is the exception: TensorFlow
/// defines a negative index there (an all-off row), so it is honoured exactly.
/// </remarks>
internal static class IndexingOps
{
    public static IEnumerable<OpUnit> Units =>
    [
        new("GatherV2", s => GatherShape(s, true), (n, c) => Gather(n, c, true)),
        new("Gather", s => GatherShape(s, false), (n, c) => Gather(n, c, false)),
        new("GatherNd", GatherNdShape, GatherNd),
        new("ArgMax", ArgShape, Arg),
        new("ArgMin", ArgShape, Arg),
        new("TopKV2", TopKShape, TopK),
        new("Where", WhereShape, Where),
        new("Range", RangeShape, Range),
        new("OneHot", OneHotShape, OneHot),
        new("SparseToDense", s => s.Set(0, s.Ints(1) ?? (ShapeOps.Length(s, 1) is { } n ? ShapeOps.Unknowns(n) : null), s.Type(2)), SparseToDense),
    ];

    private static string Int64(TranslationContext c, TensorName t) =>
        c.Type(t) == DataType.DtInt64 ? c.Get(t) : c.Builder.Node("Cast", [c.Get(t)], attributes: ("to", (long)OnnxType.Int64));

    /// <summary>
    /// GatherV2: params.shape[:axis] + indices.shape[batch_dims:] + params.shape[axis+1:]; a negative batch_dims counts
    /// from the indices' rank, and batch_dims may not exceed the axis. Gather (v1) is axis 0 without batch_dims.
    /// </summary>
    private static void GatherShape(ShapeContext s, bool v2)
    {
        var p = s.Shape(0);
        var ind = s.Shape(1);
        var axisV = v2 ? s.Ints(2) : [0];
        if (p is null || ind is null)
        {
            s.Unknown();
            return;
        }
        var bd = (int)(v2 ? s.Node.GetInt("batch_dims", 0) : 0);
        if (bd < 0)
            bd += ind.Length;
        if (bd < 0 || bd > ind.Length || (bd > 0 && bd >= p.Length))
            throw new ArgumentException($"batch_dims {bd} does not fit params of rank {p.Length} and indices of rank {ind.Length}.");
        var rank = p.Length - 1 + ind.Length - bd;
        if (axisV is null)
        {
            var unknownAxis = ShapeOps.Unknowns(rank);
            for (var i = 0; i < bd; i++)
                unknownAxis[i] = p[i] >= 0 ? p[i] : ind[i];
            s.Set(0, unknownAxis, s.Type(0));
            return;
        }
        var axis = ShapeOps.CheckAxis(axisV[0], p.Length);
        if (bd > axis)
            throw new ArgumentException($"batch_dims {bd} is greater than the axis {axis}.");
        long[] outShape = [.. p.Take(axis), .. ind.Skip(bd), .. p.Skip(axis + 1)];
        for (var i = 0; i < bd; i++)
            outShape[i] = p[i] >= 0 ? p[i] : ind[i];

        TensorValue? value = null;
        if (s.Value(0) is { } pv && IntFolding.Small(s.Value(1)) is { } iv)
        {
            var pStrides = IntFolding.Strides(p);
            var iStrides = IntFolding.Strides(ind);
            var q = ind.Length;
            var n = p[axis];
            value = IntFolding.Map(pv, outShape, o =>
            {
                long at = 0;
                for (var d = 0; d < bd; d++)
                    at += o[d] * iStrides[d];
                for (var d = bd; d < q; d++)
                    at += o[axis + d - bd] * iStrides[d];
                var j = iv[at];
                if (j < 0)
                    j += n;
                if (j < 0 || j >= n)
                    return -1;
                long offset = j * pStrides[axis];
                for (var d = 0; d < axis; d++)
                    offset += o[d] * pStrides[d];
                for (var d = axis + 1; d < p.Length; d++)
                    offset += o[axis + q - bd + d - axis - 1] * pStrides[d];
                return offset;
            });
        }
        if (value is null && bd == 0 && p.Length == 1 && IntFolding.PartialShape(s, 0) is { } partial && IntFolding.Small(s.Value(1)) is { } picks)
            value = IntFolding.Pick(partial, picks, outShape, s.Type(0));
        s.Set(0, outShape, s.Type(0), value);
    }

    /// <summary>GatherNd: the indices' last dimension K indexes params' leading K axes; the remaining axes are gathered whole.</summary>
    private static void GatherNdShape(ShapeContext s)
    {
        var p = s.Shape(0);
        var ind = s.Shape(1);
        if (p is null || ind is null || ind.Length == 0 || ind[^1] < 0)
        {
            s.Unknown();
            return;
        }
        var k = (int)ind[^1];
        if (k > p.Length)
            throw new ArgumentException($"indices of depth {k} index params of rank {p.Length}.");
        long[] outShape = [.. ind.Take(ind.Length - 1), .. p.Skip(k)];
        TensorValue? value = null;
        if (s.Value(0) is { } pv && IntFolding.Small(s.Value(1)) is { } iv)
        {
            var pStrides = IntFolding.Strides(p);
            var lead = ind.Length - 1;
            var leadShape = ind.Take(lead).ToArray();
            var leadStrides = IntFolding.Strides(leadShape);
            value = IntFolding.Map(pv, outShape, o =>
            {
                long row = 0;
                for (var d = 0; d < lead; d++)
                    row += o[d] * leadStrides[d];
                long offset = 0;
                for (var d = 0; d < k; d++)
                {
                    var j = iv[row * k + d];
                    if (j < 0)
                        j += p[d];
                    if (j < 0 || j >= p[d])
                        return -1;
                    offset += j * pStrides[d];
                }
                for (var d = k; d < p.Length; d++)
                    offset += o[lead + d - k] * pStrides[d];
                return offset;
            });
        }
        s.Set(0, outShape, s.Type(0), value);
    }

    /// <summary>ArgMax/ArgMin: the axis removed; ties go to the first index; output_type int64 unless int32 is asked for.</summary>
    private static void ArgShape(ShapeContext s)
    {
        var x = s.Shape(0);
        var axisV = s.Ints(1);
        var outType = s.Node.GetDataType("output_type", DataType.DtInt64);
        if (x is null)
        {
            s.Unknown(0, outType);
            return;
        }
        if (x.Length == 0)
            throw new ArgumentException($"{s.Node.Op} of a scalar.");
        if (axisV is null)
        {
            s.Set(0, ShapeOps.Unknowns(x.Length - 1), outType);
            return;
        }
        var axis = ShapeOps.CheckAxis(axisV[0], x.Length, "dimension");
        long[] outShape = x.Where((_, i) => i != axis).ToArray();
        TensorValue? value = null;
        if (IntFolding.Small(s.Value(0)) is { } xv && IntFolding.Foldable(outShape) && x[axis] > 0)
        {
            var max = s.Node.Op == "ArgMax";
            var strides = IntFolding.Strides(x);
            var result = new long[TensorValue.ElementCount(outShape)];
            var index = new long[outShape.Length];
            for (var i = 0; i < result.Length; i++)
            {
                long start = 0;
                for (int d = 0, k = 0; d < x.Length; d++)
                {
                    if (d != axis)
                        start += index[k++] * strides[d];
                }
                var best = 0L;
                for (long j = 1; j < x[axis]; j++)
                {
                    var v = xv[start + j * strides[axis]];
                    var b = xv[start + best * strides[axis]];
                    if (max ? v > b : v < b)
                        best = j;
                }
                result[i] = best;
                IntFolding.Next(index, outShape);
            }
            value = ShapeMath.IntValue(result, outShape, outType);
        }
        s.Set(0, outShape, outType, value);
    }

    /// <summary>TopKV2: values and indices of the k largest along the last axis; k must fit the axis.</summary>
    private static void TopKShape(ShapeContext s)
    {
        var x = s.Shape(0);
        var k = s.Ints(1);
        var indexType = s.Node.GetDataType("index_type", DataType.DtInt32);
        long[]? outShape = null;
        if (x is not null)
        {
            if (x.Length == 0)
                throw new ArgumentException("TopKV2 of a scalar.");
            if (k is [var kv] && (kv < 0 || (x[^1] >= 0 && x[^1] < kv)))
                throw new ArgumentException($"k {kv} does not fit a last dimension of {x[^1]}.");
            outShape = [.. x.Take(x.Length - 1), k is [var known] ? known : -1];
        }
        s.Set(0, outShape, s.Type(0));
        s.Set(1, outShape, indexType);
    }

    /// <summary>Where with one input: the coordinates of its true (non-zero) elements, int64 [count, rank], in row-major order.</summary>
    private static void WhereShape(ShapeContext s)
    {
        var x = s.Shape(0);
        TensorValue? value = null;
        if (ShapeMath.IsKnown(x) && IntFolding.NonZero(s.Value(0)) is { } mask)
        {
            var coordinates = new List<long>();
            var index = new long[x!.Length];
            foreach (var set in mask)
            {
                if (set)
                    coordinates.AddRange(index);
                IntFolding.Next(index, x);
            }
            value = ShapeMath.IntValue([.. coordinates], [mask.Count(b => b), x.Length], DataType.DtInt64);
        }
        s.Set(0, [value?.Shape[0] ?? -1, x?.Length ?? -1], DataType.DtInt64, value);
    }

    private static double? ScalarOf(TensorValue? v) => v is null || v.Count != 1 ? null : v.Type switch
    {
        DataType.DtFloat => v.Span<float>()[0],
        DataType.DtDouble => v.Span<double>()[0],
        DataType.DtInt32 or DataType.DtInt64 => v.ToInt64Array()[0],
        _ => null,
    };

    /// <summary>
    /// Range: ceil((limit - start) / delta) elements (exact for integers, in the element type for floats, as TensorFlow
    /// counts). TensorFlow rejects delta 0 and a delta that points away from the limit; so does shape inference.
    /// </summary>
    private static void RangeShape(ShapeContext s)
    {
        var type = s.Node.GetDataType("Tidx", s.Type(0));
        if (ScalarOf(s.Value(0)) is not { } start || ScalarOf(s.Value(1)) is not { } limit || ScalarOf(s.Value(2)) is not { } delta)
        {
            s.Set(0, [-1], type);
            return;
        }
        if (delta == 0 || (delta > 0 && start > limit) || (delta < 0 && start < limit))
            throw new ArgumentException($"Range from {start} to {limit} by {delta} is invalid in TensorFlow.");
        long size;
        TensorValue? value = null;
        if (type is DataType.DtInt32 or DataType.DtInt64)
        {
            long a = (long)start, b = (long)limit, d = (long)delta;
            size = (Math.Abs(b - a) + Math.Abs(d) - 1) / Math.Abs(d);
            if (size <= ShapeMath.MaxFoldElements)
                value = ShapeMath.IntValue(Enumerable.Range(0, (int)size).Select(i => a + i * d).ToArray(), [size], type);
        }
        else if (type == DataType.DtFloat)
        {
            size = (long)MathF.Ceiling(MathF.Abs(((float)limit - (float)start) / (float)delta));
        }
        else
        {
            size = (long)Math.Ceiling(Math.Abs((limit - start) / delta));
        }
        s.Set(0, [size], type, value);
    }

    private static void OneHotShape(ShapeContext s)
    {
        var ind = s.Shape(0);
        var depth = s.Ints(1);
        var axis = s.Node.GetInt("axis", -1);
        var type = s.Type(2);
        if (depth is [< 0])
            throw new ArgumentException($"OneHot depth {depth[0]} is negative.");
        if (ind is null)
        {
            s.Unknown(0, type);
            return;
        }
        if (axis < -1 || axis > ind.Length)
            throw new ArgumentException($"OneHot axis {axis} is out of range for indices of rank {ind.Length}.");
        var list = ind.ToList();
        list.Insert(axis == -1 ? ind.Length : (int)axis, depth is [var d] ? d : -1);
        s.Set(0, [.. list], type);
    }

    public static void Gather(NodeDef node, TranslationContext c, bool v2)
    {
        var p = node.DataInput(0);
        var ind = node.DataInput(1);
        var bd = v2 ? (int)node.GetInt("batch_dims", 0) : 0;
        var axisValue = v2 ? c.RequireInts(node, 2, "the axis")[0] : 0;
        if (bd == 0)
        {
            c.Set(node, 0, c.Builder.Node("Gather", [c.Get(p), c.Get(ind)], name: node.Name, attributes: ("axis", ShapeOps.OnnxAxis(axisValue, c.Rank(p)))));
            return;
        }
        var r = c.Rank(p) ?? throw new NotSupportedException($"node '{node.Name}' ({node.Op}): params rank unknown.");
        var axis = ShapeOps.CheckAxis(axisValue, r);
        // With batch dimensions: GatherND over the batch dims, the gathered axis first moved next to them and the
        // indices' axes then moved back in front of the axes that lay between.
        var q = c.Rank(ind) ?? throw new NotSupportedException($"node '{node.Name}' ({node.Op}): indices rank unknown.");
        if (bd < 0)
            bd += q;
        var src = c.Get(p);
        if (axis != bd)
        {
            long[] perm = [.. Enumerable.Range(0, bd).Select(i => (long)i), axis, .. Enumerable.Range(bd, axis - bd).Select(i => (long)i),
                .. Enumerable.Range(axis + 1, r - axis - 1).Select(i => (long)i)];
            src = c.Builder.Node("Transpose", [src], attributes: ("perm", perm));
        }
        var indices = c.Builder.Node("Unsqueeze", [Int64(c, ind), c.Builder.Int64s("axes", -1)]);
        var gathered = c.Builder.Node("GatherND", [src, indices], attributes: ("batch_dims", (long)bd));
        if (axis != bd)
        {
            var outRank = r - 1 + q - bd;
            long[] perm = [.. Enumerable.Range(0, bd).Select(i => (long)i), .. Enumerable.Range(q, axis - bd).Select(i => (long)i),
                .. Enumerable.Range(bd, q - bd).Select(i => (long)i), .. Enumerable.Range(q + axis - bd, outRank - (q + axis - bd)).Select(i => (long)i)];
            gathered = c.Builder.Node("Transpose", [gathered], attributes: ("perm", perm));
        }
        c.Set(node, 0, c.Builder.Node("Identity", [gathered], name: node.Name));
    }

    public static void GatherNd(NodeDef node, TranslationContext c) =>
        c.Set(node, 0, c.Builder.Node("GatherND", [c.Get(node.DataInput(0)), Int64(c, node.DataInput(1))], name: node.Name));

    /// <summary>select_last_index 0: the first of equal extremes, as TensorFlow picks.</summary>
    public static void Arg(NodeDef node, TranslationContext c)
    {
        var x = node.DataInput(0);
        var axis = ShapeOps.OnnxAxis(c.RequireInts(node, 1, "the dimension")[0], c.Rank(x), "dimension");
        var outType = node.GetDataType("output_type", DataType.DtInt64);
        var arg = c.Builder.Node(node.Op, [c.Get(x)], attributes: [("axis", axis), ("keepdims", 0L), ("select_last_index", 0L)]);
        c.Set(node, 0, outType == DataType.DtInt64 ? c.Builder.Node("Identity", [arg], name: node.Name)
            : c.Builder.Node("Cast", [arg], name: node.Name, attributes: ("to", (long)OnnxBuilder.ElementType(outType))));
    }

    /// <summary>
    /// ONNX TopK breaks ties by the lower index, as TensorFlow does. Its output is always sorted: TensorFlow's
    /// sorted=false leaves the order unspecified, so sorted order is one it allows.
    /// </summary>
    public static void TopK(NodeDef node, TranslationContext c)
    {
        var k = ShapeOps.Int64Vector(c, node.DataInput(1));
        var outputs = c.Builder.NodeMulti("TopK", [c.Get(node.DataInput(0)), k], 2, node.Name, ("axis", -1L), ("largest", 1L), ("sorted", 1L));
        var indexType = node.GetDataType("index_type", DataType.DtInt32);
        c.Set(node, 0, outputs[0]);
        c.Set(node, 1, indexType == DataType.DtInt64 ? outputs[1]
            : c.Builder.Node("Cast", [outputs[1]], attributes: ("to", (long)OnnxBuilder.ElementType(indexType))));
    }

    /// <summary>ONNX NonZero lists coordinates per axis ([rank, count], row-major order); TensorFlow wants them per element.</summary>
    public static void Where(NodeDef node, TranslationContext c)
    {
        if (node.DataInputCount() != 1)
            throw new NotSupportedException($"node '{node.Name}' (Where): only the one-input form (coordinates of true elements) is supported.");
        var coordinates = c.Builder.Node("NonZero", [c.Get(node.DataInput(0))]);
        c.Set(node, 0, c.Builder.Node("Transpose", [coordinates], name: node.Name, attributes: ("perm", new long[] { 1, 0 })));
    }

    /// <summary>ONNX Range has TensorFlow's element count; TensorFlow also accepts one-element vectors, made scalars here.</summary>
    public static void Range(NodeDef node, TranslationContext c)
    {
        string Scalar(TensorName t) => c.Rank(t) == 0 ? c.Get(t) : c.Builder.Node("Reshape", [c.Get(t), c.Builder.Int64s("scalar")]);
        var inputs = node.DataInputs().Select(Scalar).ToArray();
        c.Set(node, 0, c.Builder.Node("Range", inputs, name: node.Name));
    }

    /// <summary>
    /// OneHot as a comparison of the indices with 0..depth-1. ONNX OneHot counts negative indices from the end, where
    /// TensorFlow gives an all-off row for them (as for indices of depth or more); a comparison gets both right.
    /// </summary>
    public static void OneHot(NodeDef node, TranslationContext c)
    {
        var indices = node.DataInput(0);
        var axis = node.GetInt("axis", -1);
        var depth = ShapeOps.Int64Scalar(c, node.DataInput(1));
        var positions = c.Builder.Node("Range", [c.Builder.Int64Scalar("zero", 0), depth, c.Builder.Int64Scalar("one", 1)]);
        var expanded = c.Builder.Node("Unsqueeze", [Int64(c, indices), c.Builder.Int64s("axes", axis)]);
        if (axis != -1)
        {
            // depth sits at `axis`: the positions get one trailing 1 per indices axis after it.
            var rank = c.Rank(indices) ?? throw new NotSupportedException($"node '{node.Name}' (OneHot): indices rank unknown.");
            positions = c.Builder.Node("Reshape", [positions, c.Builder.Int64s("shape", [-1, .. Enumerable.Repeat(1L, rank - (int)axis)])]);
        }
        var hot = c.Builder.Node("Equal", [expanded, positions]);
        c.Set(node, 0, c.Builder.Node("Where", [hot, c.Get(node.DataInput(2)), c.Get(node.DataInput(3))], name: node.Name));
    }

    /// <summary>
    /// SparseToDense as ScatterND into a tensor filled with the default. Indices may be a scalar or vector (into a
    /// vector) or an [N, rank] matrix; a scalar value is spread over all N. TensorFlow's validate_indices (sorted,
    /// no repeats) is not checked: with repeats the last write wins in no defined order.
    /// </summary>
    public static void SparseToDense(NodeDef node, TranslationContext c)
    {
        var indices = node.DataInput(0);
        var rank = c.Rank(indices) ?? throw new NotSupportedException($"node '{node.Name}' (SparseToDense): indices rank unknown.");
        var idx = Int64(c, indices);
        idx = rank switch
        {
            0 => c.Builder.Node("Reshape", [idx, c.Builder.Int64s("shape", 1, 1)]),
            1 => c.Builder.Node("Unsqueeze", [idx, c.Builder.Int64s("axes", 1)]),
            _ => idx,
        };
        var dense = c.Builder.Node("Expand", [c.Get(node.DataInput(3)), c.GetInt64(node.DataInput(1))]);
        var count = c.Builder.Node("Slice", [c.Builder.Node("Shape", [idx]), c.Builder.Int64s("start", 0), c.Builder.Int64s("end", 1)]);
        var values = c.Builder.Node("Expand", [c.Get(node.DataInput(2)), count]);
        c.Set(node, 0, c.Builder.Node("ScatterND", [dense, idx, values], name: node.Name));
    }
}
