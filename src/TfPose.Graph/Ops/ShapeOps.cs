using TfPose.Graph.Proto;
using TfPose.Graph.Translation;
using OnnxType = TfPose.Graph.Onnx.TensorProto.Types.DataType;

namespace TfPose.Graph.Ops;

/// <summary>Ops that move data between axes; most run in TensorFlow's layout, a few follow a channels-first input.</summary>
internal static class ShapeOps
{
    public static IEnumerable<OpUnit> Units =>
    [
        new("ConcatV2", s => ConcatShape(s, s.InputCount - 1, 0, s.InputCount - 1), (n, c) => Concat(n, c, n.DataInputCount() - 1, 0)),
        new("Concat", s => ConcatShape(s, 0, 1, s.InputCount - 1), (n, c) => Concat(n, c, 0, 1)),
        new("Pad", PadShape, Pad),
        new("PadV2", PadShape, Pad),
        new("Reshape", ReshapeShape, Reshape),
        new("Squeeze", SqueezeShape, Squeeze),
        new("ExpandDims", ExpandDimsShape, ExpandDims),
        new("Transpose", TransposeShape, Transpose),
        new("Shape", ShapeShape, ShapeOp),
        new("ShapeN", ShapeNShape, ShapeN),
        new("Size", SizeShape, SizeOp),
        new("Rank", s => s.Set(0, [], DataType.DtInt32, s.Rank(0) is { } r ? ShapeMath.IntValue([r], [], DataType.DtInt32) : null), RankOp),
        new("StridedSlice", StridedSliceShape, StridedSlice),
        new("Slice", SliceShape, Slice),
        new("Pack", PackShape, Pack),
        new("Unpack", UnpackShape, Unpack),
        new("Split", SplitShape, Split),
        new("SplitV", SplitVShape, SplitV),
        new("Fill", FillShape, Fill),
        new("ZerosLike", s => LikeShape(s, 0), (n, c) => Like(n, c, 0)),
        new("OnesLike", s => LikeShape(s, 1), (n, c) => Like(n, c, 1)),
        new("Tile", TileShape, Tile),
        new("BroadcastTo", BroadcastToShape, BroadcastTo),
        new("BroadcastArgs", BroadcastArgsShape, BroadcastArgs),
        new("ReverseV2", ReverseShape, Reverse),
        new("RandomUniform", s => s.Set(0, s.Ints(0), s.Node.GetDataType("dtype", DataType.DtFloat)), RandomUniform),
    ];

    /// <summary>An axis in [-rank, rank) made non-negative; TensorFlow rejects any other, and so does shape inference.</summary>
    internal static int CheckAxis(long axis, int rank, string what = "axis")
    {
        if (axis < -rank || axis >= rank)
            throw new ArgumentException($"{what} {axis} is out of range for a rank-{rank} tensor.");
        return (int)(axis < 0 ? axis + rank : axis);
    }

    /// <summary>
    /// An axis for an ONNX attribute or input: made non-negative when the rank is known; otherwise passed as it is,
    /// since ONNX counts negative axes from the end as TensorFlow does, so a tensor of unknown rank still translates.
    /// </summary>
    internal static long OnnxAxis(long axis, int? rank, string what = "axis") => rank is { } r ? CheckAxis(axis, r, what) : axis;

    internal static long[] Unknowns(long rank) => Enumerable.Repeat(-1L, (int)rank).ToArray();

    /// <summary>The number of elements of a 1-D input (a shape, begin, multiples vector) when known.</summary>
    internal static long? Length(ShapeContext s, int input) =>
        s.Value(input) is { } v ? v.Count : s.Shape(input) is [var n] && n >= 0 ? n : null;

    /// <summary>A one-element tensor of <paramref name="type"/> holding <paramref name="v"/> (fill values, pad values).</summary>
    internal static TensorValue Scalar(DataType type, double v, long[]? shape = null)
    {
        shape ??= [];
        return DataTypes.BaseType(type) switch
        {
            DataType.DtFloat => TensorValue.FromArray(DataType.DtFloat, shape, [(float)v]),
            DataType.DtDouble => TensorValue.FromArray(DataType.DtDouble, shape, [v]),
            DataType.DtInt32 => TensorValue.FromArray(DataType.DtInt32, shape, [(int)v]),
            DataType.DtInt64 => TensorValue.FromArray(DataType.DtInt64, shape, [(long)v]),
            DataType.DtInt16 => TensorValue.FromArray(DataType.DtInt16, shape, [(short)v]),
            DataType.DtUint16 => TensorValue.FromArray(DataType.DtUint16, shape, [(ushort)v]),
            DataType.DtInt8 => TensorValue.FromArray(DataType.DtInt8, shape, [(sbyte)v]),
            DataType.DtUint8 => TensorValue.FromArray(DataType.DtUint8, shape, [(byte)v]),
            DataType.DtBool => TensorValue.FromArray(DataType.DtBool, shape, [(byte)(v != 0 ? 1 : 0)]),
            DataType.DtHalf => TensorValue.FromArray(DataType.DtHalf, shape, [(Half)v]),
            DataType.DtUint32 => TensorValue.FromArray(DataType.DtUint32, shape, [(uint)v]),
            DataType.DtUint64 => TensorValue.FromArray(DataType.DtUint64, shape, [(ulong)v]),
            _ => throw new NotSupportedException($"{DataTypes.Name(type)} fill values are not supported."),
        };
    }

    /// <summary>An integer input as a 1-D int64 ONNX tensor (a scalar becomes one element): an initializer when known.</summary>
    internal static string Int64Vector(TranslationContext c, TensorName t) =>
        c.Value(t) is { } v ? c.Builder.Int64s("i64", v.ToInt64Array()) : c.Builder.Node("Reshape", [c.GetInt64(t), c.Builder.Int64s("flat", -1)]);

    /// <summary>A one-element integer input as an int64 ONNX scalar: an initializer when known.</summary>
    internal static string Int64Scalar(TranslationContext c, TensorName t) =>
        c.Value(t) is { } v ? c.Builder.Int64Scalar("i64", v.ToInt64Array()[0]) : c.Builder.Node("Reshape", [c.GetInt64(t), c.Builder.Int64s("scalar")]);

    private static string Cast(TranslationContext c, string name, OnnxType to) =>
        c.Builder.Node("Cast", [name], attributes: ("to", (long)to));

