using TfPose.Datasets.CamVid;
using TfPose.Keras;
using TfPose.Tests;
using static TorchSharp.torch;

namespace TfPose.Segmentation.Tests;

public sealed class TrainingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("segment-train-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Root => SharedData.Path("data", "camvid");

    [Fact]
    public void Small_tiramisu_overfits_two_camvid_crops_in_inference_mode()
    {
        var data = CamVidData.Load(Root, "train", limit: 2);
        var (mean, std) = data.ChannelStatistics();
        var settings = new SegmentationSettings
        {
            // Two down blocks of 2 layers, bottleneck 2, growth 8, no dropout; BN momentum 0.9 so the moving statistics
            // used at inference settle within the run.
            Model = TiramisuConfig.Parse("2,2,2", growthRate: 8) with { DropoutRate = 0, BatchNormMomentum = 0.9 },
            Mean = mean, Std = std, CropHeight = 96, CropWidth = 128, Seed = 7,
        };
        using var net = new SegmentationNetwork(settings);
        // The same two windows every step (the lower middle of the street scenes: road, cars, buildings, pavement).
        var wins = new[] { new CropWindow(200, 160, 96, 128, false), new CropWindow(200, 200, 96, 128, false) };
        var x = new float[2 * 96 * 128 * 3];
        var y = new byte[2 * 96 * 128];
        for (int i = 0; i < 2; i++)
            CamVidBatches.Extract(data, i, wins[i], settings.Normalization, x.AsSpan(i * 96 * 128 * 3, 96 * 128 * 3), y.AsSpan(i * 96 * 128, 96 * 128));
        using var xt = tensor(x, [2, 96, 128, 3]);
        using var yb = tensor(y, [2, 96, 128]);
        using var yt = yb.to_type(ScalarType.Int64);
        var cm0 = Score(net, xt, y);
        using var guard = new GuardedStep(net.Model, () => new RMSprop(3e-3, decay: 5e-5), new SparseCategoricalCrossentropy(CamVidClasses.Void), ["accuracy"]);
        for (int step = 0; step < 40; step++)
            guard.Train(xt, yt);
        net.WeightsChanged();
        var cm = Score(net, xt, y);
        Assert.True(cm0.GlobalAccuracy < 0.6, $"untrained accuracy {cm0.GlobalAccuracy:0.000}");
        Assert.True(cm.GlobalAccuracy > 0.9, $"accuracy after 40 steps {cm.GlobalAccuracy:0.000}");
        Assert.True(cm.Total > 20000, "most pixels are labelled");
    }

    private static ConfusionMatrix Score(SegmentationNetwork net, Tensor x, byte[] truth)
    {
        using var p = net.PredictProbabilities(x);
        using var a = p.argmax(-1).to_type(ScalarType.Byte).flatten();
        var cm = new ConfusionMatrix(11, CamVidClasses.Void);
        cm.Add(truth, a.data<byte>().ToArray());
        return cm;
    }

    [Fact]
    public void Trainer_resumed_mid_epoch_ends_as_an_uninterrupted_run_and_writes_history_and_checkpoints()
    {
        var o = new SegmentationTrainOptions
        {
            DataDir = Root, OutDir = Path.Combine(_dir, "a"), Model = TiramisuConfig.Parse("1,1", growthRate: 4), Epochs = 2, BatchSize = 2,
            CropHeight = 32, CropWidth = 32, Limit = 4, ValLimit = 1,
        };
        var uninterrupted = SegmentationTrainer.Train(o);
        Assert.Equal(new[] { 1, 2 }, uninterrupted.Select(h => h.Epoch));

        // The same run in three sittings: one epoch; a second stopped after its first batch (a backup after every batch);
        // then to the end.
        var b = o with { OutDir = Path.Combine(_dir, "b"), CheckpointEvery = TimeSpan.Zero };
        var h1 = SegmentationTrainer.Train(b with { Epochs = 1 });
        Assert.Single(h1);
        foreach (var f in new[] { "config.json", "best.safetensors", "last.safetensors", "history.csv" })
            Assert.True(File.Exists(Path.Combine(b.OutDir, f)), f);
        using (var cts = new CancellationTokenSource())
        {
            var stopAfterFirstBatch = new Sync(p => { if (p.Epoch == 1 && p.Step == 1) cts.Cancel(); });
            Assert.Throws<OperationCanceledException>(() => SegmentationTrainer.Train(b with { Progress = stopAfterFirstBatch }, cts.Token));
        }
        Assert.Equal("1", ReadMeta(Path.Combine(b.OutDir, "last.safetensors"))["fit.step"]);
        var log = new ListLogger();
        var resumed = SegmentationTrainer.Train(b with { Logger = log });
        Assert.Contains(log.Lines, l => l.StartsWith("Resuming from", StringComparison.Ordinal) && l.EndsWith("epoch 2, batch 1", StringComparison.Ordinal));

        Assert.Equal(uninterrupted.Select(h => h with { Seconds = 0 }), resumed.Select(h => h with { Seconds = 0 }));
        // Two epochs of 2 steps: RMSprop's iteration count survives the restarts (Keras decay continues).
        Assert.Equal(1e-3 / (1 + 5e-5 * 4), resumed[1].LearningRate, 12);
        // Val metrics of a reloaded checkpoint equal those recorded (1 image at full 360×480 resolution).
        using var net = SegmentationNetwork.Load(b.OutDir, SegmentationNetwork.BestWeights);
        var val = CamVidData.Load(Root, "val", 1);
        var cm = net.Evaluate(val);
        Assert.Equal(360 * 480, cm.Total + val.Label(0).ToArray().Count(l => l == 11));
        var best = resumed.MaxBy(h => h.ValMeanIoU)!;
        Assert.Equal(best.ValGlobalAccuracy, cm.GlobalAccuracy, 9);
    }

    private static IReadOnlyDictionary<string, string> ReadMeta(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var n = (int)BitConverter.ToUInt64(bytes, 0);
        using var doc = System.Text.Json.JsonDocument.Parse(bytes.AsMemory(8, n));
        return doc.RootElement.GetProperty("__metadata__").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
    }

    private sealed class Sync(Action<FitProgress> report) : IProgress<FitProgress>
    {
        public void Report(FitProgress value) => report(value);
    }

    private sealed class ListLogger : Microsoft.Extensions.Logging.ILogger
    {
        public List<string> Lines { get; } = [];
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;
        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception,
            Func<TState, Exception?, string> formatter) => Lines.Add(formatter(state, exception));
    }
}
