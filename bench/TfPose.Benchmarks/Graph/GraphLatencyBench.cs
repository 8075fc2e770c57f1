using OpenCvSharp;
using OpenCvSharp.Dnn;
using TfPose.Graph;
using TfPose.Runtime;
using DataType = TfPose.Graph.Proto.DataType;

namespace TfPose.Benchmarks.Graph;

/// <summary>Settings of <see cref="GraphLatencyBench.Run"/> (the options of <c>tfpose bench graph</c>).</summary>
public sealed record GraphBenchOptions
{
    /// <summary>Timed runs per engine after warm-up, spread over the rounds.</summary>
    public int Runs { get; init; } = 50;

    public int Warmup { get; init; } = 5;

    /// <summary>Rounds alternating the engines.</summary>
    public int Rounds { get; init; } = 5;

    /// <summary>Threads for every engine (0 = all cores).</summary>
    public int Threads { get; init; }

    /// <summary>Time OpenCV DNN on the folded graph beside TfPose (float NHWC inputs, no <see cref="Against"/>).</summary>
    public bool OpenCv { get; init; } = true;

    /// <summary>A second form of the same graph to time on TfPose in the same rounds.</summary>
    public string? Against { get; init; }

    /// <summary>Record ONNX Runtime's per-node timings of the TfPose runs with this file prefix.</summary>
    public string? ProfilePrefix { get; init; }
}

/// <summary>One engine's latency; <paramref name="Batch"/> items per run.</summary>
public sealed record GraphEngineLatency(string Engine, LatencySummary Latency, long Batch)
{
    public double ItemsPerSecond => Batch * 1000 / Latency.Median;
}

/// <summary>Time share of one ONNX op type in a profile.</summary>
public sealed record OpTypeTime(string OpType, double Share, int KernelRuns);

/// <summary>What <see cref="GraphLatencyBench.Run"/> measured, and notes on engines it could not time.</summary>
public sealed record GraphBenchResult(
    IReadOnlyList<GraphEngineLatency> Engines,
    IReadOnlyList<string> Notes,
    IReadOnlyList<(string Trace, IReadOnlyList<OpTypeTime> Ops)> Profiles,
    int Rounds,
    int Runs,
    bool AgainstGiven);

