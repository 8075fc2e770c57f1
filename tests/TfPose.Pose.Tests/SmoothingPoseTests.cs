using OpenCvSharp;
using TfPose.Pose.Tracking;
using Xunit.Abstractions;

namespace TfPose.Pose.Tests;

/// <summary>PoseSmoother on people: jitter, lag, per-track state and what it leaves alone.</summary>
public class SmoothingPoseTests(ITestOutputHelper output)
{
    private const int Frames = 60;

    /// <summary>Per keypoint, the RMS distance of its positions from their mean over the frames (pixels).</summary>
    private static double[] Spread(IReadOnlyList<Person> frames)
    {
        var n = frames[0].KeypointSet.Count;
        var spread = new double[n];
        for (var i = 0; i < n; i++)
        {
            double mx = frames.Average(p => p[i]!.Value.X), my = frames.Average(p => p[i]!.Value.Y);
            spread[i] = Math.Sqrt(frames.Average(p => Math.Pow(p[i]!.Value.X - mx, 2) + Math.Pow(p[i]!.Value.Y - my, 2)));
        }
        return spread;
    }

    public static TheoryData<string> Presets => new() { "MoveNet", "BlazePose" };

    private static SmoothingOptions Preset(string name) => name switch
    {
        "MoveNet" => SmoothingOptions.MoveNet,
        "BlazePose" => SmoothingOptions.BlazePose,
        // Heavier than either preset: a 1 Hz floor and a gentle beta, on normalised coordinates.
        _ => new SmoothingOptions { Keypoints = new OneEuroParameters { MinCutOff = 1, Beta = 1, DerivativeCutOff = 1, ThresholdCutOff = null } },
    };

    // pose-detection's presets favour low lag: their high beta reads noise as motion, so the reduction shrinks
    // as the noise grows. The bounds sit a little above the measured worst keypoint (seeded noise).
    public static TheoryData<string, float, double> Jitter => new()
    {
        { "MoveNet", 0.5f, 0.78 }, { "MoveNet", 1, 0.86 }, { "MoveNet", 2, 0.92 },
        { "BlazePose", 0.5f, 0.70 }, { "BlazePose", 1, 0.80 }, { "BlazePose", 2, 0.90 },
        { "Heavy", 1, 0.50 },
    };

    [Theory]
    [MemberData(nameof(Jitter))]
    public void StillPerson_JitterIsReduced(string preset, float sigma, double maxRatio)
    {
        // A still person (180 px tall in 640×480) with Gaussian noise on every coordinate, 60 frames at 30 fps.
        var noise = new Random(42);
        var raw = Enumerable.Range(0, Frames).Select(_ => SyntheticPeople.Coco(320, 260, noise: noise, sigma: sigma)).ToArray();
        var smoother = new PoseSmoother(Preset(preset));
        var smoothed = raw.Select((p, f) => Assert.Single(smoother.Smooth([p], SyntheticPeople.Frame(f)))).ToArray();

        var before = Spread(raw);
        var after = Spread(smoothed);
        var ratios = before.Zip(after, (b, a) => a / b).ToArray();
        output.WriteLine($"{preset}, noise sigma {sigma} px: keypoint spread (RMS distance from its mean) {before.Average():F3} -> {after.Average():F3} px, " +
            $"ratio mean {ratios.Average():F3}, worst keypoint {ratios.Max():F3}; frame-to-frame step {Step(raw):F3} -> {Step(smoothed):F3} px");
        for (var i = 0; i < before.Length; i++)
            Assert.True(ratios[i] < maxRatio, $"{preset} keypoint {i}: spread {after[i]:F3} px is not below {maxRatio} × {before[i]:F3} px");
    }

    /// <summary>RMS over keypoints and frames of a keypoint's move from one frame to the next (pixels).</summary>
    private static double Step(IReadOnlyList<Person> frames) =>
        Math.Sqrt(Enumerable.Range(1, frames.Count - 1).SelectMany(f => Enumerable.Range(0, 17).Select(i =>
            Math.Pow(frames[f][i]!.Value.X - frames[f - 1][i]!.Value.X, 2) + Math.Pow(frames[f][i]!.Value.Y - frames[f - 1][i]!.Value.Y, 2))).Average());

