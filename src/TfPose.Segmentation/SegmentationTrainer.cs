using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using TfPose.Datasets.CamVid;
using TfPose.Keras;
using static TorchSharp.torch;

namespace TfPose.Segmentation;

/// <summary>Options of <c>tfpose segment train</c>; defaults are the reference recipe.</summary>
public sealed record SegmentationTrainOptions
{
    /// <summary>A folder in the CamVid layout; its dataset.json (when present) gives the classes and the ignore label.</summary>
    public required string DataDir { get; init; }
    public required string OutDir { get; init; }
    /// <summary>The architecture; its class count is replaced by the data set's.</summary>
    public TiramisuConfig Model { get; init; } = TiramisuConfig.FcDenseNet56;
    public int Epochs { get; init; } = 30;
    public int BatchSize { get; init; } = 10;
    public int CropHeight { get; init; } = 224;
    public int CropWidth { get; init; } = 224;
    public bool Flips { get; init; } = true;
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>Keras 2 time-based decay per update.</summary>
    public double Decay { get; init; } = 5e-5;
    /// <summary>Median-frequency class weights in the loss (off in the reference).</summary>
    public bool ClassWeights { get; init; }
    public int Seed { get; init; } = 1;
    /// <summary>First N training images (quick runs).</summary>
    public int? Limit { get; init; }
    /// <summary>First N validation images.</summary>
    public int? ValLimit { get; init; }
    /// <summary>Save a resumable mid-epoch checkpoint at most this often.</summary>
    public TimeSpan CheckpointEvery { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>Progress lines when the console cannot draw a live bar (background runs logging to a file).</summary>
    public Action<string>? Log { get; init; }
}

/// <summary>One epoch of the history.</summary>
public sealed record EpochResult(int Epoch, double Loss, double Accuracy, double ValGlobalAccuracy, double ValMeanClassAccuracy, double ValMeanIoU, double Seconds, double LearningRate);

/// <summary>
/// The reference training loop: random crops with flips, RMSprop with Keras decay, sparse cross-entropy that
/// ignores the data set's ignore label (CamVid void), validation at full resolution after each epoch (global accuracy, mean class accuracy, mIoU),
/// best-by-mIoU weights kept, resumable mid-epoch checkpoints, history CSV and curves PNG.
/// </summary>
public static class SegmentationTrainer
{
    public const string HistoryFile = "history.csv";
    public const string CurvesFile = "curves.png";

