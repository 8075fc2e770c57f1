using OpenCvSharp;

namespace TfPose.Pose.BlazePose;

/// <summary>
/// One person found by the BlazePose detector. The detector is a face detector at heart: <see cref="Box"/> is the
/// box of the face (MediaPipe's pose_detection_cpu.pbtxt says so), and the person is located by four keypoints.
/// Coordinates are in whatever frame the detection was expressed in: normalised to the detector input (0..1) as
/// <see cref="BlazePoseDetectorDecoder.Decode"/> returns it, or image pixels after <see cref="ToImage"/>.
/// </summary>
/// <param name="Score">Sigmoid of the (clipped) score logit.</param>
/// <param name="AnchorIndex">Which of the detector's anchors produced it.</param>
/// <param name="Box">The face box.</param>
/// <param name="HipCenter">Keypoint 0: the midpoint of the hips, the full-body ROI's centre.</param>
/// <param name="BodyScale">Keypoint 1: the point that sets the full-body ROI's size and rotation.</param>
/// <param name="ShoulderCenter">Keypoint 2: the midpoint of the shoulders (upper-body ROI; unused by the full-body pipeline).</param>
/// <param name="UpperBodyScale">Keypoint 3: the upper-body ROI's size and rotation point (unused by the full-body pipeline).</param>
public readonly record struct BlazePoseDetection(float Score, int AnchorIndex, Rect2f Box,
    Point2f HipCenter, Point2f BodyScale, Point2f ShoulderCenter, Point2f UpperBodyScale)
{
    /// <summary>
    /// From the letterboxed detector input (normalised) to image pixels: MediaPipe's
    /// DetectionLetterboxRemovalCalculator, then scaling by the image size.
    /// </summary>
    public BlazePoseDetection ToImage(LetterboxPadding padding, int imageWidth, int imageHeight)
    {
        Point2f Map(Point2f p)
        {
            var q = padding.Remove(p.X, p.Y);
            return new Point2f(q.X * imageWidth, q.Y * imageHeight);
        }
        var topLeft = Map(new Point2f(Box.X, Box.Y));
        var w = Box.Width / (1 - padding.Left - padding.Right) * imageWidth;
        var h = Box.Height / (1 - padding.Top - padding.Bottom) * imageHeight;
        return this with
        {
            Box = new Rect2f(topLeft.X, topLeft.Y, w, h),
            HipCenter = Map(HipCenter),
            BodyScale = Map(BodyScale),
            ShoulderCenter = Map(ShoulderCenter),
            UpperBodyScale = Map(UpperBodyScale),
        };
    }

    /// <summary>The full-body region of interest (pose_detection_to_roi): from an image-pixel detection.</summary>
    public BlazePoseRoi ToRoi(float scale = 1.25f) => BlazePoseRoi.FromAlignmentPoints(HipCenter, BodyScale, scale);
}

/// <summary>Decoding thresholds of <see cref="BlazePoseDetectorDecoder"/>; defaults are pose-detection's (BlazePose "tfjs" runtime).</summary>
public sealed record BlazePoseDetectorOptions
{
    /// <summary>Minimum sigmoid score of an anchor (pose-detection's minScoreThresh 0.5; MediaPipe's current graph uses 0.2).</summary>
    public float MinScore { get; init; } = 0.5f;

    /// <summary>Logits are clipped to ±this before the sigmoid (score_clipping_thresh).</summary>
    public float ScoreClippingThreshold { get; init; } = 100f;

    /// <summary>Detections overlapping a better one by at least this IoU are dropped (hard NMS, as tf.image.nonMaxSuppression).</summary>
    public float IouThreshold { get; init; } = 0.3f;

    /// <summary>How many detections NMS keeps (pose-detection's maxPoses; BlazePose supports 1).</summary>
    public int MaxDetections { get; init; } = 1;
}

/// <summary>
/// Turns the BlazePose detector's raw output [1, 2254, 13] into detections, as pose-detection's BlazePose "tfjs"
/// runtime does (MediaPipe's TensorsToDetectionsCalculator with pose_detection_cpu.pbtxt's options, then
/// tf.image.nonMaxSuppression). Per anchor: column 0 is the score logit; columns 1..12 are x-centre, y-centre,
/// width, height of the face box and (x, y) of 4 keypoints, in detector-input pixels relative to the anchor
/// (reverse_output_order: x before y). Decoding is a pure function of that array; it reuses its own buffers, so one
/// decoder must not be used from two threads at once.
/// </summary>
public sealed class BlazePoseDetectorDecoder
{
    public const int InputSize = 224;
    public const int ValuesPerAnchor = 13;

    private readonly SsdAnchor[] _anchors;
    private readonly List<BlazePoseDetection> _candidates = [];
    private readonly List<BlazePoseDetection> _selected = [];

