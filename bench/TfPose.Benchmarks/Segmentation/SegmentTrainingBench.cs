using System.Diagnostics;
using TfPose.Datasets.CamVid;
using TfPose.Segmentation;

namespace TfPose.Benchmarks.Segmentation;

/// <summary>Settings of <see cref="SegmentTrainingBench.Run"/> (the options of <c>tfpose bench segment</c>).</summary>
public sealed record SegmentBenchOptions(string Data, TiramisuConfig Model, int BatchSize, int Crop, int Steps, int Repeats, int Height, int Width, int Runs);

/// <summary>Which of the four timed paths moved on by one step.</summary>
public enum SegmentBenchPath
{
    TrainingKeras,
    TrainingRaw,
    InferenceTorch,
    InferenceGraph,
}

/// <summary>Wall and CPU seconds per run of one training path.</summary>
public sealed class TrainingTimings
{
    private readonly List<int> _images = [];

    public List<double> Wall { get; } = [];

    public List<double> Cpu { get; } = [];

    public void Add(double wall, double cpu, int images)
    {
        Wall.Add(wall);
        Cpu.Add(cpu);
        _images.Add(images);
    }

    public double Rate(int i) => _images[i] / Wall[i];

    public double CpuRate(int i) => _images[i] / Cpu[i];

    public double ImagesPerSecond => SampleStatistics.Median(Enumerable.Range(0, Wall.Count).Select(Rate));

    public double ImagesPerCpuSecond => SampleStatistics.Median(Enumerable.Range(0, Cpu.Count).Select(CpuRate));
}

/// <summary>What <see cref="SegmentTrainingBench.Run"/> measured.</summary>
public sealed record SegmentBenchResult(
    TrainingTimings Keras,
    TrainingTimings Raw,
    IReadOnlyList<double> TorchMilliseconds,
    IReadOnlyList<double> GraphMilliseconds,
    float KerasLoss,
    float RawLoss,
    double Agreement,
    (int H, int W) GraphSize,
    long Trainable)
{
    /// <summary>(Keras − raw) / raw of wall time, median of the per-run ratios.</summary>
    public double OverheadWall => SampleStatistics.Median(Keras.Wall.Zip(Raw.Wall, (a, b) => a / b - 1));

    /// <summary>(Keras − raw) / raw of CPU time, median of the per-run ratios.</summary>
    public double OverheadCpu => SampleStatistics.Median(Keras.Cpu.Zip(Raw.Cpu, (a, b) => a / b - 1));
}

/// <summary>
/// Tiramisu training throughput through the Keras-style API and through the same network written in raw TorchSharp
/// (the Keras layer's overhead), in alternating runs, and single-image inference latency through TorchSharp and through
/// the exported graph.
/// </summary>
public static class SegmentTrainingBench
{
    /// <summary>Checks the options and loads the CamVid training images the run needs (before any progress is shown).</summary>
    public static CamVidData LoadData(SegmentBenchOptions o)
    {
        ArgumentNullException.ThrowIfNull(o);
        if (o.BatchSize <= 0 || o.Steps <= 0 || o.Repeats <= 0 || o.Runs <= 0)
            throw new ArgumentException($"--batch-size, --steps, --repeats and --runs must be positive (got {o.BatchSize}, {o.Steps}, {o.Repeats}, {o.Runs}).");
        if (o.Crop <= 0 || o.Crop % o.Model.SizeDivisor != 0)
            throw new ArgumentException($"--crop {o.Crop}: {o.Model.Name} needs a positive multiple of {o.Model.SizeDivisor}.");
        var train = CamVidData.Load(o.Data, "train", Math.Min(o.BatchSize * o.Steps, 367));
        if (o.Height <= 0 || o.Width <= 0 || o.Height > train.Height || o.Width > train.Width)
            throw new ArgumentException($"--height/--width {o.Width}x{o.Height}: must fit in a CamVid image ({train.Width}x{train.Height}).");
        return train;
    }

    /// <summary>Steps each path reports through the progress callback (the warm-up step or export included).</summary>
    public static int StepsOf(SegmentBenchOptions o, SegmentBenchPath path) => path switch
    {
        SegmentBenchPath.TrainingKeras or SegmentBenchPath.TrainingRaw => o.Repeats * o.Steps + 1,
        SegmentBenchPath.InferenceTorch => o.Runs + 2,
        _ => o.Runs + 3,
    };

