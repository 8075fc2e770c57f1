
namespace TfPose.Plotting;

/// <summary>
/// Loss and metric curves per epoch as a PNG, the one place TfPose draws charts. Series whose name contains "loss" go
/// on the right axis (dashed) when there are other series, whose 0–1 scale they do not share; "epoch", "seconds" and
/// "learning_rate" are not drawn.
/// </summary>
public static class TrainingCurves
{
    private static readonly HashSet<string> NotPlotted = ["epoch", "seconds", "learning_rate"];

    /// <param name="rows">One dictionary per epoch with a 0-based "epoch" entry, as <see cref="TfPose.Keras.CSVLogger.Read"/> returns.</param>
    /// <param name="labels">Legend text per series name (the name itself otherwise).</param>
    /// <param name="series">The series to draw (all but epoch, seconds and learning_rate by default).</param>
    /// <param name="leftLabel">Label of the left axis (metrics, or the losses when there are only losses).</param>
    public static void SavePng(IReadOnlyList<IReadOnlyDictionary<string, double>> rows, string path, string title,
        IReadOnlyDictionary<string, string>? labels = null, string? leftLabel = null, string? rightLabel = null, IReadOnlyCollection<string>? series = null,
        int width = 1000, int height = 600)
    {
        var plt = new ScottPlot.Plot();
        var keys = rows.SelectMany(r => r.Keys).Distinct().Where(k => series?.Contains(k) ?? !NotPlotted.Contains(k)).ToList();
        bool split = keys.Any(k => !IsLoss(k)) && keys.Any(IsLoss);
        double[] epochs = rows.Select((r, i) => r.TryGetValue("epoch", out var e) ? e + 1 : i + 1).ToArray();
        foreach (var k in keys.OrderBy(IsLoss))
        {
            var ys = rows.Select(r => r.TryGetValue(k, out var v) ? v : double.NaN).ToArray();
            var s = plt.Add.Scatter(epochs, ys);
            s.LegendText = labels?.GetValueOrDefault(k) ?? k;
            if (split && IsLoss(k))
            {
                s.LinePattern = ScottPlot.LinePattern.Dashed;
                s.Axes.YAxis = plt.Axes.Right;
            }
        }
        if (split)
        {
            if (rows.All(r => r.Where(kv => keys.Contains(kv.Key) && !IsLoss(kv.Key)).All(kv => double.IsNaN(kv.Value) || kv.Value is >= 0 and <= 1)))
                plt.Axes.SetLimitsY(0, 1, plt.Axes.Left);
            if (rightLabel is not null)
                plt.Axes.Right.Label.Text = rightLabel;
        }
        if (leftLabel is not null)
            plt.Axes.Left.Label.Text = leftLabel;
        plt.XLabel("epoch");
        plt.Title(title);
        plt.ShowLegend(split ? ScottPlot.Alignment.LowerLeft : ScottPlot.Alignment.UpperRight);
        var png = plt.GetImageBytes(width, height, ScottPlot.ImageFormat.Png);
        TfPose.IO.AtomicFile.Write(path, s => s.Write(png));
    }

    private static bool IsLoss(string key) => key.Contains("loss", StringComparison.Ordinal);

}
