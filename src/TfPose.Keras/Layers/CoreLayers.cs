using TorchSharp;
using static TorchSharp.torch;

namespace TfPose.Keras;

/// <summary>Densely connected layer: activation(x · kernel + bias), kernel stored [in, out] as in Keras.</summary>
public sealed class Dense : Layer
{
    public Dense(int units, string? activation = null, bool useBias = true, Initializer? kernelInitializer = null,
        Initializer? biasInitializer = null, Regularizer? kernelRegularizer = null, int[]? inputShape = null, string? name = null) : base(name)
    {
        if (units <= 0)
            throw new ArgumentOutOfRangeException(nameof(units), "Dense needs at least one unit.");
        Units = units;
        Activation = Activations.Validate(activation);
        UseBias = useBias;
        KernelInitializer = kernelInitializer ?? Initializer.GlorotUniform();
        BiasInitializer = biasInitializer ?? Initializer.Zeros();
        KernelRegularizer = kernelRegularizer;
        InputShape = inputShape;
    }

    public int Units { get; }
    public string Activation { get; }
    public bool UseBias { get; }
    public Initializer KernelInitializer { get; }
    public Initializer BiasInitializer { get; }
    public Regularizer? KernelRegularizer { get; }
    /// <summary>For the first layer of a <see cref="Sequential"/>, as Keras' input_shape.</summary>
    public int[]? InputShape { get; }
    public override string KerasName => "Dense";

    internal Weight Kernel => Weights[0];
    internal Weight? Bias => UseBias ? Weights[1] : null;

    public override int[] ComputeOutputShape(int[][] s) => [.. s[0][..^1], Units];

    protected override void Build(int[][] s, Generator g, Device device)
    {
        long inDim = s[0][^1];
        AddWeight("kernel", [inDim, Units], KernelInitializer, inDim, Units, g, device, regularizer: KernelRegularizer);
        if (UseBias)
            AddWeight("bias", [Units], BiasInitializer, inDim, Units, g, device);
    }

    internal override Tensor Forward(Tensor[] x, CallContext ctx)
    {
        var input = x[0];
        Tensor y;
        if (input.dim() == 2)
            y = UseBias ? addmm(Bias!.Value, input, Kernel.Value, 1f, 1f) : input.matmul(Kernel.Value);
        else
        {
            // Dense acts on the last Keras axis, which is dim 1 of an internal rank-4 tensor.
            var k = Layout.ToKeras(input).matmul(Kernel.Value);
            if (UseBias)
                k = k + Bias!.Value;
            y = Layout.ToInternal(k);
        }
        return Activations.Apply(Activation, y);
    }

    internal override string Describe() => $"Dense({Units}, {Activation}, {KernelInitializer.Describe()})";
}

/// <summary>Applies a named activation ("relu", "sigmoid", "tanh", "softmax", ...).</summary>
public sealed class Activation(string activation, string? name = null) : Layer(name)
{
    public string Function { get; } = Activations.Validate(activation);
    public override string KerasName => "Activation";
    public override int[] ComputeOutputShape(int[][] s) => s[0];
    internal override Tensor Forward(Tensor[] x, CallContext ctx) => Activations.Apply(Function, x[0]);
    internal override string Describe() => $"Activation({Function})";
}

/// <summary>max(x, alpha·x). Keras' default alpha is 0.3.</summary>
public sealed class LeakyReLU(double alpha = 0.3, string? name = null) : Layer(name)
{
    public double Alpha { get; } = alpha;
    public override string KerasName => "LeakyReLU";
    public override int[] ComputeOutputShape(int[][] s) => s[0];
    internal override Tensor Forward(Tensor[] x, CallContext ctx) => nn.functional.leaky_relu(x[0], Alpha);
    internal override string Describe() => $"LeakyReLU({Alpha})";
}

/// <summary>Rectified linear unit, optionally capped (max_value) as Keras' ReLU layer.</summary>
public sealed class ReLU(double? maxValue = null, string? name = null) : Layer(name)
{
    public double? MaxValue { get; } = maxValue;
    public override string KerasName => "ReLU";
    public override int[] ComputeOutputShape(int[][] s) => s[0];
    internal override Tensor Forward(Tensor[] x, CallContext ctx) => MaxValue is { } m ? x[0].clamp(0, m) : x[0].relu();
}

/// <summary>Softmax over the channel (last Keras) axis.</summary>
public sealed class Softmax(string? name = null) : Layer(name)
{
    public override string KerasName => "Softmax";
    public override int[] ComputeOutputShape(int[][] s) => s[0];
    internal override Tensor Forward(Tensor[] x, CallContext ctx) => Activations.Apply("softmax", x[0]);
}

/// <summary>
/// Inverted dropout: in training each unit is zeroed with probability <c>rate</c> and the rest scaled by
/// 1/(1-rate); identity at inference. The mask comes from the running model's seeded generator.
/// </summary>
public sealed class Dropout : Layer
{
    public Dropout(double rate, string? name = null) : base(name)
    {
        if (rate is < 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(rate), "Dropout rate must be in [0, 1).");
        Rate = rate;
    }

    public double Rate { get; }
    public override string KerasName => "Dropout";
    public override int[] ComputeOutputShape(int[][] s) => s[0];

    internal override Tensor Forward(Tensor[] x, CallContext ctx)
    {
        // Keras applies dropout whenever training=True, even in a frozen (trainable=False) sub-model.
        if (!ctx.Training || Rate == 0)
            return x[0];
        using var u = rand(x[0].shape, ScalarType.Float32, x[0].device, generator: ctx.Generator);
        using var keep = u.ge(Rate);
        return x[0].mul(keep).mul(1.0 / (1.0 - Rate));
    }

    internal override string Describe() => $"Dropout({Rate})";
}

/// <summary>Flattens to (batch, features) in channels-last order, so a following Dense matches Keras weights.</summary>
public sealed class Flatten(string? name = null) : Layer(name)
{
    public override string KerasName => "Flatten";
    public override int[] ComputeOutputShape(int[][] s) => [s[0].Aggregate(1, (a, b) => a * b)];
    internal override Tensor Forward(Tensor[] x, CallContext ctx) => Layout.ToKeras(x[0]).reshape(x[0].shape[0], -1);
}

/// <summary>Reshapes to a channels-last target shape (batch excluded), as Keras' Reshape.</summary>
public sealed class Reshape : Layer
{
    public Reshape(int[] targetShape, string? name = null) : base(name) => TargetShape = (int[])targetShape.Clone();

    public int[] TargetShape { get; }
    public override string KerasName => "Reshape";

    public override int[] ComputeOutputShape(int[][] s)
    {
        var total = s[0].Aggregate(1, (a, b) => a * b);
        var known = TargetShape.Where(d => d != -1).Aggregate(1, (a, b) => a * b);
        var shape = TargetShape.Select(d => d == -1 ? total / known : d).ToArray();
        if (shape.Aggregate(1, (a, b) => a * b) != total)
            throw new ArgumentException($"Reshape '{Name}': cannot reshape {Layout.Format(s[0])} to {Layout.Format(TargetShape)}.");
        return shape;
    }

    internal override Tensor Forward(Tensor[] x, CallContext ctx)
    {
        var outShape = ComputeOutputShape([InputShapes![0]]);
        var keras = Layout.ToKeras(x[0]).reshape([x[0].shape[0], .. outShape.Select(d => (long)d)]);
        return Layout.ToInternal(keras);
    }
}
