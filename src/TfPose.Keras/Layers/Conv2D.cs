using System.Text.Json.Nodes;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TfPose.Keras;

/// <summary>2-D convolution, channels-last at the API. Kernel stored torch-style [out, in, kh, kw].</summary>
public sealed class Conv2D : Layer, IKerasLayer<Conv2D>
{
    public Conv2D(int filters, int[] kernelSize, int[]? strides = null, string padding = "valid", string? activation = null,
        bool useBias = true, Initializer? kernelInitializer = null, Initializer? biasInitializer = null,
        Regularizer? kernelRegularizer = null, int[]? dilationRate = null, int[]? inputShape = null, string? name = null) : base(name)
    {
        Filters = filters;
        KernelSize = kernelSize.Length == 1 ? [kernelSize[0], kernelSize[0]] : kernelSize;
        Strides = strides is null ? [1, 1] : strides.Length == 1 ? [strides[0], strides[0]] : strides;
        DilationRate = dilationRate ?? [1, 1];
        PaddingMode = Padding.Validate(padding);
        Activation = Activations.Validate(activation);
        UseBias = useBias;
        KernelInitializer = kernelInitializer ?? Initializer.GlorotUniform();
        BiasInitializer = biasInitializer ?? Initializer.Zeros();
        KernelRegularizer = kernelRegularizer;
        InputShape = inputShape;
    }

    public Conv2D(int filters, int kernelSize, int strides = 1, string padding = "valid", string? activation = null,
        bool useBias = true, Initializer? kernelInitializer = null, Regularizer? kernelRegularizer = null, int[]? inputShape = null, string? name = null)
        : this(filters, [kernelSize, kernelSize], [strides, strides], padding, activation, useBias, kernelInitializer, null, kernelRegularizer, null, inputShape, name)
    {
    }

    public int Filters { get; }
    public int[] KernelSize { get; }
    public int[] Strides { get; }
    public int[] DilationRate { get; }
    public string PaddingMode { get; }
    public string Activation { get; }
    public bool UseBias { get; }
    public Initializer KernelInitializer { get; }
    public Initializer BiasInitializer { get; }
    public Regularizer? KernelRegularizer { get; }
    public int[]? InputShape { get; }

    internal Weight Kernel => Weights[0];
    internal Weight? Bias => UseBias ? Weights[1] : null;

    private int EffectiveKernel(int i) => (KernelSize[i] - 1) * DilationRate[i] + 1;

    internal override Tensor ToKerasLayout(Weight w, Tensor stored) => w.Name == "kernel" ? stored.permute(2, 3, 1, 0) : stored;

    internal override Tensor FromKerasLayout(Weight w, Tensor keras) => w.Name == "kernel" ? keras.permute(3, 2, 0, 1) : keras;

    public override int[] ComputeOutputShape(int[][] s)
    {
        if (s[0].Length != 3)
            throw new ArgumentException($"Conv2D '{Name}' expects (height, width, channels) inputs, got {Layout.Format(s[0])}.");
        return [Padding.OutSize(s[0][0], EffectiveKernel(0), Strides[0], PaddingMode), Padding.OutSize(s[0][1], EffectiveKernel(1), Strides[1], PaddingMode), Filters];
    }

    protected override void Build(int[][] s, Generator g, Device device)
    {
        long inC = s[0][2], kArea = KernelSize[0] * KernelSize[1];
        AddWeight("kernel", [Filters, inC, KernelSize[0], KernelSize[1]], KernelInitializer, inC * kArea, Filters * kArea, g, device, regularizer: KernelRegularizer);
        if (UseBias)
            AddWeight("bias", [Filters], BiasInitializer, inC * kArea, Filters * kArea, g, device);
    }

    internal override Tensor Forward(Tensor[] x, CallContext ctx)
    {
        var input = x[0];
        long[] pad = [0, 0];
        if (PaddingMode == "same")
        {
            var (t, b) = Padding.Same((int)input.shape[2], EffectiveKernel(0), Strides[0]);
            var (l, r) = Padding.Same((int)input.shape[3], EffectiveKernel(1), Strides[1]);
            if (t == b && l == r)
                pad = [t, l];
            else
                input = F.pad(input, [l, r, t, b]);
        }
        var y = TorchBackend.Conv2d(input, Kernel.Value, Bias?.Value, [Strides[0], Strides[1]], pad, [DilationRate[0], DilationRate[1]]);
        return Activations.Apply(Activation, y);
    }

    protected override void WriteConfig(JsonObject config)
    {
        config["filters"] = Filters;
        config["kernel_size"] = LayerConfig.Ints(KernelSize);
        config["strides"] = LayerConfig.Ints(Strides);
        config["padding"] = PaddingMode;
        config["dilation_rate"] = LayerConfig.Ints(DilationRate);
        LayerConfig.WriteKernelLayer(config, Activation, UseBias, KernelInitializer, BiasInitializer, KernelRegularizer);
    }

    public static Conv2D FromConfig(JsonObject config) => LayerConfig.Read(config, c =>
    {
        c.ExpectKernelLayerDefaults();
        c.Expect("groups", 1);
        return new Conv2D(c.Int("filters"), c.Ints("kernel_size", 2), c.Ints("strides", 2, [1, 1]), c.String("padding", "valid"), c.Activation(),
            c.Bool("use_bias", true), c.Initializer("kernel_initializer", Initializer.GlorotUniform()), c.Initializer("bias_initializer", Initializer.Zeros()),
            c.Regularizer("kernel_regularizer"), c.Ints("dilation_rate", 2, [1, 1]), name: c.Name);
    });

    /// <summary>Conv2D on an HWIO kernel, BiasAdd, activation.</summary>
    internal override string ExportGraphDef(GraphEmitter g, string scope, string[] x, int[][] inputShapes)
    {
        using var hwio = ToKerasLayout(Kernel, Kernel.Value).contiguous();
        var k = g.Const(scope + "/kernel", hwio);
        var conv = g.Node(scope + "/Conv2D", "Conv2D", x[0], k).FloatType()
            .Ints("strides", 1, Strides[0], Strides[1], 1).Ints("dilations", 1, DilationRate[0], DilationRate[1], 1)
            .Str("padding", PaddingMode.ToUpperInvariant()).Str("data_format", "NHWC").Bool("use_cudnn_on_gpu", true);
        return g.Activation(g.BiasAdd(conv, Bias, scope), Activation, scope);
    }

    internal override string Describe() => $"Conv2D({Filters}, {KernelSize[0]}x{KernelSize[1]}, s{Strides[0]}, {PaddingMode}, {Activation})";
}
