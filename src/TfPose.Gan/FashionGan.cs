using TfPose.Datasets.FashionMnist;
using TfPose.Keras;
using static TorchSharp.torch;

namespace TfPose.Gan;

/// <summary>
/// The reference Keras Fashion-MNIST GAN, layer for layer: a dense generator from 100-d normal noise to 784
/// tanh pixels, a dense discriminator with dropout, both compiled with binary cross-entropy and
/// Adam(0.0002, beta_1 0.5), and a combined model that trains the generator through the frozen discriminator.
/// </summary>
public sealed class FashionGan : IDisposable
{
    public const int LatentDim = 100;
    public const int ImageSize = FashionMnistData.Pixels;

    private readonly Generator _noise;

    public FashionGan(int seed = 0, string device = "cpu")
    {
        Seed = seed;
        var init = Initializer.RandomNormal(stddev: 0.02);
        Generator = new Sequential(
        [
            new Dense(256, kernelInitializer: init, inputShape: [LatentDim]),
            new LeakyReLU(0.2),
            new Dense(512),
            new LeakyReLU(0.2),
            new Dense(1024),
            new LeakyReLU(0.2),
            new Dense(ImageSize, "tanh"),
        ], name: "generator", seed: seed, device: device);
        Generator.Compile(new Adam(0.0002, beta1: 0.5), "binary_crossentropy");

        Discriminator = new Sequential(
        [
            new Dense(1024, kernelInitializer: init, inputShape: [ImageSize]),
            new LeakyReLU(0.2),
            new Dropout(0.3),
            new Dense(512),
            new LeakyReLU(0.2),
            new Dropout(0.3),
            new Dense(256),
            new LeakyReLU(0.2),
            new Dropout(0.3),
            new Dense(1, "sigmoid"),
        ], name: "discriminator", seed: seed + 1, device: device);
        Discriminator.Compile(new Adam(0.0002, beta1: 0.5), "binary_crossentropy");

        // Keras: discriminator.trainable = False, then compile the combined model. The discriminator's own
        // compiled model keeps training it; the combined model only updates the generator.
        Discriminator.Trainable = false;
        var z = Keras.Keras.Input([LatentDim], "noise");
        Combined = new GanModel(this, z, Discriminator.Call(Generator.Call(z)), seed + 2, device);
        Combined.Compile(new Adam(0.0002, beta1: 0.5), "binary_crossentropy");
        _noise = NoiseStream(seed);
    }

    // The noise stream is a function of the seed alone, so a graph-runtime sampler can reproduce it.
    private static Generator NoiseStream(int seed) => new((ulong)seed + 3);

    /// <summary>The first <paramref name="count"/> noise vectors of <c>new FashionGan(seed)</c>'s noise stream.</summary>
    public static Tensor SeededNoise(int seed, long count)
    {
        using var g = NoiseStream(seed);
        return randn([count, LatentDim], generator: g);
    }

    public int Seed { get; }
    public Sequential Generator { get; }
    public Sequential Discriminator { get; }
    /// <summary>Generator through the frozen discriminator; its <c>Fit</c> runs <see cref="TrainStep"/> per batch of real images.</summary>
    public GanModel Combined { get; }

    /// <summary>Standard-normal noise from the GAN's own seeded stream.</summary>
    public Tensor Noise(long count) => randn([count, LatentDim], generator: _noise);

    internal Generator NoiseGenerator => _noise;

    /// <summary>
    /// One reference training step: the discriminator on real images (label <paramref name="realLabel"/>) and as
    /// many generated ones (label 0) in one batch, then the generator on fresh noise labelled 1.
    /// </summary>
    /// <param name="real">Real images scaled to [-1, 1], shape (batch, 784).</param>
    public (double DiscriminatorLoss, double GeneratorLoss) TrainStep(Tensor real, float realLabel = 1.0f)
    {
        using var scope = NewDisposeScope();
        long b = real.shape[0];
        var z = Noise(b);
        var fake = Generator.PredictOnBatch(z);
        var x = cat([real, fake], 0);
        var y = cat([full([b, 1], realLabel), zeros(b, 1)], 0);
        var dLoss = Discriminator.TrainOnBatch(x, y).Loss;
        var z2 = Noise(b);
        var gLoss = Combined.TrainOnBatch(z2, ones(b, 1)).Loss;
        return (dLoss, gLoss);
    }

