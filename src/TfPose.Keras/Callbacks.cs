using System.Globalization;

namespace TfPose.Keras;

/// <summary>Named scalar results of a step or epoch ("loss", "accuracy", "val_loss", ...).</summary>
public sealed class Logs : Dictionary<string, double>
{
    public Logs() { }

    public Logs(IDictionary<string, double> values) : base(values) { }

    public double Loss => this["loss"];

    public override string ToString() => string.Join(" - ", this.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key}: {kv.Value:0.0000}")));
}

/// <summary>Per-epoch values of every log, as Keras' History.history, with the epoch indices they belong to.</summary>
public sealed class History
{
    public Dictionary<string, List<double>> Values { get; } = [];

    /// <summary>0-based epoch of each row (a resumed Fit starts past 0).</summary>
    public List<int> Epoch { get; } = [];

    internal void Add(int epoch, Logs logs)
    {
        Epoch.Add(epoch);
        foreach (var (k, v) in logs)
        {
            if (!Values.TryGetValue(k, out var list))
                Values[k] = list = [];
            list.Add(v);
        }
    }

    public IReadOnlyList<double> this[string key] => Values[key];
}

/// <summary>
/// Where a <see cref="Model.Fit(BatchSequence, int, BatchSequence?, IReadOnlyList{Callback}?, int, int, Func{TorchSharp.torch.Tensor, TorchSharp.torch.Tensor?, Logs}?, CancellationToken)"/>
/// run is (Keras' callback <c>params</c> plus the position): what callbacks read and what a resumable checkpoint stores.
/// </summary>
public sealed class FitState
{
    public int Epochs { get; internal set; }
    public int StepsPerEpoch { get; internal set; }

    /// <summary>The epoch (0-based) this call started in: past 0 when it resumed from a backup.</summary>
    public int InitialEpoch { get; internal set; }

    /// <summary>The current epoch (0-based).</summary>
    public int Epoch { get; internal set; }

    /// <summary>Batches of the current epoch done so far.</summary>
    public int Step { get; internal set; }

    /// <summary>Sample-weighted sums of the batch logs of the current epoch; divided by <see cref="Seen"/> they are the running means.</summary>
    public Logs Sums { get; internal set; } = [];

    /// <summary>Samples of the current epoch seen so far.</summary>
    public long Seen { get; internal set; }

    internal Logs Means()
    {
        var m = new Logs();
        foreach (var (k, v) in Sums)
            m[k] = Seen == 0 ? double.NaN : v / Seen;
        return m;
    }
}

/// <summary>
/// Hooks into <c>Fit</c>, with Keras' names: train/epoch/batch begin and end. <see cref="Model"/> and <see cref="State"/>
/// are set before <see cref="OnTrainBegin"/>. Callbacks run in list order and share the epoch's logs, so a callback may
/// add entries (validation metrics, the learning rate) that later callbacks and the history see.
/// </summary>
public abstract class Callback
{
    private Model? _model;
    private FitState? _state;

    public Model Model => _model ?? throw new InvalidOperationException($"{GetType().Name} is used outside Fit.");

    public FitState State => _state ?? throw new InvalidOperationException($"{GetType().Name} is used outside Fit.");

    internal void SetContext(Model model, FitState state)
    {
        _model = model;
        _state = state;
    }

    public virtual void OnTrainBegin() { }
    public virtual void OnTrainEnd(Logs logs) { }
    public virtual void OnEpochBegin(int epoch) { }
    public virtual void OnEpochEnd(int epoch, Logs logs) { }
    public virtual void OnTrainBatchBegin(int batch) { }

    /// <param name="logs">Running means of the epoch so far, as Keras 3 passes them.</param>
    public virtual void OnTrainBatchEnd(int batch, Logs logs) { }
}

/// <summary>A callback from delegates.</summary>
public sealed class LambdaCallback(Action<int, Logs>? onEpochEnd = null, Action<int, Logs>? onTrainBatchEnd = null,
    Action<int>? onEpochBegin = null, Action? onTrainBegin = null, Action<Logs>? onTrainEnd = null) : Callback
{
    public override void OnTrainBegin() => onTrainBegin?.Invoke();
    public override void OnTrainEnd(Logs logs) => onTrainEnd?.Invoke(logs);
    public override void OnEpochBegin(int epoch) => onEpochBegin?.Invoke(epoch);
    public override void OnEpochEnd(int epoch, Logs logs) => onEpochEnd?.Invoke(epoch, logs);
    public override void OnTrainBatchEnd(int batch, Logs logs) => onTrainBatchEnd?.Invoke(batch, logs);
}
