namespace TfPose.Graph;

/// <summary>
/// TensorFlow's StridedSlice resolved against a known input rank: for each input dimension the
/// concrete begin/end/stride, plus the output shape after new-axis and shrink masks.
/// </summary>
public sealed class StridedSliceSpec
{
    /// <summary>One sliced input dimension: [Begin, End) with Stride; Shrink drops it from the output.</summary>
    public sealed record Dim(int Input, long Begin, long End, long Stride, bool Shrink, int Sparse = -1);

    public List<Dim> Dims { get; } = [];

    /// <summary>Output positions that are new axes of size 1.</summary>
    public List<int> NewAxes { get; } = [];

    public long[] OutputShape { get; private set; } = [];

    public static StridedSliceSpec Resolve(long[] inputShape, long[] begin, long[] end, long[] strides,
        long beginMask, long endMask, long ellipsisMask, long newAxisMask, long shrinkMask)
    {
        var spec = new StridedSliceSpec();
        var rank = inputShape.Length;
        var sparse = begin.Length;
        var output = new List<long>();
        var inputDim = 0;
        for (var i = 0; i < sparse; i++)
        {
            if ((ellipsisMask >> i & 1) != 0)
            {
                var remainingSpec = sparse - i - 1 - Enumerable.Range(i + 1, sparse - i - 1).Count(j => (newAxisMask >> j & 1) != 0);
                var covered = rank - inputDim - remainingSpec;
                for (var k = 0; k < covered; k++, inputDim++)
                {
                    spec.Dims.Add(new Dim(inputDim, 0, inputShape[inputDim], 1, false));
                    output.Add(inputShape[inputDim]);
                }
                continue;
            }
            if ((newAxisMask >> i & 1) != 0)
            {
                spec.NewAxes.Add(output.Count);
                output.Add(1);
                continue;
            }
            if (inputDim >= rank)
                throw new ArgumentException($"StridedSlice indexes {sparse} dimensions of a rank-{rank} tensor.");
            var size = inputShape[inputDim];
            var stride = strides[i];
            if (stride == 0)
                throw new ArgumentException("StridedSlice stride is 0.");
            var shrink = (shrinkMask >> i & 1) != 0;
            long b, e;
            if (shrink)
            {
                b = begin[i] < 0 && size >= 0 ? begin[i] + size : begin[i];
                e = b + 1;
                stride = 1;
            }
            else
            {
                b = (beginMask >> i & 1) != 0 ? (stride > 0 ? 0 : size - 1) : Clamp(begin[i], size, stride);
                e = (endMask >> i & 1) != 0 ? (stride > 0 ? size : -1) : Clamp(end[i], size, stride);
            }
            spec.Dims.Add(new Dim(inputDim, b, e, stride, shrink, i));
            if (!shrink)
            {
                var len = size < 0 ? -1 : Math.Max(0, stride > 0 ? (e - b + stride - 1) / stride : (b - e - stride - 1) / -stride);
                output.Add(len);
            }
            inputDim++;
        }
        for (; inputDim < rank; inputDim++)
        {
            spec.Dims.Add(new Dim(inputDim, 0, inputShape[inputDim], 1, false));
            output.Add(inputShape[inputDim]);
        }
        spec.OutputShape = [.. output];
        return spec;
    }

    private static long Clamp(long index, long size, long stride)
    {
        if (size < 0)
            return index;
        if (index < 0)
            index += size;
        return stride > 0 ? Math.Clamp(index, 0, size) : Math.Clamp(index, -1, size - 1);
    }
}
