using OpenCvSharp;

namespace TfPose.Pose;

/// <summary>
/// A model that goes from image to people in one step because its pre-processing depends on what it found in the
/// previous frame (MoveNet's crop region, BlazePose's region of interest), so it cannot run in separate stages.
/// </summary>
internal interface IPosePipeline : IDisposable
{
    /// <summary>People in an 8-bit BGR image, in its pixels; <paramref name="video"/> carries state to the next frame.</summary>
    List<Person> Estimate(Mat bgr, bool video);

    /// <summary>Forgets what was carried between frames.</summary>
    void Reset();
}