    /// <summary>Concatenation (ConcatV2: values then axis; Concat: axis then values).</summary>
    private static void ConcatShape(ShapeContext s, int axisInput, int first, int count)
    {
        var parts = Enumerable.Range(first, count).ToArray();
        var axisValue = s.Ints(axisInput);
        var shapes = parts.Select(s.Shape).ToList();
        var type = s.Type(first);
        var rank = shapes.FirstOrDefault(x => x is not null)?.Length;
        long[]? outShape = null;
        TensorValue? value = null;
        if (shapes.Any(x => x is not null && x.Length != rank))
            throw new ArgumentException("concatenated tensors differ in rank.");
        if (rank is { } r)
        {
            outShape = Unknowns(r);
            if (axisValue is not null)
            {
                var axis = CheckAxis(axisValue[0], r);
                var known = shapes.Where(x => x is not null).ToList();
                for (var d = 0; d < r; d++)
                {
                    if (d == axis)
                        outShape[d] = known.Count == shapes.Count && known.All(x => x![d] >= 0) ? known.Sum(x => x![d]) : -1;
                    else
                        outShape[d] = known.Select(x => x![d]).FirstOrDefault(v => v >= 0, -1);
                }
                value = IntFolding.Concat(parts.Select(s.Value).ToList(), axis, type);
            }
        }
        s.Set(0, outShape, type, value);
    }

    private static void PadShape(ShapeContext s)
    {
        var x = s.Shape(0);
        var pads = s.Ints(1);
        var rank = x?.Length ?? (s.Shape(1) is [var n, 2] && n >= 0 ? n : (long?)null);
        long[]? outShape = null;
        if (rank is { } r)
            outShape = pads is not null && x is not null ? x.Select((d, i) => d < 0 ? -1 : d + pads[2 * i] + pads[2 * i + 1]).ToArray() : Unknowns(r);
        s.Set(0, outShape, s.Type(0));
    }

    /// <summary>Reshape's target: -1 takes the remaining elements; a target of unknown length leaves the rank unknown.</summary>
    private static void ReshapeShape(ShapeContext s)
    {
        var x = s.Shape(0);
        var target = s.Ints(1);
        long[]? outShape = null;
        if (target is not null)
        {
            if (target.Count(d => d == -1) > 1 || target.Any(d => d < -1))
                throw new ArgumentException($"Reshape target [{string.Join(",", target)}] has more than one -1 or a negative size.");
            outShape = (long[])target.Clone();
            var unknown = Array.IndexOf(outShape, -1);
            if (unknown >= 0 && ShapeMath.IsKnown(x))
            {
                var known = outShape.Where(d => d >= 0).Aggregate(1L, (a, b) => a * b);
                // TensorFlow cannot infer the -1 of an empty tensor when another size is 0; it stays unknown here too.
                outShape[unknown] = known == 0 ? -1 : TensorValue.ElementCount(x!) / known;
            }
        }
        else if (Length(s, 1) is { } n)
        {
            outShape = Unknowns(n);
        }
        s.Set(0, outShape, s.Type(0), IntFolding.Reshape(s.Value(0), outShape));
    }

    private static void SqueezeShape(ShapeContext s)
    {
        var x = s.Shape(0);
        var dims = s.Node.GetInts("squeeze_dims", []);
        long[]? outShape = null;
        if (x is not null)
        {
            var set = dims.Select(a => CheckAxis(a, x.Length, "squeeze_dims")).ToHashSet();
            foreach (var a in set)
            {
                if (x[a] >= 0 && x[a] != 1)
                    throw new ArgumentException($"cannot squeeze dimension {a} of size {x[a]}.");
            }
            // Without squeeze_dims every size-1 axis goes; an unknown size might be 1, so the rank is then unknown.
            if (set.Count > 0 || x.All(d => d >= 0))
                outShape = x.Where((d, i) => set.Count > 0 ? !set.Contains(i) : d != 1).ToArray();
        }
        s.Set(0, outShape, s.Type(0), IntFolding.Reshape(s.Value(0), outShape));
    }

    private static void ExpandDimsShape(ShapeContext s)
    {
        var x = s.Shape(0);
        var axisV = s.Ints(1);
        long[]? outShape = null;
        if (x is not null)
        {
            if (axisV is { Length: > 0 })
            {
                var axis = CheckAxis(axisV[0], x.Length + 1);
                var list = x.ToList();
                list.Insert(axis, 1);
                outShape = [.. list];
            }
            else
            {
                outShape = Unknowns(x.Length + 1);
            }
        }
        s.Set(0, outShape, s.Type(0), IntFolding.Reshape(s.Value(0), outShape));
    }

    private static void TransposeShape(ShapeContext s)
    {
        var x = s.Shape(0);
        var perm = s.Ints(1);
        long[]? outShape = null;
        if (x is not null && perm is not null)
        {
            if (perm.Length != x.Length || perm.Order().Select((p, i) => p != i).Any(b => b))
                throw new ArgumentException($"[{string.Join(",", perm)}] is not a permutation of a rank-{x.Length} tensor's axes.");
            outShape = perm.Select(p => x[p]).ToArray();
        }
        else if ((x?.Length ?? Length(s, 1)) is { } r)
        {
            outShape = Unknowns(r);
        }
        s.Set(0, outShape, s.Type(0));
    }

    private static void ShapeShape(ShapeContext s)
    {
        var shape = s.Shape(0);
        var outType = s.Node.GetDataType("out_type", DataType.DtInt32);
        s.Set(0, shape is null ? [-1] : [shape.Length], outType, ShapeMath.IsKnown(shape) ? ShapeMath.IntValue(shape!, [shape!.Length], outType) : null);
    }

    private static void ShapeNShape(ShapeContext s)
    {
        var outType = s.Node.GetDataType("out_type", DataType.DtInt32);
        for (var i = 0; i < s.InputCount; i++)
        {
            var shape = s.Shape(i);
            s.Set(i, shape is null ? [-1] : [shape.Length], outType, ShapeMath.IsKnown(shape) ? ShapeMath.IntValue(shape!, [shape!.Length], outType) : null);
        }
    }

