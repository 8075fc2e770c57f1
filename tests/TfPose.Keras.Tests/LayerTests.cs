using static TorchSharp.torch;

namespace TfPose.Keras.Tests;

public class LayerTests
{
    private static Tensor RunInternal(Model m, Tensor kerasInput, bool training)
    {
        var outs = m.Run([Layout.ToInternal(kerasInput)], new CallContext(training, m.Generator, null));
        return Layout.ToKeras(outs[0]);
    }

    [Fact]
    public void DropoutZeroesAndRescalesInTrainingOnlyAndIsSeeded()
    {
        using var m = new Sequential([new InputLayer([1000]), new Dropout(0.3)], seed: 7);
        using var x = ones(20, 1000);
        using var inference = RunInternal(m, x, training: false);
        Assert.True(inference.equal(x).all().item<bool>());

        using var train = RunInternal(m, x, training: true);
        var v = T.Values(train);
        double zeroFraction = v.Count(a => a == 0) / (double)v.Length;
        Assert.InRange(zeroFraction, 0.28, 0.32);
        // Kept units are scaled by 1/(1-0.3).
        Assert.All(v.Where(a => a != 0), a => Assert.Equal(1 / 0.7, a, 5));

        using var m2 = new Sequential([new InputLayer([1000]), new Dropout(0.3)], seed: 7);
        using var again = RunInternal(m2, x, training: true);
        Assert.True(train.equal(again).all().item<bool>());
    }

    [Fact]
    public void BatchNormTrainingUsesBatchStatisticsAndMovesTheAverages()
    {
        using var m = new Sequential([new InputLayer([2]), new BatchNormalization()], seed: 1);
        m.Compile(new SGD(0.0), "mse");
        // Column 0: 1,2,3,4 (mean 2.5, biased var 1.25); column 1: 0,0,2,2 (mean 1, var 1).
        using var x = T.F([1, 0, 2, 0, 3, 2, 4, 2], 4, 2);
        using var train = RunInternal(m, x, training: true);
        double s0 = Math.Sqrt(1.25 + 1e-3), s1 = Math.Sqrt(1 + 1e-3);
        T.Close([-1.5 / s0, -1 / s1, -0.5 / s0, -1 / s1, 0.5 / s0, 1 / s1, 1.5 / s0, 1 / s1], T.Values(train));

        var bn = (BatchNormalization)m.Layers[0];
        // moving = 0.99·initial + 0.01·batch: mean 0.025, 0.01; variance 0.99 + 0.0125 = 1.0025, 1.0.
        T.Close([0.025, 0.01], T.Values(bn.MovingMean.Value));
        T.Close([1.0025, 1.0], T.Values(bn.MovingVariance.Value));

        using var infer = RunInternal(m, x, training: false);
        double i0 = Math.Sqrt(1.0025 + 1e-3), i1 = Math.Sqrt(1.0 + 1e-3);
        T.Close([(1 - 0.025) / i0, (0 - 0.01) / i1, (2 - 0.025) / i0, (0 - 0.01) / i1], T.Values(infer)[..4]);
    }

    [Fact]
    public void BatchNormOnImagesNormalisesPerChannel()
    {
        using var m = new Sequential([new InputLayer([1, 2, 2]), new BatchNormalization(epsilon: 0)], seed: 1);
        // NHWC: channel 0 = 1, 3 ; channel 1 = 10, 30 -> both normalise to -1, +1.
        using var x = T.F([1, 10, 3, 30], 1, 1, 2, 2);
        using var y = RunInternal(m, x, training: true);
        T.Close([-1, -1, 1, 1], T.Values(y), 1e-4);
    }

    [Fact]
    public void Conv2DSamePaddingWithStrideTwoPadsBottomRightLikeTensorFlow()
    {
        using var m = new Sequential([new Conv2D(1, 2, strides: 2, padding: "same", useBias: false, inputShape: [3, 3, 1])], seed: 1);
        m.Layers[0].SetWeights([ones(2, 2, 1, 1)]);
        using var x = arange(1, 10, ScalarType.Float32).reshape(1, 3, 3, 1);
        using var y = m.PredictOnBatch(x);
        Assert.Equal(new long[] { 1, 2, 2, 1 }, y.shape);
        // Windows: [1 2;4 5]=12, [3;6]=9, [7 8]=15, [9]=9 (padding only after).
        T.Close([12, 9, 15, 9], T.Values(y));
    }

    [Fact]
    public void Conv2DTransposeSameDoublesTheSize()
    {
        using var m = new Sequential([new InputLayer([2, 2, 1]), new Conv2DTranspose(1, 3, strides: 2, padding: "same", useBias: false)], seed: 1);
        m.Layers[0].SetWeights([ones(3, 3, 1, 1)]);
        using var x = T.F([1, 2, 3, 4], 1, 2, 2, 1);
        using var y = m.PredictOnBatch(x);
        Assert.Equal(new long[] { 1, 4, 4, 1 }, y.shape);
        // Full 5x5 output cropped by (k-s)=1: floor half (0) before, 1 after -> rows/cols 0..3 of the full output.
        // Full[0][0] = 1 (only input (0,0) covers it); full[1][1] = 1; full[2][2] = 1+2+3+4 = 10.
        var v = T.Values(y);
        Assert.Equal(1, v[0], 5);
        Assert.Equal(1, v[5], 5);
        Assert.Equal(10, v[10], 5);
    }

    [Fact]
    public void FlattenKeepsChannelsLastOrder()
    {
        using var m = new Sequential([new InputLayer([2, 2, 2]), new Flatten()], seed: 1);
        using var x = arange(0, 8, ScalarType.Float32).reshape(1, 2, 2, 2);
        using var y = m.PredictOnBatch(x);
        T.Close([0, 1, 2, 3, 4, 5, 6, 7], T.Values(y));
    }

    [Fact]
    public void PoolingUpsamplingPaddingCroppingConcatenate()
    {
        var input = Keras.Input([2, 2, 1]);
        var pooled = new MaxPooling2D().Call(input);                      // 1x1: max 4
        var up = new UpSampling2D().Call(pooled);                         // 2x2 of 4
        var both = new Concatenate().Call(input, up);                     // 2x2x2
        var padded = new ZeroPadding2D(1).Call(both);                     // 4x4x2
        var cropped = new Cropping2D([1, 1, 1, 1]).Call(padded);          // back to 2x2x2
        var avg = new AveragePooling2D().Call(cropped);                   // 1x1x2: mean 2.5, 4
        using var m = new Model(input, avg, seed: 1);
        using var x = T.F([1, 2, 3, 4], 1, 2, 2, 1);
        using var y = m.PredictOnBatch(x);
        T.Close([2.5, 4], T.Values(y));
    }

    [Fact]
    public void SameSeedGivesSameWeightsDifferentSeedDifferent()
    {
        static float[] W(int seed)
        {
            using var m = new Sequential([new Dense(4, inputShape: [3]), new Dense(2)], seed: seed);
            using var k = m.Layers[0].GetWeights()[0];
            return T.Values(k);
        }
        Assert.Equal(W(5), W(5));
        Assert.NotEqual(W(5), W(6));
        // glorot_uniform limit sqrt(6/(3+4)) = 0.9258.
        Assert.All(W(5), v => Assert.InRange(v, -0.9259f, 0.9259f));
    }
}
