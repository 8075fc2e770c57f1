using static TorchSharp.torch;

namespace TfPose.Keras.Tests;

/// <summary>
/// A Dense(1) with kernel [1, 2], input [1, 1], target 0, MSE: prediction w0 + w1, loss (w0 + w1)²,
/// gradient 2(w0 + w1) for both weights (6 at the start).
/// </summary>
public class OptimizerTests
{
    private static float[] Step(Optimizer opt, int steps)
    {
        using var model = T.Linear(1, 2);
        model.Compile(opt, "mse");
        using var x = T.F([1, 1], 1, 2);
        using var y = T.F([0], 1, 1);
        for (int i = 0; i < steps; i++)
            model.TrainOnBatch(x, y);
        using var w = model.Layers[0].GetWeights()[0];
        return T.Values(w);
    }

    [Fact]
    public void AdamFirstStepMovesEachWeightByTheLearningRate()
    {
        // t=1: m = 0.1·6 = 0.6, v = 0.001·36 = 0.036, step = 0.1·sqrt(0.001)/0.1 · 0.6/(sqrt(0.036)+1e-7) = 0.09999995.
        T.Close([0.90000005, 1.90000005], Step(new Adam(learningRate: 0.1), 1), 1e-6);
    }

    [Fact]
    public void AdamSecondStepUsesBiasCorrectedMoments()
    {
        // After step 1 w = 0.90000005, 1.90000005, so g = 2·2.8000001 = 5.6000002.
        double g1 = 6, w0 = 1 - 0.1 * Math.Sqrt(1 - 0.999) / (1 - 0.9) * (0.1 * g1) / (Math.Sqrt(0.001 * g1 * g1) + 1e-7);
        double w1 = w0 + 1;
        double g2 = 2 * (w0 + w1);
        double m = 0.9 * 0.1 * g1 + 0.1 * g2, v = 0.999 * 0.001 * g1 * g1 + 0.001 * g2 * g2;
        double step = 0.1 * Math.Sqrt(1 - 0.999 * 0.999) / (1 - 0.9 * 0.9) * m / (Math.Sqrt(v) + 1e-7);
        T.Close([w0 - step, w1 - step], Step(new Adam(learningRate: 0.1), 2), 1e-5);
    }

    [Fact]
    public void RmspropAppliesKerasTimeBasedDecay()
    {
        // Step 1: lr 0.1/(1+0.5·0); a = 0.1·36 = 3.6; w -= 0.1·6/sqrt(3.6) = 0.3162278 -> 0.6837722, 1.6837722.
        // Step 2: g = 2·2.3675445 = 4.7350889; lr 0.1/(1+0.5·1) = 0.0666667; a = 0.9·3.6 + 0.1·g² = 5.4821066;
        //         w -= 0.0666667·4.7350889/2.3413899 = 0.1348201 -> 0.5489521, 1.5489521.
        T.Close([0.6837722, 1.6837722], Step(new RMSprop(learningRate: 0.1, decay: 0.5), 1), 1e-5);
        T.Close([0.5489521, 1.5489521], Step(new RMSprop(learningRate: 0.1, decay: 0.5), 2), 1e-5);
    }

    [Fact]
    public void SgdMomentumAccumulatesVelocity()
    {
        // Step 1: v = -0.01·6 = -0.06 -> w 0.94, 1.94. Step 2: g = 2·2.88 = 5.76, v = 0.9·-0.06 - 0.0576 = -0.1116 -> 0.8284, 1.8284.
        T.Close([0.8284, 1.8284], Step(new SGD(learningRate: 0.01, momentum: 0.9), 2), 1e-5);
    }

    [Fact]
    public void L2RegularizerIsAddedToTheReportedLoss()
    {
        using var model = T.Linear(1, 2, Regularizer.L2(0.01));
        model.Compile(new SGD(0.0), "mse");
        using var x = T.F([0, 0], 1, 2);
        using var y = T.F([0], 1, 1);
        // Data loss 0, penalty 0.01·(1² + 2²) = 0.05.
        Assert.Equal(0.05, model.TrainOnBatch(x, y).Loss, 6);
    }
}
