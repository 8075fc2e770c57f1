using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TfPose.Keras;
using static TorchSharp.torch;

namespace TfPose.Segmentation;

/// <summary>
/// One training step that is rolled back and retried when it leaves non-finite weights. Written when training these
/// densely connected graphs intermittently produced NaN (autograd anomaly mode named ConvolutionBackward0). The cause was
/// libtorch 2.10's oneDNN convolution path on CPUs that report no cache topology (this project's Firecracker VMs): its
/// kernel reorder for channel counts that are not whole blocks of 8/16 zeroed real weights and left padding holding
/// freed memory, NaN whenever that memory had held NaN. <see cref="TorchBackend"/> now avoids that path (channels padded
/// to whole 16-channel blocks, oneDNN capped at AVX2 where the CPU reports no caches) with oneDNN left on. The guard stays as a safety net for genuine divergence: the state before the step (weights, moving statistics,
/// optimizer slots and iteration count) is kept in a safetensors snapshot so a retry starts from exactly the same point,
/// and a step that keeps failing ends with a clear error instead of training on garbage.
/// </summary>
public sealed class GuardedStep : IDisposable
{
    private readonly Model _model;
    private readonly Func<Optimizer> _newOptimizer;
    private readonly Loss _loss;
    private readonly string[] _metrics;
    private readonly string _snapshot;
    private readonly List<Optimizer> _owned = [];

    /// <summary>Compiles <paramref name="model"/> with a fresh optimizer from <paramref name="newOptimizer"/>; the guard owns the optimizers.</summary>
    public GuardedStep(Model model, Func<Optimizer> newOptimizer, Loss loss, string[] metrics, int maxRetries = 8)
    {
        _model = model;
        _newOptimizer = newOptimizer;
        _loss = loss;
        _metrics = metrics;
        MaxRetries = maxRetries;
        Compile();
        _snapshot = Path.Combine(Path.GetTempPath(), $"tfpose-step-{Environment.ProcessId}-{Guid.NewGuid():N}.safetensors");
    }

    public int MaxRetries { get; }

    /// <summary>Where each retry is reported.</summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;

    /// <summary>Steps that had to be recomputed so far.</summary>
    public int Retries { get; private set; }

    public Logs Train(Tensor x, Tensor y)
    {
        _model.SaveWeights(_snapshot, includeOptimizer: true);
        for (int attempt = 0; ; attempt++)
        {
            var logs = _model.TrainOnBatch(x, y);
            if (double.IsFinite(logs["loss"]) && AllFinite())
                return logs;
            if (attempt == MaxRetries)
                throw new InvalidOperationException($"training step gave non-finite weights {MaxRetries + 1} times in a row (last loss {logs["loss"]}, {string.Join(", ", NonFinite().Take(5))}); the model diverged (lower the learning rate)");
            Retries++;
            Logger.LogWarning("training step gave non-finite weights (loss {Loss}); retrying it from the state before it ({Retries} retried so far)", logs["loss"], Retries);
            // A fresh optimizer: the failed step also wrote NaN into the RMSprop accumulators, and slots that did not
            // exist at snapshot time cannot be reset through the model; loading the snapshot restores slots and iterations.
            Compile();
            _model.LoadWeights(_snapshot);
        }
    }

    private void Compile()
    {
        var opt = _newOptimizer();
        _owned.Add(opt);
        _model.Compile(opt, _loss, _metrics);
    }

    private IEnumerable<string> NonFinite()
    {
        using var _ = no_grad();
        foreach (var l in _model.Layers)
            foreach (var w in l.Weights)
                using (var f = w.Value.isfinite().all())
                    if (!f.item<bool>())
                        yield return l.Name + "/" + w.Name;
    }

    private bool AllFinite()
    {
        using var _ = no_grad();
        foreach (var l in _model.Layers)
            foreach (var w in l.Weights)
                using (var f = w.Value.isfinite().all())
                    if (!f.item<bool>())
                        return false;
        return true;
    }

    public void Dispose()
    {
        if (File.Exists(_snapshot))
            File.Delete(_snapshot);
        foreach (var o in _owned) o.Dispose();
        _owned.Clear();
    }
}
