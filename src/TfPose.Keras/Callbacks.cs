namespace TfPose.Keras;

/// <summary>Named scalar results of a step or epoch ("loss", "accuracy", "val_loss", ...).</summary>
public sealed class Logs : Dictionary<string, double>
{
    public double Loss => this["loss"];

    public override string ToString() => string.Join(" - ", this.Select(kv => $"{kv.Key}: {kv.Value:0.0000}"));
}

/// <summary>Per-epoch values of every log, as Keras' History.history.</summary>
public sealed class History
{
    public Dictionary<string, List<double>> Values { get; } = [];

    internal void Add(Logs logs)
    {
        foreach (var (k, v) in logs)
        {
            if (!Values.TryGetValue(k, out var list))
                Values[k] = list = [];
            list.Add(v);
        }
    }

    public IReadOnlyList<double> this[string key] => Values[key];
}

/// <summary>Hooks into <see cref="Model.Fit"/>, as Keras callbacks.</summary>
public abstract class Callback
{
    public virtual void OnTrainBegin(Model model) { }
    public virtual void OnEpochBegin(int epoch, Model model) { }
    public virtual void OnBatchEnd(int batch, Logs logs) { }
    public virtual void OnEpochEnd(int epoch, Logs logs, Model model) { }
    public virtual void OnTrainEnd(Model model) { }

    /// <summary>Set to stop training after the current epoch (EarlyStopping style).</summary>
    public bool StopTraining { get; protected set; }
}

/// <summary>A callback from delegates.</summary>
public sealed class LambdaCallback(Action<int, Logs, Model>? onEpochEnd = null, Action<int, Logs>? onBatchEnd = null) : Callback
{
    public override void OnEpochEnd(int epoch, Logs logs, Model model) => onEpochEnd?.Invoke(epoch, logs, model);
    public override void OnBatchEnd(int batch, Logs logs) => onBatchEnd?.Invoke(batch, logs);
}
