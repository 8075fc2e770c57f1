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
        var model = new Argument<string>("model") { Description = "Frozen GraphDef (.pb), TensorFlow.js graph model (model.json) or TensorFlow Lite model (.tflite)." };
        var shape = GraphCommands.InputShapeOption();
        var runs = new Option<int>("--runs") { Description = "Timed runs per engine after warm-up, spread over the rounds.", DefaultValueFactory = _ => 50 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed runs first.", DefaultValueFactory = _ => 5 };
        var rounds = new Option<int>("--rounds") { Description = "Rounds alternating the engines (this machine's speed drifts; alternating keeps the comparison fair).", DefaultValueFactory = _ => 5 };
        var threads = new Option<int>("--threads") { Description = "Threads for both engines (0 = all cores)." };
        var noOpenCv = new Option<bool>("--no-opencv") { Description = "Skip the OpenCV DNN comparison." };
        var against = new Option<string?>("--against") { Description = "A second form of the same graph (e.g. the plain GraphDef `graph convert --unfuse` writes) to time on TfPose in the same rounds." };
        var profile = new Option<string?>("--profile") { Description = "Write ONNX Runtime's per-node timings of the TfPose runs (Chrome trace JSON) with this file prefix, and print the slowest op types." };
        var cmd = new Command("graph", "Latency of a graph on TfPose (ONNX Runtime) and OpenCV DNN, same input, same process.") { model, shape, runs, warmup, rounds, threads, noOpenCv, against, profile };
        cmd.SetAction(parse =>
        {
            var path = parse.GetValue(model)!;
            var graph = TfGraph.Load(path);
            var shapes = GraphCommands.ParseShapes(parse.GetValue(shape), graph);
            if (shapes.Count == 0 && graph.Inputs is [{ Shape: { } declared } only] && declared.Skip(1).All(d => d >= 0))
                shapes[only.Name] = [Math.Max(declared[0], 1), .. declared.Skip(1)]; // a single input of known size: batch 1 unless fixed
            if (shapes.Count != 1 || shapes.Values.Single().Any(d => d < 0))
                throw new ArgumentException("bench graph takes one fully known input shape, e.g. --input-shape image=1x368x432x3.");
            var (name, dims) = shapes.Single();
            var inputType = graph.Inputs.FirstOrDefault(i => i.Name == name)?.Type ?? TfPose.Graph.Proto.DataType.DtFloat;
            var stats = GraphStats.Compute(graph, ShapeInference.Infer(graph, shapes));
            Console.WriteLine(FormattableString.Invariant($"{path}: input {name} {DataTypes.Name(inputType)}{TensorValue.ShapeText(dims)}, {stats.Flops / 1e9:F3} GFLOPs{(stats.FlopsComplete ? "" : " (counted ops only)")}"));
            var n = Math.Max(1, parse.GetValue(runs));
            var w = parse.GetValue(warmup);
            var r = Math.Clamp(parse.GetValue(rounds), 1, n);
            var t = parse.GetValue(threads);

            using var session = new GraphSession(graph, new GraphSessionOptions { IntraOpThreads = t, ProfilePrefix = parse.GetValue(profile) });
            using var tensor = RandomInput(inputType, dims);
            var feeds = new Dictionary<string, GraphTensor> { [name] = tensor };
            var engines = new List<(string Name, Action Run)> { ("TfPose (ONNX Runtime)", () => { using var result = session.Run(feeds); }) };
            using var second = parse.GetValue(against) is { } other ? new GraphSession(other, new GraphSessionOptions { IntraOpThreads = t }) : null;
            if (second is not null)
                engines.Add(($"TfPose, {Path.GetFileName(parse.GetValue(against))}", () => { using var result = second.Run(feeds); }));

            var folded = Path.Combine(Path.GetTempPath(), $"tfpose-bench-{Guid.NewGuid():N}.pb");
            Net? net = null;
            Mat? blob = null;
            try
            {
                if (!parse.GetValue(noOpenCv) && second is null && dims.Length == 4 && inputType == TfPose.Graph.Proto.DataType.DtFloat)
                {
                    try
                    {
                        // OpenCV DNN knows the plain ops only: fused ones (_FusedConv2D, ...) can crash its importer.
                        ShapeFolder.Fold(graph.Unfused(), shapes).Save(folded);
                        if (t > 0)
                            Cv2.SetNumThreads(t);
                        net = CvDnn.ReadNetFromTensorflow(folded);
                        if (net is null || net.Empty())
                            Console.WriteLine("OpenCV DNN: cannot load the folded graph.");
                        else
                        {
                            // OpenCV DNN takes NCHW blobs for TensorFlow graphs.
                            blob = new Mat([(int)dims[0], (int)dims[3], (int)dims[1], (int)dims[2]], MatType.CV_32F, new Scalar(128));
                            var cvNet = net;
                            var cvBlob = blob;
                            engines.Add(("OpenCV DNN (folded)", () =>
                            {
                                cvNet.SetInput(cvBlob);
                                using var o = cvNet.Forward();
                            }));
                            engines[^1].Run(); // a graph OpenCV loads but cannot run fails here, before timing
                        }
                    }
                    catch (OpenCVException ex)
                    {
                        Console.WriteLine($"OpenCV DNN: cannot run the folded graph ({ex.Message}).");
                        if (engines.Count > 1)
                            engines.RemoveAt(1);
                    }
                }

                var times = engines.Select(_ => new List<double>()).ToArray();
                foreach (var (_, run) in engines)
                    for (var i = 0; i < w; i++)
                        run();
                for (var round = 0; round < r; round++)
                {
                    var perRound = n / r + (round < n % r ? 1 : 0);
                    for (var e = 0; e < engines.Count; e++)
                        for (var i = 0; i < perRound; i++)
                        {
                            var sw = Stopwatch.StartNew();
                            engines[e].Run();
                            times[e].Add(sw.Elapsed.TotalMilliseconds);
                        }
                }
                var sorted = times.Select(x => x.Order().ToArray()).ToArray();
                for (var e = 0; e < engines.Count; e++)
                    Report(engines[e].Name, sorted[e], dims[0]);
                if (parse.GetValue(profile) is not null)
                    foreach (var trace in session.EndProfiling())
                        ReportProfile(trace);
                if (engines.Count > 1)
                    Console.WriteLine(FormattableString.Invariant($"{(second is null ? "Speed-up" : "Ratio")}: {sorted[1][sorted[1].Length / 2] / sorted[0][sorted[0].Length / 2]:F2}x (median of the second over the first; {r} alternating rounds of {n} runs per engine)"));
            }
            finally
            {
                blob?.Dispose();
                net?.Dispose();
                File.Delete(folded);
            }
            return 0;
        });
        return cmd;
    }

    /// <summary>A deterministic input of the graph's dtype with pixel-like values (0..255; -1..1 would do as well for timing).</summary>
    private static GraphTensor RandomInput(TfPose.Graph.Proto.DataType type, long[] dims)
    {
        var count = (int)dims.Aggregate(1L, (a, b) => a * b);
        var rng = new Random(1);
        return type switch
        {
            TfPose.Graph.Proto.DataType.DtInt32 => GraphTensor.FromArray(Enumerable.Range(0, count).Select(_ => rng.Next(256)).ToArray(), dims),
            TfPose.Graph.Proto.DataType.DtUint8 => GraphTensor.FromArray(Enumerable.Range(0, count).Select(_ => (byte)rng.Next(256)).ToArray(), dims),
            TfPose.Graph.Proto.DataType.DtFloat => GraphTensor.FromArray(Enumerable.Range(0, count).Select(_ => (float)(rng.NextDouble() * 255)).ToArray(), dims),
            _ => throw new ArgumentException($"bench graph feeds float32, int32 or uint8 inputs; '{DataTypes.Name(type)}' is not one of them."),
        };
    }

    /// <summary>Time per ONNX op type over every profiled run, largest first (from the trace's node events).</summary>
    private static void ReportProfile(string trace)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(trace));
        var byOp = new Dictionary<string, (double Micros, int Count)>(StringComparer.Ordinal);
        foreach (var e in doc.RootElement.EnumerateArray())
        {
            if (!e.TryGetProperty("cat", out var cat) || cat.GetString() != "Node" || !e.TryGetProperty("args", out var args) ||
                !args.TryGetProperty("op_name", out var op) || !e.GetProperty("name").GetString()!.EndsWith("_kernel_time", StringComparison.Ordinal))
                continue;
            var name = op.GetString()!;
            var (micros, count) = byOp.GetValueOrDefault(name);
            byOp[name] = (micros + e.GetProperty("dur").GetDouble(), count + 1);
        }
        var total = byOp.Values.Sum(v => v.Micros);
        Console.WriteLine($"profile {trace}:");
        foreach (var (op, (micros, count)) in byOp.OrderByDescending(p => p.Value.Micros).Take(12))
            Console.WriteLine(FormattableString.Invariant($"  {op,-24} {100 * micros / total,5:F1}%  {count,6} kernel runs"));
    }

    private static void Report(string engine, double[] sorted, long batch)
    {
        var median = sorted[sorted.Length / 2];
        var p90 = sorted[Math.Min(sorted.Length - 1, (int)(sorted.Length * 0.9))];
        Console.WriteLine(FormattableString.Invariant($"{engine,-24} median {median,7:F2} ms   p90 {p90,7:F2} ms   {batch * 1000 / median,7:F1} items/s"));
    }
}
