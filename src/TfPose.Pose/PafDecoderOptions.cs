namespace TfPose.Pose;

/// <summary>
/// Thresholds of the OpenPose part-affinity-field decoder. Defaults are tf-pose-estimation's
/// (TfPoseEstimator + pafprocess) so results match that reference.
/// </summary>
public sealed record PafDecoderOptions
{
    /// <summary>Upsampling of the network output before peak search (tf-pose's resize_out_ratio).</summary>
    public float UpsampleRatio { get; init; } = 4.0f;

    /// <summary>Width of the square Gaussian kernel applied to the upsampled heatmaps.</summary>
    public int GaussianSize { get; init; } = 25;

    /// <summary>The "nsig" of tf-pose's gauss_kernel (the kernel spans ±nsig standard deviations).</summary>
    public float GaussianSigma { get; init; } = 3.0f;

    /// <summary>A peak must exceed this smoothed heatmap value (THRESH_HEAT).</summary>
    public float PeakThreshold { get; init; } = 0.05f;

    /// <summary>A PAF sample counts when its dot product with the limb direction exceeds this (THRESH_VECTOR_SCORE).</summary>
    public float VectorScoreThreshold { get; init; } = 0.05f;

    /// <summary>A limb needs more than this many counting samples (THRESH_VECTOR_CNT1).</summary>
    public int VectorCountThreshold { get; init; } = 6;

    /// <summary>Samples taken along each candidate limb (STEP_PAF).</summary>
    public int PafSteps { get; init; } = 10;

    /// <summary>People with fewer parts are dropped (THRESH_PART_CNT).</summary>
    public int MinParts { get; init; } = 4;

    /// <summary>People whose score per part is below this are dropped (THRESH_HUMAN_SCORE).</summary>
    public float MinPersonScore { get; init; } = 0.3f;

    internal void Validate()
    {
        if (!(UpsampleRatio > 0) || float.IsInfinity(UpsampleRatio))
            throw new ArgumentOutOfRangeException(nameof(UpsampleRatio), UpsampleRatio, "The upsample ratio must be a positive number.");
        if (GaussianSize < 1 || GaussianSize % 2 == 0)
            throw new ArgumentOutOfRangeException(nameof(GaussianSize), GaussianSize, "The Gaussian kernel size must be odd and positive.");
        if (!(GaussianSigma > 0))
            throw new ArgumentOutOfRangeException(nameof(GaussianSigma), GaussianSigma, "The Gaussian sigma must be positive.");
        if (PafSteps < 1)
            throw new ArgumentOutOfRangeException(nameof(PafSteps), PafSteps, "At least one PAF sample is needed.");
    }
}
