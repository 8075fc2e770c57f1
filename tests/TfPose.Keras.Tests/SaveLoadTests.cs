using System.Text.Json.Nodes;
using TfPose.Gan;
using static TorchSharp.torch;

namespace TfPose.Keras.Tests;

/// <summary>Model.Save / Model.Load rebuild architectures from config.json without the defining code.</summary>
public class SaveLoadTests
{
    private static string TempDir() => Path.Combine(Path.GetTempPath(), $"model-{Guid.NewGuid():N}");

    [Fact]
    public void FunctionalModelWithSharedNestedAndFrozenLayersRoundTrips()
    {
        var inner = new Sequential([new Conv2D(4, 1, inputShape: [6, 6, 4]), new ReLU(maxValue: 2)], name: "inner", seed: 4);
        var input = Keras.Input([6, 6, 3], "image");
        var shared = new Conv2D(4, 3, padding: "same", kernelRegularizer: Regularizer.L2(0.01), kernelInitializer: Initializer.HeUniform());
        var a = shared.Call(input);
        var b = new BatchNormalization(momentum: 0.9, epsilon: 1e-2).Call(a);
        b = inner.Call(b);
        var c = new Conv2D(3, 3, padding: "same").Call(b);
        var d = shared.Call(c);                                      // the same layer called twice
        var m = new Concatenate().Call(a, d);
        m = new Conv2DTranspose(2, 3, strides: 2, padding: "same", activation: "tanh").Call(m);
        m = new Cropping2D([1, 0, 0, 1]).Call(m);
        m = new MaxPooling2D().Call(new ZeroPadding2D(1).Call(m));
        m = new Dropout(0.25).Call(new Flatten().Call(m));
        var y = new Dense(3, "softmax", kernelRegularizer: Regularizer.L2(0.02)).Call(m);
        using var model = new Model(input, y, name: "net", seed: 7);
        model.Layers.OfType<BatchNormalization>().Single().Trainable = false;
        using (no_grad())
            foreach (var bn in model.Layers.OfType<BatchNormalization>())
            {
                bn.MovingMean.Value.uniform_(-1, 1);
                bn.MovingVariance.Value.uniform_(0.5, 2);
            }
        var dir = TempDir();
        try
        {
            model.Save(dir);
            using var loaded = Model.Load(dir);
            Assert.IsNotType<Sequential>(loaded);
            Assert.Equal("net", loaded.Name);
            Assert.Equal(model.Layers.Select(l => (l.Name, l.KerasName, l.Trainable)), loaded.Layers.Select(l => (l.Name, l.KerasName, l.Trainable)));
            Assert.Equal(model.CountParams(), loaded.CountParams());
            // The shared Conv2D is one layer with two calls after loading too.
            Assert.Equal(model.Nodes.Count, loaded.Nodes.Count);

            using var x = rand(3, 6, 6, 3, generator: new TorchSharp.torch.Generator(1));
            using var want = model.PredictOnBatch(x);
            // Inference is repeatable (libtorch's conv_transpose2d was not; Conv2DTranspose no longer uses it).
            using var again = model.PredictOnBatch(x);
            Assert.True(want.allclose(again, rtol: 0, atol: 0), "two predictions of the same model differ");
            using var got = loaded.PredictOnBatch(x);
            Assert.True(want.allclose(got, rtol: 0, atol: 0), $"predictions differ after Save/Load by {(want - got).abs().max().item<float>()}");

            // Regularisers came back: the same loss, penalty included, on the same batch.
            using var t = tensor(new long[] { 0, 1, 2 });
            model.Compile(new SGD(), "sparse_categorical_crossentropy");
            loaded.Compile(new SGD(), "sparse_categorical_crossentropy");
            var lm = model.TestOnBatch(x, t)["loss"];
            var ll = loaded.TestOnBatch(x, t)["loss"];
            Assert.Equal(lm, ll, 5);
            // The frozen BatchNormalization stays out of the trainable weights.
            Assert.Equal(model.TrainableWeights.Count, loaded.TrainableWeights.Count);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void GanCombinedModelRoundTripsWithItsFrozenDiscriminator()
    {
        using var gan = new FashionGan(seed: 3);
        var dir = TempDir();
        try
        {
            gan.Combined.Save(dir);
            var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!;
            Assert.Equal("tfpose-keras-model-1", config["format"]!.GetValue<string>());
            using var loaded = Model.Load(dir);
            var inner = loaded.Layers.OfType<Sequential>().ToList();
            Assert.Equal(["generator", "discriminator"], inner.Select(s => s.Name));
            Assert.False(inner[1].Trainable);
            using var z = randn(5, 100, generator: new TorchSharp.torch.Generator(2));
            using var want = gan.Combined.PredictOnBatch(z);
            using var got = loaded.PredictOnBatch(z);
            Assert.True(want.allclose(got, rtol: 0, atol: 0));
            loaded.Compile(new Adam(), "binary_crossentropy");
            // Only the generator trains in the loaded combined model, as in the original.
            Assert.Equal(gan.Generator.Layers.Sum(l => l.Weights.Count), loaded.TrainableWeights.Count);
            foreach (var s in inner) s.Dispose();
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void BrokenConfigsFailWithTheFileAndTheLayer()
    {
        var dir = TempDir();
        try
        {
            using (var m = new Sequential([new Dense(2, inputShape: [3], name: "d1"), new Dense(1, name: "d2")], seed: 1))
                m.Save(dir);
            var path = Path.Combine(dir, "config.json");
            File.WriteAllText(path, File.ReadAllText(path).Replace("\"Dense\"", "\"Densee\""));
            var ex = Assert.Throws<InvalidDataException>(() => Model.Load(dir));
            Assert.Contains(path, ex.Message);
            Assert.Contains("d1", ex.Message);
            Assert.Contains("Densee", ex.Message);
            var empty = TempDir();
            Directory.CreateDirectory(empty);
            try
            {
                var nf = Assert.Throws<FileNotFoundException>(() => Model.Load(empty));
                Assert.Contains("config.json", nf.Message);
            }
            finally
            {
                Directory.Delete(empty);
            }
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }
}
