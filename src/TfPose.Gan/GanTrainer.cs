using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TfPose.Datasets.FashionMnist;
using TfPose.Keras;
using static TorchSharp.torch;

namespace TfPose.Gan;

/// <summary>Options of <c>tfpose gan train</c>; defaults are the reference script's.</summary>
public sealed record GanTrainOptions
{
    public required string DataDir { get; init; }
    public required string OutDir { get; init; }
    public int Epochs { get; init; } = 50;
    public int BatchSize { get; init; } = 128;
    /// <summary>1.0 as the reference trains; 0.9 is the one-sided label smoothing its comment names.</summary>
    public float RealLabel { get; init; } = 1.0f;
    /// <summary>Sample grids at epoch 1 and every this many epochs.</summary>
    public int SampleEvery { get; init; } = 20;
    public int Seed { get; init; }
    /// <summary>
    /// Weights of the feature classifier for a per-epoch Fréchet distance; trained once (CNN, 5 epochs on all 60,000
    /// images) and saved here when missing, then reused by every run. Null (the default) skips FD.
    /// </summary>
    public string? ClassifierPath { get; init; }
    /// <summary>Use only the first N training images (quick runs).</summary>
    public int? Limit { get; init; }
    /// <summary>Per-batch and per-epoch progress (a front end draws it); none by default.</summary>
    public IProgress<FitProgress>? Progress { get; init; }
    /// <summary>Resume notices, classifier training, one line per epoch.</summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;
    /// <summary>More callbacks, run after FD, sample grids and the history file (e.g. a plot of <see cref="GanTrainer.HistoryFile"/>).</summary>
    public IReadOnlyList<Callback> Callbacks { get; init; } = [];
}

/// <summary>
/// The reference training loop on <c>Fit</c> of <see cref="GanModel"/>: per-epoch shuffled batches of real images,
/// sample grids, optional Fréchet distance, history (CSVLogger, <see cref="HistoryFile"/>) and a resumable checkpoint
/// folder (BackupAndRestore into OutDir/checkpoint) that re-running continues from.
/// </summary>
public static class GanTrainer
{
    public const string HistoryFile = "losses.csv";
    public const string CurvesFile = "loss.png";
    public const string CheckpointFolder = "checkpoint";

    /// <summary>Trains and returns the rows of the run's history (every epoch so far, resumed ones included).</summary>
    public static IReadOnlyList<Dictionary<string, double>> Train(GanTrainOptions o, CancellationToken ct = default)
    {
        if (o.BatchSize <= 0 || o.Epochs <= 0 || o.SampleEvery <= 0)
            throw new ArgumentException($"batch size, epochs and sample-every must be positive (got {o.BatchSize}, {o.Epochs}, {o.SampleEvery}).");
        Directory.CreateDirectory(o.OutDir);
        var train = FashionMnistData.Load(o.DataDir, "train");
        using var x = FashionGan.ToTensor(train, o.Limit);
        if (x.shape[0] < o.BatchSize)
            throw new ArgumentException($"{o.DataDir}: {x.shape[0]} training images are fewer than one batch of {o.BatchSize}.");
        using var gan = new FashionGan(o.Seed);
        gan.Combined.RealLabel = o.RealLabel;
        gan.Combined.Logger = o.Logger;
        var historyPath = Path.Combine(o.OutDir, HistoryFile);
        FashionClassifier? clf = null;
        Tensor? realFeatures = null;
        try
        {
            var callbacks = new List<Callback> { new EpochSeconds() };
            if (o.ClassifierPath is not null)
            {
                clf = LoadOrTrainClassifier(o.DataDir, o.ClassifierPath, o.Seed, logger: o.Logger);
                var test = FashionMnistData.Load(o.DataDir, "test");
                using var xt = FashionGan.ToTensor(test);
                realFeatures = clf.Features(xt);
                callbacks.Add(new FrechetCallback(gan, clf, realFeatures));
            }
            callbacks.Add(new LambdaCallback(onEpochEnd: (epoch, _) =>
            {
                if (epoch == 0 || (epoch + 1) % o.SampleEvery == 0 || epoch + 1 == o.Epochs)
                    SaveGrid(gan, Path.Combine(o.OutDir, $"samples_epoch_{epoch + 1:D3}.png"));
            }));
            callbacks.Add(new CSVLogger(historyPath, append: true));
            callbacks.AddRange(o.Callbacks);
            if (o.Progress is not null)
                callbacks.Add(new ProgressCallback(o.Progress));
            callbacks.Add(new BackupAndRestore(Path.Combine(o.OutDir, CheckpointFolder), deleteCheckpoint: false, fileName: "combined.safetensors"));
            gan.Combined.Fit(new RealBatches(x, o.BatchSize, o.Seed), o.Epochs, callbacks: callbacks, cancellationToken: ct);
        }
        finally
        {
            realFeatures?.Dispose();
            clf?.Dispose();
        }
        return CSVLogger.Read(historyPath);
    }

