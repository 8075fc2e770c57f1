namespace TfPose.Keras;

/// <summary>Keras' LearningRateScheduler: at each epoch start the learning rate becomes schedule(epoch, current rate); adds "learning_rate" to the epoch logs.</summary>
public sealed class LearningRateScheduler(Func<int, double, double> schedule, int verbose = 0) : Callback
{
    public override void OnEpochBegin(int epoch)
    {
        var opt = Model.Optimizer!;
        var lr = schedule(epoch, opt.LearningRate);
        if (!double.IsFinite(lr))
            throw new InvalidOperationException($"LearningRateScheduler: the schedule returned {lr} for epoch {epoch}.");
        opt.LearningRate = lr;
        if (verbose > 0)
            Model.Logger.LogLearningRate(epoch + 1, lr);
    }

    public override void OnEpochEnd(int epoch, Logs logs) => logs["learning_rate"] = Model.Optimizer!.LearningRate;
}
