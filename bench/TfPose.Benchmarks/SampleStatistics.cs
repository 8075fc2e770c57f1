namespace TfPose.Benchmarks;

/// <summary>
/// Summaries of timing samples, one definition for every benchmark: percentiles interpolate linearly between the two
/// nearest order statistics (NumPy's default), so the median of an even count is the mean of the middle two.
/// </summary>
public static class SampleStatistics
{
    /// <summary>The median; NaN for no samples.</summary>
    public static double Median(IEnumerable<double> samples) => Percentile(samples, 0.5);

    /// <summary>The <paramref name="p"/>-quantile (0..1) by linear interpolation; NaN for no samples.</summary>
    public static double Percentile(IEnumerable<double> samples, double p)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (!(p >= 0 && p <= 1))
            throw new ArgumentOutOfRangeException(nameof(p), p, "A percentile is a fraction from 0 to 1.");
        var sorted = samples.ToArray();
        if (sorted.Length == 0)
            return double.NaN;
        Array.Sort(sorted);
        var h = (sorted.Length - 1) * p;
        var below = (int)Math.Floor(h);
        var above = Math.Min(below + 1, sorted.Length - 1);
        return sorted[below] + (h - below) * (sorted[above] - sorted[below]);
    }

    /// <summary>Median and 90th percentile, as every latency line reports them.</summary>
    public static LatencySummary Summarize(IEnumerable<double> samples)
    {
        var all = samples.ToArray();
        return new LatencySummary(Median(all), Percentile(all, 0.9), all.Length);
    }
}

/// <summary>Median and 90th percentile of <paramref name="Count"/> samples (milliseconds where they are latencies).</summary>
public readonly record struct LatencySummary(double Median, double P90, int Count);
