using OpenCvSharp;
using TfPose.Pose.BlazePose;

namespace TfPose.Pose.Tracking;

/// <summary>
/// pose-detection's BlazePose landmark filtering: One Euro filters on the 33 landmarks and, heavier, on the two
/// auxiliary ones that place the next crop, their speed measured relative to the body's size; a low-pass on
/// visibility; One Euro on world landmarks (metres, unscaled). Runs before the next region is taken from the
/// auxiliary landmarks, so the region is as steady as the landmarks.
/// </summary>
public sealed class BlazePoseSmoothing : IBlazePoseFilter
{
    private const int Landmarks = 35;
    private const int Body = 33;

    /// <summary>pose-detection's auxiliary-landmark settings: slower than the body's, so a still person's crop stays put.</summary>
    public static OneEuroParameters Auxiliary { get; } = OneEuroParameters.BlazePose with { MinCutOff = 0.01, Beta = 10 };

    private readonly SmoothingOptions _options;
    private readonly OneEuroState[] _positions = new OneEuroState[Landmarks * 3];
    private readonly LowPassState[] _visibility = new LowPassState[Landmarks];
    private readonly OneEuroState[] _world = new OneEuroState[Body * 3];

    public BlazePoseSmoothing(SmoothingOptions? options = null)
    {
        _options = options ?? SmoothingOptions.BlazePose;
        _options.Validate();
    }

    public void Apply(Span<BlazePoseLandmark> landmarks, Span<BlazePoseLandmark> worldLandmarks, int imageWidth, int imageHeight, TimeSpan? timestamp)
    {
        if (!_options.Enabled || timestamp is not { } t || landmarks.Length < Landmarks)
            return;
        var micros = t.Ticks / TimeSpan.TicksPerMicrosecond;
        // The body's size is the side of the unscaled square the auxiliary landmarks span (hips' midpoint to the scale point).
        var size = BlazePoseRoi.FromAlignmentPoints(new Point2f(landmarks[33].X, landmarks[33].Y), new Point2f(landmarks[34].X, landmarks[34].Y), 1f).Width;
        var scale = _options.ScaleBySize ? 1 / Math.Max(size, _options.MinAllowedObjectScale) : 1;
        for (var i = 0; i < Landmarks; i++)
        {
            var p = i < Body ? _options.Keypoints : Auxiliary;
            var l = landmarks[i];
            var visibility = _options.VisibilityAlpha is { } alpha ? (float)_visibility[i].Apply(l.Visibility, alpha) : l.Visibility;
            landmarks[i] = l with
            {
                X = (float)_positions[3 * i].Apply(l.X, micros, scale, p),
                Y = (float)_positions[3 * i + 1].Apply(l.Y, micros, scale, p),
                Z = (float)_positions[3 * i + 2].Apply(l.Z, micros, scale, p),
                Visibility = visibility,
            };
        }
        if (_options.WorldKeypoints is not { } world)
            return;
        for (var i = 0; i < Math.Min(Body, worldLandmarks.Length); i++)
        {
            var l = worldLandmarks[i];
            worldLandmarks[i] = l with
            {
                X = (float)_world[3 * i].Apply(l.X, micros, 1, world),
                Y = (float)_world[3 * i + 1].Apply(l.Y, micros, 1, world),
                Z = (float)_world[3 * i + 2].Apply(l.Z, micros, 1, world),
            };
        }
    }

    public void Reset()
    {
        Array.Clear(_positions);
        Array.Clear(_visibility);
        Array.Clear(_world);
    }
}
