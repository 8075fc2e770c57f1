using TfPose.Runtime;

namespace TfPose.Segmentation;

/// <summary>
/// An exported Tiramisu (frozen GraphDef: Placeholder <c>image</c> [1, H, W, 3] normalised RGB → <c>probabilities</c>
/// [1, H, W, classes]) run through the project's graph runtime, no TorchSharp. The normalisation travels in the
/// sidecar <c>MODEL.pb.json</c> written by <see cref="SegmentationNetwork.ExportGraphDef"/>; images smaller than the
/// graph's input are padded symmetrically as the TorchSharp path pads them.
/// </summary>
public sealed class SegmentationGraph : IDisposable
{
    private readonly GraphSession _session;

    public SegmentationGraph(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"segmentation graph not found: {path}", path);
        // Without the sidecar the normalisation is unknown, and guessing it would give plausible-looking wrong labels.
        if (!File.Exists(path + ".json"))
            throw new FileNotFoundException($"{path}.json: settings file missing; segment export writes it beside the graph (normalisation, classes).", path + ".json");
        Settings = SegmentationSettings.Load(path + ".json");
        _session = new GraphSession(path);
        int k = Settings.Model.Classes;
        if (_session.Inputs.Count != 1 || _session.Inputs[0].Shape is not { Length: 4 } s || s[0] != 1 || s[1] <= 0 || s[2] <= 0 || s[3] != 3)
        {
            _session.Dispose();
            throw new InvalidDataException($"{path}: expected one image input [1, H, W, 3] with fixed H and W, as segment export writes.");
        }
        if (_session.Outputs.Count != 1 || _session.Outputs[0].Shape is { } o && (o.Length != 4 || o[^1] != k))
        {
            _session.Dispose();
            throw new InvalidDataException($"{path}: expected one output [1, H, W, {k}] (the classes of {path}.json).");
        }
        Height = (int)s[1];
        Width = (int)s[2];
        Input = _session.Inputs[0];
        Output = _session.Outputs[0].Shape is null ? _session.Outputs[0] with { Shape = [1, Height, Width, k] } : _session.Outputs[0];
        Path = path;
    }

    public string Path { get; }

    /// <summary>The graph's input (name, [1, H, W, 3]).</summary>
    public GraphTensorInfo Input { get; }

    /// <summary>The graph's output (name, [1, H, W, classes]).</summary>
    public GraphTensorInfo Output { get; }
    public SegmentationSettings Settings { get; }
    public int Height { get; }
    public int Width { get; }

    /// <summary>Class probabilities H×W×classes (row-major) for one RGB image no larger than the graph input.</summary>
    public float[] PredictProbabilities(ReadOnlySpan<byte> rgb, int height, int width)
    {
        if (height > Height || width > Width)
            throw new ArgumentException($"{Path}: image {width}x{height} is larger than the graph input {Width}x{Height}; export for that size.");
        var norm = new float[height * width * 3];
        Settings.Normalization.Apply(rgb, norm);
        int top = (Height - height) / 2, left = (Width - width) / 2;
        var input = new float[Height * Width * 3];
        for (int y = 0; y < height; y++)
            norm.AsSpan(y * width * 3, width * 3).CopyTo(input.AsSpan(((top + y) * Width + left) * 3));
        using var feed = GraphTensor.FromArray(input, 1, Height, Width, 3);
        using var results = _session.Run(feed);
        var p = results[0].AsSpan<float>();
        int k = Settings.Model.Classes;
        if (p.Length != Height * Width * k)
            throw new InvalidDataException($"{Path}: output has {p.Length} values, expected {Height}x{Width}x{k}.");
        var output = new float[height * width * k];
        for (int y = 0; y < height; y++)
            p.Slice(((top + y) * Width + left) * k, width * k).CopyTo(output.AsSpan(y * width * k));
        return output;
    }

    public byte[] PredictLabels(ReadOnlySpan<byte> rgb, int height, int width)
    {
        var p = PredictProbabilities(rgb, height, width);
        int k = Settings.Model.Classes;
        var labels = new byte[height * width];
        for (int i = 0; i < labels.Length; i++)
        {
            int best = 0;
            for (int c = 1; c < k; c++)
                if (p[i * k + c] > p[i * k + best])
                    best = c;
            labels[i] = (byte)best;
        }
        return labels;
    }

    public void Dispose() => _session.Dispose();
}
