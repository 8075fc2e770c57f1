using TfPose.Datasets.FashionMnist;
using TfPose.Gan;
using TfPose.Tests;
using static TorchSharp.torch;

namespace TfPose.Gan.Tests;

public class GanTests
{
    [Fact]
    public void ReferenceArchitectureLayerForLayer()
    {
        using var gan = new FashionGan(seed: 1);
        Assert.Equal(["Dense", "LeakyReLU", "Dense", "LeakyReLU", "Dense", "LeakyReLU", "Dense"], gan.Generator.Layers.Select(l => l.KerasName));
        Assert.Equal(["Dense", "LeakyReLU", "Dropout", "Dense", "LeakyReLU", "Dropout", "Dense", "LeakyReLU", "Dropout", "Dense"], gan.Discriminator.Layers.Select(l => l.KerasName));
        // 100·256+256 + 256·512+512 + 512·1024+1024 + 1024·784+784
        Assert.Equal(1_486_352, gan.Generator.CountParams());
        // 784·1024+1024 + 1024·512+512 + 512·256+256 + 256+1
        Assert.Equal(1_460_225, gan.Discriminator.CountParams());
        // The combined model trains only the generator's 8 weights.
        Assert.Equal(8, gan.Combined.TrainableWeights.Count);
        // RandomNormal(stddev 0.02) on the first generator layer.
        using var k = gan.Generator.Layers[0].GetWeights()[0];
        Assert.InRange(k.std().item<float>(), 0.019, 0.021);
    }

    [Fact]
    public void CheckpointRoundTripRestoresWeightsAndOptimizer()
    {
        using var gan = new FashionGan(seed: 3);
        using var real = rand(16, 784) * 2 - 1;
        gan.TrainStep(real);
        var dir = Directory.CreateTempSubdirectory().FullName;
        gan.SaveCheckpoint(dir, epoch: 4);
        using var other = new FashionGan(seed: 99);
        Assert.Equal(4, other.LoadCheckpoint(dir));
        using var z = randn(4, 100);
        using var a = gan.Generator.PredictOnBatch(z);
        using var b = other.Generator.PredictOnBatch(z);
        Assert.True(a.allclose(b));
        Assert.Equal(gan.Combined.Optimizer!.Iterations, other.Combined.Optimizer!.Iterations);
        Directory.Delete(dir, true);
    }

    /// <summary>A few hundred reference steps on a subset lower the Fréchet distance to real test images.</summary>
    [Fact]
    public void ShortTrainingLowersTheFrechetDistance()
    {
        var dir = SharedData.Path("data", "fashion-mnist");
        var train = FashionMnistData.Load(dir, "train");
        var test = FashionMnistData.Load(dir, "test");
        using var x = FashionGan.ToTensor(train, 12800);
        using var xTest = FashionGan.ToTensor(test, 2000);

        using var clf = new FashionClassifier("mlp", seed: 0);
        using var y = FashionClassifier.Labels(train, 12800);
        clf.Model.Fit(x, y, batchSize: 128, epochs: 2, verbose: 0);
        using var yTest = FashionClassifier.Labels(test, 2000);
        Assert.True(clf.Model.Evaluate(xTest, yTest, 500)["accuracy"] > 0.75);
        using var realFeatures = clf.Features(xTest);

        using var gan = new FashionGan(seed: 0);
        double Fd()
        {
            using var s = gan.Sample(1000);
            using var f = clf.Features(s);
            return GanQuality.FrechetDistance(f, realFeatures);
        }
        var before = Fd();
        const int batch = 64;
        for (int step = 0; step < 300; step++)
        {
            int start = step * batch % 12800;
            using var real = x[start..(start + batch)];
            gan.TrainStep(real);
        }
        var after = Fd();
        Assert.True(after < 0.85 * before, $"Fréchet distance {before:0.0} -> {after:0.0}");
    }

    [Fact]
    public void FrechetDistanceOfIdenticalSetsIsZeroAndOfShiftedSetsIsTheShift()
    {
        using var a = randn(500, 5, generator: new Generator(1));
        Assert.Equal(0, GanQuality.FrechetDistance(a, a), 6);
        using var b = a + 2;
        // Same covariance, means 2 apart in 5 dimensions: 5·2² = 20.
        Assert.Equal(20, GanQuality.FrechetDistance(a, b), 4);
    }
}
