namespace TfPose.Pose.Tracking;

/// <summary>How a detection is compared with a track.</summary>
public enum TrackerKind
{
    /// <summary>Intersection over union of the boxes (pose-detection's <c>BoundingBoxTracker</c>; MoveNet MultiPose's default).</summary>
    BoundingBox,

    /// <summary>Object keypoint similarity of the keypoints (pose-detection's <c>KeypointTracker</c>).</summary>
    Keypoint,
}

/// <summary>In which order detections claim tracks.</summary>
public enum TrackAssignment
{
    /// <summary>
    /// pose-detection's order: detections one by one, most confident (highest <see cref="Person.Score"/>) first,
    /// each taking its most similar free track. pose-detection assumes its input is sorted so; sorting here
    /// makes the result independent of the order the detections come in.
    /// </summary>
    MostConfidentFirst,

    /// <summary>Greedy over all detection–track pairs in descending similarity (ties: more confident detection, then fresher track).</summary>
    MostSimilarFirst,
}

/// <summary>
/// Settings of a <see cref="PoseTracker"/>. The defaults are pose-detection's for MoveNet MultiPose
/// (<c>DEFAULT_BOUNDING_BOX_TRACKER_CONFIG</c> / <c>DEFAULT_KEYPOINT_TRACKER_CONFIG</c>): a box tracker keeping
/// at most 18 tracks (three times the model's six people) for up to a second.
/// </summary>
public sealed record TrackerOptions
{
    public TrackerKind Kind { get; init; } = TrackerKind.BoundingBox;

    /// <summary>Most tracks kept; the stalest go first. Should exceed the people per frame (pose-detection suggests 3×).</summary>
    public int MaxTracks { get; init; } = 18;

    /// <summary>How long a track survives without a matching detection.</summary>
    public TimeSpan MaxAge { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Least similarity for a detection to continue a track; null = pose-detection's default for the kind
    /// (0.15 IoU for boxes, 0.2 OKS for keypoints).
    /// </summary>
    public double? MinSimilarity { get; init; }

    /// <summary>
    /// Keypoint tracker: a keypoint counts in the OKS only where both the detection's and the track's score
    /// reach this; the area uses the track's keypoints scoring above it. The box tracker uses it to pick the
    /// keypoints whose extent stands in for a missing <see cref="Person.Box"/>.
    /// </summary>
    public double KeypointConfidenceThreshold { get; init; } = 0.3;

    /// <summary>
    /// Keypoint tracker: the per-keypoint falloff (COCO's sigma) of the OKS, in the people's keypoint-set order.
    /// Null = COCO's sigmas, taken through <see cref="KeypointSet.ToCoco17"/>; keypoints without a COCO
    /// counterpart (OpenPose's neck, BlazePose's hands and feet) then do not count.
    /// </summary>
    public IReadOnlyList<double>? KeypointFalloff { get; init; }

    /// <summary>Keypoint tracker: fewer keypoints counted than this gives a similarity of 0.</summary>
    public int MinNumberOfKeypoints { get; init; } = 4;

    public TrackAssignment Assignment { get; init; } = TrackAssignment.MostConfidentFirst;

    /// <summary>pose-detection's MoveNet MultiPose box tracker (these defaults).</summary>
    public static TrackerOptions BoundingBox { get; } = new();

    /// <summary>pose-detection's MoveNet MultiPose keypoint tracker.</summary>
    public static TrackerOptions Keypoint { get; } = new() { Kind = TrackerKind.Keypoint };

    /// <summary>The similarity threshold in force.</summary>
    public double EffectiveMinSimilarity => MinSimilarity ?? (Kind == TrackerKind.Keypoint ? 0.2 : 0.15);

    internal void Validate()
    {
        // pose-detection's validateTrackerConfig, plus what it leaves unchecked.
        if (!Enum.IsDefined(Kind))
            throw new ArgumentException($"Unknown tracker kind {Kind}.");
        if (!Enum.IsDefined(Assignment))
            throw new ArgumentException($"Unknown track assignment {Assignment}.");
        if (MaxTracks < 1)
            throw new ArgumentException($"MaxTracks must be at least 1, got {MaxTracks}.");
        if (MaxAge <= TimeSpan.Zero)
            throw new ArgumentException($"MaxAge must be positive, got {MaxAge}.");
        if (MinSimilarity is { } s && !(s >= 0 && s <= 1))
            throw new ArgumentException($"MinSimilarity must be in [0, 1], got {s}.");
        if (!(KeypointConfidenceThreshold >= 0 && KeypointConfidenceThreshold <= 1))
            throw new ArgumentException($"KeypointConfidenceThreshold must be in [0, 1], got {KeypointConfidenceThreshold}.");
        if (MinNumberOfKeypoints < 1)
            throw new ArgumentException($"MinNumberOfKeypoints must be at least 1, got {MinNumberOfKeypoints}.");
        if (KeypointFalloff is not null)
            foreach (var f in KeypointFalloff)
                if (!(f > 0) || double.IsInfinity(f))
                    throw new ArgumentException($"Every KeypointFalloff must be positive, got {f}.");
    }
}