    public BlazePoseDetectorDecoder(BlazePoseDetectorOptions? options = null)
    {
        Options = options ?? new BlazePoseDetectorOptions();
        if (Options.MaxDetections < 1)
            throw new ArgumentOutOfRangeException(nameof(options), Options.MaxDetections, "MaxDetections must be at least 1.");
        _anchors = SsdAnchors.Generate(SsdAnchorOptions.BlazePoseDetector);
    }

    public BlazePoseDetectorOptions Options { get; }

    /// <summary>The detector's 2254 anchors.</summary>
    public IReadOnlyList<SsdAnchor> Anchors => _anchors;

    /// <summary>
    /// Decodes every anchor scoring at least <see cref="BlazePoseDetectorOptions.MinScore"/>, suppresses overlaps
    /// and writes the kept detections into <paramref name="output"/> (cleared first), best first, normalised to
    /// the detector input (0..1, letterbox not removed).
    /// </summary>
    public void Decode(ReadOnlySpan<float> raw, List<BlazePoseDetection> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (raw.Length != _anchors.Length * ValuesPerAnchor)
            throw new ArgumentException($"Expected {_anchors.Length}×{ValuesPerAnchor} = {_anchors.Length * ValuesPerAnchor} values (the detector's [1,2254,13] output), got {raw.Length}.", nameof(raw));
        _candidates.Clear();
        var clip = Options.ScoreClippingThreshold;
        const float scale = InputSize; // x_scale = y_scale = w_scale = h_scale = 224
        for (var i = 0; i < _anchors.Length; i++)
        {
            var row = raw.Slice(i * ValuesPerAnchor, ValuesPerAnchor);
            var score = Sigmoid(Math.Clamp(row[0], -clip, clip));
            if (score < Options.MinScore)
                continue;
            var a = _anchors[i];
            var xc = row[1] / scale * a.Width + a.XCenter;
            var yc = row[2] / scale * a.Height + a.YCenter;
            // Sizes are scaled by the anchor height for both (pose-detection's decodeBoxes; equal for fixed-size anchors).
            var w = row[3] / scale * a.Height;
            var h = row[4] / scale * a.Height;
            if (w < 0 || h < 0)
                continue;
            _candidates.Add(new BlazePoseDetection(score, i, new Rect2f(xc - w / 2, yc - h / 2, w, h),
                Keypoint(row, a, 0), Keypoint(row, a, 1), Keypoint(row, a, 2), Keypoint(row, a, 3)));
        }
        NonMaxSuppression(_candidates, Options.MaxDetections, Options.IouThreshold, _selected);
        output.Clear();
        output.AddRange(_selected);
    }

    private static Point2f Keypoint(ReadOnlySpan<float> row, SsdAnchor a, int k) =>
        new(row[5 + 2 * k] / InputSize * a.Width + a.XCenter, row[6 + 2 * k] / InputSize * a.Height + a.YCenter);

    /// <summary>
    /// Greedy ("hard") non-maximum suppression as tf.image.nonMaxSuppression runs it: best score first, a
    /// candidate is dropped when its IoU with an already kept box is at least <paramref name="iouThreshold"/>.
    /// Sorts <paramref name="candidates"/> in place; <paramref name="output"/> gets the kept ones, best first.
    /// </summary>
    public static void NonMaxSuppression(List<BlazePoseDetection> candidates, int maxDetections, float iouThreshold, List<BlazePoseDetection> output)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(output);
        output.Clear();
        // tfjs pops the highest score from an ascending stable sort: among equal scores the later anchor comes first.
        candidates.Sort(static (p, q) => p.Score != q.Score ? q.Score.CompareTo(p.Score) : q.AnchorIndex.CompareTo(p.AnchorIndex));
        foreach (var c in candidates)
        {
            if (output.Count >= maxDetections)
                break;
            var keep = true;
            for (var j = output.Count - 1; j >= 0; j--)
            {
                if (IntersectionOverUnion(c.Box, output[j].Box) >= iouThreshold)
                {
                    keep = false;
                    break;
                }
            }
            if (keep)
                output.Add(c);
        }
        // pose-detection returns the kept ones in its score-sorted order (equal scores: lower anchor first).
        output.Sort(static (p, q) => p.Score != q.Score ? q.Score.CompareTo(p.Score) : p.AnchorIndex.CompareTo(q.AnchorIndex));
    }

    /// <summary>IoU as tfjs computes it: 0 when either box has no area.</summary>
    public static float IntersectionOverUnion(Rect2f a, Rect2f b)
    {
        var areaA = a.Width * a.Height;
        var areaB = b.Width * b.Height;
        if (areaA <= 0 || areaB <= 0)
            return 0;
        var iw = Math.Max(Math.Min(a.X + a.Width, b.X + b.Width) - Math.Max(a.X, b.X), 0);
        var ih = Math.Max(Math.Min(a.Y + a.Height, b.Y + b.Height) - Math.Max(a.Y, b.Y), 0);
        var inter = iw * ih;
        return inter / (areaA + areaB - inter);
    }

    internal static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));
}