    private static void SizeShape(ShapeContext s)
    {
        var shape = s.Shape(0);
        var outType = s.Node.GetDataType("out_type", DataType.DtInt32);
        s.Set(0, [], outType, ShapeMath.IsKnown(shape) ? ShapeMath.IntValue([TensorValue.ElementCount(shape!)], [], outType) : null);
    }

    private static StridedSliceSpec ResolveStridedSlice(NodeDef node, long[] x, long[] begin, long[] end, long[] strides) =>
        StridedSliceSpec.Resolve(x, begin, end, strides,
            node.GetInt("begin_mask", 0), node.GetInt("end_mask", 0), node.GetInt("ellipsis_mask", 0),
            node.GetInt("new_axis_mask", 0), node.GetInt("shrink_axis_mask", 0));

    private static void StridedSliceShape(ShapeContext s)
    {
        var node = s.Node;
        var x = s.Shape(0);
        var begin = s.Ints(1);
        var end = s.Ints(2);
        var strides = s.Ints(3);
        if (x is not null && begin is not null && end is not null && strides is not null)
        {
            var spec = ResolveStridedSlice(node, x, begin, end, strides);
            var value = FoldStridedSlice(s.Value(0), spec);
            if (value is null && spec.Dims.Count == 1 && IntFolding.PartialShape(s, 0) is { } partial)
                value = IntFolding.Pick(partial, Picks(spec.Dims[0]), spec.OutputShape, s.Type(0));
            s.Set(0, spec.OutputShape, s.Type(0), value);
            return;
        }
        // Begin or end known only at run time: the masks alone fix which axes are kept, added or dropped.
        var n = strides?.Length ?? Length(s, 1) ?? Length(s, 2);
        if (x is null || n is null)
        {
            s.Unknown();
            return;
        }
        s.Set(0, DynamicStridedSliceShape(node, x, (int)n, strides), s.Type(0));
    }

    /// <summary>
    /// The output shape of a strided slice whose begin/end are unknown: new axes are 1, axes the slice does not
    /// touch (ellipsis, trailing, or both masks with stride ±1) keep their size, the others are unknown.
    /// </summary>
    private static long[] DynamicStridedSliceShape(NodeDef node, long[] x, int n, long[]? strides)
    {
        var spec = ResolveStridedSlice(node, x, new long[n], new long[n], strides ?? Enumerable.Repeat(1L, n).ToArray());
        var beginMask = node.GetInt("begin_mask", 0);
        var endMask = node.GetInt("end_mask", 0);
        var kept = spec.Dims.Where(d => !d.Shrink).ToList();
        var output = new long[spec.OutputShape.Length];
        var k = 0;
        for (var o = 0; o < output.Length; o++)
        {
            if (spec.NewAxes.Contains(o))
            {
                output[o] = 1;
                continue;
            }
            var d = kept[k++];
            var whole = d.Sparse < 0 || ((beginMask >> d.Sparse & 1) != 0 && (endMask >> d.Sparse & 1) != 0 && strides is not null && Math.Abs(strides[d.Sparse]) == 1);
            output[o] = whole ? x[d.Input] : -1;
        }
        return output;
    }

    /// <summary>The indices one axis of a resolved strided slice keeps, in order.</summary>
    private static long[] Picks(StridedSliceSpec.Dim d)
    {
        if (d.Shrink)
            return [d.Begin];
        var list = new List<long>();
        for (var i = d.Begin; d.Stride > 0 ? i < d.End : i > d.End; i += d.Stride)
            list.Add(i);
        return [.. list];
    }

    /// <summary>A strided slice of a small known integer value: the kept indices of each input axis, in order.</summary>
    private static TensorValue? FoldStridedSlice(TensorValue? value, StridedSliceSpec spec)
    {
        if (value is null || !IntFolding.Foldable(spec.OutputShape) || value.Rank != spec.Dims.Count)
            return null;
        var picks = new long[spec.Dims.Count][];
        foreach (var d in spec.Dims)
            picks[d.Input] = Picks(d);
        var size = value.Shape;
        if (picks.Where((p, axis) => p.Any(i => i < 0 || i >= size[axis])).Any())
            return null;
        var strides = IntFolding.Strides(size);
        var gathered = IntFolding.Map(value, picks.Select(p => (long)p.Length).ToArray(), index =>
        {
            long offset = 0;
            for (var axis = 0; axis < index.Length; axis++)
                offset += picks[axis][index[axis]] * strides[axis];
            return offset;
        });
        return IntFolding.Reshape(gathered, spec.OutputShape);
    }

    /// <summary>Slice: begin, and a size per axis where -1 means "to the end".</summary>
    private static void SliceShape(ShapeContext s)
    {
        var x = s.Shape(0);
        var begin = s.Ints(1);
        var size = s.Ints(2);
        var rank = x?.Length ?? begin?.Length ?? size?.Length ?? Length(s, 1) ?? Length(s, 2);
        if (rank is null)
        {
            s.Unknown();
            return;
        }
        var outShape = Unknowns(rank.Value);
        for (var i = 0; i < outShape.Length; i++)
        {
            var dim = x?[i] ?? -1;
            if (begin is not null && (begin[i] < 0 || (dim >= 0 && begin[i] > dim)))
                throw new ArgumentException($"Slice begin {begin[i]} is out of range for dimension {i} of size {dim}.");
            if (size is not null && size[i] >= 0)
            {
                if (begin is not null && dim >= 0 && begin[i] + size[i] > dim)
                    throw new ArgumentException($"Slice of {size[i]} from {begin[i]} overruns dimension {i} of size {dim}.");
                outShape[i] = size[i];
            }
            else if (size is not null && size[i] == -1 && begin is not null && dim >= 0)
            {
                outShape[i] = dim - begin[i];
            }
            else if (size is not null && size[i] < -1)
            {
                throw new ArgumentException($"Slice size {size[i]} is negative.");
            }
        }
        TensorValue? value = null;
        if (s.Value(0) is { } xv && begin is not null && IntFolding.Foldable(outShape))
        {
            var strides = IntFolding.Strides(xv.Shape);
            value = IntFolding.Map(xv, outShape, index =>
            {
                long offset = 0;
                for (var axis = 0; axis < index.Length; axis++)
                    offset += (begin[axis] + index[axis]) * strides[axis];
                return offset;
            });
        }
        if (value is null && rank == 1 && begin is not null && outShape[0] >= 0 && IntFolding.PartialShape(s, 0) is { } partial)
            value = IntFolding.Pick(partial, Enumerable.Range(0, (int)outShape[0]).Select(i => begin[0] + i).ToArray(), outShape, s.Type(0));
        s.Set(0, outShape, s.Type(0), value);
    }

