using OpenCvSharp;

namespace TfPose.Pose;

/// <summary>
/// What one estimate saw besides its people: where it spent its time and its segmentation mask. For callers that share
/// an estimator between threads: <see cref="PoseEstimator.LastTimings"/> and <see cref="PoseEstimator.LastSegmentation"/>
/// describe whichever call finished last, which may be another thread's, while this object is filled by the one call it
/// is given to. Reusable (the mask's buffer is kept from call to call), but by one call at a time: one per thread.
/// </summary>
public sealed class PoseEstimateDetails : IDisposable
{
    private Mat? _mask;
    private bool _hasMask;

    /// <summary>Where the call spent its time, for models that run as one step (MoveNet, BlazePose); null for staged models, as <see cref="PoseEstimator.LastTimings"/>.</summary>
    public PoseTimings? Timings { get; private set; }

    /// <summary>
    /// The call's person segmentation mask (CV_32FC1, the image's size, 0..1): a copy owned by this object and overwritten
    /// by its next call; null when the model gives none (only BlazePose does, with <see cref="PoseEstimatorOptions.Segmentation"/>)
    /// or nobody was found.
    /// </summary>
    public Mat? Segmentation => _hasMask ? _mask : null;

    /// <summary>Hands <see cref="Segmentation"/> to the caller, who then owns (and disposes) it; the next call makes a new one.</summary>
    public Mat? DetachSegmentation()
    {
        var mask = Segmentation;
        if (mask is not null)
        {
            _mask = null;
            _hasMask = false;
        }
        return mask;
    }

    internal void Clear()
    {
        Timings = null;
        _hasMask = false;
    }

    /// <summary>Takes the call's figures while its pipeline is still the caller's: the pipeline's mask is overwritten by its next call.</summary>
    internal void Capture(PoseTimings timings, Mat? segmentation)
    {
        Timings = timings;
        _hasMask = segmentation is not null;
        if (segmentation is null)
            return;
        _mask ??= new Mat();
        segmentation.CopyTo(_mask);
    }

    public void Dispose()
    {
        _mask?.Dispose();
        _mask = null;
        _hasMask = false;
    }
}
