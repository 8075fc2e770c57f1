using System.Text.Json.Nodes;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TfPose.Keras;

/// <summary>Transposed convolution with TensorFlow's output sizes. Kernel stored torch-style [in, out, kh, kw].</summary>
public sealed class Conv2DTranspose : Layer, IKerasLayer<Conv2DTranspose>
{
    public Conv2DTranspose(int filters, int[] kernelSize, int[]? strides = null, string padding = "valid", string? activation = null,
        bool useBias = true, Initializer? kernelInitializer = null, Initializer? biasInitializer = null,
        Regularizer? kernelRegularizer = null, string? name = null) : base(name)
    {
        Filters = filters;
        KernelSize = kernelSize.Length == 1 ? [kernelSize[0], kernelSize[0]] : kernelSize;
        Strides = strides is null ? [1, 1] : strides.Length == 1 ? [strides[0], strides[0]] : strides;
        PaddingMode = Padding.Validate(padding);
        Activation = Activations.Validate(activation);
        UseBias = useBias;
        KernelInitializer = kernelInitializer ?? Initializer.GlorotUniform();
        BiasInitializer = biasInitializer ?? Initializer.Zeros();
        KernelRegularizer = kernelRegularizer;
    }

    public Conv2DTranspose(int filters, int kernelSize, int strides = 1, string padding = "valid", string? activation = null,
        bool useBias = true, Initializer? kernelInitializer = null, Regularizer? kernelRegularizer = null, string? name = null)
        : this(filters, [kernelSize, kernelSize], [strides, strides], padding, activation, useBias, kernelInitializer, null, kernelRegularizer, name)
    {
    }

    public int Filters { get; }
    public int[] KernelSize { get; }
    public int[] Strides { get; }
    public string PaddingMode { get; }
    public string Activation { get; }
    public bool UseBias { get; }
    public Initializer KernelInitializer { get; }
    public Initializer BiasInitializer { get; }
    public Regularizer? KernelRegularizer { get; }

    internal Weight Kernel => Weights[0];
    internal Weight? Bias => UseBias ? Weights[1] : null;

    private int OutSize(int input, int i) => PaddingMode == "same"
        ? input * Strides[i]
        : input * Strides[i] + Math.Max(KernelSize[i] - Strides[i], 0);

    public override int[] ComputeOutputShape(int[][] s) => [OutSize(s[0][0], 0), OutSize(s[0][1], 1), Filters];

    // Stored [in, out, kh, kw]; Keras' Conv2DTranspose kernel is [kh, kw, out, in].
    internal override Tensor ToKerasLayout(Weight w, Tensor stored) => w.Name == "kernel" ? stored.permute(2, 3, 1, 0) : stored;

    internal override Tensor FromKerasLayout(Weight w, Tensor keras) => w.Name == "kernel" ? keras.permute(3, 2, 0, 1) : keras;

    protected override void Build(int[][] s, Generator g, Device device)
    {
        long inC = s[0][2], kArea = KernelSize[0] * KernelSize[1];
        // Keras' kernel is (kh, kw, filters, in): its glorot fan_in is kArea*filters, fan_out kArea*in.
        AddWeight("kernel", [inC, Filters, KernelSize[0], KernelSize[1]], KernelInitializer, Filters * kArea, inC * kArea, g, device, regularizer: KernelRegularizer);
        if (UseBias)
            AddWeight("bias", [Filters], BiasInitializer, Filters * kArea, inC * kArea, g, device);
    }

    internal override Tensor Forward(Tensor[] x, CallContext ctx)
    {
        var input = x[0];
        int h = (int)input.shape[2], w = (int)input.shape[3];
        // Full transposed convolution, then TensorFlow's crop: for "same" the (k - s) extra pixels are removed,
        // floor half before, the rest after (the gradient of a "same" Conv2D).
        var full = FullTransposedConvolution(input);
        int outH = OutSize(h, 0), outW = OutSize(w, 1);
        int fullH = (int)full.shape[2], fullW = (int)full.shape[3];
        Tensor y = full;
        if (fullH < outH || fullW < outW)
            y = F.pad(y, [0, Math.Max(outW - fullW, 0), 0, Math.Max(outH - fullH, 0)]);
        int top = PaddingMode == "same" ? Math.Max(fullH - outH, 0) / 2 : 0;
        int left = PaddingMode == "same" ? Math.Max(fullW - outW, 0) / 2 : 0;
        if (y.shape[2] != outH || y.shape[3] != outW)
            y = y[.., .., top..(top + outH), left..(left + outW)];
        if (UseBias)
            y = y + Bias!.Value.view(1, -1, 1, 1);
        return Activations.Apply(Activation, y);
    }

