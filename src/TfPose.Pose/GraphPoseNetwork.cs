using OpenCvSharp;
using TfPose.Graph;
using TfPose.Runtime;

namespace TfPose.Pose;

/// <summary>Runs a frozen TensorFlow pose graph through TfPose's graph runtime.</summary>
public sealed class GraphPoseNetwork : IPoseNetwork
{
    private readonly GraphSession _session;
    private readonly PoseModel _model;
    private readonly string _path;
    private readonly string[] _fetches;

    public GraphPoseNetwork(string graphPath, PoseModel model, GraphSessionOptions? options = null)
        : this(TfGraph.Load(graphPath), graphPath, model, options)
    {
    }

    /// <summary>Uses an already loaded graph (e.g. the one <see cref="PoseModelDescription"/> inspected).</summary>
    public GraphPoseNetwork(TfGraph graph, string graphPath, PoseModel model, GraphSessionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(model);
        _path = graphPath;
        _model = model;
        _fetches = model.OutputNames.ToArray();
        _session = new GraphSession(graph, options);
        try
        {
            if (!_session.Inputs.Any(i => SameTensor(i.Name, model.InputName)))
                throw new InvalidDataException(
                    $"{graphPath}: no input '{model.InputName}' (inputs: {string.Join(", ", _session.Inputs.Select(i => i.Name))}); " +
                    $"a pose graph takes an NHWC float32 image [N,H,W,3].");
            foreach (var name in _fetches)
                if (graph.FindNode(name) is null)
                    throw new InvalidDataException(
                        $"{graphPath}: does not look like {Article(model)} graph: no output '{name}' " +
                        $"(outputs: {string.Join(", ", _session.Outputs.Select(o => o.Name))}); expected {Expected(model)}.");
        }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    private static string Article(PoseModel m) => m.Kind switch
    {
        PoseModelKind.OpenPose => "an OpenPose",
        PoseModelKind.PoseNet => "a PoseNet",
        _ => "a single-person heatmap",
    };

    internal static string Expected(PoseModel m) => m.Kind switch
    {
        PoseModelKind.OpenPose => $"[1,H/{m.Stride},W/{m.Stride},{m.OutputChannels}] holding 19 heatmaps and 38 part affinity fields",
        PoseModelKind.PoseNet => $"four [1,H',W',C] outputs with C = {m.Keypoints.Count}, {2 * m.Keypoints.Count}, 32, 32 (heatmap, offsets, forward and backward displacements)",
        _ => $"[1,H/{m.Stride},W/{m.Stride},{m.Keypoints.Count}] holding one heatmap per {m.Keypoints.Name} keypoint",
    };

    private static bool SameTensor(string a, string b) =>
        string.Equals(Strip(a), Strip(b), StringComparison.Ordinal);

    private static string Strip(string name) => name.EndsWith(":0", StringComparison.Ordinal) ? name[..^2] : name;

    public void Run(Mat input, PoseOutput output)
    {
        using var tensor = GraphTensor.FromMat(input);
        var feeds = new Dictionary<string, GraphTensor> { [_model.InputName] = tensor };
        using var results = _session.Run(feeds, _fetches);
        var first = results[0].Shape;
        var channels = 0L;
        for (var i = 0; i < _fetches.Length; i++)
        {
            var s = results[i].Shape;
            if (s.Length != 4 || s[0] != 1 || s[1] != first[1] || s[2] != first[2])
                throw new InvalidDataException(
                    $"{_path}: output '{_fetches[i]}' has shape [{string.Join(",", s)}]; expected {Expected(_model)}.");
            channels += s[3];
        }
        if (channels < _model.OutputChannels)
            throw new InvalidDataException(
                $"{_path}: the outputs hold {channels} channels, but the model needs {_model.OutputChannels}: expected {Expected(_model)}.");
        int h = (int)first[1], w = (int)first[2], c = (int)channels;
        var dst = output.Reset(h, w, c);
        if (_fetches.Length == 1)
        {
            results[0].AsSpan<float>().CopyTo(dst);
            return;
        }
        // Several outputs: interleave them into one NHWC map, channels in fetch order.
        var at = 0;
        for (var i = 0; i < _fetches.Length; i++)
        {
            var src = results[i].AsSpan<float>();
            var ci = (int)results[i].Shape[3];
            for (var p = 0; p < h * w; p++)
                src.Slice(p * ci, ci).CopyTo(dst.Slice(p * c + at, ci));
            at += ci;
        }
    }

    public void Dispose() => _session.Dispose();
}
