namespace TfPose.Keras;

/// <summary>Keras' "mode" of a monitored quantity: min, max, or auto (max for accuracies, AUC and IoU, min otherwise).</summary>
internal static class Monitor
{
    public static bool Maximize(string monitor, string mode) => mode switch
    {
        "min" => false,
        "max" => true,
        "auto" => monitor.Contains("acc", StringComparison.Ordinal) || monitor.EndsWith("auc", StringComparison.Ordinal)
            || monitor.Contains("iou", StringComparison.Ordinal) || monitor.StartsWith("fmeasure", StringComparison.Ordinal),
        _ => throw new ArgumentException($"mode must be auto, min or max, not '{mode}'."),
    };
}