    /// <summary>
    /// The full ("valid", uncropped) transposed convolution, (H−1)·s + k per axis, computed as a stride-1 Conv2D of the
    /// zero-interleaved, (k−1)-padded input with the flipped kernel. Mathematically conv_transpose2d; done this way because
    /// libtorch 2.10's CPU conv_transpose2d returned different values for the same inputs on consecutive calls on this
    /// machine (seen for 3 and 8 input channels), while conv2d is repeatable.
    /// </summary>
    private Tensor FullTransposedConvolution(Tensor input)
    {
        long n = input.shape[0], c = input.shape[1], h = input.shape[2], w = input.shape[3];
        int sh = Strides[0], sw = Strides[1], kh = KernelSize[0], kw = KernelSize[1];
        var x = input;
        if (sh > 1 || sw > 1)
        {
            // (N, C, H, 1, W, 1) padded to (N, C, H, sh, W, sw): each pixel followed by s−1 zeros per axis.
            x = F.pad(input.reshape(n, c, h, 1, w, 1), [0, sw - 1, 0, 0, 0, sh - 1]).reshape(n, c, h * sh, w * sw);
            x = x[.., .., ..(int)((h - 1) * sh + 1), ..(int)((w - 1) * sw + 1)];
        }
        x = F.pad(x, [kw - 1, kw - 1, kh - 1, kh - 1]);
        using var flipped = Kernel.Value.flip(2, 3).transpose(0, 1);
        return TorchBackend.Conv2d(x, flipped, null, [1, 1], [0, 0]);
    }

    protected override void WriteConfig(JsonObject config)
    {
        config["filters"] = Filters;
        config["kernel_size"] = LayerConfig.Ints(KernelSize);
        config["strides"] = LayerConfig.Ints(Strides);
        config["padding"] = PaddingMode;
        LayerConfig.WriteKernelLayer(config, Activation, UseBias, KernelInitializer, BiasInitializer, KernelRegularizer);
    }

    public static Conv2DTranspose FromConfig(JsonObject config) => LayerConfig.Read(config, c =>
    {
        c.ExpectKernelLayerDefaults();
        c.Expect("output_padding");
        c.Expect("dilation_rate", 1, new JsonArray(1, 1));
        return new Conv2DTranspose(c.Int("filters"), c.Ints("kernel_size", 2), c.Ints("strides", 2, [1, 1]), c.String("padding", "valid"), c.Activation(),
            c.Bool("use_bias", true), c.Initializer("kernel_initializer", Initializer.GlorotUniform()), c.Initializer("bias_initializer", Initializer.Zeros()),
            c.Regularizer("kernel_regularizer"), name: c.Name);
    });

    /// <summary>Conv2DBackpropInput's input_sizes includes the batch; see <see cref="GraphDefExporter"/>.</summary>
    internal override bool ExportNeedsFixedBatch => true;

    internal override string ExportGraphDef(GraphEmitter g, string scope, string[] x, int[][] inputShapes)
    {
        var outShape = ComputeOutputShape([inputShapes[0]]);
        var sizes = g.ConstInt(scope + "/stack", [g.Batch, outShape[0], outShape[1], outShape[2]], 4);
        // TensorFlow's filter for Conv2DBackpropInput is [kh, kw, out_channels, in_channels]: Keras' layout.
        using var hwoi = ToKerasLayout(Kernel, Kernel.Value).contiguous();
        var k = g.Const(scope + "/kernel", hwoi);
        var conv = g.Node(scope + "/conv2d_transpose", "Conv2DBackpropInput", sizes, k, x[0]).FloatType()
            .Ints("strides", 1, Strides[0], Strides[1], 1).Ints("dilations", 1, 1, 1, 1).Str("padding", PaddingMode.ToUpperInvariant())
            .Str("data_format", "NHWC").Bool("use_cudnn_on_gpu", true).Ints("explicit_paddings");
        return g.Activation(g.BiasAdd(conv, Bias, scope), Activation, scope);
    }

    internal override string Describe() => $"Conv2DTranspose({Filters}, {KernelSize[0]}x{KernelSize[1]}, s{Strides[0]}, {PaddingMode})";
}
