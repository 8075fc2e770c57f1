using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
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
    /// <summary>Per-batch and per-epoch progress (a front end draws it); none by default.</summary>
    public IProgress<FitProgress>? Progress { get; init; }
    /// <summary>Resume notices, retried steps and one line per epoch.</summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;
    /// <summary>More callbacks, run after validation, the best-weights checkpoint and the history file (e.g. a plot of <see cref="SegmentationTrainer.HistoryFile"/>).</summary>
    public IReadOnlyList<Callback> Callbacks { get; init; } = [];
}

/// <summary>One epoch of the history (1-based epoch).</summary>
public sealed record EpochResult(int Epoch, double Loss, double Accuracy, double ValGlobalAccuracy, double ValMeanClassAccuracy, double ValMeanIoU, double Seconds, double LearningRate);

/// <summary>
/// The reference training loop on <see cref="Model.Fit(BatchSequence, int, BatchSequence?, IReadOnlyList{Callback}?, int, int, Func{Tensor, Tensor?, Logs}?, CancellationToken)"/>:
/// random crops with flips, RMSprop with Keras decay, sparse cross-entropy that ignores the data set's ignore label
/// (CamVid void), validation at full resolution after each epoch (global accuracy, mean class accuracy, mIoU) as
/// "val_" logs, best-by-mIoU weights (ModelCheckpoint), history (CSVLogger), resumable mid-epoch checkpoints (BackupAndRestore).
/// </summary>
public static class SegmentationTrainer
{
    public const string HistoryFile = "history.csv";
    public const string CurvesFile = "curves.png";

    public static IReadOnlyList<EpochResult> Train(SegmentationTrainOptions o, CancellationToken ct = default)
    {
        Directory.CreateDirectory(o.OutDir);
        var train = CamVidData.Load(o.DataDir, "train", o.Limit);
        var val = CamVidData.Load(o.DataDir, "val", o.ValLimit);
        var dataset = train.Description;
        var configPath = Path.Combine(o.OutDir, SegmentationNetwork.ConfigFile);
        var lastPath = Path.Combine(o.OutDir, SegmentationNetwork.LastWeights);
        var historyPath = Path.Combine(o.OutDir, HistoryFile);
        SegmentationSettings settings;
        if (File.Exists(lastPath) && File.Exists(configPath))
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
            settings.Validate("training options");
            settings.Save(configPath);
        }
        using var net = new SegmentationNetwork(settings);
        using var guard = new GuardedStep(net.Model, () => new RMSprop(o.LearningRate, decay: o.Decay),
            new SparseCategoricalCrossentropy(dataset.IgnoreLabel, settings.ClassWeights), ["accuracy"]) { Logger = o.Logger };
        net.Model.Logger = o.Logger;

        var earlier = ReadHistory(historyPath);
        var callbacks = new List<Callback>
        {
            new Validation(net, val, ct),
            new ModelCheckpoint(Path.Combine(o.OutDir, SegmentationNetwork.BestWeights), monitor: "val_miou", mode: "max",
                saveBestOnly: true, saveWeightsOnly: true,
                // A resumed run keeps the best of the earlier epochs unless it beats it.
                initialValueThreshold: earlier.Count == 0 ? null : earlier.Max(h => h.ValMeanIoU))
            {
                Metadata = (_, logs) => new Dictionary<string, string>
                {
                    ["val_global_accuracy"] = logs["val_global_accuracy"].ToString("R", CultureInfo.InvariantCulture),
                },
            },
            new CSVLogger(historyPath, append: true),
        };
        callbacks.AddRange(o.Callbacks);
        if (o.Progress is not null)
            callbacks.Add(new ProgressCallback(o.Progress));
        // Last, so an epoch's backup is written after its history row and best weights.
        callbacks.Add(new BackupAndRestore(o.OutDir, deleteCheckpoint: false, saveEvery: o.CheckpointEvery, fileName: SegmentationNetwork.LastWeights));

