namespace TfPose.Pose;

/// <summary>The family of pose network, which decides how its output is decoded.</summary>
public enum PoseModelKind
{
    /// <summary>Multi-person OpenPose: 18 part heatmaps + background, then 38 part-affinity-field channels.</summary>
    OpenPose,

    /// <summary>Single person, one heatmap per keypoint (Convolutional Pose Machines, stacked hourglass): argmax per map.</summary>
    Heatmap,

    /// <summary>PoseNet: keypoint heatmaps, short-range offsets and mid-range displacements along a keypoint tree.</summary>
    PoseNet,

    /// <summary>MoveNet SinglePose (Lightning, Thunder): 17 COCO keypoints of one person in a square crop region.</summary>
    MoveNet,

    /// <summary>MoveNet MultiPose: up to 6 people with 17 COCO keypoints, a box and a score each.</summary>
    MoveNetMultiPose,

    /// <summary>MediaPipe BlazePose: a person detector, then a landmark model (lite, full, heavy) on a rotated crop: 33 keypoints, world keypoints, a mask.</summary>
    BlazePose,
}

/// <summary>Channel order the network expects its input image in.</summary>
public enum ChannelOrder
{
    Bgr,
    Rgb,
}

/// <summary>Which network input sizes a model accepts.</summary>
public enum InputSizeRule
{
    /// <summary>Width and height are multiples of the stride (OpenPose).</summary>
    MultipleOfStride,

    /// <summary>Width and height are stride·k + 1 (PoseNet: 257, 353, 513, ...).</summary>
    StrideMultiplePlusOne,

    /// <summary>Only the default size (the graph's input shape is fixed).</summary>
    Fixed,
}

/// <summary>
/// Everything needed to feed a pose graph and read its output: tensor names, input size rules, pixel
/// preprocessing and the keypoint set. Preprocessing lives here, per model, rather than as constants in
/// decoders: OpenPose graphs take raw BGR 0..255, PoseNet RGB scaled to [−1, 1], the CPM/hourglass
/// graphs raw RGB 0..255. <see cref="PoseModelDescription"/> detects one from a graph and applies a
/// JSON override file.
/// </summary>
/// <remarks>
/// A network's outputs are read as one NHWC map: the <see cref="OutputNames"/> tensors, which share
/// height and width, are concatenated along channels in that order. OpenPose: one output (heatmaps at
/// <see cref="HeatmapOffset"/>, PAFs at <see cref="PafOffset"/>). Heatmap: one output of K maps. PoseNet:
/// heatmap (K), offsets (2K: y then x), forward displacements (2E: y then x), backward displacements (2E).
/// </remarks>
public sealed record PoseModel
{
    public PoseModelKind Kind { get; init; } = PoseModelKind.OpenPose;

    /// <summary>Short description for messages and JSON (e.g. the graph's folder name).</summary>
    public string Name { get; init; } = "openpose";

    /// <summary>Graph input (NHWC float32 image).</summary>
    public string InputName { get; init; } = "image";

    /// <summary>Graph outputs, concatenated along channels in this order (see remarks).</summary>
    public IReadOnlyList<string> OutputNames { get; init; } = ["Openpose/concat_stage7"];

    /// <summary>Default network input width.</summary>
    public int DefaultWidth { get; init; } = 432;

    /// <summary>Default network input height.</summary>
    public int DefaultHeight { get; init; } = 368;

    /// <summary>Input pixels per output pixel.</summary>
    public int Stride { get; init; } = 8;

    public InputSizeRule SizeRule { get; init; } = InputSizeRule.MultipleOfStride;

    public ChannelOrder ChannelOrder { get; init; } = ChannelOrder.Bgr;

    /// <summary>Input value = (pixel − Mean) × Scale, per channel in the network's channel order.</summary>
    public float Mean { get; init; }

    /// <summary>See <see cref="Mean"/>.</summary>
    public float Scale { get; init; } = 1f;

    /// <summary>Channel order, mean and scale as the conversion that applies them to an image.</summary>
    public Runtime.PixelScaling Pixels => Runtime.PixelScaling.FromMean(ChannelOrder == ChannelOrder.Rgb, Mean, Scale);

    /// <summary>What the keypoint channels are.</summary>
    public KeypointSet Keypoints { get; init; } = KeypointSet.OpenPose18;

    /// <summary>First heatmap channel of the (concatenated) output.</summary>
    public int HeatmapOffset { get; init; }

    /// <summary>OpenPose: first PAF channel of the output (38 channels follow).</summary>
    public int PafOffset { get; init; } = 19;

    /// <summary>Channels the (concatenated) output must have.</summary>
    public int OutputChannels { get; init; } = 57;