    [Theory]
    [MemberData(nameof(Presets))]
    public void MovingPerson_IsFollowed_WithBoundedLag(string preset)
    {
        // Walking right at 90 px/s (3 px a frame), no noise: after a few frames the smoothed keypoints trail the
        // true ones by a steady, small amount.
        var smoother = new PoseSmoother(Preset(preset));
        var lags = new List<double>();
        for (var f = 0; f < Frames; f++)
        {
            var truth = SyntheticPeople.Coco(100 + 3 * f, 260);
            var s = Assert.Single(smoother.Smooth([truth], SyntheticPeople.Frame(f)));
            if (f >= 10) lags.Add(Enumerable.Range(0, 17).Max(i => Math.Abs(truth[i]!.Value.X - s[i]!.Value.X) + Math.Abs(truth[i]!.Value.Y - s[i]!.Value.Y)));
        }
        output.WriteLine($"{preset}: lag behind a 3 px/frame walk, frames 10-59: max {lags.Max():F3} px, last {lags[^1]:F3} px");
        Assert.True(lags.Max() < 1, $"{preset}: lag {lags.Max():F3} px is more than a third of a frame's motion");
        Assert.True(lags[^1] <= lags[0] + 1e-3, $"{preset}: lag grows ({lags[0]:F3} -> {lags[^1]:F3})");
    }

    [Fact]
    public void SizeScaling_MakesSmoothingTheSameForNearAndFar()
    {
        // BlazePose's filter divides the speed by the person's size: a person twice as large, moving twice as
        // fast, is smoothed to exactly twice the trajectory (about the image origin).
        var noise = new Random(3);
        var small = new PoseSmoother(SmoothingOptions.BlazePose);
        var large = new PoseSmoother(SmoothingOptions.BlazePose);
        for (var f = 0; f < 30; f++)
        {
            var offsets = Enumerable.Range(0, 34).Select(_ => (float)SyntheticPeople.Gaussian(noise)).ToArray();
            Person Make(float k) => new(KeypointSet.Coco17,
                SyntheticPeople.Coco(100 + 2 * f, 120, scale: 0.5f).Keypoints.Select(p => SyntheticPeople.At(p.Part, k * (p.X + offsets[2 * p.Part]), k * (p.Y + offsets[2 * p.Part + 1]))), 1);
            var s = Assert.Single(small.Smooth([Make(1)], SyntheticPeople.Frame(f)));
            var l = Assert.Single(large.Smooth([Make(2)], SyntheticPeople.Frame(f)));
            for (var i = 0; i < 17; i++)
            {
                Assert.Equal(2 * s[i]!.Value.X, l[i]!.Value.X, 2);
                Assert.Equal(2 * s[i]!.Value.Y, l[i]!.Value.Y, 2);
            }
        }
    }

    [Fact]
    public void TinyPerson_IsLeftUnsmoothed_WhenScalingBySize()
    {
        var smoother = new PoseSmoother(SmoothingOptions.BlazePose with { MinAllowedObjectScale = 1000 });
        smoother.Smooth([SyntheticPeople.Coco(300, 250)], SyntheticPeople.Frame(1));
        var moved = SyntheticPeople.Coco(350, 250);
        var s = Assert.Single(smoother.Smooth([moved], SyntheticPeople.Frame(2)));
        Assert.Equal(moved.Keypoints, s.Keypoints);
    }