    private static void PackShape(ShapeContext s)
    {
        var axis = s.Node.GetInt("axis", 0);
        var shapes = Enumerable.Range(0, s.InputCount).Select(s.Shape).ToList();
        var first = shapes.FirstOrDefault(x => x is not null);
        long[]? outShape = null;
        TensorValue? value = null;
        if (shapes.Any(x => x is not null && x.Length != first!.Length))
            throw new ArgumentException("packed tensors differ in rank.");
        if (first is not null)
        {
            var at = CheckAxis(axis, first.Length + 1);
            var merged = Enumerable.Range(0, first.Length).Select(d => shapes.Where(x => x is not null).Select(x => x![d]).FirstOrDefault(v => v >= 0, -1)).ToList();
            merged.Insert(at, s.InputCount);
            outShape = [.. merged];
            // Stacking known values is concatenating them with the new axis inserted (a reshape).
            var parts = Enumerable.Range(0, s.InputCount).Select(i => s.Value(i) is { } v
                ? IntFolding.Reshape(v, [.. v.Shape.Take(at), 1, .. v.Shape.Skip(at)]) : null).ToList();
            value = IntFolding.Concat(parts, at, s.Type(0));
        }
        s.Set(0, outShape, s.Type(0), value);
    }

    private static void UnpackShape(ShapeContext s)
    {
        var x = s.Shape(0);
        var num = (int)s.Node.GetInt("num");
        var axis = (int)s.Node.GetInt("axis", 0);
        long[]? outShape = null;
        var at = -1;
        if (x is not null)
        {
            at = CheckAxis(axis, x.Length);
            if (x[at] >= 0 && x[at] != num)
                throw new ArgumentException($"Unpack of {num} along an axis of size {x[at]}.");
            outShape = x.Where((_, i) => i != at).ToArray();
        }
        var xv = s.Value(0);
        var partial = IntFolding.PartialShape(s, 0);
        for (var i = 0; i < num; i++)
        {
            // Unpacking a shape vector (a common way to read its dimensions) keeps the known sizes known.
            var value = IntFolding.Pick(partial, [i], [], s.Type(0));
            if (xv is not null && outShape is not null && value is null)
            {
                var strides = IntFolding.Strides(xv.Shape);
                var slice = i;
                value = IntFolding.Map(xv, outShape, index =>
                {
                    long offset = slice * strides[at];
                    for (int d = 0, k = 0; d < xv.Rank; d++)
                    {
                        if (d != at)
                            offset += index[k++] * strides[d];
                    }
                    return offset;
                });
            }
            s.Set(i, outShape, s.Type(0), value);
        }
    }

    private static void SplitShape(ShapeContext s)
    {
        var x = s.Shape(1);
        var num = (int)s.Node.GetInt("num_split");
        var dimV = s.Ints(0);
        long[]? outShape = null;
        if (x is not null)
        {
            outShape = Unknowns(x.Length);
            if (dimV is not null)
            {
                var axis = CheckAxis(dimV[0], x.Length, "split_dim");
                if (x[axis] >= 0 && x[axis] % num != 0)
                    throw new ArgumentException($"Split of a dimension of size {x[axis]} into {num} equal parts.");
                outShape = (long[])x.Clone();
                outShape[axis] = x[axis] < 0 ? -1 : x[axis] / num;
            }
        }
        for (var i = 0; i < num; i++)
            s.Set(i, outShape, s.Type(1));
    }

    /// <summary>SplitV's sizes with its one -1 resolved against the axis size; null where that size is needed but unknown.</summary>
    private static long[]? ResolveSplits(long[] sizes, long dim)
    {
        var fill = Array.IndexOf(sizes, -1);
        if (sizes.Count(v => v == -1) > 1 || sizes.Any(v => v < -1))
            throw new ArgumentException($"SplitV sizes [{string.Join(",", sizes)}] have more than one -1 or a negative size.");
        var sum = sizes.Where(v => v >= 0).Sum();
        if (dim >= 0 && (fill < 0 ? sum != dim : sum > dim))
            throw new ArgumentException($"SplitV sizes [{string.Join(",", sizes)}] do not add up to the dimension's {dim}.");
        if (fill < 0)
            return sizes;
        if (dim < 0)
            return null;
        var resolved = (long[])sizes.Clone();
        resolved[fill] = dim - sum;
        return resolved;
    }

    private static void SplitVShape(ShapeContext s)
    {
        var x = s.Shape(0);
        var sizes = s.Ints(1);
        var dimV = s.Ints(2);
        var num = (int)s.Node.GetInt("num_split");
        for (var i = 0; i < num; i++)
        {
            long[]? outShape = null;
            if (x is not null)
            {
                outShape = Unknowns(x.Length);
                if (dimV is not null)
                {
                    var axis = CheckAxis(dimV[0], x.Length, "split_dim");
                    outShape = (long[])x.Clone();
                    var resolved = sizes is null ? null : ResolveSplits(sizes, x[axis]);
                    outShape[axis] = resolved?[i] ?? (sizes is not null && sizes[i] >= 0 ? sizes[i] : -1);
                }
            }
            s.Set(i, outShape, s.Type(0));
        }
    }

    /// <summary>Fill's dims: known values, else a rank from the dims vector's length when that is known (else unknown).</summary>
    private static void FillShape(ShapeContext s)
    {
        var dims = s.Ints(0);
        if (dims is not null && dims.Any(d => d < 0))
            throw new ArgumentException($"Fill dims [{string.Join(",", dims)}] has a negative size.");
        var shape = dims ?? (Length(s, 0) is { } n ? Unknowns(n) : null);
        TensorValue? value = null;
        if (IntFolding.Foldable(shape) && IntFolding.Small(s.Value(1)) is [var v])
            value = ShapeMath.IntValue(Enumerable.Repeat(v, (int)TensorValue.ElementCount(shape!)).ToArray(), shape, s.Type(1));
        s.Set(0, shape, s.Type(1), value);
    }

