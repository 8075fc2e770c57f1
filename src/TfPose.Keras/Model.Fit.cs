using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using static TorchSharp.torch;

namespace TfPose.Keras;

// The one training loop: Fit over tensors or a BatchSequence, with Keras callbacks. Progress, checkpoints, history
// files and resuming are callbacks, so every trainer built on Fit gets them the same way.
public partial class Model
{
    /// <summary>Set by a callback to stop after the current batch (Keras' <c>model.stop_training</c>).</summary>
    public bool StopTraining { get; set; }

    /// <summary>Where <c>Fit</c> with verbose ≥ 1 logs one line per epoch; nothing by default (libraries do not write to the console).</summary>
    public ILogger Logger { get; set; } = NullLogger.Instance;

    private (int Epoch, int Step, Logs Sums, long Seen)? _pendingResume;

    /// <summary>The generator of this model's dropout masks (seeded from <see cref="Seed"/>); checkpoints store its state.</summary>
    public Generator DropoutGenerator => Generator;

    /// <summary>
    /// Trains for a number of epochs, as Keras' fit: shuffling each epoch (an order drawn from the model's seed and the
    /// epoch, so a resumed run repeats it), validation at each epoch end as "val_" logs, and callbacks.
    /// </summary>
    public History Fit(Tensor x, Tensor y, int batchSize = 32, int epochs = 1, (Tensor X, Tensor Y)? validationData = null,
        bool shuffle = true, IReadOnlyList<Callback>? callbacks = null, int verbose = 1, int initialEpoch = 0, CancellationToken cancellationToken = default)
    {
        if (y.shape[0] != x.shape[0])
            throw new ArgumentException($"Fit: x has {x.shape[0]} samples but y has {y.shape[0]}.");
        var val = validationData is { } v ? BatchSequence.FromTensors(v.X, v.Y, batchSize) : null;
        return Fit(BatchSequence.FromTensors(x, y, batchSize, shuffle, Seed), epochs, val, callbacks, verbose, initialEpoch, null, cancellationToken);
    }

    /// <summary>
    /// Trains on batches drawn from <paramref name="data"/>. <paramref name="trainStep"/> replaces <see cref="TrainStep"/>
    /// for this call (a guarded or otherwise custom step, as overriding Keras' <c>train_step</c>).
    /// </summary>
    /// <param name="initialEpoch">Epoch to start at (0-based), as Keras' initial_epoch; a <see cref="BackupAndRestore"/> backup overrides it.</param>
    public History Fit(BatchSequence data, int epochs = 1, BatchSequence? validationData = null, IReadOnlyList<Callback>? callbacks = null,
        int verbose = 1, int initialEpoch = 0, Func<Tensor, Tensor?, Logs>? trainStep = null, CancellationToken cancellationToken = default)
    {
        RequireCompiled("Fit");
        callbacks ??= [];
        trainStep ??= TrainStep;
        var history = new History();
        var state = new FitState { Epochs = epochs, StepsPerEpoch = data.Count, InitialEpoch = initialEpoch };
        foreach (var c in callbacks)
            c.SetContext(this, state);
        StopTraining = false;
        _pendingResume = null;
        // Restoring comes first, whatever the list order, so every other callback starts from the resumed position.
        foreach (var c in callbacks.OfType<BackupAndRestore>())
            c.OnTrainBegin();
        int startStep = 0;
        Logs startSums = [];
        long startSeen = 0;
        if (_pendingResume is { } r)
        {
            state.InitialEpoch = r.Epoch;
            (startStep, startSums, startSeen) = (r.Step, r.Sums, r.Seen);
            _pendingResume = null;
        }
        foreach (var c in callbacks.Where(c => c is not BackupAndRestore))
            c.OnTrainBegin();
        var epochLogs = new Logs();
        for (int epoch = state.InitialEpoch; epoch < epochs && !StopTraining; epoch++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            state.Epoch = epoch;
            bool resumed = epoch == state.InitialEpoch && startStep > 0;
            state.Step = resumed ? startStep : 0;
            state.Sums = resumed ? new Logs(startSums) : [];
            state.Seen = resumed ? startSeen : 0;
            foreach (var c in callbacks) c.OnEpochBegin(epoch);
            for (int s = state.Step; s < state.StepsPerEpoch; s++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                foreach (var c in callbacks) c.OnTrainBatchBegin(s);
                var (xb, yb) = data.GetBatch(epoch, s);
                Logs logs;
                long count;
                using (xb)
                using (yb)
                {
                    count = xb.shape[0];
                    logs = trainStep(xb, yb);
                }
                foreach (var (k, val) in logs)
                    state.Sums[k] = state.Sums.GetValueOrDefault(k) + val * count;
                state.Seen += count;
                state.Step = s + 1;
                var running = state.Means();
                foreach (var c in callbacks) c.OnTrainBatchEnd(s, running);
                if (StopTraining)
                    break;
            }
            epochLogs = state.Means();
            if (validationData is not null)
                foreach (var (k, val) in Evaluate(validationData))
                    epochLogs["val_" + k] = val;
            foreach (var c in callbacks) c.OnEpochEnd(epoch, epochLogs);
            history.Add(epoch, epochLogs);
            if (verbose > 0)
                Logger.LogInformation("Epoch {Epoch}/{Epochs} - {Logs}", epoch + 1, epochs, epochLogs.ToString());
        }
        foreach (var c in callbacks) c.OnTrainEnd(epochLogs);
        return history;
    }

