using static TorchSharp.torch;

namespace TfPose.Keras;

/// <summary>
/// Keras losses on internal-layout tensors (class axis 1 for rank-4, last otherwise). Probabilities are
/// clipped to [1e-7, 1 − 1e-7] as Keras does before taking logs. Every loss reduces to the mean over samples
/// (and pixels), Keras' default "sum_over_batch_size".
/// </summary>
public abstract class Loss
{
    internal const double Epsilon = 1e-7;

    internal abstract string KerasName { get; }

    /// <summary>Which accuracy "accuracy" means for this loss.</summary>
    internal abstract Tensor Accuracy(Tensor yTrue, Tensor yPred);

    internal abstract Tensor Compute(Tensor yTrue, Tensor yPred);

    /// <summary>Whether targets are class indices (kept as int64, no layout change).</summary>
    internal virtual bool SparseTargets => false;

    internal static int ClassAxis(Tensor t) => t.dim() == 4 ? 1 : -1;

    public static Loss FromName(string name) => name switch
    {
        "binary_crossentropy" => new BinaryCrossentropy(),
        "categorical_crossentropy" => new CategoricalCrossentropy(),
        "sparse_categorical_crossentropy" => new SparseCategoricalCrossentropy(),
        "mse" or "mean_squared_error" => new MeanSquaredError(),
        _ => throw new ArgumentException($"Unknown loss '{name}'. Known: binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy, mse."),
    };

    public static implicit operator Loss(string name) => FromName(name);

    /// <summary>Computes the loss on Keras-layout tensors (for users and tests).</summary>
    public float Call(Tensor yTrue, Tensor yPred)
    {
        using var scope = NewDisposeScope();
        var t = SparseTargets ? yTrue : Layout.ToInternal(yTrue);
        return Compute(t, Layout.ToInternal(yPred)).item<float>();
    }
}

/// <summary>−[y·log p + (1−y)·log(1−p)], with optional label smoothing y' = y(1−s) + s/2.</summary>
public sealed class BinaryCrossentropy(double labelSmoothing = 0) : Loss
{
    public double LabelSmoothing { get; } = labelSmoothing;
    internal override string KerasName => "binary_crossentropy";

    internal override Tensor Compute(Tensor yTrue, Tensor yPred)
    {
        var y = LabelSmoothing > 0 ? yTrue * (1 - LabelSmoothing) + 0.5 * LabelSmoothing : yTrue;
        var p = yPred.clamp(Epsilon, 1 - Epsilon);
        return -(y * p.log() + (1 - y) * (1 - p).log()).mean();
    }

    internal override Tensor Accuracy(Tensor yTrue, Tensor yPred) => yPred.gt(0.5).eq(yTrue.gt(0.5)).to_type(ScalarType.Float32).mean();
}

/// <summary>−Σ_c y_c·log p_c over the class axis, averaged over samples.</summary>
public sealed class CategoricalCrossentropy(double labelSmoothing = 0) : Loss
{
    public double LabelSmoothing { get; } = labelSmoothing;
    internal override string KerasName => "categorical_crossentropy";

    internal override Tensor Compute(Tensor yTrue, Tensor yPred)
    {
        var axis = ClassAxis(yPred);
        var y = yTrue;
        if (LabelSmoothing > 0)
            y = y * (1 - LabelSmoothing) + LabelSmoothing / yPred.shape[axis < 0 ? yPred.dim() - 1 : axis];
        // Keras renormalises the probabilities before the log.
        var p = (yPred / yPred.sum(axis, keepdim: true)).clamp(Epsilon, 1 - Epsilon);
        return -(y * p.log()).sum(axis).mean();
    }

    internal override Tensor Accuracy(Tensor yTrue, Tensor yPred)
    {
        var axis = ClassAxis(yPred);
        return yPred.argmax(axis).eq(yTrue.argmax(axis)).to_type(ScalarType.Float32).mean();
    }
}

/// <summary>
/// Cross-entropy against class indices. <paramref name="ignoreLabel"/> pixels/samples contribute nothing and
/// are excluded from the mean; <paramref name="classWeights"/> multiply each term by its true class's weight
/// (Keras sample-weight semantics: the weighted sum is divided by the count of non-ignored terms).
/// </summary>
public sealed class SparseCategoricalCrossentropy(int? ignoreLabel = null, float[]? classWeights = null) : Loss
{
    public int? IgnoreLabel { get; } = ignoreLabel;
    public float[]? ClassWeights { get; } = classWeights;
    internal override string KerasName => "sparse_categorical_crossentropy";
    internal override bool SparseTargets => true;

    private (Tensor Labels, Tensor Valid) Prepare(Tensor yTrue, Tensor yPred)
    {
        var labels = yTrue.to_type(ScalarType.Int64);
        if (labels.dim() == yPred.dim())
            labels = labels.squeeze(-1); // (N, H, W, 1) or (N, 1) targets, as Keras accepts
        var valid = IgnoreLabel is { } ig ? labels.ne(ig) : ones_like(labels, ScalarType.Bool);
        return (labels.where(valid, zeros_like(labels)), valid);
    }

    internal override Tensor Compute(Tensor yTrue, Tensor yPred)
    {
        var axis = ClassAxis(yPred);
        var (labels, valid) = Prepare(yTrue, yPred);
        var logp = yPred.clamp(Epsilon, 1 - Epsilon).log();
        var picked = -logp.gather(axis < 0 ? yPred.dim() - 1 : axis, labels.unsqueeze(axis)).squeeze(axis);
        var validF = valid.to_type(ScalarType.Float32);
        var w = validF;
        if (ClassWeights is not null)
        {
            using var cw = tensor(ClassWeights, device: yPred.device);
            w = w * cw.index_select(0, labels.flatten()).view(labels.shape);
        }
        return (picked * w).sum() / validF.sum().clamp_min(1);
    }

    internal override Tensor Accuracy(Tensor yTrue, Tensor yPred)
    {
        var axis = ClassAxis(yPred);
        var (labels, valid) = Prepare(yTrue, yPred);
        var hit = yPred.argmax(axis).eq(labels).logical_and(valid).to_type(ScalarType.Float32).sum();
        return hit / valid.to_type(ScalarType.Float32).sum().clamp_min(1);
    }
}

/// <summary>Mean of (y − p)².</summary>
public sealed class MeanSquaredError : Loss
{
    internal override string KerasName => "mse";
    internal override Tensor Compute(Tensor yTrue, Tensor yPred) => (yTrue - yPred).square().mean();
    internal override Tensor Accuracy(Tensor yTrue, Tensor yPred) => yPred.round().eq(yTrue.round()).to_type(ScalarType.Float32).mean();
}
