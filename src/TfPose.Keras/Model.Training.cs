using static TorchSharp.torch;

namespace TfPose.Keras;

// Compile, one-batch training/evaluation/inference, and batched Predict/Evaluate on tensors.
public partial class Model
{
    /// <summary>
    /// Configures training. As in Keras, the set of trainable weights is fixed here from the current
    /// <see cref="Layer.Trainable"/> flags: freezing a sub-model afterwards does not affect this model until it is compiled again.
    /// </summary>
    public void Compile(Optimizer optimizer, Loss loss, string[]? metrics = null)
    {
        EnsureGraph();
        foreach (var m in metrics ?? [])
            if (m is not ("accuracy" or "acc"))
                throw new ArgumentException($"Unknown metric '{m}'. Known: accuracy.");
        _optimizer = optimizer;
        _loss = loss;
        _accuracy = metrics?.Length > 0;
        _compiledTrainable = TrainableLayers().ToHashSet();
        _trainableWeights = _compiledTrainable.SelectMany(l => l.Weights).Where(w => w.IsTrainableWeight).Distinct().ToList();
        _regularized = _trainableWeights.Where(w => w.Regularizer is not null).ToList();
    }

    public bool IsCompiled => _loss is not null;

    private void RequireCompiled(string what)
    {
        if (_loss is null || _optimizer is null)
            throw new InvalidOperationException($"Model '{Name}' must be compiled before {what}.");
    }

    private Tensor[] PrepareInputs(Tensor x) => [Layout.ToInternal(x.to(Device))];

    private Tensor PrepareTargets(Tensor y) => _loss!.SparseTargets ? y.to(Device) : Layout.ToInternal(y.to(Device).to_type(ScalarType.Float32));

    /// <summary>One gradient step on one batch; returns the loss (including regularisation) and metrics.</summary>
    public Logs TrainOnBatch(Tensor x, Tensor y)
    {
        RequireCompiled("TrainOnBatch");
        using var scope = NewDisposeScope();
        var ctx = new CallContext(true, Generator, _compiledTrainable);
        var pred = Run(PrepareInputs(x), ctx)[0];
        var target = PrepareTargets(y);
        var loss = _loss!.Compute(target, pred);
        foreach (var w in _regularized)
            loss = loss + w.Regularizer!.Penalty(w.Value);
        if (_trainableWeights.Count > 0)
        {
            // autograd.grad (not backward) so frozen weights never accumulate .grad between models sharing them.
            var grads = autograd.grad([loss], _trainableWeights.Select(w => w.Value).ToList(), allow_unused: true);
            _optimizer!.Apply(_trainableWeights, grads);
        }
        var logs = new Logs { ["loss"] = loss.item<float>() };
        if (_accuracy)
            using (no_grad())
                logs["accuracy"] = _loss.Accuracy(target, pred.detach()).item<float>();
        return logs;
    }

    /// <summary>Loss and metrics on one batch in inference mode, no update.</summary>
    public Logs TestOnBatch(Tensor x, Tensor y)
    {
        RequireCompiled("TestOnBatch");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var pred = Run(PrepareInputs(x), new CallContext(false, Generator, null))[0];
        var target = PrepareTargets(y);
        var loss = _loss!.Compute(target, pred);
        foreach (var w in _regularized)
            loss = loss + w.Regularizer!.Penalty(w.Value);
        var logs = new Logs { ["loss"] = loss.item<float>() };
        if (_accuracy)
            logs["accuracy"] = _loss.Accuracy(target, pred).item<float>();
        return logs;
    }

    /// <summary>Inference on one batch; returns a channels-last tensor on the CPU that the caller disposes.</summary>
    public Tensor PredictOnBatch(Tensor x)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var y = Layout.ToKeras(Run(PrepareInputs(x), new CallContext(false, Generator, null))[0]).cpu();
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>Inference in batches.</summary>
    public Tensor Predict(Tensor x, int batchSize = 32)
    {
        var n = x.shape[0];
        var parts = new List<Tensor>();
        try
        {
            for (long i = 0; i < n; i += batchSize)
            {
                using var xb = x[(int)i..(int)Math.Min(n, i + batchSize)];
                parts.Add(PredictOnBatch(xb));
            }
            return parts.Count == 1 ? parts[0].alias() : cat(parts, 0);
        }
        finally
        {
            foreach (var p in parts) p.Dispose();
        }
    }

    /// <summary>Mean loss and metrics over a data set, weighted by batch size.</summary>
    public Logs Evaluate(Tensor x, Tensor y, int batchSize = 32)
    {
        RequireCompiled("Evaluate");
        var n = x.shape[0];
        var sums = new Logs();
        for (long i = 0; i < n; i += batchSize)
        {
            long end = Math.Min(n, i + batchSize);
            using var xb = x[(int)i..(int)end];
            using var yb = y[(int)i..(int)end];
            foreach (var (k, v) in TestOnBatch(xb, yb))
                sums[k] = sums.GetValueOrDefault(k) + v * (end - i);
        }
        var result = new Logs();
        foreach (var (k, v) in sums)
            result[k] = v / n;
        return result;
    }
}
