using OpenCvSharp;
using OpenCvSharp.Dnn;
using TfPose.Graph;
using TfPose.Tests;

namespace TfPose.Pose.Tests;

/// <summary>
/// The independent reference engine: OpenCV DNN running the same graph. The OpenPose graph is
/// shape-folded for a fixed input size first (OpenCV cannot evaluate its run-time Shape → StridedSlice
/// chain); the other graphs load as they are. Outputs are concatenated along channels in the model's
/// output order, as <see cref="GraphPoseNetwork"/> does.
/// </summary>
internal sealed class OpenCvDnnNetwork : IPoseNetwork
{
    private static readonly object FoldLock = new();
    private readonly Net _net;
    private readonly Lock _runLock = new();
    private readonly int _width, _height;
    private readonly PoseModel _model;
    private readonly string[] _layers;

    public static string ModelPath => SharedData.Model("openpose-mobilenet-v2-small", "graph_opt.pb");

    /// <summary>The OpenPose graph folded for width × height.</summary>
    public OpenCvDnnNetwork(int width, int height) : this(Folded(width, height), PoseModel.OpenPose, width, height)
    {
    }

    public OpenCvDnnNetwork(string graphPath, PoseModel model, int width, int height)
    {
        _width = width;
        _height = height;
        _model = model;
        _net = CvDnn.ReadNetFromTensorflow(graphPath) ?? throw new InvalidOperationException($"OpenCV could not load {graphPath}");
        // OpenCV fuses a BiasAdd into the convolution before it and keeps the convolution's name
        // (PoseNet's offset_2 = BiasAdd(Conv2D_1)): ask for the layer that survives.
        var graph = TfGraph.Load(graphPath);
        _layers = model.OutputNames.Select(name =>
        {
            var node = graph.GetNode(name);
            while (_net.GetLayerId(node.Name) < 0 && node.Op is "BiasAdd" or "Identity")
                node = graph.GetNode(node.Input[0]);
            return node.Name;
        }).ToArray();
    }

    /// <summary>Folds the model for H×W into a temp file (once per size and test process).</summary>
    public static string Folded(int width, int height)
    {
        var path = Path.Combine(Path.GetTempPath(), $"tfpose-pose-tests-{Environment.ProcessId}-{width}x{height}.pb");
        lock (FoldLock)
        {
            if (!File.Exists(path))
            {
                var graph = TfGraph.Load(ModelPath);
                ShapeFolder.Fold(graph, new Dictionary<string, long[]> { ["image"] = [1, height, width, 3] }, ["Openpose/concat_stage7"]).Save(path);
            }
        }
        return path;
    }

    public void Run(Mat input, PoseOutput output)
    {
        if (input.Cols != _width || input.Rows != _height)
            throw new ArgumentException($"This reference network was built for {_width}x{_height}, got {input.Cols}x{input.Rows}.");
        // A Net holds its input and layer buffers: calls from estimators shared between threads take turns.
        lock (_runLock)
            RunLocked(input, output);
    }

    private void RunLocked(Mat input, PoseOutput output)
    {
        using var blob = CvDnn.BlobFromImage(input, 1.0, new Size(_width, _height), new Scalar(0, 0, 0), swapRB: false, crop: false);
        _net.SetInput(blob);
        var names = _layers;
        var results = names.Select(_ => new Mat()).ToArray();
        try
        {
            _net.Forward(results, names);
            // OpenCV returns NCHW; the decoders read TensorFlow's NHWC, channels concatenated in output order.
            int h = results[0].Size(2), w = results[0].Size(3);
            var c = results.Sum(r => r.Size(1));
            var nhwc = output.Reset(h, w, c);
            var at = 0;
            foreach (var r in results)
            {
                var rc = r.Size(1);
                if (r.Size(2) != h || r.Size(3) != w)
                    throw new InvalidDataException($"OpenCV outputs differ in size: {h}x{w} and {r.Size(2)}x{r.Size(3)}.");
                var nchw = new float[rc * h * w];
                System.Runtime.InteropServices.Marshal.Copy(r.Data, nchw, 0, nchw.Length);
                for (var ch = 0; ch < rc; ch++)
                    for (var i = 0; i < h * w; i++)
                        nhwc[i * c + at + ch] = nchw[ch * h * w + i];
                at += rc;
            }
        }
        finally
        {
            foreach (var r in results) r.Dispose();
        }
    }

    public void Dispose() => _net.Dispose();
}