    public static SegmentBenchResult Run(SegmentBenchOptions o, CamVidData train, IProgress<SegmentBenchPath>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(o);
        ArgumentNullException.ThrowIfNull(train);
        var cfg = o.Model;
        int bs = o.BatchSize, size = o.Crop, nSteps = o.Steps, reps = o.Repeats, h = o.Height, w = o.Width, nRuns = o.Runs;
        var (mean, std) = train.ChannelStatistics();
        var norm = new ChannelNormalization(mean, std);
        var batches = TrainingBatch.RandomCrops(train, norm, bs, size, nSteps);
        var rgb = Window(train.Image(0), train.Width, h, w);
        var proc = Process.GetCurrentProcess();
        double Cpu() { proc.Refresh(); return proc.TotalProcessorTime.TotalSeconds; }

        var keras = new TrainingTimings();
        var raw = new TrainingTimings();
        var torchMs = new List<double>();
        var graphMs = new List<double>();
        float kerasLoss = float.NaN, rawLoss = float.NaN;
        double agreement = double.NaN;
        (int H, int W) graphSize = default;
        long trainable = 0;
        try
        {
            using (var k = new KerasTrainingStep(cfg, size, size, seed: 1))
            using (var r = new RawTrainingStep(cfg, k.Model))
            {
                trainable = k.Model.TrainableWeights.Sum(x => x.Value.numel());
                // Warm-up: the first step allocates optimizer slots and lets libtorch pick its kernels.
                k.Step(batches[0]);
                progress?.Report(SegmentBenchPath.TrainingKeras);
                r.Step(batches[0]);
                progress?.Report(SegmentBenchPath.TrainingRaw);
                for (int rep = 0; rep < reps; rep++)
                {
                    // Alternating which path goes first, so both see the same machine load on average.
                    foreach (var (path, timings, which) in rep % 2 == 0
                        ? new[] { ((ISegmentationTrainingStep)k, keras, SegmentBenchPath.TrainingKeras), (r, raw, SegmentBenchPath.TrainingRaw) }
                        : [(r, raw, SegmentBenchPath.TrainingRaw), (k, keras, SegmentBenchPath.TrainingKeras)])
                    {
                        var c0 = Cpu();
                        var sw = Stopwatch.StartNew();
                        float loss = 0;
                        foreach (var b in batches)
                        {
                            cancellationToken.ThrowIfCancellationRequested();
                            loss = path.Step(b);
                            progress?.Report(which);
                        }
                        timings.Add(sw.Elapsed.TotalSeconds, Cpu() - c0, nSteps * bs);
                        if (path == k) kerasLoss = loss; else rawLoss = loss;
                    }
                }
            }

            var settings = new SegmentationSettings { Model = cfg, Mean = mean, Std = std, CropHeight = size, CropWidth = size, Seed = 1 };
            using var net = new SegmentationNetwork(settings);
            byte[] fromTorch = [];
            for (int i = 0; i < nRuns + 2; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var sw = Stopwatch.StartNew();
                fromTorch = net.PredictLabels(rgb, h, w);
                if (i >= 2) torchMs.Add(sw.Elapsed.TotalMilliseconds);
                progress?.Report(SegmentBenchPath.InferenceTorch);
            }
            var pb = Path.Combine(Path.GetTempPath(), $"tfpose-bench-segment-{Guid.NewGuid():N}.pb");
            try
            {
                net.ExportGraphDef(pb, h, w);
                using var graph = new SegmentationGraph(pb);
                graphSize = (graph.Height, graph.Width);
                progress?.Report(SegmentBenchPath.InferenceGraph);
                byte[] fromGraph = [];
                for (int i = 0; i < nRuns + 2; i++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var sw = Stopwatch.StartNew();
                    fromGraph = graph.PredictLabels(rgb, h, w);
                    if (i >= 2) graphMs.Add(sw.Elapsed.TotalMilliseconds);
                    progress?.Report(SegmentBenchPath.InferenceGraph);
                }
                agreement = fromTorch.Zip(fromGraph).Count(x => x.First == x.Second) / (double)fromTorch.Length;
            }
            finally
            {
                File.Delete(pb);
                File.Delete(pb + ".json");
            }
        }
        finally
        {
            foreach (var b in batches) b.Dispose();
        }
        return new SegmentBenchResult(keras, raw, torchMs, graphMs, kerasLoss, rawLoss, agreement, graphSize, trainable);
    }

    /// <summary>The centred <paramref name="h"/>×<paramref name="w"/> window of an RGB image.</summary>
    private static byte[] Window(ReadOnlySpan<byte> rgb, int imageWidth, int h, int w)
    {
        int imageHeight = rgb.Length / (imageWidth * 3), top = (imageHeight - h) / 2, left = (imageWidth - w) / 2;
        var o = new byte[h * w * 3];
        for (int y = 0; y < h; y++)
            rgb.Slice(((top + y) * imageWidth + left) * 3, w * 3).CopyTo(o.AsSpan(y * w * 3));
        return o;
    }
}
