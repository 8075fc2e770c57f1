namespace TfPose.Keras;

/// <summary>
/// Keras' ReduceLROnPlateau: after <c>patience</c> epochs without an improvement of <c>monitor</c>
/// by more than <c>minDelta</c>, multiplies the optimizer's learning rate by <c>factor</c> (not
/// below <c>minLr</c>) and waits <c>cooldown</c> epochs before counting again. Adds "learning_rate" to the epoch logs.
/// </summary>
public sealed class ReduceLROnPlateau : Callback
{
    private readonly string _monitor;
    private readonly bool _max;
    private int _wait, _cooldownCounter;
    private double _best;

    public ReduceLROnPlateau(string monitor = "val_loss", double factor = 0.1, int patience = 10, int verbose = 0, string mode = "auto",
        double minDelta = 1e-4, int cooldown = 0, double minLr = 0)
    {
        if (factor >= 1.0)
            throw new ArgumentException($"ReduceLROnPlateau does not support a factor >= 1.0, got {factor}.");
        _monitor = monitor;
        // Keras' auto here looks for "acc" only.
        _max = mode == "auto" ? monitor.Contains("acc", StringComparison.Ordinal) : Monitor.Maximize(monitor, mode);
        Factor = factor;
        Patience = patience;
        Verbose = verbose;
        MinDelta = minDelta;
        Cooldown = cooldown;
        MinLr = minLr;
    }

    public double Factor { get; }
    public int Patience { get; }
    public int Verbose { get; }
    public double MinDelta { get; }
    public int Cooldown { get; }
    public double MinLr { get; }

    public override void OnTrainBegin()
    {
        _wait = 0;
        _cooldownCounter = 0;
        _best = _max ? double.NegativeInfinity : double.PositiveInfinity;
    }

    private bool Better(double a, double b) => _max ? a > b + MinDelta : a < b - MinDelta;

    public override void OnEpochEnd(int epoch, Logs logs)
    {
        var opt = Model.Optimizer!;
        logs["learning_rate"] = opt.LearningRate;
        if (!logs.TryGetValue(_monitor, out var current))
            return;
        if (_cooldownCounter > 0)
        {
            _cooldownCounter--;
            _wait = 0;
        }
        if (Better(current, _best))
        {
            _best = current;
            _wait = 0;
        }
        else if (_cooldownCounter == 0)
        {
            _wait++;
            if (_wait >= Patience && opt.LearningRate > (float)MinLr)
            {
                var lr = Math.Max(opt.LearningRate * Factor, MinLr);
                opt.LearningRate = lr;
                if (Verbose > 0)
                    Model.Logger.LogLearningRate(epoch + 1, lr);
                _cooldownCounter = Cooldown;
                _wait = 0;
            }
        }
    }
}
