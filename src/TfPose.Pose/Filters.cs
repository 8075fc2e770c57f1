namespace TfPose.Pose;

/// <summary>
/// A linear map from an input axis of length <see cref="InSize"/> to an output axis of length
/// <see cref="OutSize"/> stored as a band per output index and, transposed, per input index.
/// Resizing and smoothing are separable, so a 2-D operation is two of these.
/// </summary>
internal sealed class AxisFilter
{
    public int InSize { get; }
    public int OutSize { get; }

    // Row form: output i = sum_k W[RowOffset[i]+k] * in[RowStart[i]+k], k < RowCount[i].
    public readonly int[] RowStart, RowCount, RowOffset;
    public readonly float[] RowWeights;

    // Column form: input s contributes W[ColOffset[s]+k] * in[s] to out[ColStart[s]+k], k < ColCount[s].
    public readonly int[] ColStart, ColCount, ColOffset;
    public readonly float[] ColWeights;

    public AxisFilter(double[,] dense)
    {
        OutSize = dense.GetLength(0);
        InSize = dense.GetLength(1);
        (RowStart, RowCount, RowOffset, RowWeights) = Band(dense, OutSize, InSize, (o, i) => dense[o, i]);
        (ColStart, ColCount, ColOffset, ColWeights) = Band(dense, InSize, OutSize, (i, o) => dense[o, i]);
    }

    private static (int[], int[], int[], float[]) Band(double[,] dense, int rows, int cols, Func<int, int, double> at)
    {
        var start = new int[rows];
        var count = new int[rows];
        var offset = new int[rows];
        var weights = new List<float>();
        for (var r = 0; r < rows; r++)
        {
            int first = -1, last = -1;
            for (var c = 0; c < cols; c++)
            {
                if (at(r, c) == 0) continue;
                if (first < 0) first = c;
                last = c;
            }
            offset[r] = weights.Count;
            if (first < 0) continue;
            start[r] = first;
            count[r] = last - first + 1;
            for (var c = first; c <= last; c++)
                weights.Add((float)at(r, c));
        }
        return (start, count, offset, weights.ToArray());
    }

    /// <summary>
    /// tf.image.resize_area (align_corners=False): each output pixel is the area-weighted mean of the input
    /// pixels it covers. For an integer upsampling factor this is plain pixel replication.
    /// </summary>
    public static double[,] AreaResize(int inSize, int outSize)
    {
        var m = new double[outSize, inSize];
        var scale = (double)inSize / outSize;
        for (var o = 0; o < outSize; o++)
        {
            var in0 = o * scale;
            var in1 = (o + 1) * scale;
            var s0 = (int)Math.Floor(in0);
            var s1 = (int)Math.Ceiling(in1);
            for (var s = s0; s < s1; s++)
            {
                var w = (Math.Min(s + 1, in1) - Math.Max(s, in0)) / scale;
                if (w > 0)
                    m[o, Math.Min(s, inSize - 1)] += w;
            }
        }
        return m;
    }

    /// <summary>
    /// 1-D factor of tf-pose-estimation's Smoother.gauss_kernel: the kernel is built as
    /// sqrt(outer(k, k)) / sum, where k are the probabilities of kernlen equal bins spanning
    /// ±(nsig + half a bin) of a standard normal; that 2-D kernel is exactly the outer product of
    /// sqrt(k) / sum(sqrt(k)) with itself, so it can be applied separably.
    /// </summary>
    public static double[] GaussKernel1D(int size, double nsig)
    {
        var interval = (2 * nsig + 1.0) / size;
        var k = new double[size];
        var lo = -nsig - interval / 2;
        for (var i = 0; i < size; i++)
            k[i] = NormalProbability(lo + i * interval, lo + (i + 1) * interval);
        var sum = 0.0;
        for (var i = 0; i < size; i++) { k[i] = Math.Sqrt(k[i]); sum += k[i]; }
        for (var i = 0; i < size; i++) k[i] /= sum;
        return k;
    }

    // P(a < Z < b) for a standard normal, by composite Simpson on the density: bins are narrow (< 1σ),
    // so 64 panels give ~1e-13, far below float precision, without needing an erf implementation.
    private static double NormalProbability(double a, double b)
    {
        const int n = 64;
        var h = (b - a) / n;
        double Pdf(double x) => Math.Exp(-0.5 * x * x) / Math.Sqrt(2 * Math.PI);
        var s = Pdf(a) + Pdf(b);
        for (var i = 1; i < n; i++)
            s += Pdf(a + i * h) * (i % 2 == 1 ? 4 : 2);
        return s * h / 3;
    }

    /// <summary>Zero-padded ("SAME") convolution by <paramref name="kernel"/> on an axis of length n, as a dense matrix.</summary>
    public static double[,] Convolution(int n, double[] kernel)
    {
        var half = kernel.Length / 2;
        var m = new double[n, n];
        for (var o = 0; o < n; o++)
            for (var k = 0; k < kernel.Length; k++)
            {
                var i = o + k - half;
                if (i >= 0 && i < n) m[o, i] = kernel[k];
            }
        return m;
    }

    public static double[,] Multiply(double[,] a, double[,] b)
    {
        int n = a.GetLength(0), k = a.GetLength(1), m = b.GetLength(1);
        var r = new double[n, m];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < k; j++)
            {
                var v = a[i, j];
                if (v == 0) continue;
                for (var c = 0; c < m; c++) r[i, c] += v * b[j, c];
            }
        return r;
    }
}
