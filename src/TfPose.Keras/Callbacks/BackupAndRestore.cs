using System.Diagnostics;
using System.Globalization;

namespace TfPose.Keras;

/// <summary>
/// Keras' BackupAndRestore: saves the training state (weights, optimizer state and iteration count, the dropout
/// generator, the position in the run and the epoch's running sums) to <c>backupDir/fileName</c> at each epoch end, or
/// every <paramref name="saveFreq"/> batches when it is a number, and every <paramref name="saveEvery"/> of wall time
/// when given (a TfPose addition for long epochs). A later <c>Fit</c> with the same callback restores it and continues
/// from that batch with the same batches, so an interrupted run ends where an uninterrupted one would.
/// <paramref name="deleteCheckpoint"/> removes the backup when training completes (Keras' default); keep it to extend a
/// finished run with more epochs.
/// </summary>
public sealed class BackupAndRestore(string backupDir, string saveFreq = "epoch", bool deleteCheckpoint = true,
    TimeSpan? saveEvery = null, string fileName = "backup.safetensors") : Callback
{
    private readonly int? _everyBatches = saveFreq == "epoch" ? null
        : int.TryParse(saveFreq, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n
        : throw new ArgumentException($"saveFreq must be \"epoch\" or a positive number of batches, not '{saveFreq}'.");
    private readonly Stopwatch _sinceSave = new();
    private int _batchesSinceSave;

    public string Path { get; } = System.IO.Path.Combine(backupDir, fileName);

    /// <summary>Whether the last Fit started from a backup.</summary>
    public bool Restored { get; private set; }

    public override void OnTrainBegin()
    {
        Restored = false;
        _batchesSinceSave = 0;
        _sinceSave.Restart();
        if (!File.Exists(Path))
            return;
        var meta = Model.LoadTrainingState(Path);
        int epoch = Int(meta, "fit.epoch"), step = Int(meta, "fit.step");
        long seen = long.Parse(meta.GetValueOrDefault("fit.seen", "0"), CultureInfo.InvariantCulture);
        var sums = new Logs();
        foreach (var (k, v) in meta)
            if (k.StartsWith("fit.sum.", StringComparison.Ordinal))
                sums[k["fit.sum.".Length..]] = double.Parse(v, CultureInfo.InvariantCulture);
        Model.ResumeAt(epoch, step, sums, seen);
        Restored = true;
        Model.Logger.LogResume(Path, epoch + 1, step);
    }

    private int Int(IReadOnlyDictionary<string, string> meta, string key) =>
        meta.TryGetValue(key, out var s) && int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v
            : throw new InvalidDataException($"{Path}: not a training backup (metadata '{key}' missing or not a number); delete it to start over.");

    public override void OnTrainBatchEnd(int batch, Logs logs)
    {
        bool last = batch + 1 >= State.StepsPerEpoch; // the epoch-end backup follows
        bool byCount = _everyBatches is { } every && ++_batchesSinceSave >= every;
        bool byTime = saveEvery is { } t && _sinceSave.Elapsed >= t;
        if ((byCount || byTime) && !last)
            Save(State.Epoch, batch + 1, State.Sums, State.Seen);
    }

    public override void OnEpochEnd(int epoch, Logs logs) => Save(epoch + 1, 0, [], 0);

    public override void OnTrainEnd(Logs logs)
    {
        if (deleteCheckpoint && !Model.StopTraining && File.Exists(Path))
            File.Delete(Path);
    }

    private void Save(int epoch, int step, Logs sums, long seen)
    {
        var meta = new Dictionary<string, string>
        {
            ["fit.epoch"] = epoch.ToString(CultureInfo.InvariantCulture),
            ["fit.step"] = step.ToString(CultureInfo.InvariantCulture),
            ["fit.seen"] = seen.ToString(CultureInfo.InvariantCulture),
        };
        foreach (var (k, v) in sums)
            meta["fit.sum." + k] = Model.Invariant(v);
        Model.SaveTrainingState(Path, meta);
        _batchesSinceSave = 0;
        _sinceSave.Restart();
    }
}
