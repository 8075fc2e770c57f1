using TfPose.Keras;

namespace TfPose.Plotting;

/// <summary>
/// The plot callback: after each epoch redraws loss/metric curves to <paramref name="filename"/> (PNG, written
/// atomically). With <paramref name="historyCsv"/> (a <see cref="CSVLogger"/>'s file, listed before this callback) it
/// draws every epoch of the run, resumed ones included; otherwise the epochs of this Fit.
/// Kept out of TfPose.Keras so that apps using the Keras API do not carry a charting library.
/// </summary>
public sealed class PlotLogger(string filename, string title = "training", string? historyCsv = null,
    IReadOnlyDictionary<string, string>? labels = null, string? leftLabel = null, string? rightLabel = null, IReadOnlyCollection<string>? series = null) : Callback
{
    private readonly List<IReadOnlyDictionary<string, double>> _rows = [];

    public override void OnTrainBegin() => _rows.Clear();

    public override void OnEpochEnd(int epoch, Logs logs)
    {
        _rows.Add(new Dictionary<string, double>(logs) { ["epoch"] = epoch });
        var rows = historyCsv is not null && File.Exists(historyCsv)
            ? CSVLogger.Read(historyCsv).Select(r => (IReadOnlyDictionary<string, double>)r).ToList()
            : _rows;
        TrainingCurves.SavePng(rows, filename, title, labels, leftLabel, rightLabel, series);
    }
}
