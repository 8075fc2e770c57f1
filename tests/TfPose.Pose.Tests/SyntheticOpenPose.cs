using TfPose.Pose;

namespace TfPose.Pose.Tests;

/// <summary>
/// Builds a fake OpenPose output (NHWC, 57 channels) by hand: heatmap blobs at chosen low-resolution
/// pixels and unit PAF vectors painted along chosen limbs.
/// </summary>
internal sealed class SyntheticOpenPose(int height, int width, int ratio = 4)
{
    public const int Channels = 57;
    public int Height { get; } = height;
    public int Width { get; } = width;
    public float[] Data { get; } = new float[height * width * Channels];

    public void Set(int y, int x, int c, float v) => Data[(y * Width + x) * Channels + c] = v;
    public float Get(int y, int x, int c) => Data[(y * Width + x) * Channels + c];

    /// <summary>
    /// A separable blob with 1.0 at (y, x) and <paramref name="tail"/> at the pixel right of / below it:
    /// the asymmetry puts the smoothed maximum at a single upsampled pixel (worked out in 1-D: offset 3 inside the 1.0 block for tail 0.2) (a symmetric blob would give a
    /// 2×2 plateau of equal maxima).
    /// </summary>
    public void Blob(BodyPart part, int y, int x, float peak = 1f, float tail = 0.2f)
    {
        float[] py = [1f, tail], px = [1f, tail];
        for (var i = 0; i < 2; i++)
            for (var j = 0; j < 2; j++)
                if (y + i < Height && x + j < Width)
                    Set(y + i, x + j, (int)part, peak * py[i] * px[j]);
    }

    /// <summary>Where the decoder should find a blob's peak on the upsampled grid (checked against a naive reference).</summary>
    public (int X, int Y) ExpectedPeak(int y, int x) => (ratio * x + 3, ratio * y + 3);

    /// <summary>Paints the limb's PAF (unit vector from a to b, times <paramref name="magnitude"/>) on every low-res pixel the segment crosses, plus a one-pixel margin.</summary>
    public void Paf(BodyPart from, BodyPart to, (int Y, int X) a, (int Y, int X) b, float magnitude = 1f)
    {
        var limb = CocoSkeleton.Limbs.Single(l => l.From == from && l.To == to);
        var (ax, ay) = ExpectedPeak(a.Y, a.X);
        var (bx, by) = ExpectedPeak(b.Y, b.X);
        float dx = bx - ax, dy = by - ay;
        var n = MathF.Sqrt(dx * dx + dy * dy);
        dx /= n; dy /= n;
        for (var t = 0; t <= 400; t++)
        {
            var ux = ax + (bx - ax) * t / 400f;
            var uy = ay + (by - ay) * t / 400f;
            var lx = (int)(ux / ratio);
            var ly = (int)(uy / ratio);
            for (var yy = ly - 1; yy <= ly + 1; yy++)
                for (var xx = lx - 1; xx <= lx + 1; xx++)
                    if (yy >= 0 && yy < Height && xx >= 0 && xx < Width)
                    {
                        Set(yy, xx, 19 + limb.PafX, dx * magnitude);
                        Set(yy, xx, 19 + limb.PafY, dy * magnitude);
                    }
        }
    }
}
