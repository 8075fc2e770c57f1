namespace TfPose.Pose;

/// <summary>The family of pose network, which decides how its output is decoded.</summary>
public enum PoseModelKind
{
    /// <summary>Multi-person OpenPose: 18 part heatmaps + background, then 38 part-affinity-field channels.</summary>
    OpenPose,
}

/// <summary>Channel order the network expects its input image in.</summary>
public enum ChannelOrder
{
    Bgr,
    Rgb,
}

/// <summary>
/// Everything needed to feed a pose graph and read its output: tensor names, input size rules and
/// pixel preprocessing. Preprocessing lives here, per model, rather than as constants in decoders:
/// OpenPose graphs take raw BGR 0..255, others (e.g. PoseNet: RGB scaled to [-1, 1]) differ.
/// </summary>
public sealed record PoseModel
{
    public PoseModelKind Kind { get; init; } = PoseModelKind.OpenPose;

    /// <summary>Graph input (NHWC float32 image).</summary>
    public string InputName { get; init; } = "image";

    /// <summary>Graph output holding heatmaps and PAFs (NHWC).</summary>
    public string OutputName { get; init; } = "Openpose/concat_stage7";

    /// <summary>Default network input width.</summary>
    public int DefaultWidth { get; init; } = 432;

    /// <summary>Default network input height.</summary>
    public int DefaultHeight { get; init; } = 368;

    /// <summary>Input width and height must be multiples of this (the network's output stride).</summary>
    public int Stride { get; init; } = 8;

    public ChannelOrder ChannelOrder { get; init; } = ChannelOrder.Bgr;

    /// <summary>Input value = (pixel − Mean) × Scale, per channel in the network's channel order.</summary>
    public float Mean { get; init; }

    /// <summary>See <see cref="Mean"/>.</summary>
    public float Scale { get; init; } = 1f;

    /// <summary>First heatmap channel of the output (18 part maps follow, then background).</summary>
    public int HeatmapOffset { get; init; }

    /// <summary>First PAF channel of the output (38 channels follow).</summary>
    public int PafOffset { get; init; } = 19;

    /// <summary>Channels the output must have.</summary>
    public int OutputChannels { get; init; } = 57;

    /// <summary>tf-pose-estimation's OpenPose graphs (CMU, MobileNet thin, MobileNet v2): raw BGR 0..255, 432×368.</summary>
    public static PoseModel OpenPose { get; } = new();

    /// <summary>Checks a network input size against the model's rules, naming the problem.</summary>
    public void ValidateSize(int width, int height)
    {
        if (width <= 0 || height <= 0)
            throw new ArgumentException($"The network input size must be positive, got {width}x{height}.");
        if (width % Stride != 0 || height % Stride != 0)
            throw new ArgumentException($"The network input size {width}x{height} is not a multiple of {Stride} in both dimensions (e.g. {RoundToStride(width)}x{RoundToStride(height)}).");
    }

    internal int RoundToStride(int v) => Math.Max(Stride, (int)Math.Round(v / (double)Stride) * Stride);
}
