using TfPose.Benchmarks;

namespace TfPose.Cli.Tests;

public class SampleStatisticsTests
{
    [Fact]
    public void Median_OfAnEvenCount_IsTheMeanOfTheMiddleTwo_AndOfAnOddCountTheMiddle()
    {
        Assert.Equal(2.5, SampleStatistics.Median([4, 1, 3, 2]));
        Assert.Equal(3, SampleStatistics.Median([5, 1, 3, 2, 4]));
        Assert.True(double.IsNaN(SampleStatistics.Median([])));
    }

    [Fact]
    public void Percentiles_InterpolateBetweenOrderStatistics_AsNumPyDoes()
    {
        // numpy.percentile(range(1, 11), 90) = 9.1: position (10 - 1) * 0.9 = 8.1 between 9 and 10.
        double[] tenToOne = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1];
        Assert.Equal(9.1, SampleStatistics.Percentile(tenToOne, 0.9), 12);
        Assert.Equal(1, SampleStatistics.Percentile(tenToOne, 0));
        Assert.Equal(10, SampleStatistics.Percentile(tenToOne, 1));
        var summary = SampleStatistics.Summarize(tenToOne);
        Assert.Equal(new LatencySummary(5.5, 9.1, 10), summary with { P90 = Math.Round(summary.P90, 12) });
        Assert.Throws<ArgumentOutOfRangeException>(() => SampleStatistics.Percentile(tenToOne, 1.5));
    }
}