    private static void LikeShape(ShapeContext s, int fill)
    {
        var shape = s.Shape(0);
        var type = s.Type(0);
        TensorValue? value = null;
        if (IntFolding.Foldable(shape) && type is DataType.DtInt32 or DataType.DtInt64)
            value = ShapeMath.IntValue(Enumerable.Repeat((long)fill, (int)TensorValue.ElementCount(shape!)).ToArray(), shape, type);
        s.Set(0, shape, type, value);
    }

    private static void TileShape(ShapeContext s)
    {
        var x = s.Shape(0);
        var multiples = s.Ints(1);
        var rank = x?.Length ?? multiples?.Length ?? Length(s, 1);
        if (rank is null)
        {
            s.Unknown();
            return;
        }
        if (multiples is not null && (multiples.Length != rank || multiples.Any(m => m < 0)))
            throw new ArgumentException($"Tile multiples [{string.Join(",", multiples)}] do not fit a rank-{rank} tensor.");
        var outShape = Unknowns(rank.Value);
        for (var i = 0; i < outShape.Length; i++)
        {
            if (multiples is not null && (multiples[i] == 0 || (x is not null && x[i] >= 0)))
                outShape[i] = multiples[i] == 0 ? 0 : x![i] * multiples[i];
        }
        TensorValue? value = null;
        if (s.Value(0) is { } xv)
        {
            var size = xv.Shape;
            var strides = IntFolding.Strides(size);
            value = IntFolding.Map(xv, outShape, index =>
            {
                long offset = 0;
                for (var axis = 0; axis < index.Length; axis++)
                    offset += index[axis] % size[axis] * strides[axis];
                return offset;
            });
        }
        s.Set(0, outShape, s.Type(0), value);
    }

    private static void BroadcastToShape(ShapeContext s)
    {
        var target = s.Ints(1);
        var outShape = target ?? (Length(s, 1) is { } n ? Unknowns(n) : null);
        if (target is null && outShape is not null && s.Shape(0) is { } x && x.Length <= outShape.Length)
        {
            // Known input sizes other than 1 carry over to the broadcast shape.
            for (var i = 0; i < x.Length; i++)
            {
                if (x[i] > 1)
                    outShape[outShape.Length - x.Length + i] = x[i];
            }
        }
        TensorValue? value = null;
        if (s.Value(0) is { } xv && target is not null && xv.Rank <= target.Length)
        {
            if (xv.Shape.Select((d, i) => d != 1 && d != target[target.Length - xv.Rank + i]).Any(b => b))
                throw new ArgumentException($"cannot broadcast {TensorValue.ShapeText(xv.Shape)} to {TensorValue.ShapeText(target)}.");
            var strides = IntFolding.Strides(xv.Shape);
            var lead = target.Length - xv.Rank;
            value = IntFolding.Map(xv, target, index =>
            {
                long offset = 0;
                for (var d = 0; d < xv.Rank; d++)
                    offset += (xv.Shape[d] == 1 ? 0 : index[d + lead]) * strides[d];
                return offset;
            });
        }
        s.Set(0, outShape, s.Type(0), value);
    }

    /// <summary>The broadcast shape of two shape vectors, as a vector; TensorFlow rejects incompatible sizes.</summary>
    private static void BroadcastArgsShape(ShapeContext s)
    {
        var a = s.Ints(0);
        var b = s.Ints(1);
        var la = Length(s, 0);
        var lb = Length(s, 1);
        TensorValue? value = null;
        if (a is not null && b is not null)
        {
            var n = Math.Max(a.Length, b.Length);
            var result = new long[n];
            for (var i = 0; i < n; i++)
            {
                var da = i - (n - a.Length) >= 0 ? a[i - (n - a.Length)] : 1;
                var db = i - (n - b.Length) >= 0 ? b[i - (n - b.Length)] : 1;
                if (da != db && da != 1 && db != 1)
                    throw new ArgumentException($"incompatible shapes [{string.Join(",", a)}] and [{string.Join(",", b)}].");
                result[i] = da == 1 ? db : da;
            }
            value = ShapeMath.IntValue(result, [n], s.Type(0));
        }
        s.Set(0, [la is { } x && lb is { } y ? Math.Max(x, y) : -1], s.Type(0), value);
    }

    private static void ReverseShape(ShapeContext s)
    {
        var x = s.Shape(0);
        var axes = s.Ints(1);
        TensorValue? value = null;
        if (x is not null && axes is not null)
        {
            var set = axes.Select(a => CheckAxis(a, x.Length)).ToHashSet();
            if (set.Count != axes.Length)
                throw new ArgumentException($"ReverseV2 axes [{string.Join(",", axes)}] repeat an axis.");
            if (s.Value(0) is { } xv)
            {
                var strides = IntFolding.Strides(xv.Shape);
                value = IntFolding.Map(xv, xv.Shape, index =>
                {
                    long offset = 0;
                    for (var d = 0; d < index.Length; d++)
                        offset += (set.Contains(d) ? xv.Shape[d] - 1 - index[d] : index[d]) * strides[d];
                    return offset;
                });
            }
        }
        s.Set(0, x, s.Type(0), value);
    }

    public static void Concat(NodeDef node, TranslationContext c, int axisInput, int first)
    {
        var inputs = node.DataInputs().ToArray();
        var parts = inputs.Where((_, i) => i != axisInput).ToArray();
        var rank = parts.Select(p => c.Rank(p)).FirstOrDefault(r => r is not null);
        var axis = OnnxAxis(c.RequireInts(node, axisInput, "the axis")[0], rank);
        var channelsFirst = rank == 4 && parts.Any(p => c.LayoutOf(p) == Layout.Nchw);
        var layout = channelsFirst ? Layout.Nchw : Layout.Tf;
        var onnxAxis = channelsFirst ? TranslationContext.NhwcAxisInNchw[axis] : axis;
        var names = parts.Select(p => c.Get(p, layout)).ToArray();
        c.Set(node, 0, c.Builder.Node("Concat", names, name: node.Name, attributes: ("axis", (long)onnxAxis)), layout);
    }

