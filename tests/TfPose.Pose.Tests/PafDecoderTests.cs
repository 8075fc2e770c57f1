using TfPose.Pose;

namespace TfPose.Pose.Tests;

public class PafDecoderTests
{
    private const int H = 30, W = 36; // upsampled ×4 to 120 × 144

    // A stick figure on the low-res grid: (y, x) per part.
    private static readonly Dictionary<BodyPart, (int Y, int X)> Figure = new()
    {
        [BodyPart.Nose] = (4, 10), [BodyPart.Neck] = (8, 10), [BodyPart.RShoulder] = (8, 7), [BodyPart.LShoulder] = (8, 13),
        [BodyPart.RElbow] = (12, 6), [BodyPart.LElbow] = (12, 14), [BodyPart.RHip] = (16, 8), [BodyPart.LHip] = (16, 12),
        [BodyPart.RKnee] = (21, 8), [BodyPart.RAnkle] = (26, 8),
    };

    private static SyntheticOpenPose Draw(SyntheticOpenPose s, Dictionary<BodyPart, (int Y, int X)> fig, int dx = 0, Func<Limb, float>? magnitude = null)
    {
        foreach (var (p, (y, x)) in fig) s.Blob(p, y, x + dx);
        foreach (var limb in CocoSkeleton.Limbs)
            if (fig.TryGetValue(limb.From, out var a) && fig.TryGetValue(limb.To, out var b))
                s.Paf(limb.From, limb.To, (a.Y, a.X + dx), (b.Y, b.X + dx), magnitude?.Invoke(limb) ?? 1f);
        return s;
    }

    private static ImageMapping Map => ImageMapping.Stretch(W * 8, H * 8);

    [Fact]
    public void OnePerson_AllPartsFound_AtTheirPeaks_WithPafprocessScore()
    {
        var s = Draw(new SyntheticOpenPose(H, W), Figure);
        var people = new PafDecoder().Decode(s.Data, H, W, 57, Map);

        var person = Assert.Single(people);
        Assert.Equal(Figure.Count, person.PartCount);
        foreach (var (part, (y, x)) in Figure)
        {
            var k = person[(int)part]!.Value;
            var (ex, ey) = s.ExpectedPeak(y, x);
            // Upsampled grid 144×120 maps onto a 288×240 image: 2 image pixels per grid pixel.
            Assert.Equal(ex * 2f, k.X, 3);
            Assert.Equal(ey * 2f, k.Y, 3);
            Assert.Equal(ex / 144f, k.NormalizedX, 5);
            Assert.Equal(1f, k.Score); // the peak lies in the 1.0 pixel's replicated block
        }
        // 10 parts joined by 9 limbs whose PAF is a perfect unit vector along them and no length penalty
        // (every limb is shorter than half the map height): (10 peaks × 1 + 9 limbs × 1) / 10 parts.
        Assert.Equal(19f / 10f, person.Score, 4);
    }

    [Fact]
    public void TwoPeopleWithCrossingArms_AreSeparated()
    {
        // Person A's left elbow reaches across person B's right elbow; each arm's PAF is painted in
        // its own direction, and where they overlap the later one (B) wins a few pixels.
        var a = new Dictionary<BodyPart, (int Y, int X)>
        {
            [BodyPart.Nose] = (4, 8), [BodyPart.Neck] = (8, 8), [BodyPart.RShoulder] = (8, 5), [BodyPart.LShoulder] = (8, 11),
            [BodyPart.LElbow] = (14, 20), [BodyPart.RHip] = (18, 6), [BodyPart.LHip] = (18, 10),
        };
        var b = new Dictionary<BodyPart, (int Y, int X)>
        {
            [BodyPart.Nose] = (4, 26), [BodyPart.Neck] = (8, 26), [BodyPart.RShoulder] = (8, 23), [BodyPart.LShoulder] = (8, 29),
            [BodyPart.RElbow] = (14, 14), [BodyPart.RHip] = (18, 24), [BodyPart.LHip] = (18, 28),
        };
        var s = new SyntheticOpenPose(H, W);
        Draw(s, a);
        Draw(s, b);
        var people = new PafDecoder().Decode(s.Data, H, W, 57, Map);

        Assert.Equal(2, people.Count);
        foreach (var fig in new[] { a, b })
        {
            var (nx, _) = s.ExpectedPeak(fig[BodyPart.Neck].Y, fig[BodyPart.Neck].X);
            var person = Assert.Single(people, p => p["neck"] is { } n && Math.Abs(n.X - nx * 2) < 1);
            Assert.Equal(fig.Count, person.PartCount);
            foreach (var (part, (y, x)) in fig)
            {
                var (ex, ey) = s.ExpectedPeak(y, x);
                Assert.Equal(ex * 2f, person[(int)part]!.Value.X, 3);
                Assert.Equal(ey * 2f, person[(int)part]!.Value.Y, 3);
            }
        }
    }