    [Theory]
    [InlineData(SmoothingSpace.Normalized)]
    [InlineData(SmoothingSpace.Pixels)]
    public void PixelAndNormalisedCoordinates_StayConsistent(SmoothingSpace space)
    {
        var smoother = new PoseSmoother(new SmoothingOptions { Space = space });
        var noise = new Random(5);
        for (var f = 0; f < 10; f++)
        {
            var s = Assert.Single(smoother.Smooth([SyntheticPeople.Coco(300 + 5 * f, 250, noise: noise, sigma: 3)], SyntheticPeople.Frame(f)));
            foreach (var k in s.Keypoints)
            {
                Assert.Equal(k.X / SyntheticPeople.Width, k.NormalizedX, 5);
                Assert.Equal(k.Y / SyntheticPeople.Height, k.NormalizedY, 5);
            }
        }
    }

    [Fact]
    public void EachTrack_HasItsOwnFilters()
    {
        // Two tracked people, listed in alternating order, are smoothed exactly as each would be alone.
        var both = new PoseSmoother();
        var alone1 = new PoseSmoother();
        var alone2 = new PoseSmoother();
        var noise = new Random(9);
        for (var f = 0; f < 20; f++)
        {
            var a = SyntheticPeople.Coco(150 + 2 * f, 250, noise: noise, sigma: 2);
            var b = SyntheticPeople.Coco(450 - 2 * f, 250, noise: noise, sigma: 2);
            a.TrackId = 1;
            b.TrackId = 2;
            var t = SyntheticPeople.Frame(f);
            var r = both.Smooth(f % 2 == 0 ? [a, b] : [b, a], t);
            var (sa, sb) = f % 2 == 0 ? (r[0], r[1]) : (r[1], r[0]);
            Assert.Equal((1, 2), (sa.TrackId!.Value, sb.TrackId!.Value));
            Assert.Equal(alone1.Smooth([a], t)[0].Keypoints, sa.Keypoints);
            Assert.Equal(alone2.Smooth([b], t)[0].Keypoints, sb.Keypoints);
        }
    }

    /// <summary>Smooths a person with the given id at x, returning its nose's x.</summary>
    private static float NoseX(PoseSmoother s, int? id, float x, TimeSpan t, PoseTracker? tracker = null)
    {
        var p = SyntheticPeople.Coco(x, 250);
        p.TrackId = id;
        return s.Smooth([p], t, tracker)[0][0]!.Value.X;
    }

    [Fact]
    public void FiltersOfAVanishedTrack_AreDropped_AfterMaxAge()
    {
        var s = new PoseSmoother(new SmoothingOptions { MaxAge = TimeSpan.FromMilliseconds(500) });
        NoseX(s, 5, 200, TimeSpan.FromSeconds(1));
        // Back within MaxAge: still filtered (the jump is not taken whole).
        Assert.NotEqual(300, NoseX(s, 5, 300, TimeSpan.FromSeconds(1.4)));
        // Another id keeps the clock going; id 5 is gone for more than MaxAge and starts afresh.
        NoseX(s, 6, 100, TimeSpan.FromSeconds(2.0));
        Assert.Equal(400, NoseX(s, 5, 400, TimeSpan.FromSeconds(2.1)));
    }

    [Fact]
    public void FiltersOfATrackTheTrackerDropped_AreDropped()
    {
        var tracker = new PoseTracker();
        var s = new PoseSmoother();
        Person[] people = [SyntheticPeople.Coco(200, 250)];
        tracker.Update(people, TimeSpan.FromSeconds(1));
        var id = people[0].TrackId!.Value;
        NoseX(s, id, 200, TimeSpan.FromSeconds(1), tracker);
        Assert.NotEqual(300, NoseX(s, id, 300, TimeSpan.FromSeconds(1.1), tracker));
        tracker.Remove(id);
        NoseX(s, id, 300, TimeSpan.FromSeconds(1.2), tracker); // smoothed, then dropped: the tracker no longer has it
        Assert.Equal(500, NoseX(s, id, 500, TimeSpan.FromSeconds(1.3), tracker));
    }

