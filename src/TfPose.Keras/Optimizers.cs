using static TorchSharp.torch;

namespace TfPose.Keras;

/// <summary>
/// Keras optimisers, written out rather than taken from torch.optim because the update formulas differ
/// (e.g. Keras' Adam adds epsilon to sqrt(v) after bias correction of the step size; Keras' RMSprop has
/// time-based decay). Each compiled model should get its own instance, as in Keras.
/// </summary>
public abstract class Optimizer : IDisposable
{
    private readonly Dictionary<Weight, Tensor[]> _slots = new(ReferenceEqualityComparer.Instance);

    protected Optimizer(double learningRate, double decay)
    {
        LearningRate = learningRate;
        Decay = decay;
    }

    public double LearningRate { get; set; }

    /// <summary>Keras 2 time-based decay: lr_t = lr / (1 + decay · iterations), iterations counted before the update.</summary>
    public double Decay { get; }

    /// <summary>Number of updates applied so far (Keras' optimizer.iterations).</summary>
    public long Iterations { get; internal set; }

    /// <summary>The learning rate the next update uses.</summary>
    public double CurrentLearningRate => LearningRate / (1.0 + Decay * Iterations);

    internal abstract string KerasName { get; }

    protected abstract int SlotCount { get; }

    /// <summary>Applies one update; gradients are aligned with weights.</summary>
    internal void Apply(IReadOnlyList<Weight> weights, IList<Tensor> grads)
    {
        var lr = CurrentLearningRate;
        Iterations++;
        using (no_grad())
        {
            for (int i = 0; i < weights.Count; i++)
            {
                if (grads[i] is null || grads[i].IsInvalid)
                    continue;
                Update(weights[i].Value, grads[i], Slots(weights[i]), lr, Iterations);
            }
        }
    }

    /// <param name="t">The 1-based step number of this update.</param>
    protected abstract void Update(Tensor p, Tensor g, Tensor[] slots, double lr, long t);

    internal Tensor[] Slots(Weight w)
    {
        if (!_slots.TryGetValue(w, out var s))
        {
            // Slots outlive the per-step dispose scope of TrainOnBatch.
            s = Enumerable.Range(0, SlotCount).Select(_ => zeros_like(w.Value).requires_grad_(false).DetachFromDisposeScope()).ToArray();
            _slots[w] = s;
        }
        return s;
    }

    internal bool HasSlots(Weight w) => _slots.ContainsKey(w);

    public void Dispose()
    {
        foreach (var s in _slots.Values.SelectMany(t => t))
            s.Dispose();
        _slots.Clear();
        GC.SuppressFinalize(this);
    }
}

/// <summary>
/// Adam as Keras: m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
/// p −= lr·sqrt(1−β2^t)/(1−β1^t) · m / (sqrt(v) + ε).
/// </summary>
public sealed class Adam(double learningRate = 0.001, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-7, double decay = 0)
    : Optimizer(learningRate, decay)
{
    public double Beta1 { get; } = beta1;
    public double Beta2 { get; } = beta2;
    public double Epsilon { get; } = epsilon;
    internal override string KerasName => "Adam";
    protected override int SlotCount => 2;

    protected override void Update(Tensor p, Tensor g, Tensor[] s, double lr, long t)
    {
        var alpha = lr * Math.Sqrt(1 - Math.Pow(Beta2, t)) / (1 - Math.Pow(Beta1, t));
        s[0].mul_(Beta1).add_(g, alpha: 1 - Beta1);
        s[1].mul_(Beta2).addcmul_(g, g, value: 1 - Beta2);
        using var denom = s[1].sqrt().add_(Epsilon);
        p.addcdiv_(s[0], denom, value: -alpha);
    }
}

/// <summary>
/// RMSprop as Keras 2: a = ρ·a + (1−ρ)·g²; p −= lr_t · g / (sqrt(a) + ε), with lr_t the time-decayed rate.
/// </summary>
public sealed class RMSprop(double learningRate = 0.001, double rho = 0.9, double epsilon = 1e-7, double decay = 0)
    : Optimizer(learningRate, decay)
{
    public double Rho { get; } = rho;
    public double Epsilon { get; } = epsilon;
    internal override string KerasName => "RMSprop";
    protected override int SlotCount => 1;

    protected override void Update(Tensor p, Tensor g, Tensor[] s, double lr, long t)
    {
        s[0].mul_(Rho).addcmul_(g, g, value: 1 - Rho);
        using var denom = s[0].sqrt().add_(Epsilon);
        p.addcdiv_(g, denom, value: -lr);
    }
}

/// <summary>SGD as Keras: v = momentum·v − lr·g; p += v (Nesterov: p += momentum·v − lr·g).</summary>
public sealed class SGD(double learningRate = 0.01, double momentum = 0, bool nesterov = false, double decay = 0)
    : Optimizer(learningRate, decay)
{
    public double Momentum { get; } = momentum;
    public bool Nesterov { get; } = nesterov;
    internal override string KerasName => "SGD";
    protected override int SlotCount => 1;

    protected override void Update(Tensor p, Tensor g, Tensor[] s, double lr, long t)
    {
        if (Momentum == 0)
        {
            p.add_(g, alpha: -lr);
            return;
        }
        s[0].mul_(Momentum).add_(g, alpha: -lr);
        if (Nesterov)
            p.add_(s[0], alpha: Momentum).add_(g, alpha: -lr);
        else
            p.add_(s[0]);
    }
}
