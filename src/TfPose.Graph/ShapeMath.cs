using TfPose.Graph.Proto;

namespace TfPose.Graph;

/// <summary>Arithmetic on static shapes and small integer values, shared by the op units' shape rules.</summary>
internal static class ShapeMath
{
    /// <summary>Small integer tensors (shape arithmetic) are evaluated; larger ones are left to the runtime.</summary>
    public const long MaxFoldElements = 1 << 16;

    public static int NormalizeAxis(long axis, int rank) => (int)(axis < 0 ? axis + rank : axis);

    public static bool IsInteger(TensorValue v) => v.Type is DataType.DtInt32 or DataType.DtInt64;

    public static bool IsKnown(long[]? shape) => shape is not null && shape.All(d => d >= 0);

    /// <summary>Output size of a window op along one axis, as TensorFlow computes it; -1 when the input size is unknown.</summary>
    public static long ConvOut(long input, long kernel, long stride, long dilation, string padding, long[]? explicitPads, int dim)
    {
        if (input < 0)
            return -1;
        var effective = (kernel - 1) * dilation + 1;
        return padding switch
        {
            "SAME" => (input + stride - 1) / stride,
            "EXPLICIT" => (input + explicitPads![2 * dim] + explicitPads[2 * dim + 1] - effective) / stride + 1,
            _ => (input - effective + stride) / stride,
        };
    }

    /// <summary>NumPy broadcasting of two shapes; an unknown dimension against a known one other than 1 takes the known one.</summary>
    public static long[]? Broadcast(long[]? a, long[]? b)
    {
        if (a is null || b is null)
            return null;
        var rank = Math.Max(a.Length, b.Length);
        var result = new long[rank];
        for (var i = 0; i < rank; i++)
        {
            var da = i - (rank - a.Length) >= 0 ? a[i - (rank - a.Length)] : 1;
            var db = i - (rank - b.Length) >= 0 ? b[i - (rank - b.Length)] : 1;
            result[i] = da == 1 ? db : db == 1 ? da : da < 0 ? db : da;
        }
        return result;
    }

    public static TensorValue IntValue(long[] values, long[]? shape, DataType type) =>
        type == DataType.DtInt64
            ? TensorValue.FromArray<long>(DataType.DtInt64, shape ?? [values.Length], values)
            : TensorValue.FromArray<int>(DataType.DtInt32, shape ?? [values.Length], values.Select(v => checked((int)v)).ToArray());

    /// <summary>
    /// Element-wise integer arithmetic on small known values (shape computations), with NumPy broadcasting;
    /// null when either value is unknown, not integer, too large, or the op has no integer rule here.
    /// </summary>
    public static TensorValue? FoldBinary(TensorValue? a, TensorValue? b, Func<long, long, long?> op)
    {
        if (a is null || b is null || !IsInteger(a) || !IsInteger(b) || a.Count > MaxFoldElements || b.Count > MaxFoldElements)
            return null;
        var shape = Broadcast(a.Shape, b.Shape)!;
        if (shape.Any(d => d < 0))
            return null;
        var x = a.ToInt64Array();
        var y = b.ToInt64Array();
        var count = TensorValue.ElementCount(shape);
        var result = new long[count];
        var index = new long[shape.Length];
        for (long i = 0; i < count; i++)
        {
            var v = op(x[BroadcastOffset(index, a.Shape, shape)], y[BroadcastOffset(index, b.Shape, shape)]);
            if (v is null)
                return null;
            result[i] = v.Value;
            for (var d = shape.Length - 1; d >= 0; d--)
            {
                if (++index[d] < shape[d])
                    break;
                index[d] = 0;
            }
        }
        return IntValue(result, shape, a.Type);
    }

    /// <summary>Offset into a tensor of <paramref name="shape"/> broadcast to <paramref name="outShape"/> at <paramref name="index"/>.</summary>
    public static long BroadcastOffset(long[] index, long[] shape, long[] outShape)
    {
        long offset = 0;
        var lead = outShape.Length - shape.Length;
        for (var d = 0; d < shape.Length; d++)
            offset = offset * shape[d] + (shape[d] == 1 ? 0 : index[d + lead]);
        return offset;
    }

    /// <summary>Floor division as TensorFlow defines it for integers (rounds toward negative infinity).</summary>
    public static long? FloorDiv(long p, long q) => q == 0 ? null : p / q - ((p % q != 0) && ((p < 0) != (q < 0)) ? 1 : 0);

    /// <summary>Floor modulo as TensorFlow defines it for integers: the result has the divisor's sign.</summary>
    public static long? FloorMod(long p, long q) => q == 0 ? null : ((p % q) + q) % q;
}