    /// <summary>The heatmaps are logits: the decoder applies a sigmoid (PoseNet graphs that end before tfjs' sigmoid).</summary>
    public bool HeatmapLogits { get; init; }

    /// <summary>tf-pose-estimation's OpenPose graphs (CMU, MobileNet thin, MobileNet v2): raw BGR 0..255, 432×368.</summary>
    public static PoseModel OpenPose { get; } = new();

    /// <summary>
    /// A single-person heatmap model such as PoseEstimationForMobile's CPM (output stride 2) and hourglass
    /// (stride 4): 192×192 raw RGB 0..255, 14 AI Challenger keypoints. Checked on the sample images: fed
    /// 0..255 their maps peak at 0.2–0.8 on the people; fed [0, 1] or [−1, 1] every map stays below 0.05.
    /// </summary>
    public static PoseModel Heatmap(string outputName, int stride, KeypointSet keypoints, int width = 192, int height = 192) => new()
    {
        Kind = PoseModelKind.Heatmap, Name = "heatmap", OutputNames = [outputName], DefaultWidth = width, DefaultHeight = height,
        Stride = stride, SizeRule = InputSizeRule.Fixed, ChannelOrder = ChannelOrder.Rgb, Mean = 0, Scale = 1,
        Keypoints = keypoints, HeatmapOffset = 0, PafOffset = -1, OutputChannels = keypoints.Count,
    };

    /// <summary>
    /// PoseNet (tfjs-models' MobileNet V1 weights): RGB scaled to [−1, 1], sizes 16k+1, 17 COCO keypoints and
    /// the 16-edge tree; outputs heatmap, offset, displacement_fwd, displacement_bwd.
    /// </summary>
    public static PoseModel PoseNet(string heatmap = "heatmap", string offsets = "offset_2", string forward = "displacement_fwd_2",
        string backward = "displacement_bwd_2", int stride = 16, bool heatmapLogits = false) => new()
    {
        Kind = PoseModelKind.PoseNet, Name = "posenet", OutputNames = [heatmap, offsets, forward, backward],
        DefaultWidth = 353, DefaultHeight = 257, Stride = stride, SizeRule = InputSizeRule.StrideMultiplePlusOne,
        ChannelOrder = ChannelOrder.Rgb, Mean = 127.5f, Scale = 1 / 127.5f, Keypoints = KeypointSet.Coco17,
        HeatmapOffset = 0, PafOffset = -1, OutputChannels = 17 + 34 + 2 * 32, HeatmapLogits = heatmapLogits,
    };

    /// <summary>MoveNet SinglePose with a square input of <paramref name="size"/> (192 Lightning, 256 Thunder): int32 RGB 0..255, 17 COCO keypoints.</summary>
    public static PoseModel MoveNet(string input, string output, int size) => new()
    {
        Kind = PoseModelKind.MoveNet, Name = size == 256 ? "movenet-thunder" : "movenet-lightning", InputName = input, OutputNames = [output],
        DefaultWidth = size, DefaultHeight = size, Stride = 1, SizeRule = InputSizeRule.Fixed, ChannelOrder = ChannelOrder.Rgb,
        Keypoints = KeypointSet.Coco17, HeatmapOffset = -1, PafOffset = -1, OutputChannels = 0,
    };

    /// <summary>MoveNet MultiPose: int32 RGB 0..255 resized so the longer side is 256 and padded to multiples of 32; up to 6 people.</summary>
    public static PoseModel MoveNetMultiPose(string input, string output) => new()
    {
        Kind = PoseModelKind.MoveNetMultiPose, Name = "movenet-multipose", InputName = input, OutputNames = [output],
        DefaultWidth = 256, DefaultHeight = 256, Stride = 32, SizeRule = InputSizeRule.MultipleOfStride, ChannelOrder = ChannelOrder.Rgb,
        Keypoints = KeypointSet.Coco17, HeatmapOffset = -1, PafOffset = -1, OutputChannels = 0,
    };

    /// <summary>A BlazePose landmark model (256×256 RGB 0..1 crops): the person detector runs first, see <see cref="PoseEstimatorOptions.DetectorModel"/>.</summary>
    public static PoseModel BlazePose(string input, IReadOnlyList<string> outputs) => new()
    {
        Kind = PoseModelKind.BlazePose, Name = "blazepose", InputName = input, OutputNames = outputs,
        DefaultWidth = 256, DefaultHeight = 256, Stride = 1, SizeRule = InputSizeRule.Fixed, ChannelOrder = ChannelOrder.Rgb, Scale = 1 / 255f,
        Keypoints = KeypointSet.BlazePose33, HeatmapOffset = -1, PafOffset = -1, OutputChannels = 0,
    };

