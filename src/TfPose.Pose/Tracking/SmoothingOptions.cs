namespace TfPose.Pose.Tracking;

/// <summary>Which coordinates the keypoint filters run on.</summary>
public enum SmoothingSpace
{
    /// <summary>Keypoints' normalised coordinates (0..1 across the image), as pose-detection's MoveNet filters them.</summary>
    Normalized,

    /// <summary>Image pixels, as pose-detection's BlazePose filters them (with the speed scaled by the person's size).</summary>
    Pixels,
}

/// <summary>
/// Settings of a <see cref="PoseSmoother"/>. The defaults are pose-detection's MoveNet keypoint smoothing
/// (<c>KEYPOINT_FILTER_CONFIG</c>: One Euro on normalised coordinates without size scaling); MoveNet leaves
/// scores alone, and so do the defaults unless a keypoint carries a visibility (BlazePose), which is
/// low-passed as pose-detection's BlazePose does.
/// </summary>
public sealed record SmoothingOptions
{
    /// <summary>False: <see cref="PoseSmoother.Smooth"/> returns its input.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>The One Euro filter over each keypoint's x, y and (where present) z.</summary>
    public OneEuroParameters Keypoints { get; init; } = OneEuroParameters.MoveNet;

    public SmoothingSpace Space { get; init; } = SmoothingSpace.Normalized;

    /// <summary>
    /// Divide the speed the filter sees by the person's size (mean of its box's width and height, in the
    /// filtering space's units), so near and far people are smoothed alike: pose-detection's value scaling,
    /// which BlazePose uses and MoveNet disables. The box is <see cref="Person.Box"/>, else the keypoints' extent
    /// (MediaPipe's landmark smoothing takes that extent when given no region; pose-detection's BlazePose passes
    /// its region instead, a square twice the distance from the hips to its body-scale point).
    /// </summary>
    public bool ScaleBySize { get; init; }

    /// <summary>With <see cref="ScaleBySize"/>: a person smaller than this is returned unsmoothed (pose-detection: 1e-6).</summary>
    public double MinAllowedObjectScale { get; init; } = 1e-6;

    /// <summary>The One Euro filter over world keypoints (metres, no size scaling); null leaves them as they are.</summary>
    public OneEuroParameters? WorldKeypoints { get; init; } = OneEuroParameters.BlazePoseWorld;

    /// <summary>Alpha of the low-pass over keypoint visibilities (pose-detection's BlazePose: 0.1); null turns it off.</summary>
    public double? VisibilityAlpha { get; init; } = 0.1;

    /// <summary>
    /// Also low-pass (with <see cref="VisibilityAlpha"/>) the scores of keypoints that have no visibility, and of
    /// world keypoints. Off by default: pose-detection's MoveNet does not smooth scores.
    /// </summary>
    public bool SmoothScores { get; init; }

    /// <summary>
    /// Without a tracker to ask, a track id's filters are dropped once it has not been seen for this long
    /// (pose-detection's tracker default). With one, they go when the tracker drops the track.
    /// </summary>
    public TimeSpan MaxAge { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>pose-detection's MoveNet smoothing (these defaults).</summary>
    public static SmoothingOptions MoveNet { get; } = new();

    /// <summary>
    /// pose-detection's BlazePose smoothing: One Euro (min cutoff 0.05 Hz, beta 80, derivative cutoff 1 Hz) on
    /// pixels with the speed scaled by the person's size, visibilities low-passed with alpha 0.1, world
    /// keypoints One Euro (0.1 Hz, 40, 1 Hz).
    /// </summary>
    public static SmoothingOptions BlazePose { get; } = new()
    {
        Keypoints = OneEuroParameters.BlazePose, Space = SmoothingSpace.Pixels, ScaleBySize = true,
    };

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Keypoints, nameof(Keypoints));
        Keypoints.Validate(nameof(Keypoints));
        WorldKeypoints?.Validate(nameof(WorldKeypoints));
        if (!Enum.IsDefined(Space))
            throw new ArgumentException($"Unknown smoothing space {Space}.");
        if (!(MinAllowedObjectScale >= 0))
            throw new ArgumentException($"MinAllowedObjectScale must be zero or positive, got {MinAllowedObjectScale}.");
        if (VisibilityAlpha is { } a && !(a > 0 && a <= 1))
            throw new ArgumentException($"VisibilityAlpha must be in (0, 1] or null, got {a}.");
        if (MaxAge <= TimeSpan.Zero)
            throw new ArgumentException($"MaxAge must be positive, got {MaxAge}.");
    }
}