    [Fact]
    public void UntrackedPeople_OneIsSmoothed_SeveralAreLeftAlone()
    {
        var s = new PoseSmoother();
        NoseX(s, null, 200, SyntheticPeople.Frame(1));
        Assert.NotEqual(300, NoseX(s, null, 300, SyntheticPeople.Frame(2)));

        Person[] two = [SyntheticPeople.Coco(100, 250), SyntheticPeople.Coco(400, 250)];
        var r = s.Smooth(two, SyntheticPeople.Frame(3));
        Assert.Same(two[0], r[0]);
        Assert.Same(two[1], r[1]);
        // That frame had no single person, so the single-person filters started afresh.
        Assert.Equal(300, NoseX(s, null, 300, SyntheticPeople.Frame(4)));
        s.Smooth([], SyntheticPeople.Frame(5));
        Assert.Equal(350, NoseX(s, null, 350, SyntheticPeople.Frame(6)));
    }

    [Fact]
    public void Visibility_IsLowPassed_ScoresOnlyOnRequest()
    {
        Person Make(float visibility, float score, float z) => new(KeypointSet.Coco17,
            [SyntheticPeople.At(0, 100, 100, score) with { Visibility = visibility, Z = z }, SyntheticPeople.At(1, 120, 100, score), SyntheticPeople.At(2, 140, 130, score)], 1);
        var s = new PoseSmoother();
        s.Smooth([Make(1, 0.9f, -20)], SyntheticPeople.Frame(1));
        var p = s.Smooth([Make(0, 0.1f, -20)], SyntheticPeople.Frame(2))[0];
        Assert.Equal(0.9f, p[0]!.Value.Visibility!.Value, 6); // 1 + 0.1·(0 − 1)
        Assert.Equal(0.1f, p[0]!.Value.Score);                  // scores: as detected
        Assert.Equal(0.1f, p[1]!.Value.Score);
        Assert.Equal(-20f, p[0]!.Value.Z!.Value, 4);             // a constant z stays put
        Assert.Null(p[1]!.Value.Z);

        var withScores = new PoseSmoother(new SmoothingOptions { SmoothScores = true });
        withScores.Smooth([Make(1, 0.9f, 0)], SyntheticPeople.Frame(1));
        p = withScores.Smooth([Make(0, 0.1f, 0)], SyntheticPeople.Frame(2))[0];
        Assert.Equal(0.1f, p[0]!.Value.Score);                    // has a visibility: that is what is smoothed
        Assert.Equal(0.82f, p[1]!.Value.Score, 6);                 // 0.9 + 0.1·(0.1 − 0.9)

        var none = new PoseSmoother(new SmoothingOptions { VisibilityAlpha = null });
        none.Smooth([Make(1, 0.9f, 0)], SyntheticPeople.Frame(1));
        Assert.Equal(0f, none.Smooth([Make(0, 0.1f, 0)], SyntheticPeople.Frame(2))[0][0]!.Value.Visibility);
    }

    [Fact]
    public void WorldKeypoints_AreSmoothed()
    {
        Person Make(float x) => new(KeypointSet.Coco17, [SyntheticPeople.At(0, 100, 100), SyntheticPeople.At(1, 150, 200)], 1)
        {
            WorldKeypoints = [new WorldKeypoint(0, x, -0.5f, 0.1f, 0.9f), new WorldKeypoint(1, 0.2f, 0.3f, -0.1f, 0.8f)],
        };
        var s = new PoseSmoother(SmoothingOptions.BlazePose);
        for (var f = 1; f <= 5; f++) s.Smooth([Make(0)], SyntheticPeople.Frame(f));
        var w = s.Smooth([Make(0.3f)], SyntheticPeople.Frame(6))[0].WorldKeypoints!;
        Assert.InRange(w[0].X, 0.001f, 0.299f);        // a 30 cm jump is not taken whole
        Assert.Equal((-0.5f, 0.1f, 0.9f), (w[0].Y, w[0].Z, w[0].Score));
        Assert.Equal(new WorldKeypoint(1, 0.2f, 0.3f, -0.1f, 0.8f), w[1]);

        var off = new PoseSmoother(SmoothingOptions.BlazePose with { WorldKeypoints = null });
        var person = Make(0.3f);
        Assert.Same(person.WorldKeypoints, off.Smooth([person], SyntheticPeople.Frame(1))[0].WorldKeypoints);
    }

