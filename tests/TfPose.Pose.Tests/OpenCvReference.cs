using OpenCvSharp;
using OpenCvSharp.Dnn;
using TfPose.Graph;
using TfPose.Tests;

namespace TfPose.Pose.Tests;

/// <summary>
/// The independent reference engine: OpenCV DNN running the same OpenPose graph, shape-folded for a
/// fixed input size (OpenCV cannot evaluate the graph's run-time Shape → StridedSlice chain).
/// </summary>
internal sealed class OpenCvDnnNetwork : IPoseNetwork
{
    private static readonly object FoldLock = new();
    private readonly Net _net;
    private readonly int _width, _height;

    public static string ModelPath => SharedData.Model("openpose-mobilenet-v2-small", "graph_opt.pb");

    public OpenCvDnnNetwork(int width, int height)
    {
        _width = width;
        _height = height;
        _net = CvDnn.ReadNetFromTensorflow(Folded(width, height)) ?? throw new InvalidOperationException("OpenCV could not load the folded graph");
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
            throw new ArgumentException($"This reference network was folded for {_width}x{_height}, got {input.Cols}x{input.Rows}.");
        using var blob = CvDnn.BlobFromImage(input, 1.0, new Size(_width, _height), new Scalar(0, 0, 0), swapRB: false, crop: false);
        _net.SetInput(blob);
        using var result = _net.Forward("Openpose/concat_stage7");
        // OpenCV returns NCHW; the decoder reads TensorFlow's NHWC.
        int c = result.Size(1), h = result.Size(2), w = result.Size(3);
        var nchw = new float[c * h * w];
        System.Runtime.InteropServices.Marshal.Copy(result.Data, nchw, 0, nchw.Length);
        var nhwc = output.Reset(h, w, c);
        for (var ch = 0; ch < c; ch++)
            for (var i = 0; i < h * w; i++)
                nhwc[i * c + ch] = nchw[ch * h * w + i];
    }

    public void Dispose() => _net.Dispose();
}
