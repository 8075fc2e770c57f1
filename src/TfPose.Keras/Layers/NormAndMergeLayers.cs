using TorchSharp;
using static TorchSharp.torch;

namespace TfPose.Keras;

/// <summary>
/// Batch normalisation over the channel axis with Keras defaults (momentum 0.99, epsilon 1e-3).
/// Training normalises with the batch mean and (biased) variance and moves the moving statistics:
/// moving = moving·momentum + batch·(1 − momentum). Inference, or a layer frozen at compile time
/// (Keras 2 / TF2 semantics), uses the moving statistics.
/// </summary>
public sealed class BatchNormalization : Layer
{
    public BatchNormalization(double momentum = 0.99, double epsilon = 1e-3, bool center = true, bool scale = true, string? name = null) : base(name)
    {
        Momentum = momentum;
        Epsilon = epsilon;
        Center = center;
        Scale = scale;
    }

    public double Momentum { get; }
    public double Epsilon { get; }
    public bool Center { get; }
    public bool Scale { get; }
    public override string KerasName => "BatchNormalization";

    internal Weight? Gamma => Weights.FirstOrDefault(w => w.Name == "gamma");
    internal Weight? Beta => Weights.FirstOrDefault(w => w.Name == "beta");
    internal Weight MovingMean => Weights.First(w => w.Name == "moving_mean");
    internal Weight MovingVariance => Weights.First(w => w.Name == "moving_variance");

    public override int[] ComputeOutputShape(int[][] s) => s[0];

    protected override void Build(int[][] s, Generator g, Device device)
    {
        long c = s[0][^1];
        if (Scale) AddWeight("gamma", [c], Initializer.Ones(), c, c, g, device);
        if (Center) AddWeight("beta", [c], Initializer.Zeros(), c, c, g, device);
        AddWeight("moving_mean", [c], Initializer.Zeros(), c, c, g, device, trainable: false);
        AddWeight("moving_variance", [c], Initializer.Ones(), c, c, g, device, trainable: false);
    }

    internal override Tensor Forward(Tensor[] x, CallContext ctx)
    {
        var input = x[0];
        int rank = (int)input.dim();
        bool training = ctx.IsTraining(this);
        // libtorch's fused batch_norm (channels on axis 1: NCHW inside models, (N, C) after Dense) keeps only the input
        // and two per-channel vectors for backward, where the composed formula below keeps four full-size temporaries.
        if (rank is 2 or 4)
        {
            if (!training)
                return nn.functional.batch_norm(input, MovingMean.Value, MovingVariance.Value, Gamma?.Value, Beta?.Value, training: false, eps: Epsilon);
            long n = input.numel() / input.shape[1];
            if (n > 1)
            {
                // Copies: backward keeps the running statistics it was given and refuses to run if they changed since.
                using var movingMean = MovingMean.Value.detach().clone();
                using var movingVariance = MovingVariance.Value.detach().clone();
                var normalized = nn.functional.batch_norm(input, movingMean, movingVariance, Gamma?.Value, Beta?.Value, training: true, momentum: 1 - Momentum, eps: Epsilon);
                // libtorch moves the variance with the unbiased batch variance, v' = m·v + (1−m)·s²·n/(n−1); Keras with
                // the biased one, m·v + (1−m)·s², which equals v'·(n−1)/n + m·v/n.
                using (no_grad())
                {
                    MovingMean.Value.copy_(movingMean);
                    MovingVariance.Value.mul_(Momentum / n).add_(movingVariance, alpha: (n - 1.0) / n);
                }
                return normalized;
            }
        }
        long[] reduce = rank == 4 ? [0, 2, 3] : [.. Enumerable.Range(0, rank - 1).Select(i => (long)i)];
        long[] view = rank == 4 ? [1, -1, 1, 1] : [.. Enumerable.Repeat(1L, rank - 1), -1];
        Tensor mean, variance;
        if (ctx.IsTraining(this))
        {
            mean = input.mean(reduce, keepdim: false);
            variance = (input - mean.view(view)).square().mean(reduce, keepdim: false);
            using (no_grad())
            {
                MovingMean.Value.mul_(Momentum).add_(mean.detach(), alpha: 1 - Momentum);
                MovingVariance.Value.mul_(Momentum).add_(variance.detach(), alpha: 1 - Momentum);
            }
        }
        else
        {
            mean = MovingMean.Value;
            variance = MovingVariance.Value;
        }
        var y = (input - mean.view(view)) * (variance + Epsilon).rsqrt().view(view);
        if (Gamma is { } gamma) y = y * gamma.Value.view(view);
        if (Beta is { } beta) y = y + beta.Value.view(view);
        return y;
    }

    internal override string Describe() => $"BatchNormalization(momentum={Momentum}, epsilon={Epsilon})";
}

/// <summary>Concatenates along a Keras axis (default -1, the channels).</summary>
public sealed class Concatenate(int axis = -1, string? name = null) : Layer(name)
{
    public int Axis { get; } = axis;
    public override string KerasName => "Concatenate";

    public override int[] ComputeOutputShape(int[][] s)
    {
        int rank = s[0].Length, a = Axis < 0 ? Axis + rank : Axis - 1;
        var outShape = (int[])s[0].Clone();
        for (int i = 1; i < s.Length; i++)
        {
            if (s[i].Length != rank || Enumerable.Range(0, rank).Any(d => d != a && s[i][d] != s[0][d]))
                throw new ArgumentException($"Concatenate '{Name}': shapes {string.Join(" and ", s.Select(Layout.Format))} differ off the concatenation axis.");
            outShape[a] += s[i][a];
        }
        return outShape;
    }

    internal override Tensor Forward(Tensor[] x, CallContext ctx)
    {
        int rank = (int)x[0].dim();
        int kerasAxis = Axis < 0 ? Axis + rank : Axis;
        return cat(x, Layout.ToInternalAxis(kerasAxis, rank));
    }
}

/// <summary>Element-wise sum of inputs of equal shape.</summary>
public sealed class Add(string? name = null) : Layer(name)
{
    public override string KerasName => "Add";

    public override int[] ComputeOutputShape(int[][] s)
    {
        if (s.Any(t => !t.SequenceEqual(s[0])))
            throw new ArgumentException($"Add '{Name}': input shapes differ: {string.Join(", ", s.Select(Layout.Format))}.");
        return s[0];
    }

    internal override Tensor Forward(Tensor[] x, CallContext ctx)
    {
        var y = x[0];
        for (int i = 1; i < x.Length; i++)
            y = y + x[i];
        return y;
    }
}
