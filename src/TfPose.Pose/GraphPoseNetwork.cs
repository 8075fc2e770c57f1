using OpenCvSharp;
using TfPose.Runtime;

namespace TfPose.Pose;

/// <summary>Runs a frozen TensorFlow pose graph through TfPose's graph runtime.</summary>
public sealed class GraphPoseNetwork : IPoseNetwork
{
    private readonly GraphSession _session;
    private readonly PoseModel _model;
    private readonly string _path;

    public GraphPoseNetwork(string graphPath, PoseModel model, GraphSessionOptions? options = null)
    {
        _path = graphPath;
        _model = model;
        _session = new GraphSession(graphPath, options);
        try
        {
            if (!_session.Inputs.Any(i => SameTensor(i.Name, model.InputName)))
                throw new InvalidDataException(
                    $"{graphPath}: no input '{model.InputName}' (inputs: {string.Join(", ", _session.Inputs.Select(i => i.Name))}); " +
                    $"an OpenPose graph takes 'image' as float32 [N,H,W,3].");
            if (!_session.Outputs.Any(o => SameTensor(o.Name, model.OutputName)))
                throw new InvalidDataException(
                    $"{graphPath}: does not look like an OpenPose graph: no output '{model.OutputName}' " +
                    $"(outputs: {string.Join(", ", _session.Outputs.Select(o => o.Name))}); expected [N,H/8,W/8,{model.OutputChannels}] " +
                    $"holding 19 heatmaps and 38 part affinity fields.");
        }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    private static bool SameTensor(string a, string b) =>
        string.Equals(Strip(a), Strip(b), StringComparison.Ordinal);

    private static string Strip(string name) => name.EndsWith(":0", StringComparison.Ordinal) ? name[..^2] : name;

    public void Run(Mat input, PoseOutput output)
    {
        using var tensor = GraphTensor.FromMat(input);
        var feeds = new Dictionary<string, GraphTensor> { [_model.InputName] = tensor };
        using var results = _session.Run(feeds, [_model.OutputName]);
        var result = results[0];
        var shape = result.Shape;
        if (shape.Length != 4 || shape[0] != 1 || shape[3] < _model.OutputChannels)
            throw new InvalidDataException(
                $"{_path}: output '{_model.OutputName}' has shape [{string.Join(",", shape)}], but an OpenPose graph gives " +
                $"[1,H/8,W/8,{_model.OutputChannels}] (19 heatmaps then 38 part affinity fields).");
        result.AsSpan<float>().CopyTo(output.Reset((int)shape[1], (int)shape[2], (int)shape[3]));
    }

    public void Dispose() => _session.Dispose();
}
