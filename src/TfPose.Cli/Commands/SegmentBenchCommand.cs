using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using TfPose.Datasets.CamVid;
using TfPose.Segmentation;
using TfPose.Benchmarks;
using TfPose.Benchmarks.Segmentation;

namespace TfPose.Cli.Commands;

/// <summary>
/// <c>tfpose bench segment</c>: Tiramisu training throughput through the Keras-style API and through the same network
/// written in raw TorchSharp (the Keras layer's overhead), and single-image inference latency through TorchSharp and
/// through the exported graph.
/// </summary>
internal static class SegmentBenchCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "CamVid folder (training crops and the inference image come from it).", DefaultValueFactory = _ => "../shared/data/camvid" };
        var model = new Option<string>("--model") { Description = "fcdn56, fcdn67, fcdn103, or layers per block ending with the bottleneck.", DefaultValueFactory = _ => "fcdn56" };
        var growth = new Option<int?>("--growth") { Description = "Growth rate (default: the model's)." };
        var batch = new Option<int>("--batch-size") { Description = "Training batch (reference: 10).", DefaultValueFactory = _ => 10 };
        var crop = new Option<int>("--crop") { Description = "Square training crop (reference: 224).", DefaultValueFactory = _ => 224 };
        var steps = new Option<int>("--steps") { Description = "Timed training steps per run and path.", DefaultValueFactory = _ => 3 };
        var repeats = new Option<int>("--repeats") { Description = "Runs, Keras-style and raw alternating; medians are reported (a shared machine's load drifts).", DefaultValueFactory = _ => 3 };
        var height = new Option<int>("--height") { Description = "Inference image height (a window of a CamVid image).", DefaultValueFactory = _ => 360 };
        var width = new Option<int>("--width") { Description = "Inference image width.", DefaultValueFactory = _ => 480 };
        var runs = new Option<int>("--runs") { Description = "Timed inference runs per path, after 2 warm-up runs.", DefaultValueFactory = _ => 5 };
        var cmd = new Command("segment", "Tiramisu: training images/s (Keras-style vs raw TorchSharp) and inference latency (TorchSharp vs exported graph).")
            { data, model, growth, batch, crop, steps, repeats, height, width, runs };
        cmd.SetAction((p, ct) =>
        {
            var cfg = TiramisuConfig.Parse(p.GetValue(model)!, p.GetValue(growth));
            int bs = p.GetValue(batch), size = p.GetValue(crop), nSteps = p.GetValue(steps), reps = p.GetValue(repeats);
            int h = p.GetValue(height), w = p.GetValue(width), nRuns = p.GetValue(runs);
            if (bs <= 0 || nSteps <= 0 || reps <= 0 || nRuns <= 0)
                throw new ArgumentException($"--batch-size, --steps, --repeats and --runs must be positive (got {bs}, {nSteps}, {reps}, {nRuns}).");
            if (size <= 0 || size % cfg.SizeDivisor != 0)
                throw new ArgumentException($"--crop {size}: {cfg.Name} needs a positive multiple of {cfg.SizeDivisor}.");
            var train = CamVidData.Load(p.GetValue(data)!, "train", Math.Min(bs * nSteps, 367));
            if (h <= 0 || w <= 0 || h > train.Height || w > train.Width)
                throw new ArgumentException($"--height/--width {w}x{h}: must fit in a CamVid image ({train.Width}x{train.Height}).");
            var (mean, std) = train.ChannelStatistics();
            var norm = new ChannelNormalization(mean, std);
            var batches = TrainingBatch.RandomCrops(train, norm, bs, size, nSteps);
            var rgb = Window(train.Image(0), train.Width, h, w);
            var proc = Process.GetCurrentProcess();
            double Cpu() { proc.Refresh(); return proc.TotalProcessorTime.TotalSeconds; }

            var keras = new Timings();
            var raw = new Timings();
            var torchMs = new List<double>();
            var graphMs = new List<double>();
            float kerasLoss = float.NaN, rawLoss = float.NaN;
            double agreement = double.NaN;
            (int H, int W) graphSize = default;
            long trainable = 0;
            try
            {
                AnsiConsole.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                    .Start(progress =>
                    {
                        var kTask = progress.AddTask("training, Keras-style", maxValue: (reps * nSteps) + 1);
                        var rTask = progress.AddTask("training, raw TorchSharp", maxValue: (reps * nSteps) + 1);
                        var tTask = progress.AddTask("inference, TorchSharp", maxValue: nRuns + 2);
                        var gTask = progress.AddTask("inference, exported graph", maxValue: nRuns + 3);

                        using (var k = new KerasTrainingStep(cfg, size, size, seed: 1))
                        using (var r = new RawTrainingStep(cfg, k.Model))
                        {
                            trainable = k.Model.TrainableWeights.Sum(x => x.Value.numel());
                            // Warm-up: the first step allocates optimizer slots and lets libtorch pick its kernels.
                            k.Step(batches[0]);
                            kTask.Increment(1);
                            r.Step(batches[0]);
                            rTask.Increment(1);
                            for (int rep = 0; rep < reps; rep++)
                            {
                                // Alternating which path goes first, so both see the same machine load on average.
                                foreach (var (path, timings, task) in rep % 2 == 0
                                    ? new[] { ((ISegmentationTrainingStep)k, keras, kTask), (r, raw, rTask) }
                                    : [(r, raw, rTask), (k, keras, kTask)])
                                {
                                    var c0 = Cpu();
                                    var sw = Stopwatch.StartNew();
                                    float loss = 0;
                                    foreach (var b in batches)
                                    {
                                        ct.ThrowIfCancellationRequested();
                                        loss = path.Step(b);
                                        task.Increment(1);
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
                            ct.ThrowIfCancellationRequested();
                            var sw = Stopwatch.StartNew();
                            fromTorch = net.PredictLabels(rgb, h, w);
                            if (i >= 2) torchMs.Add(sw.Elapsed.TotalMilliseconds);
                            tTask.Increment(1);
                        }
                        var pb = Path.Combine(Path.GetTempPath(), $"tfpose-bench-segment-{Guid.NewGuid():N}.pb");
                        try
                        {
                            net.ExportGraphDef(pb, h, w);
                            using var graph = new SegmentationGraph(pb);
                            graphSize = (graph.Height, graph.Width);
                            gTask.Increment(1);
                            byte[] fromGraph = [];
                            for (int i = 0; i < nRuns + 2; i++)
                            {
                                ct.ThrowIfCancellationRequested();
                                var sw = Stopwatch.StartNew();
                                fromGraph = graph.PredictLabels(rgb, h, w);
                                if (i >= 2) graphMs.Add(sw.Elapsed.TotalMilliseconds);
                                gTask.Increment(1);
                            }
                            agreement = fromTorch.Zip(fromGraph).Count(x => x.First == x.Second) / (double)fromTorch.Length;
                        }
                        finally
                        {
                            File.Delete(pb);
                            File.Delete(pb + ".json");
                        }
                    });
            }
            finally
            {
                foreach (var b in batches) b.Dispose();
            }

            var what = $"{cfg.Name}, batch {bs}, {size}x{size}";
            var overheadWall = Median(keras.Wall.Zip(raw.Wall, (a, b) => a / b - 1).ToList());
            var overheadCpu = Median(keras.Cpu.Zip(raw.Cpu, (a, b) => a / b - 1).ToList());
            var table = new Table().AddColumns("metric", "value", "detail");
            table.AddRow("training, Keras-style", $"{keras.ImagesPerSecond:0.000} images/s", $"{keras.ImagesPerCpuSecond:0.000} images per CPU s; {what}");
            table.AddRow("training, raw TorchSharp", $"{raw.ImagesPerSecond:0.000} images/s", $"{raw.ImagesPerCpuSecond:0.000} images per CPU s; {what}");
            table.AddRow("Keras-layer overhead", Pct(overheadWall) + " wall", Pct(overheadCpu) + " CPU; (Keras - raw) / raw, median of per-run ratios");
            table.AddRow($"inference {w}x{h}, TorchSharp", $"{Median(torchMs):0} ms median", $"p90 {Percentile(torchMs, 0.9):0} ms");
            table.AddRow($"inference {w}x{h}, exported graph", $"{Median(graphMs):0} ms median", $"p90 {Percentile(graphMs, 0.9):0} ms; graph input {graphSize.W}x{graphSize.H}");
            AnsiConsole.Write(table);

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"setup: {cfg.Name} ({trainable:N0} trainable), {reps} runs of {nSteps} steps per path after 1 warm-up step, {Environment.ProcessorCount} cores, {TorchSharp.torch.get_num_threads()} libtorch threads, oneDNN ISA cap {Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA") ?? "none"}, load average {LoadAverage()}"));
            for (int i = 0; i < reps; i++)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"run {i + 1}: Keras-style {keras.Rate(i):0.000} images/s ({keras.CpuRate(i):0.000}/CPU s), raw {raw.Rate(i):0.000} images/s ({raw.CpuRate(i):0.000}/CPU s)"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"training Keras-style ({what}): {keras.ImagesPerSecond:0.000} images/s median, {keras.ImagesPerCpuSecond:0.000} images per CPU second"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"training raw TorchSharp ({what}): {raw.ImagesPerSecond:0.000} images/s median, {raw.ImagesPerCpuSecond:0.000} images per CPU second"));
            Console.WriteLine($"Keras-layer overhead: {Pct(overheadWall)} wall, {Pct(overheadCpu)} CPU (goal < 5%)");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"inference TorchSharp ({w}x{h} padded to {graphSize.W}x{graphSize.H}, labels): median {Median(torchMs):0.0} ms, p90 {Percentile(torchMs, 0.9):0.0} ms"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"inference exported graph (ONNX Runtime, {graphSize.W}x{graphSize.H}, labels): median {Median(graphMs):0.0} ms, p90 {Percentile(graphMs, 0.9):0.0} ms"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"check: last training loss Keras-style {kerasLoss:0.0000}, raw {rawLoss:0.0000}; TorchSharp and graph labels agree on {agreement:P2} of the pixels"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"peak memory (RSS): {Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024 * 1024):0.0} GB"));
            if (!float.IsFinite(kerasLoss) || !float.IsFinite(rawLoss) || agreement < 0.999)
                Console.WriteLine("warning: non-finite losses or disagreeing labels: the timings are of a broken computation.");
            return Task.FromResult(0);
        });
        return cmd;
    }

    /// <summary>Wall and CPU seconds per run of one path.</summary>
    private sealed class Timings
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
        public double ImagesPerSecond => Median(Enumerable.Range(0, Wall.Count).Select(Rate).ToList());
        public double ImagesPerCpuSecond => Median(Enumerable.Range(0, Cpu.Count).Select(CpuRate).ToList());
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

    private static string LoadAverage()
    {
        try
        {
            return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static string Pct(double v) => double.IsNaN(v) ? "-" : (v >= 0 ? "+" : "") + (100 * v).ToString("0.0", CultureInfo.InvariantCulture) + "%";

    private static double Median(IEnumerable<double> v) => SampleStatistics.Median(v);

    private static double Percentile(IEnumerable<double> v, double p) => SampleStatistics.Percentile(v, p);
}