    [Fact]
    public void SmoothedPeople_KeepSetIdBoxAndScore()
    {
        var p = SyntheticPeople.Coco(300, 250, score: 0.66f, withBox: true);
        p.TrackId = 12;
        var s = new PoseSmoother().Smooth([p], SyntheticPeople.Frame(1))[0];
        Assert.NotSame(p, s);
        Assert.Equal((p.KeypointSet, p.TrackId, p.Box, p.Score, p.PartCount), (s.KeypointSet, s.TrackId, s.Box, s.Score, s.PartCount));
        Assert.Equal(p.Keypoints, s.Keypoints); // the first sample passes through
    }

    [Fact]
    public void Disabled_ReturnsTheInput()
    {
        Person[] people = [SyntheticPeople.Coco(300, 250)];
        Assert.Same(people, new PoseSmoother(new SmoothingOptions { Enabled = false }).Smooth(people, SyntheticPeople.Frame(1)));
    }

    [Fact]
    public void Options_DefaultsArePoseDetections_AndBadOnesAreRejected()
    {
        Assert.Equal(OneEuroParameters.MoveNet, SmoothingOptions.MoveNet.Keypoints);
        Assert.False(SmoothingOptions.MoveNet.ScaleBySize);
        Assert.Equal(SmoothingSpace.Normalized, SmoothingOptions.MoveNet.Space);
        Assert.Equal(OneEuroParameters.BlazePose, SmoothingOptions.BlazePose.Keypoints);
        Assert.True(SmoothingOptions.BlazePose.ScaleBySize);
        Assert.Equal(SmoothingSpace.Pixels, SmoothingOptions.BlazePose.Space);
        Assert.Equal(0.1, SmoothingOptions.BlazePose.VisibilityAlpha);
        Assert.Equal(OneEuroParameters.BlazePoseWorld, SmoothingOptions.BlazePose.WorldKeypoints);
        Assert.Throws<ArgumentException>(() => new PoseSmoother(new SmoothingOptions { VisibilityAlpha = 0 }));
        Assert.Throws<ArgumentException>(() => new PoseSmoother(new SmoothingOptions { MaxAge = TimeSpan.Zero }));
        Assert.Throws<ArgumentException>(() => new PoseSmoother(new SmoothingOptions { Keypoints = new OneEuroParameters { Beta = -1 } }));
    }

    [Fact]
    public void Smooth_AllocatesOnlyThePeopleItReturns()
    {
        var people = new[] { 150f, 320f, 500f }.Select((x, i) =>
        {
            var p = SyntheticPeople.Coco(x, 250, withBox: true);
            p.TrackId = i + 1;
            return p;
        }).ToArray();
        var s = new PoseSmoother(SmoothingOptions.BlazePose);
        for (var f = 0; f < 5; f++) s.Smooth(people, SyntheticPeople.Frame(f));

        // What building three such people costs on its own.
        var keypoints = people[0].Keypoints.ToArray();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 3; i++) _ = new Person(KeypointSet.Coco17, keypoints, 1);
        var perFramePeople = GC.GetAllocatedBytesForCurrentThread() - before;

        before = GC.GetAllocatedBytesForCurrentThread();
        for (var f = 5; f < 105; f++) s.Smooth(people, SyntheticPeople.Frame(f));
        var perFrame = (GC.GetAllocatedBytesForCurrentThread() - before) / 100.0;
        output.WriteLine($"Smooth, 3 people: {perFrame:F0} bytes a frame; the three Person objects alone: {perFramePeople} bytes");
        // The returned list and a small wrapper per person beyond the people themselves.
        Assert.True(perFrame <= perFramePeople + 400, $"{perFrame} bytes a frame");
    }
}