    public static void Pad(NodeDef node, TranslationContext c)
    {
        var x = node.DataInput(0);
        var inputs = new List<string>();
        var layout = Layout.Tf;
        if (c.Value(node.DataInput(1)) is { } known)
        {
            var paddings = known.ToInt64Array();
            var rank = paddings.Length / 2;
            layout = rank == 4 ? c.LayoutOf(x) : Layout.Tf;
            var begins = new long[rank];
            var ends = new long[rank];
            for (var i = 0; i < rank; i++)
            {
                var target = layout == Layout.Nchw ? TranslationContext.NhwcAxisInNchw[i] : i;
                begins[target] = paddings[2 * i];
                ends[target] = paddings[2 * i + 1];
            }
            inputs.Add(c.Get(x, layout));
            inputs.Add(c.Builder.Int64s("pads", [.. begins, .. ends]));
        }
        else
        {
            // Paddings known at run time: TensorFlow's [rank, 2] rows become ONNX's begins-then-ends vector.
            var rows = c.GetInt64(node.DataInput(1));
            var columns = c.Builder.Node("Transpose", [rows], attributes: ("perm", new long[] { 1, 0 }));
            inputs.Add(c.Get(x));
            inputs.Add(c.Builder.Node("Reshape", [columns, c.Builder.Int64s("flat", -1)]));
        }
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

    /// <summary>allowzero: a 0 in TensorFlow's target is a size 0, where ONNX by default would copy the input's size.</summary>
    public static void Reshape(NodeDef node, TranslationContext c) =>
        c.Set(node, 0, c.Builder.Node("Reshape", [c.Get(node.DataInput(0)), c.GetInt64(node.DataInput(1))], name: node.Name, attributes: ("allowzero", 1L)));

    public static void Squeeze(NodeDef node, TranslationContext c)
    {
        var x = node.DataInput(0);
        var dims = node.GetInts("squeeze_dims", []);
        var inputs = new List<string> { c.Get(x) };
        if (dims.Length > 0)
            inputs.Add(c.Builder.Int64s("axes", dims));
        c.Set(node, 0, c.Builder.Node("Squeeze", inputs, name: node.Name));
    }

    /// <summary>ONNX counts a negative Unsqueeze axis from the end of the output, as TensorFlow does, so a fed axis passes through.</summary>
    public static void ExpandDims(NodeDef node, TranslationContext c)
    {
        c.Set(node, 0, c.Builder.Node("Unsqueeze", [c.Get(node.DataInput(0)), Int64Vector(c, node.DataInput(1))], name: node.Name));
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

    private static string ShapeOf(TranslationContext c, TensorName x, DataType outType, string? name = null)
    {
        var (input, layout) = c.Lookup(x);
        var shape = c.Builder.Node("Shape", [input]);
        if (layout == Layout.Nchw)
            shape = c.Builder.Node("Gather", [shape, c.Builder.Int64s("nhwc", 0, 2, 3, 1)], attributes: ("axis", 0L));
        if (outType == DataType.DtInt32)
            shape = Cast(c, shape, OnnxType.Int32);
        return c.Builder.Node("Identity", [shape], name: name);
    }

    public static void ShapeOp(NodeDef node, TranslationContext c) =>
        c.Set(node, 0, ShapeOf(c, node.DataInput(0), node.GetDataType("out_type", DataType.DtInt32), node.Name));

    public static void ShapeN(NodeDef node, TranslationContext c)
    {
        var outType = node.GetDataType("out_type", DataType.DtInt32);
        var i = 0;
        foreach (var input in node.DataInputs())
        {
            // A multi-output node is not replaced by a constant as a whole; each known shape is one here.
            if (c.Value(new TensorName(node.Name, i)) is { } known)
                c.SetConstant(node, i, known);
            else
                c.Set(node, i, ShapeOf(c, input, outType));
            i++;
        }
    }

    public static void StridedSlice(NodeDef node, TranslationContext c)
    {
        var x = node.DataInput(0);
        var shape = c.Shape(x) ?? throw new NotSupportedException($"node '{node.Name}' (StridedSlice): input rank unknown.");
        var strides = c.RequireInts(node, 3, "strides");
        var beginValue = c.Value(node.DataInput(1));
        var endValue = c.Value(node.DataInput(2));
        var n = strides.Length;
        var known = beginValue is not null && endValue is not null;
        var begin = beginValue?.ToInt64Array() ?? new long[n];
        var end = endValue?.ToInt64Array() ?? new long[n];
        var beginMask = node.GetInt("begin_mask", 0);
        var endMask = node.GetInt("end_mask", 0);
        var spec = ResolveStridedSlice(node, shape, begin, end, strides);
        var sliced = spec.Dims.Where(d => d.Sparse >= 0).ToList();
        var starts = new long[sliced.Count];
        var ends = new long[sliced.Count];
        var steps = new long[sliced.Count];
        var shrinks = new bool[sliced.Count];
        var beginMasked = new bool[sliced.Count];
        var endMasked = new bool[sliced.Count];
        for (var k = 0; k < sliced.Count; k++)
        {
            var d = sliced[k];
            var i = d.Sparse;
            var stride = strides[i];
            shrinks[k] = d.Shrink;
            if (d.Shrink)
            {
                // TensorFlow ignores the masks of a shrunk axis; x[-1] must end past the last element, not at -1+1 = 0.
                starts[k] = begin[i];
                ends[k] = begin[i] == -1 ? long.MaxValue : begin[i] + 1;
                steps[k] = 1;
                continue;
            }
            beginMasked[k] = (beginMask >> i & 1) != 0;
            endMasked[k] = (endMask >> i & 1) != 0;
            starts[k] = beginMasked[k] ? (stride > 0 ? 0 : long.MaxValue) : begin[i];
            ends[k] = endMasked[k] ? (stride > 0 ? long.MaxValue : long.MinValue) : end[i];
            steps[k] = stride;
        }
        var current = c.Get(x);
        var shrinkAxes = sliced.Where(d => d.Shrink).Select(d => (long)d.Input).ToArray();
        if (known)
        {
            var keep = Enumerable.Range(0, sliced.Count).Where(k => !(starts[k] == 0 && ends[k] == long.MaxValue && steps[k] == 1)).ToArray();
            if (keep.Length > 0)
            {
                current = c.Builder.Node("Slice", [current, c.Builder.Int64s("starts", [.. keep.Select(k => starts[k])]),
                    c.Builder.Int64s("ends", [.. keep.Select(k => ends[k])]), c.Builder.Int64s("axes", [.. keep.Select(k => (long)sliced[k].Input)]),
                    c.Builder.Int64s("steps", [.. keep.Select(k => steps[k])])]);
            }
        }
        else if (sliced.Count > 0)
        {
            // Begin or end fed at run time: pick each sliced axis's entries and let the masks choose the fill values.
            var picks = c.Builder.Int64s("picks", [.. sliced.Select(d => (long)d.Sparse)]);
            var b = c.Builder.Node("Gather", [c.GetInt64(node.DataInput(1)), picks], attributes: ("axis", 0L));
            var e = c.Builder.Node("Gather", [c.GetInt64(node.DataInput(2)), picks], attributes: ("axis", 0L));
            string Mask(string hint, bool[] bits) => c.Builder.Initializer(hint, TensorValue.FromArray(DataType.DtBool, [bits.Length], bits.Select(v => (byte)(v ? 1 : 0)).ToArray()));
            var startsT = c.Builder.Node("Where", [Mask("begin_masked", beginMasked), c.Builder.Int64s("starts", starts), b]);
            var endsT = c.Builder.Node("Where", [Mask("end_masked", endMasked), c.Builder.Int64s("ends", ends), e]);
            var minusOne = c.Builder.Node("Equal", [b, c.Builder.Int64Scalar("minus_one", -1)]);
            var next = c.Builder.Node("Where", [minusOne, c.Builder.Int64Scalar("max", long.MaxValue), c.Builder.Node("Add", [b, c.Builder.Int64Scalar("one", 1)])]);
            endsT = c.Builder.Node("Where", [Mask("shrink", shrinks), next, endsT]);
            startsT = c.Builder.Node("Where", [Mask("shrink", shrinks), b, startsT]);
            current = c.Builder.Node("Slice", [current, startsT, endsT, c.Builder.Int64s("axes", [.. sliced.Select(d => (long)d.Input)]), c.Builder.Int64s("steps", steps)]);
        }
        if (shrinkAxes.Length > 0)
            current = c.Builder.Node("Squeeze", [current, c.Builder.Int64s("axes", shrinkAxes)]);
        if (spec.NewAxes.Count > 0)
            current = c.Builder.Node("Unsqueeze", [current, c.Builder.Int64s("axes", [.. spec.NewAxes.Select(a => (long)a)])]);
        c.Set(node, 0, c.Builder.Node("Identity", [current], name: node.Name));
    }

    /// <summary>Slice's size -1 runs to the end of the axis; with begin/size fed the ends are worked out in the graph.</summary>
    public static void Slice(NodeDef node, TranslationContext c)
    {
        var x = node.DataInput(0);
        var rank = c.Rank(x) ?? c.Shape(node.DataInput(1))?[0];
        if (rank == 0)
        {
            c.Set(node, 0, c.Builder.Node("Identity", [c.Get(x)], name: node.Name));
            return;
        }
        string starts, ends;
        if (c.Value(node.DataInput(1)) is { } bv && c.Value(node.DataInput(2)) is { } sv)
        {
            var begin = bv.ToInt64Array();
            var size = sv.ToInt64Array();
            starts = c.Builder.Int64s("starts", begin);
            ends = c.Builder.Int64s("ends", begin.Select((b, i) => size[i] == -1 ? long.MaxValue : b + size[i]).ToArray());
        }
        else
        {
            starts = c.GetInt64(node.DataInput(1));
            var size = c.GetInt64(node.DataInput(2));
            var toEnd = c.Builder.Node("Equal", [size, c.Builder.Int64Scalar("minus_one", -1)]);
            ends = c.Builder.Node("Where", [toEnd, c.Builder.Int64Scalar("max", long.MaxValue), c.Builder.Node("Add", [starts, size])]);
        }
        c.Set(node, 0, c.Builder.Node("Slice", [c.Get(x), starts, ends], name: node.Name));
    }

    public static void SizeOp(NodeDef node, TranslationContext c)
    {
        // The element count does not depend on the layout, so a channels-first input is read as it is.
        var size = c.Builder.Node("Size", [c.Lookup(node.DataInput(0)).Name]);
        var type = OnnxBuilder.ElementType(node.GetDataType("out_type", DataType.DtInt32));
        c.Set(node, 0, c.Builder.Node("Cast", [size], name: node.Name, attributes: ("to", (long)type)));
    }

    public static void RankOp(NodeDef node, TranslationContext c)
    {
        var rank = c.Builder.Node("Size", [c.Builder.Node("Shape", [c.Lookup(node.DataInput(0)).Name])]);
        c.Set(node, 0, c.Builder.Node("Cast", [rank], name: node.Name, attributes: ("to", (long)OnnxType.Int32)));
    }

    public static void Pack(NodeDef node, TranslationContext c)
    {
        var inputs = node.DataInputs().ToArray();
        var rank = inputs.Select(t => c.Rank(t)).FirstOrDefault(r => r is not null);
        // A negative axis counts from the end of the output in TensorFlow's Pack, in Unsqueeze, and in the Concat after it.
        var axis = OnnxAxis(node.GetInt("axis", 0), rank + 1);
        var axesName = c.Builder.Int64s("axes", axis);
        var parts = inputs.Select(t => c.Builder.Node("Unsqueeze", [c.Get(t), axesName])).ToArray();
        c.Set(node, 0, c.Builder.Node("Concat", parts, name: node.Name, attributes: ("axis", axis)));
    }

    public static void Unpack(NodeDef node, TranslationContext c)
    {
        var x = node.DataInput(0);
        var num = (int)node.GetInt("num");
        var axis = OnnxAxis(node.GetInt("axis", 0), c.Rank(x));
        var axesName = c.Builder.Int64s("axes", axis);
        if (num == 1)
        {
            c.Set(node, 0, c.Builder.Node("Squeeze", [c.Get(x), axesName]));
            return;
        }
        var pieces = c.Builder.NodeMulti("Split", [c.Get(x)], num, node.Name, ("axis", axis), ("num_outputs", (long)num));
        for (var i = 0; i < num; i++)
            c.Set(node, i, c.Builder.Node("Squeeze", [pieces[i], axesName]));
    }

    public static void Split(NodeDef node, TranslationContext c)
    {
        var x = node.DataInput(1);
        var axis = OnnxAxis(c.RequireInts(node, 0, "the split axis")[0], c.Rank(x));
        var num = (int)node.GetInt("num_split");
        if (num == 1)
        {
            c.Set(node, 0, c.Builder.Node("Identity", [c.Get(x)]));
            return;
        }
        var pieces = c.Builder.NodeMulti("Split", [c.Get(x)], num, node.Name, ("axis", axis), ("num_outputs", (long)num));
        for (var i = 0; i < num; i++)
            c.Set(node, i, pieces[i]);
    }

    /// <summary>SplitV: explicit sizes, one of which may be -1 (the rest of the axis), resolved in the graph when not known here.</summary>
    public static void SplitV(NodeDef node, TranslationContext c)
    {
        var x = node.DataInput(0);
        var shape = c.Shape(x);
        var axis = OnnxAxis(c.RequireInts(node, 2, "the split axis")[0], shape?.Length);
        var num = (int)node.GetInt("num_split");
        var input = c.Get(x);
        if (num == 1)
        {
            c.Set(node, 0, c.Builder.Node("Identity", [input]));
            return;
        }
        string split;
        if (c.Value(node.DataInput(1)) is { } sv && ResolveSplits(sv.ToInt64Array(), shape?[axis] ?? -1) is { } resolved)
        {
            split = c.Builder.Int64s("split", resolved);
        }
        else
        {
            var sizes = c.GetInt64(node.DataInput(1));
            var dim = c.Builder.Node("Gather", [c.Builder.Node("Shape", [input]), c.Builder.Int64s("axis", axis)], attributes: ("axis", 0L));
            // sum(sizes) counts the -1 once, so the rest of the axis is dim - (sum + 1).
            var sum = c.Builder.Node("ReduceSum", [sizes], attributes: ("keepdims", 1L));
            var rest = c.Builder.Node("Sub", [dim, c.Builder.Node("Add", [sum, c.Builder.Int64s("one", 1)])]);
            var isFill = c.Builder.Node("Equal", [sizes, c.Builder.Int64Scalar("minus_one", -1)]);
            split = c.Builder.Node("Where", [isFill, rest, sizes]);
        }
        var pieces = c.Builder.NodeMulti("Split", [input, split], num, node.Name, ("axis", axis));
        for (var i = 0; i < num; i++)
            c.Set(node, i, pieces[i]);
    }

    public static void Fill(NodeDef node, TranslationContext c)
    {
        var dims = c.GetInt64(node.DataInput(0));
        c.Set(node, 0, c.Builder.Node("Expand", [c.Get(node.DataInput(1)), dims], name: node.Name));
    }

    /// <summary>ZerosLike/OnesLike: a constant of the input's shape (not x*0, which would keep NaNs), in the input's layout.</summary>
    public static void Like(NodeDef node, TranslationContext c, int fill)
    {
        var x = node.DataInput(0);
        var (name, layout) = c.Lookup(x);
        var value = OnnxBuilder.Tensor("value", Scalar(c.Type(x), fill, [1]));
        c.Set(node, 0, c.Builder.Node("ConstantOfShape", [c.Builder.Node("Shape", [name])], name: node.Name, attributes: ("value", value)), layout);
    }

    public static void Tile(NodeDef node, TranslationContext c) =>
        c.Set(node, 0, c.Builder.Node("Tile", [c.Get(node.DataInput(0)), c.GetInt64(node.DataInput(1))], name: node.Name));

    /// <summary>ONNX Expand broadcasts both ways; TensorFlow only ever broadcasts the input to the shape, so they agree on valid graphs.</summary>
    public static void BroadcastTo(NodeDef node, TranslationContext c) =>
        c.Set(node, 0, c.Builder.Node("Expand", [c.Get(node.DataInput(0)), c.GetInt64(node.DataInput(1))], name: node.Name));

    /// <summary>Both shape vectors padded with leading 1s to one length; then each size is the other's where it is 1.</summary>
    public static void BroadcastArgs(NodeDef node, TranslationContext c)
    {
        var type = c.Type(node.DataInput(0));
        var a = c.Get(node.DataInput(0));
        var b = c.Get(node.DataInput(1));
        var la = c.Builder.Node("Shape", [a]);
        var lb = c.Builder.Node("Shape", [b]);
        var n = c.Builder.Node("Max", [la, lb]);
        var zero = c.Builder.Int64s("zero", 0);
        var one = c.Builder.Initializer("one", Scalar(type, 1));
        var pa = c.Builder.Node("Pad", [a, c.Builder.Node("Concat", [c.Builder.Node("Sub", [n, la]), zero], attributes: ("axis", 0L)), one]);
        var pb = c.Builder.Node("Pad", [b, c.Builder.Node("Concat", [c.Builder.Node("Sub", [n, lb]), zero], attributes: ("axis", 0L)), one]);
        c.Set(node, 0, c.Builder.Node("Where", [c.Builder.Node("Equal", [pa, one]), pb, pa], name: node.Name));
    }

    /// <summary>ReverseV2 as a Slice with step -1 over each axis named.</summary>
    public static void Reverse(NodeDef node, TranslationContext c)
    {
        var x = node.DataInput(0);
        var axes = c.RequireInts(node, 1, "the axes").Select(a => OnnxAxis(a, c.Rank(x))).ToArray();
        if (axes.Length == 0)
        {
            c.Set(node, 0, c.Builder.Node("Identity", [c.Get(x)], name: node.Name));
            return;
        }
        var starts = c.Builder.Int64s("starts", axes.Select(_ => -1L).ToArray());
        var ends = c.Builder.Int64s("ends", axes.Select(_ => long.MinValue).ToArray());
        var steps = c.Builder.Int64s("steps", axes.Select(_ => -1L).ToArray());
        c.Set(node, 0, c.Builder.Node("Slice", [c.Get(x), starts, ends, c.Builder.Int64s("axes", axes), steps], name: node.Name));
    }

    public static void RandomUniform(NodeDef node, TranslationContext c)
    {
        var dims = c.GetInt64(node.DataInput(0));
        var zeros = c.Builder.Node("ConstantOfShape", [dims]);
        var dtype = (long)OnnxBuilder.ElementType(node.GetDataType("dtype", DataType.DtFloat));
        c.Set(node, 0, c.Builder.Node("RandomUniformLike", [zeros], name: node.Name, attributes: [("dtype", dtype), ("low", 0f), ("high", 1f)]));
    }
}
