using static TorchSharp.torch;

namespace TfPose.Keras.Tests;

/// <summary>Keras' freezing rules: trainable is read at compile time, so a GAN's discriminator keeps
/// training through its own compiled model while the combined model leaves it unchanged.</summary>
public class TrainableTests
{
    [Fact]
    public void FrozenDiscriminatorIsUnchangedByCombinedStepButTrainsAlone()
    {
        using var g = new Sequential([new Dense(2, inputShape: [3])], name: "g", seed: 1);
        using var d = new Sequential([new Dense(1, "sigmoid", inputShape: [2])], name: "d", seed: 2);
        d.Compile(new Adam(0.01), "binary_crossentropy");
        d.Trainable = false;
        using var combined = new Sequential([g, d], name: "combined", seed: 3);
        combined.Compile(new Adam(0.01), "binary_crossentropy");

        using var z = T.F([1, 2, 3], 1, 3);
        using var one = T.F([1], 1, 1);
        var d0 = T.Values(d.Layers[0].GetWeights()[0]);
        var g0 = T.Values(g.Layers[0].GetWeights()[0]);
        combined.TrainOnBatch(z, one);
        Assert.Equal(d0, T.Values(d.Layers[0].GetWeights()[0]));
        Assert.NotEqual(g0, T.Values(g.Layers[0].GetWeights()[0]));

        // d was compiled before it was frozen, so its own steps still update it.
        using var x = T.F([1, 1], 1, 2);
        d.TrainOnBatch(x, one);
        Assert.NotEqual(d0, T.Values(d.Layers[0].GetWeights()[0]));
        Assert.Equal(2, combined.TrainableWeights.Count);
    }

    [Fact]
    public void LayerFlagTakesEffectAtTheNextCompile()
    {
        using var model = T.Linear(1, 2);
        model.Layers[0].Trainable = false;
        model.Compile(new SGD(0.1), "mse");
        using var x = T.F([1, 1], 1, 2);
        using var y = T.F([0], 1, 1);
        model.TrainOnBatch(x, y);
        T.Close([1, 2], T.Values(model.Layers[0].GetWeights()[0]));

        model.Layers[0].Trainable = true;
        model.TrainOnBatch(x, y); // not recompiled: still frozen
        T.Close([1, 2], T.Values(model.Layers[0].GetWeights()[0]));

        model.Compile(new SGD(0.1), "mse");
        model.TrainOnBatch(x, y); // gradient 6 each: w -= 0.6
        T.Close([0.4, 1.4], T.Values(model.Layers[0].GetWeights()[0]));
    }
}
