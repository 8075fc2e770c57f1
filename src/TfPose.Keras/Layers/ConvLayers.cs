using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TfPose.Keras;

/// <summary>TensorFlow's padding arithmetic ("same" pads the extra pixel at the bottom/right).</summary>
internal static class Padding
{
    public static string Validate(string padding) => padding is "same" or "valid"
        ? padding
        : throw new ArgumentException($"Padding must be 'same' or 'valid', not '{padding}'.");

    public static int OutSize(int input, int kernel, int stride, string padding) =>
        padding == "same" ? (input + stride - 1) / stride : (input - kernel) / stride + 1;

    /// <summary>(before, after) padding TensorFlow applies for "same".</summary>
    public static (int Before, int After) Same(int input, int kernel, int stride)
    {
        var outSize = (input + stride - 1) / stride;
        var total = Math.Max((outSize - 1) * stride + kernel - input, 0);
        return (total / 2, total - total / 2);
    }
}

/// <summary>2-D convolution, channels-last at the API. Kernel stored torch-style [out, in, kh, kw].</summary>
public sealed class Conv2D : Layer
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
    public override string KerasName => "Conv2D";

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

    internal override string Describe() => $"Conv2D({Filters}, {KernelSize[0]}x{KernelSize[1]}, s{Strides[0]}, {PaddingMode}, {Activation})";
}

/// <summary>Transposed convolution with TensorFlow's output sizes. Kernel stored torch-style [in, out, kh, kw].</summary>
public sealed class Conv2DTranspose : Layer
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
    public override string KerasName => "Conv2DTranspose";

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

    internal override string Describe() => $"Conv2DTranspose({Filters}, {KernelSize[0]}x{KernelSize[1]}, s{Strides[0]}, {PaddingMode})";
}

/// <summary>What the 2-D pooling layers share: window, strides, TensorFlow padding and the output shape they imply.</summary>
public abstract class Pooling2D : Layer
{
    protected Pooling2D(int[]? poolSize, int[]? strides, string padding, string? name) : base(name)
    {
        PoolSize = poolSize ?? [2, 2];
        Strides = strides ?? PoolSize;
        PaddingMode = Padding.Validate(padding);
    }

    public int[] PoolSize { get; }
    public int[] Strides { get; }
    public string PaddingMode { get; }

    public override int[] ComputeOutputShape(int[][] s) =>
        [Padding.OutSize(s[0][0], PoolSize[0], Strides[0], PaddingMode), Padding.OutSize(s[0][1], PoolSize[1], Strides[1], PaddingMode), s[0][2]];
}

/// <summary>Max pooling with TensorFlow padding (padding never wins the max).</summary>
public sealed class MaxPooling2D : Pooling2D
{
    public MaxPooling2D(int[]? poolSize = null, int[]? strides = null, string padding = "valid", string? name = null)
        : base(poolSize, strides, padding, name)
    {
    }

    public override string KerasName => "MaxPooling2D";

    internal override Tensor Forward(Tensor[] x, CallContext ctx)
    {
        var input = x[0];
        if (PaddingMode == "same")
        {
            var (t, b) = Padding.Same((int)input.shape[2], PoolSize[0], Strides[0]);
            var (l, r) = Padding.Same((int)input.shape[3], PoolSize[1], Strides[1]);
            if (t + b + l + r > 0)
                input = F.pad(input, [l, r, t, b], value: double.NegativeInfinity);
        }
        return F.max_pool2d(input, [PoolSize[0], PoolSize[1]], [Strides[0], Strides[1]]);
    }
}

/// <summary>Average pooling; with "same" padding the average excludes padded cells, as TensorFlow does.</summary>
public sealed class AveragePooling2D : Pooling2D
{
    public AveragePooling2D(int[]? poolSize = null, int[]? strides = null, string padding = "valid", string? name = null)
        : base(poolSize, strides, padding, name)
    {
    }

    public override string KerasName => "AveragePooling2D";

    internal override Tensor Forward(Tensor[] x, CallContext ctx)
    {
        var input = x[0];
        long[] k = [PoolSize[0], PoolSize[1]], st = [Strides[0], Strides[1]];
        if (PaddingMode != "same")
            return F.avg_pool2d(input, k, st);
        var (t, b) = Padding.Same((int)input.shape[2], PoolSize[0], Strides[0]);
        var (l, r) = Padding.Same((int)input.shape[3], PoolSize[1], Strides[1]);
        if (t + b + l + r == 0)
            return F.avg_pool2d(input, k, st);
        using var ones = torch.ones([1, 1, input.shape[2], input.shape[3]], input.dtype, input.device);
        using var count = F.avg_pool2d(F.pad(ones, [l, r, t, b]), k, st);
        return F.avg_pool2d(F.pad(input, [l, r, t, b]), k, st) / count;
    }
}

/// <summary>Zero padding of height and width: ((top, bottom), (left, right)).</summary>
public sealed class ZeroPadding2D : Layer
{
    public ZeroPadding2D(int padding = 1, string? name = null) : this([padding, padding, padding, padding], name) { }

    /// <param name="padding">top, bottom, left, right.</param>
    public ZeroPadding2D(int[] padding, string? name = null) : base(name) => Pad = padding;

    public int[] Pad { get; }
    public override string KerasName => "ZeroPadding2D";
    public override int[] ComputeOutputShape(int[][] s) => [s[0][0] + Pad[0] + Pad[1], s[0][1] + Pad[2] + Pad[3], s[0][2]];
    internal override Tensor Forward(Tensor[] x, CallContext ctx) => F.pad(x[0], [Pad[2], Pad[3], Pad[0], Pad[1]]);
}

/// <summary>Crops height and width: top, bottom, left, right.</summary>
public sealed class Cropping2D : Layer
{
    public Cropping2D(int cropping, string? name = null) : this([cropping, cropping, cropping, cropping], name) { }

    /// <param name="cropping">top, bottom, left, right.</param>
    public Cropping2D(int[] cropping, string? name = null) : base(name) => Crop = cropping;

    public int[] Crop { get; }
    public override string KerasName => "Cropping2D";
    public override int[] ComputeOutputShape(int[][] s) => [s[0][0] - Crop[0] - Crop[1], s[0][1] - Crop[2] - Crop[3], s[0][2]];

    internal override Tensor Forward(Tensor[] x, CallContext ctx)
    {
        long h = x[0].shape[2], w = x[0].shape[3];
        return x[0][.., .., Crop[0]..(int)(h - Crop[1]), Crop[2]..(int)(w - Crop[3])];
    }
}

/// <summary>Nearest-neighbour upsampling by integer factors (Keras' default interpolation).</summary>
public sealed class UpSampling2D : Layer
{
    public UpSampling2D(int[]? size = null, string? name = null) : base(name) => Size = size ?? [2, 2];

    public int[] Size { get; }
    public override string KerasName => "UpSampling2D";
    public override int[] ComputeOutputShape(int[][] s) => [s[0][0] * Size[0], s[0][1] * Size[1], s[0][2]];
    internal override Tensor Forward(Tensor[] x, CallContext ctx) => x[0].repeat_interleave(Size[0], 2).repeat_interleave(Size[1], 3);
}
