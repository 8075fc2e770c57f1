using TorchSharp;
using static TorchSharp.torch;

namespace TfPose.Keras.Tests;

internal static class T
{
    public static Tensor F(float[] data, params long[] shape) => tensor(data).reshape(shape);

    public static float[] Values(Tensor t) => t.detach().cpu().contiguous().data<float>().ToArray();

    public static void Close(double[] expected, float[] actual, double tol = 1e-5)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol, $"[{i}] expected {expected[i]}, got {actual[i]}");
    }

    /// <summary>A one-weight-vector model: Dense(1, no bias) on 2 inputs with kernel [[w0], [w1]].</summary>
    public static Sequential Linear(float w0, float w1, Regularizer? reg = null)
    {
        var m = new Sequential([new Dense(1, useBias: false, kernelRegularizer: reg, inputShape: [2])], seed: 1);
        m.Layers[0].SetWeights([F([w0, w1], 2, 1)]);
        return m;
    }
}
