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
    public void Trainer_checkpoints_resumes_and_writes_history_and_curves()
    {
        var lines = new List<string>();
        var o = new SegmentationTrainOptions
        {
            DataDir = Root, OutDir = _dir, Model = TiramisuConfig.Parse("1,1", growthRate: 4), Epochs = 1, BatchSize = 2,
            CropHeight = 32, CropWidth = 32, Limit = 4, ValLimit = 1, Log = lines.Add,
        };
        var h1 = SegmentationTrainer.Train(o);
        Assert.Single(h1);
        foreach (var f in new[] { "config.json", "best.safetensors", "last.safetensors", "history.csv", "curves.png" })
            Assert.True(File.Exists(Path.Combine(_dir, f)), f);
        var h2 = SegmentationTrainer.Train(o with { Epochs = 2 });
        Assert.Equal(new[] { 1, 2 }, h2.Select(h => h.Epoch));
        Assert.Equal(h1[0] with { Seconds = 0 }, h2[0] with { Seconds = 0 });
        Assert.Contains(lines, l => l.StartsWith("resuming", StringComparison.Ordinal));
        Assert.Equal(2, SegmentationTrainer.ReadHistory(Path.Combine(_dir, "history.csv")).Count);
        // Two epochs of 2 steps: RMSprop's iteration count survives the restart (Keras decay continues).
        var lr = 1e-3 / (1 + 5e-5 * 4);
        Assert.Equal(lr, h2[1].LearningRate, 12);
        // Val metrics of a reloaded checkpoint equal those recorded (1 image at full 360×480 resolution).
        using var net = SegmentationNetwork.Load(_dir, SegmentationNetwork.BestWeights);
        var cm = net.Evaluate(CamVidData.Load(Root, "val", 1));
        Assert.Equal(360 * 480, cm.Total + CamVidData.Load(Root, "val", 1).Label(0).ToArray().Count(l => l == 11));
        var best = h2.MaxBy(h => h.ValMeanIoU)!;
        Assert.Equal(best.ValGlobalAccuracy, cm.GlobalAccuracy, 9);
    }
}
