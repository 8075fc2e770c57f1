using System.Globalization;
using System.Text.RegularExpressions;

namespace TfPose.Keras;

/// <summary>
/// Keras' ModelCheckpoint: saves the model (a <see cref="Model.Save"/> folder) or only its weights
/// (<paramref name="saveWeightsOnly"/>, a safetensors file) at each epoch end, or every <paramref name="saveFreq"/>
/// batches when it is a number. <paramref name="filepath"/> may name the epoch (1-based, as Keras) and any log,
/// e.g. "weights.{epoch:02d}-{val_loss:.2f}.safetensors". With <paramref name="saveBestOnly"/> a save happens only when
/// <paramref name="monitor"/> improves (by <paramref name="mode"/>) on the best so far, or on <paramref name="initialValueThreshold"/>.
/// </summary>
public sealed partial class ModelCheckpoint(string filepath, string monitor = "val_loss", int verbose = 0, bool saveBestOnly = false,
    bool saveWeightsOnly = false, string mode = "auto", string saveFreq = "epoch", double? initialValueThreshold = null) : Callback
{
    private readonly bool _max = Monitor.Maximize(monitor, mode);
    private readonly int? _everyBatches = saveFreq == "epoch" ? null
        : int.TryParse(saveFreq, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n
        : throw new ArgumentException($"saveFreq must be \"epoch\" or a positive number of batches, not '{saveFreq}'.");
    private int _batchesSinceSave;

    /// <summary>The best monitored value so far.</summary>
    public double Best { get; private set; }

    /// <summary>Extra metadata written into weight files (e.g. which epoch), beside "epoch" and the monitored value.</summary>
    public Func<int, Logs, IReadOnlyDictionary<string, string>>? Metadata { get; init; }

    public override void OnTrainBegin()
    {
        Best = initialValueThreshold ?? (_max ? double.NegativeInfinity : double.PositiveInfinity);
        _batchesSinceSave = 0;
    }

    public override void OnTrainBatchEnd(int batch, Logs logs)
    {
        if (_everyBatches is not { } every || ++_batchesSinceSave < every)
            return;
        _batchesSinceSave = 0;
        Save(State.Epoch, logs);
    }

    public override void OnEpochEnd(int epoch, Logs logs)
    {
        if (_everyBatches is null)
            Save(epoch, logs);
    }

    private void Save(int epoch, Logs logs)
    {
        var path = FormatPath(filepath, epoch, logs);
        if (saveBestOnly)
        {
            if (!logs.TryGetValue(monitor, out var current))
                return;
            if (!(_max ? current > Best : current < Best))
                return;
            if (verbose > 0)
                Model.Logger.LogCheckpoint(epoch + 1, monitor, Best, current, path);
            Best = current;
        }
        if (saveWeightsOnly)
        {
            var meta = new Dictionary<string, string> { ["epoch"] = (epoch + 1).ToString(CultureInfo.InvariantCulture) };
            if (logs.TryGetValue(monitor, out var m))
                meta[monitor] = Model.Invariant(m);
            foreach (var (k, v) in Metadata?.Invoke(epoch, logs) ?? new Dictionary<string, string>())
                meta[k] = v;
            Model.SaveWeights(path, metadata: meta);
        }
        else
        {
            Model.Save(path);
        }
    }

    /// <summary>Python-style fields as Keras formats them: {epoch}, {epoch:02d}, {val_loss:.2f}; epoch is 1-based.</summary>
    internal static string FormatPath(string template, int epoch, Logs logs) => Field().Replace(template, m =>
    {
        var name = m.Groups["name"].Value;
        double value = name == "epoch" ? epoch + 1 : logs.TryGetValue(name, out var v) ? v
            : throw new KeyError($"ModelCheckpoint: '{template}' names '{name}', which is not in the logs ({string.Join(", ", logs.Keys)}).");
        var spec = m.Groups["spec"].Value;
        if (spec.Length == 0)
            return name == "epoch" ? ((int)value).ToString(CultureInfo.InvariantCulture) : value.ToString(CultureInfo.InvariantCulture);
        var f = SpecPattern().Match(spec);
        if (!f.Success)
            throw new KeyError($"ModelCheckpoint: unsupported format '{spec}' in '{template}' (use d, 02d, .2f, .4e).");
        int width = f.Groups["w"].Success ? int.Parse(f.Groups["w"].Value, CultureInfo.InvariantCulture) : 0;
        int prec = f.Groups["p"].Success ? int.Parse(f.Groups["p"].Value, CultureInfo.InvariantCulture) : 6;
        return f.Groups["t"].Value switch
        {
            "d" => ((long)value).ToString("D" + width, CultureInfo.InvariantCulture),
            "e" => value.ToString("0." + new string('0', prec) + "e+00", CultureInfo.InvariantCulture),
            _ => value.ToString("F" + prec, CultureInfo.InvariantCulture),
        };
    });

    [GeneratedRegex(@"\{(?<name>[A-Za-z_][A-Za-z0-9_]*)(:(?<spec>[^}]*))?\}")]
    private static partial Regex Field();

    [GeneratedRegex(@"^0?(?<w>\d+)?(\.(?<p>\d+))?(?<t>[dfe])$")]
    private static partial Regex SpecPattern();

    private sealed class KeyError(string message) : ArgumentException(message);
}
