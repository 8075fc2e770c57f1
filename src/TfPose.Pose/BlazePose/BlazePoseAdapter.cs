using OpenCvSharp;

namespace TfPose.Pose.BlazePose;

/// <summary>
/// BlazePose's two stages as one of <see cref="PoseEstimator"/>'s pipelines; it keeps the last segmentation mask.
/// <paramref name="videoFilter"/> goes to the share that runs video (<see cref="Share"/>): still images never use it.
/// </summary>
internal sealed class BlazePoseAdapter(BlazePosePipeline pipeline, IBlazePoseFilter? videoFilter = null) : IPosePipeline
{
    /// <summary>The last image's person mask (CV_32FC1, image size, 0..1), owned here and overwritten by the next call.</summary>
    public Mat? Segmentation { get; private set; }

    public List<Person> Estimate(Mat bgr, VideoStep? video)
    {
        var result = pipeline.Estimate(bgr, video is not null, video?.Timestamp);
        Segmentation = result.Segmentation;
        return result.Person is { } person ? [person] : [];
    }

    public void Reset() => pipeline.Reset();

    public PoseTimings LastTimings => pipeline.LastTimings;

    public IPosePipeline Share(bool video) => new BlazePoseAdapter(pipeline.Share(video ? videoFilter : null));

    public void Dispose() => pipeline.Dispose();
}
