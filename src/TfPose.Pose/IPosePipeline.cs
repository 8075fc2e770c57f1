using OpenCvSharp;

namespace TfPose.Pose;

/// <summary>
/// A model that goes from image to people in one step because its pre-processing depends on what it found in the
/// previous frame (MoveNet's crop region, BlazePose's region of interest), so it cannot run in separate stages.
/// </summary>
/// <remarks>An instance reuses its buffers from call to call, so it is one thread's at a time; see <see cref="Share"/>.</remarks>
internal interface IPosePipeline : IDisposable
{
    /// <summary>
    /// People in an 8-bit BGR image, in its pixels. With <paramref name="video"/> the state carries to the next frame,
    /// and the keypoints are smoothed (by its smoother, at its timestamp) before they decide where the next frame looks,
    /// as pose-detection orders it.
    /// </summary>
    List<Person> Estimate(Mat bgr, VideoStep? video);

    /// <summary>Forgets what was carried between frames.</summary>
    void Reset();

    /// <summary>Where the last <see cref="Estimate"/> spent its time.</summary>
    PoseTimings LastTimings { get; }

    /// <summary>The last image's person mask (owned by the pipeline, overwritten by its next call), for models that give one.</summary>
    OpenCvSharp.Mat? Segmentation => null;

    /// <summary>
    /// Another instance on the same networks, with buffers and carried state of its own, so that the two may run at once
    /// (an instance is one thread's at a time). The networks stay this instance's to dispose: dispose the shares first.
    /// <paramref name="video"/>: the share will run video frames (BlazePose's gets the temporal filter; a still-image
    /// share must not have it, since every still image resets it).
    /// </summary>
    IPosePipeline Share(bool video);
}

/// <summary>
/// Where one estimate spent its time: preparing the network inputs (crops, resizes, pixel conversion), running the
/// networks, and turning their outputs into people (decoding, mapping back, smoothing, masks).
/// </summary>
public readonly record struct PoseTimings(TimeSpan Preprocess, TimeSpan Inference, TimeSpan Postprocess)
{
    public TimeSpan Total => Preprocess + Inference + Postprocess;
}

/// <summary>Adds up stage times from <see cref="System.Diagnostics.Stopwatch"/> timestamps without allocating.</summary>
internal struct StageClock
{
    private long _mark, _pre, _infer, _post;

    public void Start()
    {
        _pre = _infer = _post = 0;
        _mark = System.Diagnostics.Stopwatch.GetTimestamp();
    }

    private long Lap()
    {
        var now = System.Diagnostics.Stopwatch.GetTimestamp();
        var elapsed = now - _mark;
        _mark = now;
        return elapsed;
    }

    public void Preprocessed() => _pre += Lap();

    public void Inferred() => _infer += Lap();

    public void Postprocessed() => _post += Lap();

    public readonly PoseTimings Timings => new(
        System.Diagnostics.Stopwatch.GetElapsedTime(0, _pre), System.Diagnostics.Stopwatch.GetElapsedTime(0, _infer), System.Diagnostics.Stopwatch.GetElapsedTime(0, _post));
}

/// <summary>One video frame's time, and the smoother that filters its keypoints (null: not smoothed).</summary>
internal readonly record struct VideoStep(TimeSpan Timestamp, Tracking.PoseSmoother? Smoother);