    [Fact]
    public void LimbBelowThreshold_IsNotConnected_AndTheStrandedLegIsDropped()
    {
        // PAF magnitude 0.04 on neck→right hip: every sample scores 0.04 < 0.05, so the limb fails
        // criterion 1; hip–knee–ankle then forms a 3-part fragment, below the 4-part minimum.
        var s = Draw(new SyntheticOpenPose(H, W), Figure, magnitude: l => l.From == BodyPart.Neck && l.To == BodyPart.RHip ? 0.04f : 1f);
        var person = Assert.Single(new PafDecoder().Decode(s.Data, H, W, 57, Map));
        Assert.Equal(Figure.Count - 3, person.PartCount);
        Assert.Null(person["right_hip"]);
        Assert.Null(person["right_knee"]);
        Assert.Null(person["right_ankle"]);
        // Same figure with a full-strength limb: the leg is attached (guards against the test passing vacuously).
        Assert.Equal(Figure.Count, Assert.Single(new PafDecoder().Decode(Draw(new SyntheticOpenPose(H, W), Figure).Data, H, W, 57, Map)).PartCount);
    }

    [Fact]
    public void ThresholdsAreOptions()
    {
        var s = Draw(new SyntheticOpenPose(H, W), Figure, magnitude: l => l.From == BodyPart.Neck && l.To == BodyPart.RHip ? 0.04f : 1f);
        var lenient = new PafDecoder(new PafDecoderOptions { VectorScoreThreshold = 0.03f });
        Assert.Equal(Figure.Count, Assert.Single(lenient.Decode(s.Data, H, W, 57, Map)).PartCount);
        var strict = new PafDecoder(new PafDecoderOptions { MinParts = 11 });
        Assert.Empty(strict.Decode(s.Data, H, W, 57, Map));
    }

    [Fact]
    public void WeakHeatmapsGiveNoPeaks()
    {
        // Smoothing spreads a lone 0.2 blob so its smoothed maximum falls below the 0.05 threshold.
        var s = new SyntheticOpenPose(H, W);
        s.Blob(BodyPart.Nose, 10, 10, peak: 0.1f, tail: 0f);
        var decoder = new PafDecoder();
        Assert.Empty(decoder.Decode(s.Data, H, W, 57, Map));
        Assert.Empty(decoder.Peaks);
        s.Blob(BodyPart.Nose, 10, 10, peak: 1f, tail: 0.2f);
        decoder.Decode(s.Data, H, W, 57, Map);
        Assert.Single(decoder.Peaks);
    }

    [Fact]
    public void LongLimbsArePenalisedByLength()
    {
        // Neck→nose 20 low-res px = 80 upsampled px on a 120-px-high map: penalty 0.5·120/80 − 1 = −0.25,
        // so the limb is still accepted but scores 1 − 0.25.
        var fig = new Dictionary<BodyPart, (int Y, int X)>
        {
            [BodyPart.Nose] = (2, 10), [BodyPart.Neck] = (22, 10), [BodyPart.RShoulder] = (22, 7), [BodyPart.LShoulder] = (22, 13),
        };
        var s = Draw(new SyntheticOpenPose(H, W), fig);
        var person = Assert.Single(new PafDecoder().Decode(s.Data, H, W, 57, Map));
        // 4 peaks of 1.0, two shoulder limbs scoring 1.0 and the neck→nose limb 1 − 0.25.
        Assert.Equal((4f + 1f + 1f + 0.75f) / 4f, person.Score, 4);
    }

