using static TorchSharp.torch;

namespace TfPose.Keras;

/// <summary>
/// Batches that <see cref="Model.Fit(BatchSequence, int, BatchSequence?, IReadOnlyList{Callback}?, int, int, Func{Tensor, Tensor?, Logs}?, CancellationToken)"/>
/// draws one at a time, as Keras' <c>PyDataset</c> (<c>keras.utils.Sequence</c>): <see cref="Count"/> batches per epoch,
/// each produced on demand (random crops, augmentation, data that does not fit in memory).
/// A batch must be a function of (epoch, index) alone: that is what lets a run resumed mid-epoch see the same batches.
/// </summary>
public abstract class BatchSequence
{
    /// <summary>Batches per epoch.</summary>
    public abstract int Count { get; }

    /// <summary>Batch <paramref name="index"/> of <paramref name="epoch"/> (both 0-based); the caller disposes the tensors. Y may be null for steps that need no targets.</summary>
    public abstract (Tensor X, Tensor? Y) GetBatch(int epoch, int index);

    /// <summary>Batches from in-memory tensors, shuffled per epoch from <paramref name="seed"/> when <paramref name="shuffle"/> is set.</summary>
    public static BatchSequence FromTensors(Tensor x, Tensor? y, int batchSize, bool shuffle = false, int seed = 0) =>
        new TensorBatches(x, y, batchSize, shuffle, seed);
}

internal sealed class TensorBatches : BatchSequence
{
    private readonly Tensor _x;
    private readonly Tensor? _y;
    private readonly int _batchSize;
    private readonly bool _shuffle;
    private readonly int _seed;
    private readonly int _n;
    private int _orderEpoch = -1;
    private long[] _order = [];

    public TensorBatches(Tensor x, Tensor? y, int batchSize, bool shuffle, int seed)
    {
        if (batchSize <= 0)
            throw new ArgumentException($"batchSize must be positive, got {batchSize}.");
        if (y is not null && y.shape[0] != x.shape[0])
            throw new ArgumentException($"x has {x.shape[0]} samples but y has {y.shape[0]}.");
        _x = x;
        _y = y;
        _batchSize = batchSize;
        _shuffle = shuffle;
        _seed = seed;
        _n = (int)x.shape[0];
    }

    public override int Count => (_n + _batchSize - 1) / _batchSize;

    public override (Tensor X, Tensor? Y) GetBatch(int epoch, int index)
    {
        int start = index * _batchSize, end = Math.Min(_n, start + _batchSize);
        if (!_shuffle)
            return (_x[start..end], _y?[start..end]);
        if (_orderEpoch != epoch)
        {
            // The order is a function of (seed, epoch), not of a generator's history, so a resumed run draws the same batches.
            var order = Enumerable.Range(0, _n).Select(i => (long)i).ToArray();
            new Random(unchecked(_seed * 1_000_003 + epoch)).Shuffle(order);
            _order = order;
            _orderEpoch = epoch;
        }
        using var idx = tensor(_order.AsSpan(start, end - start).ToArray());
        return (_x.index_select(0, idx), _y?.index_select(0, idx));
    }
}