    /// <summary>Generated images in [-1, 1], shape (count, 784).</summary>
    public Tensor Sample(long count)
    {
        using var z = Noise(count);
        return Generator.Predict(z, 256);
    }

    /// <summary>Images in [-1, 1] to 0..255 bytes for PNG grids.</summary>
    public static byte[] ToBytes(Tensor images)
    {
        using var scope = NewDisposeScope();
        var v = ((images.cpu().clamp(-1, 1) + 1) * 127.5).round().to_type(ScalarType.Byte).contiguous();
        return v.data<byte>().ToArray();
    }

    /// <summary>Fashion-MNIST images as (N, 784) float32 scaled to [-1, 1], as the reference does.</summary>
    public static Tensor ToTensor(FashionMnistData data, int? limit = null)
    {
        int n = Math.Min(limit ?? data.Count, data.Count);
        using var bytes = tensor(data.Images.AsSpan(0, n * ImageSize).ToArray()).reshape(n, ImageSize);
        using var f = bytes.to_type(ScalarType.Float32);
        return f.div(127.5).sub_(1);
    }

    /// <summary>Saves both networks with optimizer state plus the epoch, so training resumes exactly.</summary>
    public void SaveCheckpoint(string directory, int epoch) =>
        SaveCheckpoint(directory, new Dictionary<string, string> { ["epoch"] = epoch.ToString(System.Globalization.CultureInfo.InvariantCulture) });

    internal void SaveCheckpoint(string directory, IReadOnlyDictionary<string, string> metadata)
    {
        Directory.CreateDirectory(directory);
        var meta = new Dictionary<string, string>(metadata)
        {
            ["seed"] = Seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["rng.noise"] = Model.GeneratorState(_noise),
            ["rng.discriminator"] = Model.GeneratorState(Discriminator.DropoutGenerator),
            ["rng.combined"] = Model.GeneratorState(Combined.DropoutGenerator),
        };
        Generator.SaveWeights(Path.Combine(directory, "generator.safetensors"), includeOptimizer: false, metadata: meta);
        Discriminator.SaveWeights(Path.Combine(directory, "discriminator.safetensors"), includeOptimizer: true, metadata: meta);
        // The generator trains through the combined model, so its Adam state lives there.
        Combined.SaveWeights(Path.Combine(directory, "combined.safetensors"), includeOptimizer: true, metadata: meta);
    }

    /// <summary>Loads a checkpoint folder; returns the epoch it was saved after (0 when only a generator exists).</summary>
    public int LoadCheckpoint(string directory)
    {
        var meta = LoadCheckpointState(directory, restoreStreams: false);
        var epoch = meta.GetValueOrDefault("epoch", "0");
        return int.TryParse(epoch, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var e) ? e
            : throw new InvalidDataException($"{directory}: the checkpoint's epoch '{epoch}' is not a number.");
    }

    /// <summary>Loads a checkpoint folder; returns the metadata it was saved with.</summary>
    /// <param name="restoreStreams">
    /// Also continue the noise and dropout streams where training left them (resuming); sampling keeps the streams of
    /// this instance's seed, so the same seed gives the same noise from a checkpoint and from an exported graph.
    /// </param>
    internal IReadOnlyDictionary<string, string> LoadCheckpointState(string directory, bool restoreStreams)
    {
        var combined = Path.Combine(directory, "combined.safetensors");
        if (File.Exists(combined))
        {
            Combined.LoadWeights(combined);
            var meta = Discriminator.LoadWeights(Path.Combine(directory, "discriminator.safetensors"));
            if (!restoreStreams)
                return meta;
            if (meta.TryGetValue("rng.noise", out var noise))
                Model.SetGeneratorState(_noise, noise, combined);
            if (meta.TryGetValue("rng.discriminator", out var d))
                Model.SetGeneratorState(Discriminator.DropoutGenerator, d, combined);
            if (meta.TryGetValue("rng.combined", out var c))
                Model.SetGeneratorState(Combined.DropoutGenerator, c, combined);
            return meta;
        }
        var gen = Path.Combine(directory, "generator.safetensors");
        if (!File.Exists(gen))
            throw new FileNotFoundException($"No GAN checkpoint in {directory} (expected combined.safetensors or generator.safetensors).", gen);
        return Generator.LoadWeights(gen);
    }

    public void Dispose()
    {
        Combined.Dispose();
        Generator.Dispose();
        Discriminator.Dispose();
        _noise.Dispose();
    }
}