/// <summary>Latency of a graph on TfPose (ONNX Runtime), with OpenCV DNN or a second form of the graph beside it.</summary>
public static class GraphLatencyBench
{
    /// <summary>
    /// The one input to feed: given in <paramref name="shapes"/>, or the graph's single input when its size is known
    /// (batch 1 unless fixed). Throws when that does not leave exactly one fully known shape.
    /// </summary>
    public static (string Name, long[] Dims, DataType Type) ResolveInput(TfGraph graph, IDictionary<string, long[]> shapes)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(shapes);
        if (shapes.Count == 0 && graph.Inputs is [{ Shape: { } declared } only] && declared.Skip(1).All(d => d >= 0))
            shapes[only.Name] = [Math.Max(declared[0], 1), .. declared.Skip(1)];
        if (shapes.Count != 1 || shapes.Values.Single().Any(d => d < 0))
            throw new ArgumentException("bench graph takes one fully known input shape, e.g. --input-shape image=1x368x432x3.");
        var (name, dims) = shapes.Single();
        return (name, dims, graph.Inputs.FirstOrDefault(i => i.Name == name)?.Type ?? DataType.DtFloat);
    }

    public static GraphBenchResult Run(TfGraph graph, string inputName, long[] dims, DataType inputType, GraphBenchOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(options);
        var n = Math.Max(1, options.Runs);
        var r = Math.Clamp(options.Rounds, 1, n);
        var t = options.Threads;
        var notes = new List<string>();

        using var session = new GraphSession(graph, new GraphSessionOptions { IntraOpThreads = t, ProfilePrefix = options.ProfilePrefix });
        using var tensor = RandomInput(inputType, dims);
        var feeds = new Dictionary<string, GraphTensor> { [inputName] = tensor };
        var engines = new List<BenchEngine> { new("TfPose (ONNX Runtime)", () => { using var result = session.Run(feeds); }) };
        using var second = options.Against is { } other ? new GraphSession(other, new GraphSessionOptions { IntraOpThreads = t }) : null;
        if (second is not null)
            engines.Add(new($"TfPose, {Path.GetFileName(options.Against)}", () => { using var result = second.Run(feeds); }));

        var folded = Path.Combine(Path.GetTempPath(), $"tfpose-bench-{Guid.NewGuid():N}.pb");
        Net? net = null;
        Mat? blob = null;
        try
        {
            if (options.OpenCv && second is null && dims.Length == 4 && inputType == DataType.DtFloat)
            {
                try
                {
                    // OpenCV DNN knows the plain ops only: fused ones (_FusedConv2D, ...) can crash its importer.
                    ShapeFolder.Fold(graph.Unfused(), new Dictionary<string, long[]> { [inputName] = dims }).Save(folded);
                    if (t > 0)
                        Cv2.SetNumThreads(t);
                    net = CvDnn.ReadNetFromTensorflow(folded);
                    if (net is null || net.Empty())
                        notes.Add("OpenCV DNN: cannot load the folded graph.");
                    else
                    {
                        // OpenCV DNN takes NCHW blobs for TensorFlow graphs.
                        blob = new Mat([(int)dims[0], (int)dims[3], (int)dims[1], (int)dims[2]], MatType.CV_32F, new Scalar(128));
                        var cvNet = net;
                        var cvBlob = blob;
                        engines.Add(new("OpenCV DNN (folded)", () =>
                        {
                            cvNet.SetInput(cvBlob);
                            using var o = cvNet.Forward();
                        }));
                        engines[^1].Run(); // a graph OpenCV loads but cannot run fails here, before timing
                    }
                }
                catch (OpenCVException ex)
                {
                    notes.Add($"OpenCV DNN: cannot run the folded graph ({ex.Message}).");
                    if (engines.Count > 1)
                        engines.RemoveAt(1);
                }
            }

            var times = AlternatingRounds.Time(engines, n, options.Warmup, r, cancellationToken);
            var latencies = engines.Select((e, i) => new GraphEngineLatency(e.Name, SampleStatistics.Summarize(times[i]), dims[0])).ToList();
            var profiles = options.ProfilePrefix is null
                ? []
                : session.EndProfiling().Select(trace => (trace, (IReadOnlyList<OpTypeTime>)OpTypes(trace))).ToList();
            return new GraphBenchResult(latencies, notes, profiles, r, n, second is not null);
        }
        finally
        {
            blob?.Dispose();
            net?.Dispose();
            File.Delete(folded);
        }
    }

    /// <summary>A deterministic input of the graph's dtype with pixel-like values (0..255; -1..1 would do as well for timing).</summary>
    public static GraphTensor RandomInput(DataType type, long[] dims)
    {
        var count = (int)dims.Aggregate(1L, (a, b) => a * b);
        var rng = new Random(1);
        return type switch
        {
            DataType.DtInt32 => GraphTensor.FromArray(Enumerable.Range(0, count).Select(_ => rng.Next(256)).ToArray(), dims),
            DataType.DtUint8 => GraphTensor.FromArray(Enumerable.Range(0, count).Select(_ => (byte)rng.Next(256)).ToArray(), dims),
            DataType.DtFloat => GraphTensor.FromArray(Enumerable.Range(0, count).Select(_ => (float)(rng.NextDouble() * 255)).ToArray(), dims),
            _ => throw new ArgumentException($"bench graph feeds float32, int32 or uint8 inputs; '{DataTypes.Name(type)}' is not one of them."),
        };
    }

    /// <summary>Time per ONNX op type over every profiled run, largest first (from a Chrome trace's node events).</summary>
    public static List<OpTypeTime> OpTypes(string trace)
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
        return byOp.OrderByDescending(p => p.Value.Micros).Select(p => new OpTypeTime(p.Key, p.Value.Micros / total, p.Value.Count)).ToList();
    }
}
