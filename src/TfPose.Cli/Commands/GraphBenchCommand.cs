using System.CommandLine;
using System.Diagnostics;
using OpenCvSharp;
using OpenCvSharp.Dnn;
using TfPose.Graph;
using TfPose.Runtime;

namespace TfPose.Cli.Commands;

/// <summary><c>tfpose bench graph</c>: median/p90 latency of a graph on TfPose, with OpenCV DNN on the folded graph beside it.</summary>
internal static class GraphBenchCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "Frozen GraphDef (.pb)." };
        var shape = GraphCommands.InputShapeOption();
        shape.Required = true;
        var runs = new Option<int>("--runs") { Description = "Timed runs after warm-up.", DefaultValueFactory = _ => 50 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed runs first.", DefaultValueFactory = _ => 5 };
        var threads = new Option<int>("--threads") { Description = "Threads for both engines (0 = all cores)." };
        var noOpenCv = new Option<bool>("--no-opencv") { Description = "Skip the OpenCV DNN comparison." };
        var cmd = new Command("graph", "Latency of a graph on TfPose (ONNX Runtime) and OpenCV DNN, same input, same process.") { model, shape, runs, warmup, threads, noOpenCv };
        cmd.SetAction(parse =>
        {
            var path = parse.GetValue(model)!;
            var graph = TfGraph.Load(path);
            var shapes = GraphCommands.ParseShapes(parse.GetValue(shape), graph);
            if (shapes.Count != 1 || shapes.Values.Single().Any(d => d < 0))
                throw new ArgumentException("bench graph takes one fully known input shape, e.g. --input-shape image=1x368x432x3.");
            var (name, dims) = shapes.Single();
            var count = (int)dims.Aggregate(1L, (a, b) => a * b);
            var rng = new Random(1);
            var data = new float[count];
            for (var i = 0; i < count; i++)
                data[i] = (float)(rng.NextDouble() * 255);
            var n = parse.GetValue(runs);
            var w = parse.GetValue(warmup);
            var t = parse.GetValue(threads);

            using var session = new GraphSession(graph, new GraphSessionOptions { IntraOpThreads = t });
            using var tensor = GraphTensor.FromArray(data, dims);
            var feeds = new Dictionary<string, GraphTensor> { [name] = tensor };
            var ours = Measure(() => { using var r = session.Run(feeds); }, w, n);
            Report("TfPose (ONNX Runtime)", ours, dims[0]);

            if (!parse.GetValue(noOpenCv) && dims.Length == 4)
            {
                var folded = Path.Combine(Path.GetTempPath(), $"tfpose-bench-{Guid.NewGuid():N}.pb");
                try
                {
                    ShapeFolder.Fold(graph, shapes).Save(folded);
                    if (t > 0)
                        Cv2.SetNumThreads(t);
                    using var net = CvDnn.ReadNetFromTensorflow(folded);
                    if (net is null || net.Empty())
                    {
                        Console.WriteLine("OpenCV DNN: cannot load the folded graph.");
                        return 0;
                    }
                    // OpenCV DNN takes NCHW blobs for TensorFlow graphs.
                    using var blob = new Mat([(int)dims[0], (int)dims[3], (int)dims[1], (int)dims[2]], MatType.CV_32F, new Scalar(0));
                    blob.SetTo(new Scalar(128));
                    var cv = Measure(() =>
                    {
                        net.SetInput(blob);
                        using var o = net.Forward();
                    }, w, n);
                    Report("OpenCV DNN (folded)", cv, dims[0]);
                    Console.WriteLine($"Speed-up: {cv[cv.Length / 2] / ours[ours.Length / 2]:F2}x (median)");
                }
                catch (OpenCVException ex)
                {
                    Console.WriteLine($"OpenCV DNN: cannot run the folded graph ({ex.Message}).");
                }
                finally
                {
                    File.Delete(folded);
                }
            }
            return 0;
        });
        return cmd;
    }

    private static double[] Measure(Action run, int warmup, int runs)
    {
        for (var i = 0; i < warmup; i++)
            run();
        var times = new double[runs];
        for (var i = 0; i < runs; i++)
        {
            var sw = Stopwatch.StartNew();
            run();
            times[i] = sw.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        return times;
    }

    private static void Report(string engine, double[] sorted, long batch)
    {
        var median = sorted[sorted.Length / 2];
        var p90 = sorted[Math.Min(sorted.Length - 1, (int)(sorted.Length * 0.9))];
        Console.WriteLine(FormattableString.Invariant($"{engine,-24} median {median,7:F2} ms   p90 {p90,7:F2} ms   {batch * 1000 / median,7:F1} items/s"));
    }
}
