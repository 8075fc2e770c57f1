using OpenCvSharp;

namespace TfPose.Pose.Tracking;

/// <summary>
/// The two similarities pose-detection's trackers use between a detection and a track: box IoU and object
/// keypoint similarity. The tracker works on its own buffers; these overloads on people are for tests and
/// one-off comparisons.
/// </summary>
public static class PoseSimilarity
{
    /// <summary>Intersection over union of two boxes; 0 when they do not overlap (or one is empty).</summary>
    public static double Iou(Rect2f a, Rect2f b)
    {
        double xMin = Math.Max(a.X, b.X), yMin = Math.Max(a.Y, b.Y);
        double xMax = Math.Min(a.X + a.Width, b.X + b.Width), yMax = Math.Min(a.Y + a.Height, b.Y + b.Height);
        if (xMin >= xMax || yMin >= yMax) return 0;
        var intersection = (xMax - xMin) * (yMax - yMin);
        return intersection / ((double)a.Width * a.Height + (double)b.Width * b.Height - intersection);
    }

    /// <summary>IoU of two people's boxes (see <see cref="BoxOf"/>); 0 when either has none.</summary>
    public static double Iou(Person detection, Person track, double keypointThreshold = 0.3) =>
        BoxOf(detection, keypointThreshold) is { } a && BoxOf(track, keypointThreshold) is { } b ? Iou(a, b) : 0;

    /// <summary>
    /// The box a tracker compares: the model's <see cref="Person.Box"/> where it gives one, else the extent of
    /// the keypoints scoring above <paramref name="keypointThreshold"/> (of all keypoints if none does);
    /// null for a person without keypoints. In image pixels.
    /// </summary>
    public static Rect2f? BoxOf(Person person, double keypointThreshold)
    {
        ArgumentNullException.ThrowIfNull(person);
        if (person.Box is { } box) return box;
        var found = Extent(person, keypointThreshold, out var b);
        if (!found) found = Extent(person, double.NegativeInfinity, out b);
        return found ? b : null;
    }

    private static bool Extent(Person person, double threshold, out Rect2f box)
    {
        float x0 = float.PositiveInfinity, y0 = float.PositiveInfinity, x1 = float.NegativeInfinity, y1 = float.NegativeInfinity;
        for (var i = 0; i < person.KeypointSet.Count; i++)
        {
            if (person[i] is not { } k || !(k.Score > threshold)) continue;
            x0 = Math.Min(x0, k.X); y0 = Math.Min(y0, k.Y);
            x1 = Math.Max(x1, k.X); y1 = Math.Max(y1, k.Y);
        }
        box = x0 <= x1 ? new Rect2f(x0, y0, x1 - x0, y1 - y0) : default;
        return x0 <= x1;
    }

    /// <summary>
    /// Object keypoint similarity of a detection to a track as pose-detection's keypoint tracker computes it, on
    /// coordinates normalised to the image: the mean over keypoints confident in both (score ≥ threshold) of
    /// exp(−d² / (2·A·(2σ)²)), with A the area of the box around the track's keypoints scoring above the
    /// threshold and σ the keypoint's falloff; 0 when fewer than MinNumberOfKeypoints count or the two people
    /// use different keypoint sets.
    /// </summary>
    public static double Oks(Person detection, Person track, TrackerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(detection);
        ArgumentNullException.ThrowIfNull(track);
        options ??= TrackerOptions.Keypoint;
        if (!ReferenceEquals(detection.KeypointSet, track.KeypointSet)) return 0;
        var n = detection.KeypointSet.Count;
        var d = new float[3 * n];
        var t = new float[3 * n];
        Flatten(detection, d);
        Flatten(track, t);
        return Oks(d, t, Falloff(detection.KeypointSet, options), options.KeypointConfidenceThreshold, options.MinNumberOfKeypoints);
    }

    /// <summary>A person's keypoints as (normalised x, normalised y, score) triples; a missing keypoint gets score −1 so it never counts.</summary>
    internal static void Flatten(Person person, Span<float> xys)
    {
        for (var i = 0; i < person.KeypointSet.Count; i++)
        {
            if (person[i] is { } k)
            {
                xys[3 * i] = k.NormalizedX;
                xys[3 * i + 1] = k.NormalizedY;
                xys[3 * i + 2] = k.Score;
            }
            else
            {
                xys[3 * i] = 0;
                xys[3 * i + 1] = 0;
                xys[3 * i + 2] = -1;
            }
        }
    }

    /// <summary>OKS on flattened keypoints; a falloff of 0 marks a keypoint that does not count.</summary>
    internal static double Oks(ReadOnlySpan<float> detection, ReadOnlySpan<float> track, ReadOnlySpan<double> falloff,
        double threshold, int minNumberOfKeypoints)
    {
        var area = Area(track, threshold) + 1e-6;
        var sum = 0.0;
        var count = 0;
        for (var i = 0; i < falloff.Length; i++)
        {
            // Both scores must reach the threshold (pose-detection skips a keypoint below it, so equal counts).
            if (falloff[i] == 0 || detection[3 * i + 2] < threshold || track[3 * i + 2] < threshold) continue;
            count++;
            double dx = detection[3 * i] - track[3 * i], dy = detection[3 * i + 1] - track[3 * i + 1];
            var k = 2 * falloff[i];
            sum += Math.Exp(-(dx * dx + dy * dy) / (2 * area * k * k));
        }
        return count < minNumberOfKeypoints ? 0 : sum / count;
    }

    /// <summary>
    /// Area of the box around the keypoints scoring above the threshold (strictly, as pose-detection). Like
    /// pose-detection it seeds the minima with 1 and the maxima with 0: for keypoints inside the image that is
    /// their plain extent, and with none above the threshold the area comes out as (0 − 1)·(0 − 1) = 1.
    /// </summary>
    private static double Area(ReadOnlySpan<float> xys, double threshold)
    {
        double x0 = 1, y0 = 1, x1 = 0, y1 = 0;
        for (var i = 0; i + 2 < xys.Length; i += 3)
        {
            if (!(xys[i + 2] > threshold)) continue;
            x0 = Math.Min(x0, xys[i]); x1 = Math.Max(x1, xys[i]);
            y0 = Math.Min(y0, xys[i + 1]); y1 = Math.Max(y1, xys[i + 1]);
        }
        return (x1 - x0) * (y1 - y0);
    }

    /// <summary>
    /// The per-keypoint falloff for a set: the options' own list, else COCO's sigmas (pose-detection's MoveNet
    /// defaults) through the set's COCO-17 mapping, 0 marking keypoints without a COCO counterpart.
    /// </summary>
    internal static double[] Falloff(KeypointSet set, TrackerOptions options)
    {
        if (options.KeypointFalloff is { } own)
        {
            if (own.Count != set.Count)
                throw new ArgumentException($"KeypointFalloff has {own.Count} values but the {set.Name} set has {set.Count} keypoints.");
            return own.ToArray();
        }
        if (set.ToCoco17 is not { } map)
            throw new InvalidOperationException(
                $"The keypoint tracker needs a falloff per keypoint: the {set.Name} set does not map onto COCO-17, so set TrackerOptions.KeypointFalloff.");
        var f = new double[set.Count];
        for (var c = 0; c < map.Count; c++)
            if (map[c] >= 0) f[map[c]] = CocoKeypointEval.Sigmas[c];
        return f;
    }
}