    [Fact]
    public void FastSmoothingFindsTheSamePeaksAsANaive2DConvolution()
    {
        var rng = new Random(7);
        var s = new SyntheticOpenPose(H, W);
        for (var i = 0; i < 40; i++)
            s.Blob((BodyPart)rng.Next(18), rng.Next(H), rng.Next(W), (float)rng.NextDouble(), (float)rng.NextDouble());
        var decoder = new PafDecoder();
        decoder.Decode(s.Data, H, W, 57, Map);
        var fast = decoder.Peaks.Select(p => (p.Part, p.X, p.Y, p.Score)).ToList();
        var naive = NaivePeaks(s, 4, 25, 3.0, 0.05f);
        Assert.NotEmpty(naive);
        Assert.Equal(naive, fast);
    }

    /// <summary>
    /// Straight transcription of TfPoseEstimator: replicate ×ratio (area resize), 2-D convolve with the
    /// 25×25 kernel built as sqrt(outer(k,k))/sum with k from the normal CDF (erf via Abramowitz–Stegun
    /// 7.1.26, independent of the decoder's integration), 3×3 max, threshold.
    /// </summary>
    private static List<(BodyPart, int, int, float)> NaivePeaks(SyntheticOpenPose s, int ratio, int size, double nsig, float thr)
    {
        var interval = (2 * nsig + 1) / size;
        var k = new double[size];
        for (var i = 0; i < size; i++)
        {
            var a = -nsig - interval / 2 + i * interval;
            k[i] = Cdf(a + interval) - Cdf(a);
        }
        var kernel = new double[size, size];
        double sum = 0;
        for (var i = 0; i < size; i++) for (var j = 0; j < size; j++) { kernel[i, j] = Math.Sqrt(k[i] * k[j]); sum += kernel[i, j]; }
        int uh = s.Height * ratio, uw = s.Width * ratio, half = size / 2;
        var result = new List<(BodyPart, int, int, float)>();
        for (var part = 0; part < 18; part++)
        {
            var up = new double[uh, uw];
            for (var y = 0; y < uh; y++) for (var x = 0; x < uw; x++) up[y, x] = s.Get(y / ratio, x / ratio, part);
            var g = new double[uh, uw];
            for (var y = 0; y < uh; y++)
                for (var x = 0; x < uw; x++)
                {
                    double acc = 0;
                    for (var i = 0; i < size; i++)
                    {
                        var yy = y + i - half;
                        if (yy < 0 || yy >= uh) continue;
                        for (var j = 0; j < size; j++)
                        {
                            var xx = x + j - half;
                            if (xx >= 0 && xx < uw) acc += kernel[i, j] / sum * up[yy, xx];
                        }
                    }
                    g[y, x] = acc;
                }
            for (var y = 0; y < uh; y++)
                for (var x = 0; x < uw; x++)
                {
                    var v = g[y, x];
                    if (v <= thr) continue;
                    var isMax = true;
                    for (var yy = Math.Max(0, y - 1); yy <= Math.Min(uh - 1, y + 1); yy++)
                        for (var xx = Math.Max(0, x - 1); xx <= Math.Min(uw - 1, x + 1); xx++)
                            if (g[yy, xx] > v) isMax = false;
                    if (isMax) result.Add(((BodyPart)part, x, y, (float)up[y, x]));
                }
        }
        return result;
    }

    private static double Cdf(double x) => 0.5 * (1 + Erf(x / Math.Sqrt(2)));

    private static double Erf(double x)
    {
        var sign = Math.Sign(x);
        x = Math.Abs(x);
        var t = 1 / (1 + 0.3275911 * x);
        var y = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.Exp(-x * x);
        return sign * y;
    }
}
