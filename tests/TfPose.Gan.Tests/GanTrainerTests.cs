using TfPose.Keras;
using TfPose.Plotting;
using TfPose.Tests;

namespace TfPose.Gan.Tests;

public sealed class GanTrainerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gan-train-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private GanTrainOptions Options(string run) => new()
    {
        DataDir = SharedData.Path("data", "fashion-mnist"), OutDir = Path.Combine(_dir, run), Epochs = 2, BatchSize = 64, Limit = 256, SampleEvery = 1, Seed = 3,
        Callbacks = [new PlotLogger(Path.Combine(_dir, run, GanTrainer.CurvesFile), historyCsv: Path.Combine(_dir, run, GanTrainer.HistoryFile), series: ["d_loss", "g_loss"])],
    };

    /// <summary>
    /// Two epochs in one go against one epoch, a restart, and the second: the checkpoint carries weights, both Adam
    /// states, the noise and dropout streams, so the resumed run's losses and generator are the uninterrupted run's.
    /// </summary>
    [Fact]
    public void A_resumed_run_continues_exactly_and_writes_history_grids_curves_and_checkpoint()
    {
        var full = GanTrainer.Train(Options("a"));
        var b = Options("b");
        Assert.Single(GanTrainer.Train(b with { Epochs = 1 }));
        var resumed = GanTrainer.Train(b);

        Assert.Equal([0.0, 1.0], resumed.Select(r => r["epoch"]));
        Assert.Equal(full.Select(r => (r["d_loss"], r["g_loss"])), resumed.Select(r => (r["d_loss"], r["g_loss"])));
        // No --fid: no classifier is trained or loaded and the history has no FD columns.
        Assert.DoesNotContain("frechet", resumed[0].Keys);
        foreach (var f in new[] { "losses.csv", "loss.png", "samples_epoch_001.png", "samples_epoch_002.png",
                     "checkpoint/generator.safetensors", "checkpoint/discriminator.safetensors", "checkpoint/combined.safetensors" })
            Assert.True(File.Exists(Path.Combine(b.OutDir, f)), f);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(Path.Combine(b.OutDir, "loss.png")).Take(4));

        using var ga = new FashionGan(0);
        using var gb = new FashionGan(0);
        Assert.Equal(2, ga.LoadCheckpoint(Path.Combine(_dir, "a", "checkpoint")));
        Assert.Equal(2, gb.LoadCheckpoint(Path.Combine(b.OutDir, "checkpoint")));
        using var z = TorchSharp.torch.randn(4, FashionGan.LatentDim);
        using var xa = ga.Generator.PredictOnBatch(z);
        using var xb = gb.Generator.PredictOnBatch(z);
        Assert.Equal(xa.data<float>().ToArray(), xb.data<float>().ToArray());
        // 2 epochs of 256 / 64 = 4 steps: 8 updates of each network.
        Assert.Equal(8, gb.Combined.Optimizer!.Iterations);
        Assert.Equal(8, gb.Discriminator.Optimizer!.Iterations);
    }

    [Fact]
    public void Training_curves_draw_a_png_from_a_history_file()
    {
        var csv = Path.Combine(_dir, "h.csv");
        File.WriteAllLines(csv, ["epoch,accuracy,loss,val_miou", "0,0.5,2.0,0.1", "1,0.7,1.5,0.2"]);
        var png = Path.Combine(_dir, "c.png");
        TrainingCurves.SavePng(CSVLogger.Read(csv).Select(r => (IReadOnlyDictionary<string, double>)r).ToList(), png, "test", width: 400, height: 300);
        var bytes = File.ReadAllBytes(png);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes.Take(4));
        // IHDR: width and height, big-endian, at bytes 16..23.
        Assert.Equal(400, (bytes[16] << 24) | (bytes[17] << 16) | (bytes[18] << 8) | bytes[19]);
        Assert.Equal(300, (bytes[20] << 24) | (bytes[21] << 16) | (bytes[22] << 8) | bytes[23]);
    }
}
