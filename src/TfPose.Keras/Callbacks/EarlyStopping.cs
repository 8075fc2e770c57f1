using static TorchSharp.torch;

namespace TfPose.Keras;

/// <summary>
/// Keras' EarlyStopping: stops when <paramref name="monitor"/> has not improved by more than <paramref name="minDelta"/>
/// for <paramref name="patience"/> epochs (counted from <paramref name="startFromEpoch"/>); a <paramref name="baseline"/>
/// must be beaten for the wait to reset; <paramref name="restoreBestWeights"/> puts back the weights of the best epoch at the end.
/// </summary>
public sealed class EarlyStopping(string monitor = "val_loss", double minDelta = 0, int patience = 0, int verbose = 0, string mode = "auto",
    double? baseline = null, bool restoreBestWeights = false, int startFromEpoch = 0) : Callback, IDisposable
{
    private readonly bool _max = Monitor.Maximize(monitor, mode);
    private readonly double _minDelta = Math.Abs(minDelta);
    private int _wait;
    private double _best;
    private Tensor[]? _bestWeights;

    public int StoppedEpoch { get; private set; }
    public int BestEpoch { get; private set; }
    public int Verbose { get; } = verbose;

    public override void OnTrainBegin()
    {
        _wait = 0;
        StoppedEpoch = 0;
        BestEpoch = 0;
        _best = _max ? double.NegativeInfinity : double.PositiveInfinity;
        ReleaseBest();
    }

    private bool IsImprovement(double value, double reference) =>
        _max ? value - _minDelta > reference : value + _minDelta < reference;

    public override void OnEpochEnd(int epoch, Logs logs)
    {
        if (!logs.TryGetValue(monitor, out var current) || epoch < startFromEpoch)
            return;
        if (restoreBestWeights && _bestWeights is null)
        {
            _bestWeights = Snapshot();
            BestEpoch = epoch;
        }
        _wait++;
        if (IsImprovement(current, _best))
        {
            _best = current;
            BestEpoch = epoch;
            if (restoreBestWeights)
            {
                ReleaseBest();
                _bestWeights = Snapshot();
            }
            if (baseline is not { } b || IsImprovement(current, b))
                _wait = 0;
            return;
        }
        if (_wait >= patience && epoch > 0)
        {
            StoppedEpoch = epoch;
            Model.StopTraining = true;
        }
    }

    public override void OnTrainEnd(Logs logs)
    {
        if (StoppedEpoch > 0 && Verbose > 0)
            Model.Logger.LogEarlyStop(StoppedEpoch + 1);
        if (restoreBestWeights && _bestWeights is not null)
        {
            Model.RestoreWeights(_bestWeights);
        }
        ReleaseBest();
    }

    private Tensor[] Snapshot() => Model.SnapshotWeights();

    private void ReleaseBest()
    {
        foreach (var t in _bestWeights ?? [])
            t.Dispose();
        _bestWeights = null;
    }

    public void Dispose() => ReleaseBest();
}