    /// <summary>Whole batches of real images (the remainder is dropped, as the reference does), shuffled from (seed, epoch).</summary>
    private sealed class RealBatches(Tensor x, int batchSize, int seed) : BatchSequence
    {
        private int _orderEpoch = -1;
        private long[] _order = [];

        public override int Count => (int)(x.shape[0] / batchSize);

        public override (Tensor X, Tensor? Y) GetBatch(int epoch, int index)
        {
            if (_orderEpoch != epoch)
            {
                _order = Enumerable.Range(0, (int)x.shape[0]).Select(i => (long)i).ToArray();
                new Random(unchecked(seed * 1_000_003 + epoch)).Shuffle(_order);
                _orderEpoch = epoch;
            }
            using var idx = tensor(_order.AsSpan(index * batchSize, batchSize).ToArray());
            return (x.index_select(0, idx), null);
        }
    }

    private sealed class EpochSeconds : Callback
    {
        private readonly Stopwatch _clock = new();
        public override void OnEpochBegin(int epoch) => _clock.Restart();
        public override void OnEpochEnd(int epoch, Logs logs) => logs["seconds"] = Math.Round(_clock.Elapsed.TotalSeconds, 2);
    }

    /// <summary>Adds "frechet" (1,000 samples against the test set's features) and "class_entropy" to each epoch's logs.</summary>
    private sealed class FrechetCallback(FashionGan gan, FashionClassifier clf, Tensor realFeatures) : Callback
    {
        public override void OnEpochEnd(int epoch, Logs logs) =>
            (logs["frechet"], logs["class_entropy"]) = Evaluate(gan, clf, realFeatures, 1000);
    }

    /// <summary>Fréchet distance of <paramref name="count"/> samples to the real features, and class entropy.</summary>
    public static (double Frechet, double ClassEntropy) Evaluate(FashionGan gan, FashionClassifier clf, Tensor realFeatures, int count)
    {
        using var s = gan.Sample(count);
        using var f = clf.Features(s);
        using var p = clf.Predict(s);
        return (GanQuality.FrechetDistance(f, realFeatures), GanQuality.ClassSpread(p).NormalisedEntropy);
    }

    public static void SaveGrid(FashionGan gan, string path, int count = 100)
    {
        using var s = gan.Sample(count);
        ImageGrid.SavePng(path, FashionGan.ToBytes(s), count, 28, 10);
    }

    /// <summary>
    /// Where the feature classifier is cached when no path is given: one file per user, so it is trained once and
    /// reused by every run and by <c>gan eval</c>.
    /// </summary>
    public static string DefaultClassifierPath =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create),
            "tfpose", "fashion-classifier-cnn.safetensors");

    /// <summary>Loads the CNN feature classifier, or trains it and saves it (5 epochs: 3 gave 89.7% test accuracy, short of 90%).</summary>
    public static FashionClassifier LoadOrTrainClassifier(string dataDir, string path, int seed = 0, int epochs = 5, ILogger? logger = null,
        IProgress<FitProgress>? progress = null)
    {
        logger ??= NullLogger.Instance;
        var clf = new FashionClassifier("cnn", seed);
        try
        {
            if (File.Exists(path))
            {
                clf.Model.LoadWeights(path);
                logger.LogInformation("feature classifier for the Fréchet distance: {Path}", path);
                return clf;
            }
            logger.LogInformation("training the feature classifier for the Fréchet distance once ({Epochs} epochs on the 60,000 training images) -> {Path}", epochs, path);
            var train = FashionMnistData.Load(dataDir, "train");
            var test = FashionMnistData.Load(dataDir, "test");
            using var x = FashionGan.ToTensor(train);
            using var y = FashionClassifier.Labels(train);
            using var xt = FashionGan.ToTensor(test);
            using var yt = FashionClassifier.Labels(test);
            clf.Model.Logger = logger;
            clf.Model.Fit(x, y, batchSize: 128, epochs: epochs, validationData: (xt, yt), callbacks: progress is null ? null : [new ProgressCallback(progress)]);
            clf.Model.SaveWeights(path, metadata: new Dictionary<string, string> { ["test_accuracy"] = clf.Model.Evaluate(xt, yt, 500)["accuracy"].ToString("0.####", CultureInfo.InvariantCulture) });
            return clf;
        }
        catch
        {
            clf.Dispose();
            throw;
        }
    }
}
