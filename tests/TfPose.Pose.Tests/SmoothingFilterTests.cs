using TfPose.Pose.Tracking;

namespace TfPose.Pose.Tests;

/// <summary>The One Euro and low-pass filters against values worked out by hand from their definitions.</summary>
public class SmoothingFilterTests
{
    // Samples 50 ms apart, so from the second sample on the filter runs at 20 Hz. A cutoff c then gives
    // alpha = 1 / (1 + 20 / (2π c)) = c' / (c' + 1) with c' = 2π c / 20, so the cutoffs below are chosen as
    // multiples of 20 / 2π: the derivative cutoff gives alpha 1/2, MinCutOff gives c' = 1, and Beta adds
    // 0.1·|speed| to c'.
    private static readonly OneEuroParameters HandParameters = new()
    {
        Frequency = 30, MinCutOff = 20 / (2 * Math.PI), Beta = 0.1 * 20 / (2 * Math.PI), DerivativeCutOff = 20 / (2 * Math.PI),
        ThresholdCutOff = null, ThresholdBeta = 0,
    };

    private static readonly long[] Times = [100_000, 150_000, 200_000, 250_000];

    [Fact]
    public void OneEuro_FollowsItsDefinition_StepByStep()
    {
        // x: 0, 10, 10, 40.
        // 1: the first sample passes: y = 0; speed estimate 0.
        // 2: speed (10 − 0)·20 = 200, smoothed 0 + ½(200 − 0) = 100; c' = 1 + 0.1·100 = 11, alpha 11/12;
        //    y = 0 + 11/12·10 = 55/6.
        // 3: speed 0, smoothed 100 + ½(0 − 100) = 50; c' = 6, alpha 6/7; y = 55/6 + 6/7·(10 − 55/6) = 415/42.
        // 4: speed (40 − 10)·20 = 600, smoothed 50 + ½(600 − 50) = 325; c' = 33.5, alpha 67/69;
        //    y = 415/42 + 67/69·(40 − 415/42) = 2465/63.
        var f = new OneEuroFilter(HandParameters);
        double[] x = [0, 10, 10, 40];
        double[] expected = [0, 55.0 / 6, 415.0 / 42, 2465.0 / 63];
        for (var i = 0; i < x.Length; i++)
            Assert.Equal(expected[i], f.Apply(x[i], Times[i]), 10);
    }

    [Fact]
    public void OneEuro_OutlierThreshold_DampsTheStep_ByAsinh()
    {
        // As above with ThresholdCutOff 1 and ThresholdBeta 0.01. Step 2: speed 100, so t = 1 + 0.01·100 = 2 and
        // the step is alpha·t·asinh(Δ/t) = 11/12·2·asinh(10/2) instead of 11/12·10.
        var f = new OneEuroFilter(HandParameters with { ThresholdCutOff = 1, ThresholdBeta = 0.01 });
        Assert.Equal(0, f.Apply(0, Times[0]));
        Assert.Equal(11.0 / 6 * Math.Asinh(5), f.Apply(10, Times[1]), 10);
    }

    [Fact]
    public void OneEuro_ValueScale_ScalesTheSpeed()
    {
        // Step 2 with valueScale ½: speed 100, smoothed 50, c' = 6, alpha 6/7: y = 60/7.
        var f = new OneEuroFilter(HandParameters);
        f.Apply(0, Times[0], 0.5);
        Assert.Equal(60.0 / 7, f.Apply(10, Times[1], 0.5), 10);
    }

    [Fact]
    public void OneEuro_TimestampThatDoesNotAdvance_PassesTheValue_AndLeavesTheState()
    {
        var f = new OneEuroFilter(HandParameters);
        f.Apply(0, Times[0]);
        f.Apply(10, Times[1]);
        Assert.Equal(1000, f.Apply(1000, Times[1]));  // same time
        Assert.Equal(-5, f.Apply(-5, Times[0]));      // going back
        Assert.Equal(415.0 / 42, f.Apply(10, Times[2]), 10); // continues as if neither had come
    }

    [Fact]
    public void OneEuro_SampleAtTimeZero_IsNotRecorded_AsInPoseDetection()
    {
        var f = new OneEuroFilter(HandParameters);
        Assert.Equal(7, f.Apply(7, 0L));
        Assert.Equal(0, f.Apply(0, Times[0])); // the first recorded sample, passed through
        Assert.Equal(55.0 / 6, f.Apply(10, Times[1]), 10);
    }

    [Fact]
    public void OneEuro_TimeSpanTimestamps_AreWholeMicroseconds()
    {
        var a = new OneEuroFilter(HandParameters);
        var b = new OneEuroFilter(HandParameters);
        a.Apply(0, TimeSpan.FromMicroseconds(100_000) + TimeSpan.FromTicks(7));
        b.Apply(0, 100_000L);
        Assert.Equal(b.Apply(10, 150_000L), a.Apply(10, TimeSpan.FromMicroseconds(150_000)));
    }

