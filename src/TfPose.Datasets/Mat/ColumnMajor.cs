namespace TfPose.Datasets.Mat;

/// <summary>Reorders MATLAB's column-major element order (first dimension fastest) into row-major.</summary>
internal static class ColumnMajor
{
    public static void ToRowMajor<T>(ReadOnlySpan<T> source, ReadOnlySpan<int> dims, Span<T> destination)
    {
        if (source.Length != destination.Length)
            throw new ArgumentException("source and destination lengths differ");
        if (source.Length == 0)
            return;
        if (IsVector(dims))
        {
            source.CopyTo(destination);
            return;
        }
        if (dims.Length == 2)
        {
            // Transpose in tiles so both sides stay in cache; masks are hundreds of pixels on a side.
            const int tile = 32;
            var (rows, cols) = (dims[0], dims[1]);
            for (var c0 = 0; c0 < cols; c0 += tile)
            {
                var c1 = Math.Min(c0 + tile, cols);
                for (var r0 = 0; r0 < rows; r0 += tile)
                {
                    var r1 = Math.Min(r0 + tile, rows);
                    for (var c = c0; c < c1; c++)
                        for (var r = r0; r < r1; r++)
                            destination[r * cols + c] = source[c * rows + r];
                }
            }
            return;
        }
        // N-D: walk the destination in row-major order and track the matching column-major index.
        Span<int> sub = stackalloc int[dims.Length];
        Span<int> stride = stackalloc int[dims.Length];
        stride[0] = 1;
        for (var i = 1; i < dims.Length; i++)
            stride[i] = stride[i - 1] * dims[i - 1];
        var src = 0;
        for (var dst = 0; dst < destination.Length; dst++)
        {
            destination[dst] = source[src];
            for (var k = dims.Length - 1; k >= 0; k--)
            {
                sub[k]++;
                src += stride[k];
                if (sub[k] < dims[k])
                    break;
                src -= stride[k] * sub[k];
                sub[k] = 0;
            }
        }
    }

    /// <summary>Arrays with at most one dimension above 1 have the same order either way.</summary>
    private static bool IsVector(ReadOnlySpan<int> dims)
    {
        var big = 0;
        foreach (var d in dims)
            if (d > 1)
                big++;
        return big <= 1;
    }
}
