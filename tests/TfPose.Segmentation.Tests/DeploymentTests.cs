using TfPose.Datasets.CamVid;
using TfPose.Keras;
using TfPose.Benchmarks.Segmentation;
using TfPose.Tests;
using static TorchSharp.torch;

namespace TfPose.Segmentation.Tests;

/// <summary>
/// What <c>tfpose bench segment</c> and <c>segment export / predict --graph</c> rely on: the raw TorchSharp baseline is
/// the same network as the Keras-style one, and the exported graph labels images as the checkpoint does.
/// </summary>
public sealed class DeploymentTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("segment-deploy-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static TiramisuConfig Small(TransitionDownKind td = TransitionDownKind.StridedConv, double dropout = 0.2) =>
        TiramisuConfig.Parse("2,3,2", growthRate: 6) with { TransitionDown = td, DropoutRate = dropout, BatchNormMomentum = 0.5 };

    /// <summary>Random gamma, beta, moving mean and variance, so inference-mode BatchNorm is not close to the identity.</summary>
    private static void RandomizeBatchNorm(Model m, int seed)
    {
        using var g = new TorchSharp.torch.Generator((ulong)seed);
        using var _ = no_grad();
        foreach (var bn in m.Layers.OfType<BatchNormalization>())
        {
            var c = bn.GetWeights()[0].shape[0];
            bn.SetWeights([rand(c, generator: g) + 0.5, randn(c, generator: g) * 0.1, randn(c, generator: g) * 0.2, rand(c, generator: g) + 0.5]);
        }
    }

    [Theory]
    [InlineData("2,3,2", TransitionDownKind.StridedConv)]
    [InlineData("2,3,2", TransitionDownKind.MaxPool)]
    [InlineData("fcdn56", TransitionDownKind.StridedConv)]
    public void Raw_tiramisu_has_the_keras_models_parameters_and_statistics(string name, TransitionDownKind td)
    {
        var c = TiramisuConfig.Parse(name, name.Contains(',') ? 6 : null) with { TransitionDown = td };
        using var keras = Tiramisu.Build(c, 32, 32, seed: 1);
        using var raw = new RawTiramisu(c);
        var kerasTrainable = keras.Layers.SelectMany(l => l.Weights).Where(w => w.IsTrainableWeight).Sum(w => w.Value.numel());
        var kerasStatistics = keras.Layers.SelectMany(l => l.Weights).Where(w => !w.IsTrainableWeight).Sum(w => w.Value.numel());
        Assert.Equal(kerasTrainable, raw.parameters().Sum(p => p.numel()));
        // torch's BatchNorm also keeps num_batches_tracked, which Keras has no counterpart for.
        Assert.Equal(kerasStatistics, raw.named_buffers().Where(b => !b.name.EndsWith("num_batches_tracked", StringComparison.Ordinal)).Sum(b => b.buffer.numel()));
        Assert.Equal(keras.Layers.OfType<Conv2D>().Count(), raw.modules().OfType<TorchSharp.Modules.Conv2d>().Count());
        Assert.Equal(keras.Layers.OfType<Conv2DTranspose>().Count(), raw.modules().OfType<TorchSharp.Modules.ConvTranspose2d>().Count());
        Assert.Equal(keras.Layers.OfType<BatchNormalization>().Count(), raw.modules().OfType<TorchSharp.Modules.BatchNorm2d>().Count());
    }

    [Theory]
    [InlineData(TransitionDownKind.StridedConv)]
    [InlineData(TransitionDownKind.MaxPool)]
    public void Raw_tiramisu_with_the_keras_weights_gives_the_same_probabilities(TransitionDownKind td)
    {
        var c = Small(td);
        using var keras = Tiramisu.Build(c, 40, 56, seed: 4);
        RandomizeBatchNorm(keras, 5);
        using var raw = new RawTiramisu(c);
        raw.CopyFrom(keras);
        raw.eval();
        using var g = new TorchSharp.torch.Generator(6);
        using var x = randn([2, 40, 56, 3], generator: g);
        using var fromKeras = keras.PredictOnBatch(x);
        using var _ = no_grad();
        using var logits = raw.call(x.permute(0, 3, 1, 2).contiguous());
        using var fromRaw = logits.softmax(1).permute(0, 2, 3, 1).contiguous();
        Assert.Equal(fromKeras.shape, fromRaw.shape);
        var maxDiff = (fromKeras - fromRaw).abs().max().item<float>();
        Assert.True(maxDiff <= 1e-4, $"max |keras - raw| = {maxDiff}");
        // Not a degenerate comparison: the probabilities spread over several classes.
        using var labels = fromKeras.argmax(-1);
        Assert.True(labels.flatten().data<long>().ToArray().Distinct().Count() >= 3);
    }

    [Fact]
    public void Keras_and_raw_training_steps_give_the_same_losses_from_the_same_start()
    {
        // No dropout: both steps are then deterministic functions of the weights and the batch.
        var c = Small(dropout: 0);
        var data = CamVidData.Load(SharedData.Path("data", "camvid"), "train", limit: 4);
        var (mean, std) = data.ChannelStatistics();
        var batches = TrainingBatch.RandomCrops(data, new ChannelNormalization(mean, std), batchSize: 2, crop: 48, count: 3);
        try
        {
            using var keras = new KerasTrainingStep(c, 48, 48, seed: 7);
            using var raw = new RawTrainingStep(c, keras.Model);
            for (int i = 0; i < batches.Count; i++)
            {
                float k = keras.Step(batches[i]), r = raw.Step(batches[i]);
                Assert.True(float.IsFinite(k) && k > 0.5, $"keras loss {k}");
                // The first loss checks the forward pass, loss and L2 penalty; later ones also the RMSprop updates
                // (Keras' ρ, ε and decay), whose sign-like first steps amplify rounding, hence the looser bound.
                double bound = i == 0 ? 1e-4 : 1e-3;
                Assert.True(Math.Abs(k - r) <= bound * k, $"step {i + 1}: keras loss {k}, raw loss {r}");
            }
        }
        finally
        {
            foreach (var b in batches) b.Dispose();
        }
    }

    [Fact]
    public void Exported_graph_labels_a_camvid_window_as_the_checkpoint_does()
    {
        var data = CamVidData.Load(SharedData.Path("data", "camvid"), "val", limit: 1);
        var (mean, std) = data.ChannelStatistics();
        var settings = new SegmentationSettings { Model = Small(), Mean = mean, Std = std, CropHeight = 32, CropWidth = 32, Seed = 3 };
        var ckpt = Path.Combine(_dir, "run");
        Directory.CreateDirectory(ckpt);
        using (var net = new SegmentationNetwork(settings))
        {
            RandomizeBatchNorm(net.Model, 8);
            settings.Save(Path.Combine(ckpt, SegmentationNetwork.ConfigFile));
            net.Model.SaveWeights(Path.Combine(ckpt, SegmentationNetwork.BestWeights));
        }
        // 90×122: neither side a multiple of 4, so both paths pad (to 92×124) and crop back.
        const int h = 90, w = 122;
        var rgb = new byte[h * w * 3];
        for (int r = 0; r < h; r++)
            data.Image(0).Slice((150 + r) * data.Width * 3 + 200 * 3, w * 3).CopyTo(rgb.AsSpan(r * w * 3));

        // What segment export and segment predict --checkpoint / --graph do.
        using var loaded = SegmentationNetwork.Load(ckpt);
        var pb = Path.Combine(_dir, "model.pb");
        loaded.ExportGraphDef(pb, h, w);
        var fromCheckpoint = loaded.PredictLabels(rgb, h, w);
        using var graph = new SegmentationGraph(pb);
        Assert.Equal((92, 124), (graph.Height, graph.Width));
        Assert.Equal("image", graph.Input.Name);
        Assert.Equal(new long[] { 1, 92, 124, 11 }, graph.Output.Shape);
        var fromGraph = graph.PredictLabels(rgb, h, w);

        Assert.Equal(fromCheckpoint.Length, fromGraph.Length);
        double agree = fromCheckpoint.Zip(fromGraph).Count(p => p.First == p.Second) / (double)fromCheckpoint.Length;
        Assert.True(agree >= 0.999, $"labels agree on {agree:P3} of the pixels");
        Assert.True(fromCheckpoint.Distinct().Count() >= 3, "the random network should not label the whole window alike");
    }

    [Fact]
    public void Graph_without_its_settings_file_is_rejected_naming_it()
    {
        var pb = Path.Combine(_dir, "lonely.pb");
        File.WriteAllBytes(pb, [1, 2, 3]);
        var ex = Assert.Throws<FileNotFoundException>(() => new SegmentationGraph(pb));
        Assert.Contains(pb + ".json", ex.Message);
        Assert.Contains("segment export", ex.Message);
    }
}