    [Theory]
    [InlineData(2.5, 300.0, 0.5)]
    [InlineData(0.05, 80.0, null)]
    public void OneEuro_ConstantSignal_StaysExactlyConstant(double minCutOff, double beta, double? thresholdCutOff)
    {
        var f = new OneEuroFilter(new OneEuroParameters { MinCutOff = minCutOff, Beta = beta, ThresholdCutOff = thresholdCutOff });
        for (var i = 1; i <= 100; i++)
            Assert.Equal(0.3712, f.Apply(0.3712, TimeSpan.FromSeconds(i / 30.0)));
    }

    [Fact]
    public void OneEuro_LargerBeta_FollowsAJumpMoreClosely()
    {
        // A still value jumps from 0 to 1 at frame 10; the error two frames later shrinks as beta grows,
        // and with beta 0 the filter is a plain low-pass at MinCutOff.
        double ErrorAfterJump(double beta)
        {
            var f = new OneEuroFilter(new OneEuroParameters { MinCutOff = 1, Beta = beta, DerivativeCutOff = 1, ThresholdCutOff = null });
            var y = 0.0;
            for (var i = 1; i <= 12; i++)
                y = f.Apply(i < 10 ? 0 : 1, TimeSpan.FromSeconds(i / 30.0));
            return 1 - y;
        }
        double[] betas = [0, 0.1, 1, 10, 100];
        var errors = betas.Select(ErrorAfterJump).ToArray();
        for (var i = 1; i < errors.Length; i++)
            Assert.True(errors[i] < errors[i - 1], $"beta {betas[i]}: error {errors[i]} not below {errors[i - 1]}");
        // beta 0, MinCutOff 1 Hz at 30 Hz: alpha = 1 / (1 + 30 / 2π) each step, so 3 steps leave (1 − alpha)³.
        var a = 1 / (1 + 30 / (2 * Math.PI));
        Assert.Equal(Math.Pow(1 - a, 3), errors[0], 6);
        Assert.True(errors[^1] < 0.05, $"beta 100 still {errors[^1]} behind");
    }

    [Fact]
    public void LowPass_FollowsItsDefinition()
    {
        // y1 = x1; y = y' + 0.1·(x − y'): 1, then 1 + 0.1·(0 − 1) = 0.9, 0.9 − 0.09 = 0.81, 0.81 + 0.1·(1 − 0.81) = 0.829.
        var f = new LowPassFilter(0.1);
        Assert.Equal(1, f.Apply(1));
        Assert.Equal(0.9, f.Apply(0), 12);
        Assert.Equal(0.81, f.Apply(0), 12);
        Assert.Equal(0.829, f.Apply(1), 12);
        f.Reset();
        Assert.Equal(0.25, f.Apply(0.25));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void LowPass_RejectsAlphaOutsideZeroToOne(double alpha) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new LowPassFilter(alpha));

    [Fact]
    public void OneEuro_RejectsBadParameters()
    {
        Assert.Throws<ArgumentException>(() => new OneEuroFilter(new OneEuroParameters { MinCutOff = 0 }));
        Assert.Throws<ArgumentException>(() => new OneEuroFilter(new OneEuroParameters { Frequency = -1 }));
        Assert.Throws<ArgumentException>(() => new OneEuroFilter(new OneEuroParameters { Beta = -1 }));
        Assert.Throws<ArgumentException>(() => new OneEuroFilter(new OneEuroParameters { DerivativeCutOff = double.NaN }));
        Assert.Throws<ArgumentException>(() => new OneEuroFilter(new OneEuroParameters { ThresholdCutOff = 0 }));
    }

    [Fact]
    public void Presets_ArePoseDetections()
    {
        // pose-detection movenet/constants.ts KEYPOINT_FILTER_CONFIG and blazepose_tfjs/constants.ts.
        Assert.Equal(new OneEuroParameters { Frequency = 30, MinCutOff = 2.5, Beta = 300, DerivativeCutOff = 2.5, ThresholdCutOff = 0.5, ThresholdBeta = 5 }, OneEuroParameters.MoveNet);
        Assert.Equal((30.0, 0.05, 80.0, 1.0, (double?)null), (OneEuroParameters.BlazePose.Frequency, OneEuroParameters.BlazePose.MinCutOff, OneEuroParameters.BlazePose.Beta, OneEuroParameters.BlazePose.DerivativeCutOff, OneEuroParameters.BlazePose.ThresholdCutOff));
        Assert.Equal((30.0, 0.1, 40.0, 1.0, (double?)null), (OneEuroParameters.BlazePoseWorld.Frequency, OneEuroParameters.BlazePoseWorld.MinCutOff, OneEuroParameters.BlazePoseWorld.Beta, OneEuroParameters.BlazePoseWorld.DerivativeCutOff, OneEuroParameters.BlazePoseWorld.ThresholdCutOff));
    }
}
