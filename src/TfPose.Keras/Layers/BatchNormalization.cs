using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace TfPose.Keras;

/// <summary>
/// Batch normalisation over the channel axis with Keras defaults (momentum 0.99, epsilon 1e-3).
/// Training normalises with the batch mean and (biased) variance and moves the moving statistics:
/// moving = moving·momentum + batch·(1 − momentum). Inference, or a layer frozen at compile time
/// (Keras 2 / TF2 semantics), uses the moving statistics.
/// </summary>
public sealed class BatchNormalization : Layer, IKerasLayer<BatchNormalization>
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

    protected override void WriteConfig(JsonObject config)
    {
        config["momentum"] = Momentum;
        config["epsilon"] = Epsilon;
        config["center"] = Center;
        config["scale"] = Scale;
    }

    public static BatchNormalization FromConfig(JsonObject config) => LayerConfig.Read(config, c =>
    {
        c.Expect("axis", -1);
        return new BatchNormalization(c.Double("momentum", 0.99), c.Double("epsilon", 1e-3), c.Bool("center", true), c.Bool("scale", true), c.Name);
    });

    /// <summary>
    /// Inference with the moving statistics: FusedBatchNormV3 (is_training=false) on images; on other ranks, which
    /// FusedBatchNorm does not take, y = x·a + b with a = gamma/sqrt(var + eps), b = beta − mean·a, the subgraph
    /// TensorFlow writes, folded.
    /// </summary>
    internal override string ExportGraphDef(GraphEmitter g, string scope, string[] x, int[][] inputShapes)
    {
        var inShape = inputShapes[0];
        if (inShape.Length == 3)
        {
            long c = inShape[^1];
            using var one = ones(c);
            using var zero = zeros(c);
            return g.Node(scope + "/FusedBatchNormV3", "FusedBatchNormV3", x[0],
                    g.Const(scope + "/gamma", Gamma?.Value ?? one), g.Const(scope + "/beta", Beta?.Value ?? zero),
                    g.Const(scope + "/moving_mean", MovingMean.Value), g.Const(scope + "/moving_variance", MovingVariance.Value))
                .FloatType().FloatType("U").Float("epsilon", (float)Epsilon).Float("exponential_avg_factor", 1f)
                .Bool("is_training", false).Str("data_format", "NHWC");
        }
        using var _ = no_grad();
        using var a = (MovingVariance.Value + Epsilon).rsqrt() * (Gamma?.Value ?? ones(1));
        using var b = (Beta?.Value ?? zeros(1)) - MovingMean.Value * a;
        var mul = g.Op(scope + "/batchnorm/mul", "Mul", x[0], g.Const(scope + "/batchnorm/scale", a));
        return g.Op(scope + "/batchnorm/add", "AddV2", mul, g.Const(scope + "/batchnorm/offset", b));
    }

    internal override string Describe() => $"BatchNormalization(momentum={Momentum}, epsilon={Epsilon})";
}