    /// <summary>One training step of <c>Fit</c>: <see cref="TrainOnBatch"/> unless a subclass trains differently (a GAN's two models).</summary>
    protected virtual Logs TrainStep(Tensor x, Tensor? y) =>
        TrainOnBatch(x, y ?? throw new ArgumentException($"Model '{Name}': Fit needs targets (y) for every batch."));

    /// <summary>Mean loss and metrics over the batches of <paramref name="data"/>, weighted by batch size.</summary>
    public Logs Evaluate(BatchSequence data)
    {
        RequireCompiled("Evaluate");
        var sums = new Logs();
        long n = 0;
        for (int i = 0; i < data.Count; i++)
        {
            var (xb, yb) = data.GetBatch(0, i);
            using (xb)
            using (yb)
            {
                long count = xb.shape[0];
                foreach (var (k, v) in TestOnBatch(xb, yb ?? throw new ArgumentException($"Model '{Name}': Evaluate needs targets (y) for every batch.")))
                    sums[k] = sums.GetValueOrDefault(k) + v * count;
                n += count;
            }
        }
        var result = new Logs();
        foreach (var (k, v) in sums)
            result[k] = v / n;
        return result;
    }

    internal void ResumeAt(int epoch, int step, Logs sums, long seen) => _pendingResume = (epoch, step, sums, seen);

    /// <summary>
    /// Writes what resuming needs to <paramref name="path"/>: weights, optimizer state and the dropout generator's state,
    /// with <paramref name="metadata"/> (the fit position). Models that train more than themselves (a GAN) extend it.
    /// </summary>
    public virtual void SaveTrainingState(string path, IReadOnlyDictionary<string, string> metadata)
    {
        var meta = new Dictionary<string, string>(metadata) { ["rng.dropout"] = GeneratorState(Generator) };
        SaveWeights(path, includeOptimizer: true, metadata: meta);
    }

    /// <summary>Restores what <see cref="SaveTrainingState"/> wrote; returns its metadata.</summary>
    public virtual IReadOnlyDictionary<string, string> LoadTrainingState(string path)
    {
        var meta = LoadWeights(path);
        if (meta.TryGetValue("rng.dropout", out var s))
            SetGeneratorState(Generator, s, path);
        return meta;
    }

    /// <summary>A torch generator's state as text for a checkpoint's metadata.</summary>
    public static string GeneratorState(Generator g)
    {
        using var t = g.get_state();
        return Convert.ToBase64String(t.data<byte>().ToArray());
    }

    public static void SetGeneratorState(Generator g, string state, string path)
    {
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(state);
        }
        catch (FormatException)
        {
            throw new InvalidDataException($"{path}: the random generator state in the metadata is not base64.");
        }
        using var t = tensor(bytes);
        g.set_state(t);
    }

    internal static string Invariant(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