    public static IReadOnlyList<EpochResult> Train(SegmentationTrainOptions o, CancellationToken ct = default)
    {
        Directory.CreateDirectory(o.OutDir);
        var log = o.Log ?? (s => AnsiConsole.MarkupLine("[grey]" + Markup.Escape(s) + "[/]"));
        var train = CamVidData.Load(o.DataDir, "train", o.Limit);
        var val = CamVidData.Load(o.DataDir, "val", o.ValLimit);
        var dataset = train.Description;
        var configPath = Path.Combine(o.OutDir, SegmentationNetwork.ConfigFile);
        var lastPath = Path.Combine(o.OutDir, SegmentationNetwork.LastWeights);
        SegmentationSettings settings;
        bool resume = File.Exists(lastPath) && File.Exists(configPath);
        if (resume)
        {
            // The run's own settings win on resume (normalisation, architecture, seed), so a resumed run is the same run.
            settings = SegmentationSettings.Load(configPath);
            if (settings.Model.Classes != dataset.Classes)
                throw new InvalidDataException($"{configPath}: the run predicts {settings.Model.Classes} classes but {o.DataDir} ({dataset.Name}) has {dataset.Classes}; resume on the same data or use a new --out");
        }
        else
        {
            var (mean, std) = train.ChannelStatistics();
            settings = new SegmentationSettings
            {
                Model = o.Model with { Classes = dataset.Classes }, Mean = mean, Std = std, CropHeight = o.CropHeight, CropWidth = o.CropWidth, Seed = o.Seed,
                ClassWeights = o.ClassWeights ? train.MedianFrequencyWeights() : null,
            };
            settings.Save(configPath);
        }
        using var net = new SegmentationNetwork(settings);
        using var guard = new GuardedStep(net.Model, () => new RMSprop(o.LearningRate, decay: o.Decay),
            new SparseCategoricalCrossentropy(dataset.IgnoreLabel, settings.ClassWeights), ["accuracy"]);

        var history = ReadHistory(Path.Combine(o.OutDir, HistoryFile));
        int startEpoch = 1, startStep = 0;
        double lossSum = 0, accSum = 0;
        long seen = 0;
        double bestMiou = history.Count == 0 ? double.NegativeInfinity : history.Max(h => h.ValMeanIoU);
        if (resume)
        {
            var meta = net.Model.LoadWeights(lastPath);
            startEpoch = int.Parse(meta["epoch"], CultureInfo.InvariantCulture);
            startStep = int.Parse(meta["step"], CultureInfo.InvariantCulture);
            lossSum = double.Parse(meta["loss_sum"], CultureInfo.InvariantCulture);
            accSum = double.Parse(meta["acc_sum"], CultureInfo.InvariantCulture);
            seen = long.Parse(meta["seen"], CultureInfo.InvariantCulture);
            history = history.Where(h => h.Epoch < startEpoch).ToList();
            log($"resuming {lastPath}: epoch {startEpoch}, step {startStep}, {net.Model.Optimizer!.Iterations} updates so far");
        }

        int n = train.Count, bs = o.BatchSize, steps = (n + bs - 1) / bs;
        int px = settings.CropHeight * settings.CropWidth;
        var xBuf = new float[bs * px * 3];
        var yBuf = new byte[bs * px];
        var total = Stopwatch.StartNew();
        var sinceCheckpoint = Stopwatch.StartNew();
        long stepsDone = 0, stepsLeft = (long)(o.Epochs - startEpoch + 1) * steps - startStep;

        void SaveLast(int epoch, int step) =>
            net.Model.SaveWeights(lastPath, includeOptimizer: true, metadata: new Dictionary<string, string>
            {
                ["epoch"] = epoch.ToString(CultureInfo.InvariantCulture),
                ["step"] = step.ToString(CultureInfo.InvariantCulture),
                ["loss_sum"] = lossSum.ToString("R", CultureInfo.InvariantCulture),
                ["acc_sum"] = accSum.ToString("R", CultureInfo.InvariantCulture),
                ["seen"] = seen.ToString(CultureInfo.InvariantCulture),
            });

        void Run(ProgressTask? task)
        {
            for (int epoch = startEpoch; epoch <= o.Epochs; epoch++)
            {
                var epochClock = Stopwatch.StartNew();
                // Order and crops come from (seed, epoch, step) alone, so a run resumed mid-epoch sees the same batches.
                var order = Enumerable.Range(0, n).ToArray();
                new Random(unchecked(settings.Seed * 1_000_003 + epoch)).Shuffle(order);
                for (int s = epoch == startEpoch ? startStep : 0; s < steps; s++)
                {
                    ct.ThrowIfCancellationRequested();
                    int count = Math.Min(bs, n - s * bs);
                    var rng = new Random(unchecked(settings.Seed * 1_000_003 + epoch * 7919 + s * 104_729));
                    CamVidBatches.RandomBatch(train, order.AsSpan(s * bs, count).ToArray(), rng, settings.CropHeight, settings.CropWidth, o.Flips,
                        settings.Normalization, xBuf, yBuf);
                    Logs logs;
                    using (var x = tensor(xBuf.AsSpan(0, count * px * 3).ToArray(), [count, settings.CropHeight, settings.CropWidth, 3]))
                    using (var yb = tensor(yBuf.AsSpan(0, count * px).ToArray(), [count, settings.CropHeight, settings.CropWidth]))
                    using (var y = yb.to_type(ScalarType.Int64))
                        logs = guard.Train(x, y);
                    lossSum += logs["loss"] * count;
                    accSum += logs["accuracy"] * count;
                    seen += count;
                    stepsDone++;
                    stepsLeft--;
                    var eta = TimeSpan.FromSeconds(total.Elapsed.TotalSeconds / stepsDone * stepsLeft);
                    if (task is not null)
                    {
                        task.Increment(1);
                        task.Description = $"epoch {epoch}/{o.Epochs} loss {lossSum / seen:0.000} acc {accSum / seen:0.000}";
                    }
                    else if (s % 5 == 4 || s == steps - 1)
                        log($"epoch {epoch}/{o.Epochs} step {s + 1}/{steps} loss {lossSum / seen:0.0000} acc {accSum / seen:0.0000} " +
                            $"{epochClock.Elapsed.TotalSeconds / (s + 1 - (epoch == startEpoch ? startStep : 0)):0.0} s/step ETA {eta:hh\\:mm\\:ss} retried steps {guard.Retries}");
                    if (sinceCheckpoint.Elapsed >= o.CheckpointEvery && s < steps - 1)
                    {
                        SaveLast(epoch, s + 1);
                        sinceCheckpoint.Restart();
                    }
                }
                net.WeightsChanged();
                if (task is not null)
                    task.Description = $"epoch {epoch}/{o.Epochs} validating";
                var cm = net.Evaluate(val, ct: ct);
                // Full-resolution activations do not recur until the next validation; without this the kept heap
                // grew past 18 GB at batch 10 and left too little beside it.
                TorchBackend.ReleaseFreedMemory();
                var result = new EpochResult(epoch, lossSum / seen, accSum / seen, cm.GlobalAccuracy, cm.MeanClassAccuracy, cm.MeanIoU,
                    epochClock.Elapsed.TotalSeconds, net.Model.Optimizer!.CurrentLearningRate);
                history.Add(result);
                lossSum = accSum = 0;
                seen = 0;
                if (result.ValMeanIoU > bestMiou)
                {
                    bestMiou = result.ValMeanIoU;
                    net.Model.SaveWeights(Path.Combine(o.OutDir, SegmentationNetwork.BestWeights), metadata: new Dictionary<string, string>
                    {
                        ["epoch"] = epoch.ToString(CultureInfo.InvariantCulture),
                        ["val_global_accuracy"] = cm.GlobalAccuracy.ToString("R", CultureInfo.InvariantCulture),
                        ["val_miou"] = cm.MeanIoU.ToString("R", CultureInfo.InvariantCulture),
                    });
                }
                SaveLast(epoch + 1, 0);
                sinceCheckpoint.Restart();
                WriteHistory(Path.Combine(o.OutDir, HistoryFile), history);
                SaveCurves(history, Path.Combine(o.OutDir, CurvesFile), $"Tiramisu on {dataset.Name}");
                log(string.Create(CultureInfo.InvariantCulture,
                    $"epoch {epoch}: loss {result.Loss:0.0000} acc {result.Accuracy:0.0000} | val global acc {result.ValGlobalAccuracy:0.0000} mean class acc {result.ValMeanClassAccuracy:0.0000} mIoU {result.ValMeanIoU:0.0000} | {result.Seconds:0}s"));
            }
        }

        if (o.Log is null && AnsiConsole.Profile.Capabilities.Interactive)
            AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .Start(p => Run(p.AddTask("segment train", maxValue: Math.Max(1, stepsLeft))));
        else
            Run(null);
        return history;
    }

