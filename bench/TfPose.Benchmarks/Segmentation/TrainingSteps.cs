using TfPose.Segmentation;
using TfPose.Datasets.CamVid;
using TfPose.Keras;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TfPose.Benchmarks.Segmentation;

/// <summary>One training batch in both layouts, so neither timed step pays for the other's layout conversion.</summary>
public sealed class TrainingBatch : IDisposable
{
    public TrainingBatch(float[] nhwc, byte[] labels, int count, int height, int width)
    {
        Nhwc = tensor(nhwc.AsSpan(0, count * height * width * 3).ToArray(), [count, height, width, 3]);
        Nchw = Nhwc.permute(0, 3, 1, 2).contiguous();
        using var l = tensor(labels.AsSpan(0, count * height * width).ToArray(), [count, height, width]);
        Labels = l.to_type(ScalarType.Int64);
    }

    public Tensor Nhwc { get; }
    public Tensor Nchw { get; }
    public Tensor Labels { get; }
    public int Count => (int)Nhwc.shape[0];

    /// <summary>
    /// <paramref name="count"/> batches of random crops (with flips) of the first images of <paramref name="data"/>,
    /// normalised, from a fixed seed: every timed path sees the same pixels.
    /// </summary>
    public static List<TrainingBatch> RandomCrops(CamVidData data, ChannelNormalization norm, int batchSize, int crop, int count, int seed = 1)
    {
        if (crop > data.Height || crop > data.Width)
            throw new ArgumentException($"crop {crop}x{crop} is larger than the CamVid images ({data.Width}x{data.Height}).");
        var rng = new Random(seed);
        var x = new float[batchSize * crop * crop * 3];
        var y = new byte[batchSize * crop * crop];
        var batches = new List<TrainingBatch>();
        for (int b = 0; b < count; b++)
        {
            var idx = Enumerable.Range(b * batchSize, batchSize).Select(i => i % data.Count).ToArray();
            CamVidBatches.RandomBatch(data, idx, rng, crop, crop, flips: true, norm, x, y);
            batches.Add(new TrainingBatch(x, y, batchSize, crop, crop));
        }
        return batches;
    }

    public void Dispose()
    {
        Nhwc.Dispose();
        Nchw.Dispose();
        Labels.Dispose();
    }
}

/// <summary>A training step under test: one update on a batch, returning the loss (regularisation included).</summary>
public interface ISegmentationTrainingStep : IDisposable
{
    string Name { get; }

    float Step(TrainingBatch batch);
}

/// <summary>The Keras-style path: <see cref="Model.TrainOnBatch"/> with the reference RMSprop and void-ignoring sparse cross-entropy.</summary>
public sealed class KerasTrainingStep : ISegmentationTrainingStep
{
    private readonly RMSprop _optimizer;

    public KerasTrainingStep(TiramisuConfig config, int height, int width, int seed, double learningRate = 1e-3, double decay = 5e-5)
    {
        Model = Tiramisu.Build(config, height, width, seed);
        _optimizer = new RMSprop(learningRate, decay: decay);
        Model.Compile(_optimizer, new SparseCategoricalCrossentropy(CamVidClasses.Void));
    }

    public Model Model { get; }
    public string Name => "Keras-style";

    public float Step(TrainingBatch batch) => (float)Model.TrainOnBatch(batch.Nhwc, batch.Labels)["loss"];

    public void Dispose()
    {
        Model.Dispose();
        _optimizer.Dispose();
    }
}

/// <summary>
/// The same step in plain TorchSharp: <see cref="RawTiramisu"/>, cross-entropy from logits with void ignored, the
/// L2 kernel penalty, and torch.optim's RMSprop set to Keras' ρ = 0.9, ε = 1e-7 (torch's update is the same
/// formula: a = ρa + (1−ρ)g², p −= lr·g/(√a + ε)) with Keras' time-based decay applied to the learning rate.
/// </summary>
public sealed class RawTrainingStep : ISegmentationTrainingStep
{
    private readonly RMSProp _optimizer;
    private readonly double _learningRate, _decay;
    private long _iterations;

    public RawTrainingStep(TiramisuConfig config, Model? copyFrom = null, double learningRate = 1e-3, double decay = 5e-5)
    {
        Model = new RawTiramisu(config);
        if (copyFrom is not null)
            Model.CopyFrom(copyFrom);
        Model.train();
        _optimizer = optim.RMSProp(Model.parameters(), learningRate, alpha: 0.9, eps: 1e-7);
        _learningRate = learningRate;
        _decay = decay;
    }

    public RawTiramisu Model { get; }
    public string Name => "raw TorchSharp";

    public float Step(TrainingBatch batch)
    {
        using var scope = NewDisposeScope();
        _optimizer.zero_grad();
        var logits = Model.call(batch.Nchw);
        var loss = F.cross_entropy(logits, batch.Labels, ignore_index: CamVidClasses.Void) + Model.KernelPenalty();
        loss.backward();
        foreach (var g in _optimizer.ParamGroups)
            g.LearningRate = _learningRate / (1 + _decay * _iterations);
        _optimizer.step();
        _iterations++;
        return loss.item<float>();
    }

    public void Dispose()
    {
        _optimizer.Dispose();
        Model.Dispose();
    }
}
