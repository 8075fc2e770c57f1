using OpenCvSharp;

namespace TfPose.Pose.BlazePose;

/// <summary>
/// Letterbox padding of a network input, as fractions of the input's width (left, right) and height (top, bottom):
/// MediaPipe's LETTERBOX_PADDING and pose-detection's <c>Padding</c>.
/// </summary>
public readonly record struct LetterboxPadding(float Left, float Top, float Right, float Bottom)
{
    public static LetterboxPadding None => default;

    /// <summary>A point normalised to the padded input (0..1) to one normalised to the unpadded region.</summary>
    public Point2f Remove(float x, float y) =>
        new((x - Left) / (1 - Left - Right), (y - Top) / (1 - Top - Bottom));
}

/// <summary>
/// A rotated rectangle in image pixels: the region a BlazePose stage reads. <see cref="Rotation"/> is in radians,
/// clockwise on screen (image y points down), as MediaPipe's NormalizedRect.rotation: a point at crop offset
/// (u, v) from the centre lands at centre + (cos·u − sin·v, sin·u + cos·v).
/// </summary>
public readonly record struct BlazePoseRoi(float XCenter, float YCenter, float Width, float Height, float Rotation)
{
    /// <summary>The whole image, unrotated (the detector's region).</summary>
    public static BlazePoseRoi WholeImage(int width, int height) => new(width * 0.5f, height * 0.5f, width, height, 0);

    /// <summary>
    /// MediaPipe's AlignmentPointsRectsCalculator followed by RectTransformationCalculator as pose_detection_to_roi
    /// and pose_landmarks_to_roi configure them (and pose-detection's calculateAlignmentPointsRects +
    /// transformNormalizedRect): a square centred on <paramref name="center"/> (the hips' midpoint) whose side is
    /// twice the distance to <paramref name="scalePoint"/> times <paramref name="scale"/> (1.25), rotated so that the
    /// centre→scale-point vector points up (target angle 90°). Points in image pixels.
    /// </summary>
    public static BlazePoseRoi FromAlignmentPoints(Point2f center, Point2f scalePoint, float scale = 1.25f)
    {
        double dx = scalePoint.X - center.X, dy = scalePoint.Y - center.Y;
        var size = Math.Sqrt(dx * dx + dy * dy) * 2;
        // Target angle 90° minus the vector's angle measured with y up; normalised to [-π, π).
        var rotation = NormalizeRadians(Math.PI / 2 - Math.Atan2(-dy, dx));
        // square_long: the rect is already square in pixels; scale_x = scale_y = scale, no shift.
        var side = (float)(size * scale);
        return new BlazePoseRoi(center.X, center.Y, side, side, (float)rotation);
    }

    /// <summary>An angle in radians brought into [−π, π) as MediaPipe's NormalizeRadians does.</summary>
    public static double NormalizeRadians(double angle) => angle - 2 * Math.PI * Math.Floor((angle + Math.PI) / (2 * Math.PI));

    /// <summary>
    /// A point normalised to this rectangle (0..1 across its width and height, before rotation) to image pixels:
    /// MediaPipe's LandmarkProjectionCalculator (pose-detection's calculateLandmarkProjection).
    /// </summary>
    public Point2f ToImage(float u, float v)
    {
        double x = u - 0.5, y = v - 0.5;
        double c = Math.Cos(Rotation), s = Math.Sin(Rotation);
        return new Point2f((float)((c * x - s * y) * Width + XCenter), (float)((s * x + c * y) * Height + YCenter));
    }

    /// <summary>
    /// ImageToTensorCalculator's keep-aspect-ratio step (pose-detection's padRoi): this rectangle grown along one
    /// side to the <paramref name="outputWidth"/>×<paramref name="outputHeight"/> aspect ratio, and the padding that
    /// adds, as fractions of the output.
    /// </summary>
    public (BlazePoseRoi Padded, LetterboxPadding Padding) PadTo(int outputWidth, int outputHeight)
    {
        if (Width <= 0 || Height <= 0)
            throw new InvalidOperationException($"The region {Width}×{Height} is empty.");
        var tensorAspect = outputHeight / (double)outputWidth;
        var roiAspect = Height / (double)Width;
        if (tensorAspect > roiAspect)
        {
            var pad = (float)((1 - roiAspect / tensorAspect) / 2);
            return (this with { Height = (float)(Width * tensorAspect) }, new LetterboxPadding(0, pad, 0, pad));
        }
        else
        {
            var pad = (float)((1 - tensorAspect / roiAspect) / 2);
            return (this with { Width = (float)(Height / tensorAspect) }, new LetterboxPadding(pad, 0, pad, 0));
        }
    }

    /// <summary>
    /// The affine map from output pixel (x, y) of an <paramref name="outputWidth"/>×<paramref name="outputHeight"/>
    /// crop of this rectangle to the image pixel it samples, as rows [a0 a1 a2; b0 b1 b2]: what pose-detection hands
    /// tf.image.transform (getRotatedSubRectToRectTransformMatrix then getProjectiveTransformMatrix). Output pixel x
    /// sits at x / outputWidth of the rectangle, so pixel 0 samples the rectangle's corner (not half a pixel in).
    /// </summary>
    public (double A0, double A1, double A2, double B0, double B1, double B2) CropToImageMatrix(int outputWidth, int outputHeight)
    {
        double c = Math.Cos(Rotation), s = Math.Sin(Rotation);
        double a0 = c * Width / outputWidth, a1 = -s * Height / outputHeight;
        double b0 = s * Width / outputWidth, b1 = c * Height / outputHeight;
        var a2 = XCenter - 0.5 * (c * Width - s * Height);
        var b2 = YCenter - 0.5 * (s * Width + c * Height);
        return (a0, a1, a2, b0, b1, b2);
    }

    /// <summary>The four corners in image pixels: top-left, top-right, bottom-right, bottom-left of the crop.</summary>
    public Point2f[] Corners() => [ToImage(0, 0), ToImage(1, 0), ToImage(1, 1), ToImage(0, 1)];

    /// <summary>The axis-aligned box around the rotated rectangle, in image pixels (not clipped to the image).</summary>
    public Rect2f BoundingBox()
    {
        var corners = Corners();
        float x0 = corners.Min(p => p.X), x1 = corners.Max(p => p.X), y0 = corners.Min(p => p.Y), y1 = corners.Max(p => p.Y);
        return new Rect2f(x0, y0, x1 - x0, y1 - y0);
    }
}