    /// <summary>Whether the model runs as one step per image whose pre-processing follows the previous frame (MoveNet, BlazePose), not in the Prepare/Infer/Decode stages.</summary>
    public bool RunsAsPipeline => Kind is PoseModelKind.MoveNet or PoseModelKind.MoveNetMultiPose or PoseModelKind.BlazePose;

    /// <summary>Whether the model finds several people (and its people are tracked across video frames).</summary>
    public bool MultiPerson => Kind is PoseModelKind.OpenPose or PoseModelKind.PoseNet or PoseModelKind.MoveNetMultiPose;

    /// <summary>Output grid size for a network input size: ⌈input / stride⌉ (OpenPose n/8, PoseNet (n−1)/16+1, CPM 192/2).</summary>
    public int OutputSize(int inputSize) => (inputSize + Stride - 1) / Stride;

    /// <summary>Checks a network input size against the model's rules, naming the problem.</summary>
    public void ValidateSize(int width, int height)
    {
        if (width <= 0 || height <= 0)
            throw new ArgumentException($"The network input size must be positive, got {width}x{height}.");
        switch (SizeRule)
        {
            case InputSizeRule.MultipleOfStride when width % Stride != 0 || height % Stride != 0:
                throw new ArgumentException($"The network input size {width}x{height} is not a multiple of {Stride} in both dimensions (e.g. {RoundToStride(width)}x{RoundToStride(height)}).");
            case InputSizeRule.StrideMultiplePlusOne when width % Stride != 1 || height % Stride != 1:
                throw new ArgumentException($"The network input size {width}x{height} is not {Stride}k+1 in both dimensions (e.g. {RoundToStride(width)}x{RoundToStride(height)}).");
            case InputSizeRule.Fixed when width != DefaultWidth || height != DefaultHeight:
                throw new ArgumentException($"The network input size {width}x{height} is not the graph's fixed input size {DefaultWidth}x{DefaultHeight}.");
        }
    }

    /// <summary>The nearest valid size to <paramref name="v"/> under the size rule (used for extra scales).</summary>
    internal int RoundToStride(int v) => SizeRule switch
    {
        InputSizeRule.StrideMultiplePlusOne => Math.Max(1, (int)Math.Round((v - 1) / (double)Stride)) * Stride + 1,
        _ => Math.Max(Stride, (int)Math.Round(v / (double)Stride) * Stride),
    };

    /// <summary>Checks internal consistency (channel layout against the keypoint set), naming the problem.</summary>
    public void Validate(string where)
    {
        if (OutputNames.Count == 0) throw new InvalidDataException($"{where}: the model description names no output.");
        if (Stride < 1) throw new InvalidDataException($"{where}: stride {Stride} must be positive.");
        var k = Keypoints.Count;
        switch (Kind)
        {
            case PoseModelKind.OpenPose:
                if (k != 18) throw new InvalidDataException($"{where}: an OpenPose model decodes 18 COCO parts, but its keypoint set '{Keypoints.Name}' has {k}.");
                break;
            case PoseModelKind.Heatmap:
                if (OutputNames.Count != 1) throw new InvalidDataException($"{where}: a heatmap model has one output, got {OutputNames.Count}.");
                if (OutputChannels != k) throw new InvalidDataException($"{where}: a heatmap model's output has one map per keypoint ({k}), but {OutputChannels} channels are declared.");
                break;
            case PoseModelKind.PoseNet:
                if (OutputNames.Count != 4) throw new InvalidDataException($"{where}: a PoseNet model has 4 outputs (heatmap, offsets, forward and backward displacements), got {OutputNames.Count}.");
                if (!ReferenceEquals(Keypoints, KeypointSet.Coco17) && !Keypoints.Names.SequenceEqual(KeypointSet.Coco17Names))
                    throw new InvalidDataException($"{where}: PoseNet decoding follows a tree over COCO's 17 keypoints; keypoint set '{Keypoints.Name}' is not COCO-17.");
                if (OutputChannels != 17 + 34 + 64) throw new InvalidDataException($"{where}: a PoseNet output has 17 + 34 + 32 + 32 channels, {OutputChannels} are declared.");
                break;
            case PoseModelKind.MoveNet or PoseModelKind.MoveNetMultiPose:
                if (!Keypoints.Names.SequenceEqual(KeypointSet.Coco17Names))
                    throw new InvalidDataException($"{where}: MoveNet gives COCO's 17 keypoints; keypoint set '{Keypoints.Name}' is not COCO-17.");
                break;
            case PoseModelKind.BlazePose:
                if (Keypoints.Count != 33)
                    throw new InvalidDataException($"{where}: BlazePose gives 33 landmarks; keypoint set '{Keypoints.Name}' has {Keypoints.Count}.");
                break;
        }
    }
}