        net.Model.Fit(new CropBatches(train, settings, o.BatchSize, o.Flips), o.Epochs, callbacks: callbacks,
            trainStep: (x, y) => guard.Train(x, y!), cancellationToken: ct);
        return ReadHistory(historyPath);
    }

    /// <summary>
    /// Validation at full resolution after each epoch, adding val_global_accuracy, val_mean_class_accuracy and val_miou
    /// to the epoch's logs, with the epoch's seconds and the learning rate its last update used.
    /// </summary>
    private sealed class Validation(SegmentationNetwork net, CamVidData val, CancellationToken ct) : Callback
    {
        private readonly Stopwatch _clock = new();

        public override void OnEpochBegin(int epoch) => _clock.Restart();

        public override void OnEpochEnd(int epoch, Logs logs)
        {
            net.WeightsChanged();
            var cm = net.Evaluate(val, ct: ct);
            // Full-resolution activations do not recur until the next validation; without this the kept heap
            // grew past 18 GB at batch 10 and left too little beside it.
            TorchBackend.ReleaseFreedMemory();
            logs["val_global_accuracy"] = cm.GlobalAccuracy;
            logs["val_mean_class_accuracy"] = cm.MeanClassAccuracy;
            logs["val_miou"] = cm.MeanIoU;
            logs["seconds"] = Math.Round(_clock.Elapsed.TotalSeconds, 2);
            logs["learning_rate"] = Model.Optimizer!.CurrentLearningRate;
            Model.Logger.LogInformation("{Line}", string.Create(CultureInfo.InvariantCulture,
                $"epoch {epoch + 1}: loss {logs["loss"]:0.0000} acc {logs["accuracy"]:0.0000} | val global acc {cm.GlobalAccuracy:0.0000} mean class acc {cm.MeanClassAccuracy:0.0000} mIoU {cm.MeanIoU:0.0000} | {logs["seconds"]:0}s"));
        }
    }

    /// <summary>Random crops with flips; order and crops come from (seed, epoch, step) alone, so a run resumed mid-epoch sees the same batches.</summary>
    private sealed class CropBatches(CamVidData train, SegmentationSettings s, int batchSize, bool flips) : BatchSequence
    {
        private int _orderEpoch = -1;
        private int[] _order = [];

        public override int Count => (train.Count + batchSize - 1) / batchSize;

        public override (Tensor X, Tensor? Y) GetBatch(int epoch, int index)
        {
            int e = epoch + 1; // the seeds of 1-based epochs, as runs before the move to Fit drew them
            if (_orderEpoch != epoch)
            {
                _order = Enumerable.Range(0, train.Count).ToArray();
                new Random(unchecked(s.Seed * 1_000_003 + e)).Shuffle(_order);
                _orderEpoch = epoch;
            }
            int count = Math.Min(batchSize, train.Count - index * batchSize), px = s.CropHeight * s.CropWidth;
            var rng = new Random(unchecked(s.Seed * 1_000_003 + e * 7919 + index * 104_729));
            var x = new float[count * px * 3];
            var y = new byte[count * px];
            CamVidBatches.RandomBatch(train, _order.AsSpan(index * batchSize, count).ToArray(), rng, s.CropHeight, s.CropWidth, flips, s.Normalization, x, y);
            using var yb = tensor(y, [count, s.CropHeight, s.CropWidth]);
            return (tensor(x, [count, s.CropHeight, s.CropWidth, 3]), yb.to_type(ScalarType.Int64));
        }
    }

    /// <summary>The rows of a run's history.csv (a <see cref="CSVLogger"/> file; its 0-based epochs become 1-based here).</summary>
    public static List<EpochResult> ReadHistory(string path)
    {
        if (!File.Exists(path))
            return [];
        string[] needed = ["epoch", "loss", "accuracy", "val_global_accuracy", "val_mean_class_accuracy", "val_miou", "seconds", "learning_rate"];
        return CSVLogger.Read(path).Select(r =>
        {
            var missing = needed.Where(k => !r.ContainsKey(k)).ToList();
            if (missing.Count > 0)
                throw new InvalidDataException($"{path}: no column {string.Join(", ", missing)} (a segment train history has {string.Join(",", needed)})");
            return new EpochResult((int)r["epoch"] + 1, r["loss"], r["accuracy"], r["val_global_accuracy"], r["val_mean_class_accuracy"], r["val_miou"], r["seconds"], r["learning_rate"]);
        }).ToList();
    }
}
