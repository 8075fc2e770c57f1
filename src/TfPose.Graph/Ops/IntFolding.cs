using TfPose.Graph.Proto;

namespace TfPose.Graph.Ops;

/// <summary>
/// Evaluates data-movement ops on small known integer tensors while shapes are inferred, so that the shape
/// arithmetic of real graphs (Shape → Gather/Slice/Tile/Concat → Reshape) becomes constants. Every helper gives
/// null when it cannot or should not evaluate (unknown, not integer, too large, index out of range): the op then
/// runs in ONNX and fails there if TensorFlow would have failed.
/// </summary>
internal static class IntFolding
{
    /// <summary>Integer contents of a known small integer value; null otherwise.</summary>
    public static long[]? Small(TensorValue? v) => v is not null && ShapeMath.IsInteger(v) && v.Count <= ShapeMath.MaxFoldElements ? v.ToInt64Array() : null;

    /// <summary>Whether a result of this shape is small enough to compute here.</summary>
    public static bool Foldable(long[]? shape)
    {
        if (!ShapeMath.IsKnown(shape))
            return false;
        long n = 1;
        foreach (var d in shape!)
        {
            n *= d;
            if (n > ShapeMath.MaxFoldElements)
                return false;
        }
        return true;
    }

    public static long[] Strides(long[] shape)
    {
        var strides = new long[shape.Length];
        long acc = 1;
        for (var i = shape.Length - 1; i >= 0; i--)
        {
            strides[i] = acc;
            acc *= shape[i];
        }
        return strides;
    }

    /// <summary>
    /// Builds a tensor of <paramref name="outShape"/> whose element at each multi-index is <paramref name="source"/>'s
    /// element at the flat offset <paramref name="offset"/> returns; a negative offset (an index out of range) gives null.
    /// </summary>
    public static TensorValue? Map(TensorValue source, long[] outShape, Func<long[], long> offset)
    {
        if (!Foldable(outShape) || Small(source) is not { } src)
            return null;
        var count = TensorValue.ElementCount(outShape);
        var result = new long[count];
        var index = new long[outShape.Length];
        for (long i = 0; i < count; i++)
        {
            var o = offset(index);
            if (o < 0 || o >= src.Length)
                return null;
            result[i] = src[o];
            Next(index, outShape);
        }
        return ShapeMath.IntValue(result, outShape, source.Type);
    }

    /// <summary>Advances a row-major multi-index.</summary>
    public static void Next(long[] index, long[] shape)
    {
        for (var d = shape.Length - 1; d >= 0; d--)
        {
            if (++index[d] < shape[d])
                return;
            index[d] = 0;
        }
    }

    /// <summary>Concatenation of known values along <paramref name="axis"/> (all of one rank).</summary>
    public static TensorValue? Concat(IReadOnlyList<TensorValue?> parts, int axis, DataType type)
    {
        if (parts.Count == 0 || parts.Any(p => Small(p) is null))
            return null;
        var rank = parts[0]!.Rank;
        if (parts.Any(p => p!.Rank != rank) || axis < 0 || axis >= rank)
            return null;
        var outShape = (long[])parts[0]!.Shape.Clone();
        outShape[axis] = parts.Sum(p => p!.Shape[axis]);
        if (!Foldable(outShape))
            return null;
        var outer = outShape.Take(axis).Aggregate(1L, (a, b) => a * b);
        var result = new List<long>();
        var data = parts.Select(p => p!.ToInt64Array()).ToArray();
        for (long o = 0; o < outer; o++)
        {
            for (var p = 0; p < parts.Count; p++)
            {
                var block = parts[p]!.Shape.Skip(axis).Aggregate(1L, (a, b) => a * b);
                result.AddRange(data[p].AsSpan((int)(o * block), (int)block).ToArray());
            }
        }
        return ShapeMath.IntValue([.. result], outShape, type);
    }

    /// <summary>The same elements under another shape.</summary>
    public static TensorValue? Reshape(TensorValue? value, long[]? shape) =>
        value is not null && ShapeMath.IsKnown(shape) && TensorValue.ElementCount(shape!) == value.Count ? new TensorValue(value.Type, shape!, value.Bytes.ToArray()) : null;

    /// <summary>
    /// A shape vector whose value is only partly known: the output of Shape on a tensor with some unknown sizes
    /// (-1 entries), looking through Identity. Picking its known entries (x.shape[1] of an image batch of unknown
    /// size) still gives constants. Null when the input is not such a vector.
    /// </summary>
    public static long[]? PartialShape(ShapeContext s, int input)
    {
        if (s.Rank(input) != 1 || s.Value(input) is not null)
            return null;
        var node = s.Graph.FindNode(s.Input(input).Node);
        while (node is { Op: "Identity" or "StopGradient" or "Snapshot" } && node.Input.Count > 0)
            node = s.Graph.FindNode(node.DataInput(0).Node);
        return node is { Op: "Shape" } && node.Input.Count > 0 ? s.ShapeOf(node.DataInput(0)) : null;
    }

    /// <summary>The picked entries of a partly known shape vector as a value of <paramref name="shape"/>, if all are known.</summary>
    public static TensorValue? Pick(long[]? partial, IReadOnlyList<long> positions, long[] shape, DataType type)
    {
        if (partial is null || positions.Any(p => p < -partial.Length || p >= partial.Length))
            return null;
        var values = positions.Select(p => partial[p < 0 ? p + partial.Length : p]).ToArray();
        return values.All(v => v >= 0) && values.Length == TensorValue.ElementCount(shape) ? ShapeMath.IntValue(values, shape, type) : null;
    }

    /// <summary>Which elements of a known value are non-zero (true), for bool, integer and float values; null otherwise.</summary>
    public static bool[]? NonZero(TensorValue? v)
    {
        if (v is null || v.Count > ShapeMath.MaxFoldElements)
            return null;
        return v.Type switch
        {
            DataType.DtBool or DataType.DtUint8 or DataType.DtInt8 => v.Bytes.ToArray().Select(b => b != 0).ToArray(),
            DataType.DtInt32 or DataType.DtInt64 => v.ToInt64Array().Select(x => x != 0).ToArray(),
            DataType.DtFloat => v.Span<float>().ToArray().Select(x => x != 0).ToArray(),
            DataType.DtDouble => v.Span<double>().ToArray().Select(x => x != 0).ToArray(),
            _ => null,
        };
    }
}