    private const string HistoryHeader = "epoch,loss,accuracy,val_global_accuracy,val_mean_class_accuracy,val_miou,seconds,learning_rate";

    public static List<EpochResult> ReadHistory(string path)
    {
        if (!File.Exists(path))
            return [];
        return File.ReadAllLines(path).Skip(1).Where(l => l.Length > 0).Select(l =>
        {
            var v = l.Split(',').Select(c => double.Parse(c, CultureInfo.InvariantCulture)).ToArray();
            if (v.Length != 8)
                throw new InvalidDataException($"{path}: expected 8 columns ({HistoryHeader}), got '{l}'");
            return new EpochResult((int)v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]);
        }).ToList();
    }

    private static void WriteHistory(string path, IEnumerable<EpochResult> rows) =>
        TfPose.IO.AtomicFile.Write(path, s =>
        {
            using var w = new StreamWriter(s, leaveOpen: true);
            w.WriteLine(HistoryHeader);
            foreach (var r in rows)
                w.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{r.Epoch},{r.Loss:R},{r.Accuracy:R},{r.ValGlobalAccuracy:R},{r.ValMeanClassAccuracy:R},{r.ValMeanIoU:R},{r.Seconds:0.##},{r.LearningRate:R}"));
        });

    /// <summary>Loss on the left, accuracies and mIoU on the right, one point per epoch.</summary>
    public static void SaveCurves(IReadOnlyList<EpochResult> h, string path, string title = "Tiramisu on CamVid")
    {
        var plt = new ScottPlot.Plot();
        double[] epochs = h.Select(r => (double)r.Epoch).ToArray();
        plt.Add.Scatter(epochs, h.Select(r => r.Accuracy).ToArray()).LegendText = "train pixel accuracy (crops)";
        plt.Add.Scatter(epochs, h.Select(r => r.ValGlobalAccuracy).ToArray()).LegendText = "val global accuracy";
        plt.Add.Scatter(epochs, h.Select(r => r.ValMeanClassAccuracy).ToArray()).LegendText = "val mean class accuracy";
        plt.Add.Scatter(epochs, h.Select(r => r.ValMeanIoU).ToArray()).LegendText = "val mIoU";
        // Loss on its own (right) axis: its scale has nothing to do with the 0–1 metrics.
        var loss = plt.Add.Scatter(epochs, h.Select(r => r.Loss).ToArray());
        loss.LegendText = "train loss (right axis)";
        loss.LinePattern = ScottPlot.LinePattern.Dashed;
        loss.Axes.YAxis = plt.Axes.Right;
        plt.Axes.Right.Label.Text = "cross-entropy + L2";
        plt.Axes.Left.Label.Text = "accuracy / IoU (ignore label excluded)";
        plt.Axes.SetLimitsY(0, 1, plt.Axes.Left);
        plt.XLabel("epoch");
        plt.Title(title);
        plt.ShowLegend(ScottPlot.Alignment.LowerLeft);
        TfPose.IO.AtomicFile.Write(path, s =>
        {
            var tmp = Path.Combine(Path.GetTempPath(), $"curves-{Guid.NewGuid():N}.png");
            try
            {
                plt.SavePng(tmp, 1000, 600);
                using var f = File.OpenRead(tmp);
                f.CopyTo(s);
            }
            finally
            {
                File.Delete(tmp);
            }
        });
    }
}
