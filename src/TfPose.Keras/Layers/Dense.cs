using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace TfPose.Keras;

/// <summary>Densely connected layer: activation(x · kernel + bias), kernel stored [in, out] as in Keras.</summary>
public sealed class Dense : Layer, IKerasLayer<Dense>
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

    protected override void WriteConfig(JsonObject config)
    {
        config["units"] = Units;
        LayerConfig.WriteKernelLayer(config, Activation, UseBias, KernelInitializer, BiasInitializer, KernelRegularizer);
    }

    public static Dense FromConfig(JsonObject config) => LayerConfig.Read(config, c =>
    {
        c.ExpectKernelLayerDefaults();
        return new Dense(c.Int("units"), c.Activation(), c.Bool("use_bias", true),
            c.Initializer("kernel_initializer", Initializer.GlorotUniform()), c.Initializer("bias_initializer", Initializer.Zeros()),
            c.Regularizer("kernel_regularizer"), name: c.Name);
    });

    /// <summary>MatMul + BiasAdd + activation, as TensorFlow writes a Dense on (batch, features).</summary>
    internal override string ExportGraphDef(GraphEmitter g, string scope, string[] x, int[][] inputShapes)
    {
        if (inputShapes[0].Length != 1)
            throw new NotSupportedException($"ExportGraphDef: Dense '{Name}' on a rank-{inputShapes[0].Length + 1} input is not supported; Flatten first.");
        var k = g.Const(scope + "/kernel", Kernel.Value);
        var mm = g.Node(scope + "/MatMul", "MatMul", x[0], k).FloatType().Bool("transpose_a", false).Bool("transpose_b", false);
        return g.Activation(g.BiasAdd(mm, Bias, scope), Activation, scope);
    }

    internal override string Describe() => $"Dense({Units}, {Activation}, {KernelInitializer.Describe()})";
}
