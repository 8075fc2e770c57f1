namespace TfPose.Pose.Tests;

public class HeatmapDecoderTests
{
    private const int H = 24, W = 32, K = 14;

    private static readonly PoseModel Model = PoseModel.Heatmap("out", 8, KeypointSet.AiChallenger14, 256, 192);

    // Keypoint k: a Gaussian bump (σ = 1.5 map pixels) centred at a sub-pixel position.
    private static (float X, float Y, float Amplitude) Truth(int k) => (3.3f + 2 * k - 0.45f * (k % 3), 2.8f + 1.4f * k + 0.2f * (k % 4), k == 13 ? 0.05f : 0.9f);

    private static float Value(int y, int x, int k)
    {
        var (cx, cy, a) = Truth(k);
        return a * MathF.Exp(-((x - cx) * (x - cx) + (y - cy) * (y - cy)) / (2 * 1.5f * 1.5f));
    }

    private static float[] Build()
    {
        var data = new float[H * W * K];
        for (var y = 0; y < H; y++)
            for (var x = 0; x < W; x++)
                for (var k = 0; k < K; k++)
                    data[(y * W + x) * K + k] = Value(y, x, k);
        return data;
    }

    // The map covers a 320×240 crop at (100, 50) of a 640×480 image.
    private static readonly ImageMapping Crop = new(640, 480, 320, 240, 100, 50);

    [Fact]
    public void Argmax_WithSubPixelRefinement_FindsTheBumpCentres()
    {
        var person = Assert.Single(new HeatmapDecoder(Model).Decode(Build(), H, W, K, Crop));
        Assert.Same(KeypointSet.AiChallenger14, person.KeypointSet);
        // Keypoint 13's bump peaks at 0.05, below the default minimum score 0.1.
        Assert.Equal(13, person.PartCount);
        Assert.Null(person[13]);
        for (var k = 0; k < 13; k++)
        {
            var (cx, cy, _) = Truth(k);
            var kp = person[k]!.Value;
            // A map pixel is 10 image pixels; the parabola through a Gaussian's top three samples is within 0.05 px.
            Assert.Equal(100 + (cx + 0.5f) / W * 320, kp.X, 0.5f);
            Assert.Equal(50 + (cy + 0.5f) / H * 240, kp.Y, 0.5f);
            // Score: the map's value at the argmax pixel (the nearest sample to the centre).
            Assert.Equal(Value((int)MathF.Round(cy), (int)MathF.Round(cx), k), kp.Score, 6);
        }
        // Person score: mean of all 14 map maxima.
        var mean = Enumerable.Range(0, K).Average(k => Value((int)MathF.Round(Truth(k).Y), (int)MathF.Round(Truth(k).X), k));
        Assert.Equal(mean, person.Score, 5);
    }

    [Fact]
    public void WithoutRefinement_KeypointsSitAtPixelCentres()
    {
        var person = Assert.Single(new HeatmapDecoder(Model, new HeatmapDecoderOptions { SubPixel = false, MinScore = 0 }).Decode(Build(), H, W, K, Crop));
        Assert.Equal(14, person.PartCount);
        for (var k = 0; k < K; k++)
        {
            var (cx, cy, _) = Truth(k);
            Assert.Equal(100 + (MathF.Round(cx) + 0.5f) * 10, person[k]!.Value.X, 3);
            Assert.Equal(50 + (MathF.Round(cy) + 0.5f) * 10, person[k]!.Value.Y, 3);
        }
    }

    [Fact]
    public void AllMapsBelowTheMinimum_GiveNobody()
    {
        var data = Build();
        for (var i = 0; i < data.Length; i++) data[i] *= 0.05f;
        Assert.Empty(new HeatmapDecoder(Model).Decode(data, H, W, K, Crop));
    }
}
