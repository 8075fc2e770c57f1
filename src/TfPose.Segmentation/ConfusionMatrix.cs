using static TorchSharp.torch;

namespace TfPose.Segmentation;

/// <summary>
/// Pixel confusion matrix (rows: true class, columns: predicted class) with the metrics of the CamVid
/// literature. Pixels whose true label is <see cref="IgnoreLabel"/> (CamVid void) never enter it.
/// </summary>
public sealed class ConfusionMatrix
{
    private readonly long[] _counts;

    public ConfusionMatrix(int classes, int? ignoreLabel = null)
    {
        if (classes < 1)
            throw new ArgumentOutOfRangeException(nameof(classes));
        Classes = classes;
        IgnoreLabel = ignoreLabel;
        _counts = new long[classes * classes];
    }

    public int Classes { get; }
    public int? IgnoreLabel { get; }

    /// <summary>Pixels of true class <paramref name="truth"/> predicted as <paramref name="predicted"/>.</summary>
    public long this[int truth, int predicted] => _counts[truth * Classes + predicted];

    public long Total => _counts.Sum();

    /// <summary>Adds labelled pixels; predictions must be classes, truths classes or the ignore label.</summary>
    public void Add(ReadOnlySpan<byte> truth, ReadOnlySpan<byte> predicted)
    {
        if (truth.Length != predicted.Length)
            throw new ArgumentException($"{truth.Length} true labels but {predicted.Length} predictions");
        for (int i = 0; i < truth.Length; i++)
        {
            int t = truth[i], p = predicted[i];
            if (t == IgnoreLabel)
                continue;
            if (t >= Classes || p >= Classes)
                throw new ArgumentException($"pixel {i}: label {t} / prediction {p} outside 0–{Classes - 1}" + (IgnoreLabel is { } ig ? $" (ignore label {ig})" : ""));
            _counts[t * Classes + p]++;
        }
    }

    /// <summary>Adds a batch on the tensor side (bincount), for evaluation loops: truths and predictions of equal shape, integer.</summary>
    public void Add(Tensor truth, Tensor predicted)
    {
        using var scope = NewDisposeScope();
        var t = truth.to_type(ScalarType.Int64).flatten().cpu();
        var p = predicted.to_type(ScalarType.Int64).flatten().cpu();
        if (t.shape[0] != p.shape[0])
            throw new ArgumentException($"{t.shape[0]} true labels but {p.shape[0]} predictions");
        var keep = IgnoreLabel is { } ig ? t.ne(ig) : ones_like(t, ScalarType.Bool);
        t = t.masked_select(keep);
        p = p.masked_select(keep);
        if (t.numel() == 0)
            return;
        if (t.max().item<long>() >= Classes || p.max().item<long>() >= Classes || t.min().item<long>() < 0 || p.min().item<long>() < 0)
            throw new ArgumentException($"labels or predictions outside 0–{Classes - 1}");
        var counts = (t * Classes + p).bincount(null, Classes * Classes).data<long>().ToArray();
        for (int i = 0; i < _counts.Length; i++)
            _counts[i] += counts[i];
    }

    public void Add(ConfusionMatrix other)
    {
        if (other.Classes != Classes)
            throw new ArgumentException($"cannot add a {other.Classes}-class matrix to a {Classes}-class one");
        for (int i = 0; i < _counts.Length; i++)
            _counts[i] += other._counts[i];
    }

    private long TruePositives(int c) => this[c, c];
    private long RowSum(int c) => Enumerable.Range(0, Classes).Sum(p => this[c, p]);
    private long ColumnSum(int c) => Enumerable.Range(0, Classes).Sum(t => this[t, c]);

    /// <summary>Correct pixels over all labelled pixels (the "global accuracy" of SegNet and the Tiramisu paper).</summary>
    public double GlobalAccuracy => Total == 0 ? double.NaN : (double)Enumerable.Range(0, Classes).Sum(TruePositives) / Total;

    /// <summary>Per-class recall; NaN for a class with no labelled pixels.</summary>
    public double[] ClassAccuracy => Enumerable.Range(0, Classes).Select(c => RowSum(c) == 0 ? double.NaN : (double)TruePositives(c) / RowSum(c)).ToArray();

    /// <summary>Mean of <see cref="ClassAccuracy"/> over classes that occur in the ground truth.</summary>
    public double MeanClassAccuracy => MeanDefined(ClassAccuracy);

    /// <summary>TP / (TP + FP + FN) per class; NaN where a class is neither labelled nor predicted.</summary>
    public double[] IoU => Enumerable.Range(0, Classes).Select(c =>
    {
        long union = RowSum(c) + ColumnSum(c) - TruePositives(c);
        return union == 0 ? double.NaN : (double)TruePositives(c) / union;
    }).ToArray();

    /// <summary>Mean of <see cref="IoU"/> over classes where it is defined.</summary>
    public double MeanIoU => MeanDefined(IoU);

    private static double MeanDefined(double[] v)
    {
        var d = v.Where(x => !double.IsNaN(x)).ToArray();
        return d.Length == 0 ? double.NaN : d.Average();
    }
}
