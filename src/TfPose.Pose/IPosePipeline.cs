using OpenCvSharp;

namespace TfPose.Pose;

/// <summary>
/// A model that goes from image to people in one step because its pre-processing depends on what it found in the
/// previous frame (MoveNet's crop region, BlazePose's region of interest), so it cannot run in separate stages.
/// </summary>
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
}

/// <summary>One video frame's time, and the smoother that filters its keypoints (null: not smoothed).</summary>
internal readonly record struct VideoStep(TimeSpan Timestamp, Tracking.PoseSmoother? Smoother);
