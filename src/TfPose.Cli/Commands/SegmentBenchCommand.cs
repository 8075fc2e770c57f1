using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
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
            var o = new SegmentBenchOptions(p.GetValue(data)!, cfg, p.GetValue(batch), p.GetValue(crop), p.GetValue(steps), p.GetValue(repeats),
                p.GetValue(height), p.GetValue(width), p.GetValue(runs));
            int bs = o.BatchSize, size = o.Crop, nSteps = o.Steps, reps = o.Repeats, h = o.Height, w = o.Width;
            var train = SegmentTrainingBench.LoadData(o);
            SegmentBenchResult? result = null;
            AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .Start(progress =>
                {
                    var tasks = new Dictionary<SegmentBenchPath, ProgressTask>
                    {
                        [SegmentBenchPath.TrainingKeras] = progress.AddTask("training, Keras-style", maxValue: SegmentTrainingBench.StepsOf(o, SegmentBenchPath.TrainingKeras)),
                        [SegmentBenchPath.TrainingRaw] = progress.AddTask("training, raw TorchSharp", maxValue: SegmentTrainingBench.StepsOf(o, SegmentBenchPath.TrainingRaw)),
                        [SegmentBenchPath.InferenceTorch] = progress.AddTask("inference, TorchSharp", maxValue: SegmentTrainingBench.StepsOf(o, SegmentBenchPath.InferenceTorch)),
                        [SegmentBenchPath.InferenceGraph] = progress.AddTask("inference, exported graph", maxValue: SegmentTrainingBench.StepsOf(o, SegmentBenchPath.InferenceGraph)),
                    };
                    result = SegmentTrainingBench.Run(o, train, new InlineProgress<SegmentBenchPath>(path => tasks[path].Increment(1)), ct);
                });
            var (keras, raw, torchMs, graphMs, kerasLoss, rawLoss, agreement, graphSize, trainable) = result!;

            var what = $"{cfg.Name}, batch {bs}, {size}x{size}";
            var overheadWall = result!.OverheadWall;
            var overheadCpu = result!.OverheadCpu;
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
