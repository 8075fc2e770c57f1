namespace TfPose.Keras;

/// <summary>Where a run is, for a progress display: reported after every batch and at each epoch end.</summary>
/// <param name="Epoch">0-based epoch.</param>
/// <param name="Step">Batches of the epoch done.</param>
/// <param name="Logs">Running means of the epoch (batch reports) or the epoch's logs with validation (epoch-end reports).</param>
public sealed record FitProgress(int Epoch, int Epochs, int Step, int Steps, Logs Logs, bool EpochEnd, TimeSpan Elapsed)
{
    /// <summary>Batches done in this Fit call (a resumed run counts from where it resumed).</summary>
    public long StepsDone { get; init; }

    /// <summary>Batches this Fit call still has to run.</summary>
    public long StepsLeft { get; init; }
}

/// <summary>
/// The progress callback (Keras' ProgbarLogger without the drawing): reports every batch and epoch end to an
/// <see cref="IProgress{T}"/>, so a command-line front end renders a bar and a library stays silent.
/// </summary>
public sealed class ProgressCallback(IProgress<FitProgress> progress) : Callback
{
    private readonly System.Diagnostics.Stopwatch _clock = new();
    private long _done, _total;

    public override void OnTrainBegin()
    {
        _clock.Restart();
        _done = 0;
        _total = 0;
    }

    public override void OnEpochBegin(int epoch)
    {
        if (_total == 0)
            _total = (long)(State.Epochs - epoch) * State.StepsPerEpoch - State.Step;
    }

    public override void OnTrainBatchEnd(int batch, Logs logs)
    {
        _done++;
        progress.Report(new FitProgress(State.Epoch, State.Epochs, batch + 1, State.StepsPerEpoch, logs, false, _clock.Elapsed)
            { StepsDone = _done, StepsLeft = Math.Max(0, _total - _done) });
    }

    public override void OnEpochEnd(int epoch, Logs logs) =>
        progress.Report(new FitProgress(epoch, State.Epochs, State.StepsPerEpoch, State.StepsPerEpoch, logs, true, _clock.Elapsed)
            { StepsDone = _done, StepsLeft = Math.Max(0, _total - _done) });
}
