using static TorchSharp.torch;

namespace TfPose.Keras.Tests;

public class LossTests
{
    [Fact]
    public void BinaryCrossentropyWithLabelSmoothing()
    {
        using var y = T.F([1, 0], 2, 1);
        using var p = T.F([0.9f, 0.2f], 2, 1);
        // Smoothed targets 0.9, 0.1: -(0.9 ln .9 + .1 ln .1 + .1 ln .2 + .9 ln .8)/2 = 0.3434280.
        Assert.Equal(0.343428, new BinaryCrossentropy(labelSmoothing: 0.2).Call(y, p), 5);
        // Unsmoothed: -(ln .9 + ln .8)/2 = 0.1642520.
        Assert.Equal(0.164252, new BinaryCrossentropy().Call(y, p), 5);
    }

    [Fact]
    public void BinaryCrossentropyClipsLikeKeras()
    {
        using var y = T.F([1], 1, 1);
        using var p = T.F([0], 1, 1);
        Assert.Equal(-Math.Log(1e-7), new BinaryCrossentropy().Call(y, p), 3);
    }

    [Fact]
    public void SparseCategoricalIgnoresALabelAndWeightsClasses()
    {
        using var p = T.F([0.7f, 0.2f, 0.1f, 0.1f, 0.8f, 0.1f, 0.3f, 0.3f, 0.4f], 3, 3);
        using var y = tensor(new long[] { 0, 1, 2 });
        // Label 2 ignored; (1·-ln 0.7 + 2·-ln 0.8) / 2 valid terms = 0.4014807.
        Assert.Equal(0.4014807, new SparseCategoricalCrossentropy(ignoreLabel: 2, classWeights: [1, 2, 0.5f]).Call(y, p), 5);
        // No ignore, no weights: (-ln .7 - ln .8 - ln .4)/3 = 0.4987031.
        Assert.Equal(0.4987031, new SparseCategoricalCrossentropy().Call(y, p), 5);
    }

    [Fact]
    public void SparseCategoricalOnImagesUsesTheChannelAxis()
    {
        // One 1x2 image, 2 classes (NHWC): pixel 0 probs (0.25, 0.75) label 1, pixel 1 (0.6, 0.4) label 0.
        using var p = T.F([0.25f, 0.75f, 0.6f, 0.4f], 1, 1, 2, 2);
        using var y = tensor(new long[] { 1, 0 }).reshape(1, 1, 2);
        Assert.Equal((-Math.Log(0.75) - Math.Log(0.6)) / 2, new SparseCategoricalCrossentropy().Call(y, p), 5);
    }

    [Fact]
    public void CategoricalCrossentropyAndMse()
    {
        using var y = T.F([0, 1, 1, 0], 2, 2);
        using var p = T.F([0.4f, 0.6f, 0.9f, 0.1f], 2, 2);
        Assert.Equal((-Math.Log(0.6) - Math.Log(0.9)) / 2, new CategoricalCrossentropy().Call(y, p), 5);
        // (0.16 + 0.16 + 0.01 + 0.01)/4 = 0.085
        Assert.Equal(0.085, new MeanSquaredError().Call(y, p), 6);
    }
}
