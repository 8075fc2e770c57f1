using OpenCvSharp;

namespace TfPose.Pose.BlazePose;

/// <summary>An affine map of pixel coordinates: x' = A0·x + A1·y + A2, y' = B0·x + B1·y + B2.</summary>
internal readonly record struct Affine(double A0, double A1, double A2, double B0, double B1, double B2)
{
    public static Affine From((double A0, double A1, double A2, double B0, double B1, double B2) m) => new(m.A0, m.A1, m.A2, m.B0, m.B1, m.B2);

    public Affine Inverse()
    {
        var det = A0 * B1 - A1 * B0;
        if (det == 0 || !double.IsFinite(det))
            throw new InvalidOperationException("The region maps to a degenerate (zero-area) crop.");
        double i0 = B1 / det, i1 = -A1 / det, j0 = -B0 / det, j1 = A0 / det;
        return new Affine(i0, i1, -(i0 * A2 + i1 * B2), j0, j1, -(j0 * A2 + j1 * B2));
    }
}

/// <summary>
/// tf.image.transform with bilinear interpolation and a constant 0 fill, as TensorFlow.js' CPU kernel runs it
/// (what pose-detection crops and un-crops with): output pixel (x, y) reads the input at the mapped point, pixel
/// centres at integer coordinates, neighbours outside the input count as 0.
/// </summary>
internal static unsafe class TfjsWarp
{
    /// <summary>
    /// Crops a BGR 8-bit image into an RGB float tensor (HWC, <paramref name="width"/>×<paramref name="height"/>):
    /// value·scale + offset after interpolation, so the zero fill becomes <paramref name="offset"/> (pose-detection's
    /// shiftImageValue, in float32 as TensorFlow.js computes it).
    /// </summary>
    public static void CropBgrToRgb(Mat bgr, Affine m, int width, int height, float scale, float offset, Span<float> dst)
    {
        if (bgr.Type() != MatType.CV_8UC3)
            throw new ArgumentException($"Expected an 8-bit BGR image, got {bgr.Type()}.", nameof(bgr));
        if (dst.Length != width * height * 3)
            throw new ArgumentException($"The destination holds {dst.Length} floats, not {width}×{height}×3.", nameof(dst));
        var data = (byte*)bgr.DataPointer;
        var step = bgr.Step();
        int w = bgr.Width, h = bgr.Height;
        var o = 0;
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++, o += 3)
            {
                var ix = m.A0 * x + m.A1 * y + m.A2;
                var iy = m.B0 * x + m.B1 * y + m.B2;
                var x0 = (int)Math.Floor(ix);
                var y0 = (int)Math.Floor(iy);
                double fx = ix - x0, fy = iy - y0;
                double b = 0, g = 0, r = 0;
                for (var dy = 0; dy < 2; dy++)
                {
                    var yy = y0 + dy;
                    if ((uint)yy >= (uint)h) continue;
                    var wy = dy == 0 ? 1 - fy : fy;
                    var row = data + yy * step;
                    for (var dx = 0; dx < 2; dx++)
                    {
                        var xx = x0 + dx;
                        if ((uint)xx >= (uint)w) continue;
                        var wgt = wy * (dx == 0 ? 1 - fx : fx);
                        var p = row + xx * 3;
                        b += wgt * p[0];
                        g += wgt * p[1];
                        r += wgt * p[2];
                    }
                }
                dst[o] = (float)r * scale + offset;
                dst[o + 1] = (float)g * scale + offset;
                dst[o + 2] = (float)b * scale + offset;
            }
        }
    }

    /// <summary>
    /// Warps a single-channel float map (<paramref name="srcWidth"/>×<paramref name="srcHeight"/>) into
    /// <paramref name="dst"/> (CV_32FC1) with <paramref name="m"/> mapping destination pixels to source pixels.
    /// Only pixels inside <paramref name="region"/> are computed; the rest are set to 0 (the caller guarantees
    /// nothing outside maps into the source).
    /// </summary>
    public static void WarpToImage(ReadOnlySpan<float> src, int srcWidth, int srcHeight, Affine m, Mat dst, Rect region)
    {
        if (dst.Type() != MatType.CV_32FC1)
            throw new ArgumentException($"Expected a CV_32FC1 destination, got {dst.Type()}.", nameof(dst));
        dst.SetTo(Scalar.All(0));
        region &= new Rect(0, 0, dst.Width, dst.Height);
        if (region.Width <= 0 || region.Height <= 0)
            return;
        var data = (byte*)dst.DataPointer;
        var step = dst.Step();
        for (var y = region.Y; y < region.Bottom; y++)
        {
            var row = (float*)(data + y * step);
            for (var x = region.X; x < region.Right; x++)
            {
                var ix = m.A0 * x + m.A1 * y + m.A2;
                var iy = m.B0 * x + m.B1 * y + m.B2;
                var x0 = (int)Math.Floor(ix);
                var y0 = (int)Math.Floor(iy);
                double fx = ix - x0, fy = iy - y0;
                double v = 0;
                if ((uint)y0 < (uint)srcHeight)
                {
                    if ((uint)x0 < (uint)srcWidth) v += (1 - fy) * (1 - fx) * src[y0 * srcWidth + x0];
                    if ((uint)(x0 + 1) < (uint)srcWidth) v += (1 - fy) * fx * src[y0 * srcWidth + x0 + 1];
                }
                if ((uint)(y0 + 1) < (uint)srcHeight)
                {
                    if ((uint)x0 < (uint)srcWidth) v += fy * (1 - fx) * src[(y0 + 1) * srcWidth + x0];
                    if ((uint)(x0 + 1) < (uint)srcWidth) v += fy * fx * src[(y0 + 1) * srcWidth + x0 + 1];
                }
                row[x] = (float)v;
            }
        }
    }
}
