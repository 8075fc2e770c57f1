using static TorchSharp.torch;

namespace TfPose.Keras;

// Fit/Evaluate/Predict on plain .NET arrays (one row per sample), for callers who do not hold TorchSharp tensors.
public partial class Model
{
    /// <summary>Trains on rows of <paramref name="x"/> with class indices <paramref name="y"/> (sparse targets).</summary>
    public History Fit(float[,] x, int[] y, int batchSize = 32, int epochs = 1, (float[,] X, int[] Y)? validationData = null,
        bool shuffle = true, IReadOnlyList<Callback>? callbacks = null, int verbose = 1, CancellationToken cancellationToken = default) =>
        FitRows(x, y, validationData, Targets, batchSize, epochs, shuffle, callbacks, verbose, cancellationToken);

    /// <summary>Trains on rows of <paramref name="x"/> with one real target per sample (binary labels, regression).</summary>
    public History Fit(float[,] x, float[] y, int batchSize = 32, int epochs = 1, (float[,] X, float[] Y)? validationData = null,
        bool shuffle = true, IReadOnlyList<Callback>? callbacks = null, int verbose = 1, CancellationToken cancellationToken = default) =>
        FitRows(x, y, validationData, Targets, batchSize, epochs, shuffle, callbacks, verbose, cancellationToken);

    /// <summary>Both array Fits: the rows and targets (and validation rows) as tensors for the tensor Fit.</summary>
    private History FitRows<T>(float[,] x, T[] y, (float[,] X, T[] Y)? validationData, Func<T[], int, Tensor> targets,
        int batchSize, int epochs, bool shuffle, IReadOnlyList<Callback>? callbacks, int verbose, CancellationToken cancellationToken)
    {
        using var xt = ToTensor(x);
        using var yt = targets(y, x.GetLength(0));
        if (validationData is not { } v)
            return Fit(xt, yt, batchSize, epochs, null, shuffle, callbacks, verbose, 0, cancellationToken);
        using var xv = ToTensor(v.X);
        using var yv = targets(v.Y, v.X.GetLength(0));
        return Fit(xt, yt, batchSize, epochs, (xv, yv), shuffle, callbacks, verbose, 0, cancellationToken);
    }

    public Logs Evaluate(float[,] x, int[] y, int batchSize = 32)
    {
        using var xt = ToTensor(x);
        using var yt = Targets(y, x.GetLength(0));
        return Evaluate(xt, yt, batchSize);
    }

    public Logs Evaluate(float[,] x, float[] y, int batchSize = 32)
    {
        using var xt = ToTensor(x);
        using var yt = Targets(y, x.GetLength(0));
        return Evaluate(xt, yt, batchSize);
    }

    /// <summary>Outputs of a model with one vector output per sample: one row per row of <paramref name="x"/>.</summary>
    public float[,] Predict(float[,] x, int batchSize = 32)
    {
        using var xt = ToTensor(x);
        using var p = Predict(xt, batchSize);
        if (p.dim() != 2)
            throw new InvalidOperationException($"Model '{Name}' outputs {Layout.Format(p.shape.Skip(1).Select(d => (int)d).ToArray())} per sample; Predict(float[,]) needs a vector output (use the Tensor overload).");
        var flat = p.contiguous().data<float>().ToArray();
        var result = new float[p.shape[0], p.shape[1]];
        Buffer.BlockCopy(flat, 0, result, 0, flat.Length * sizeof(float));
        return result;
    }

    private Tensor ToTensor(float[,] x)
    {
        EnsureGraph();
        var shape = Inputs[0].Shape;
        int rows = x.GetLength(0), cols = x.GetLength(1);
        long per = shape.Aggregate(1L, (a, d) => a * d);
        if (cols != per)
            throw new ArgumentException($"Model '{Name}' takes inputs of shape {Layout.Format(shape)} ({per} values per sample); the array has {cols} columns.");
        var flat = new float[rows * cols];
        Buffer.BlockCopy(x, 0, flat, 0, flat.Length * sizeof(float));
        return tensor(flat, [rows, .. shape.Select(d => (long)d)]);
    }

    private static Tensor Targets(int[] y, int rows)
    {
        if (y.Length != rows)
            throw new ArgumentException($"x has {rows} rows but y has {y.Length} values.");
        return tensor(y.Select(v => (long)v).ToArray());
    }

    private Tensor Targets(float[] y, int rows)
    {
        if (y.Length != rows)
            throw new ArgumentException($"x has {rows} rows but y has {y.Length} values.");
        // One value per sample against a (batch, 1) output, as Keras broadcasts y of shape (n,) there.
        return Outputs[0].Shape is [1] ? tensor(y, [rows, 1]) : tensor(y);
    }
}
