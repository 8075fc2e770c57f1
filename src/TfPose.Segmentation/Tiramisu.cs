using System.Globalization;
using TfPose.Keras;

namespace TfPose.Segmentation;

/// <summary>How the down path halves the resolution.</summary>
public enum TransitionDownKind
{
    /// <summary>BN → ReLU → 1×1 conv, stride 2 → Dropout (the fast.ai Keras code the reference uses).</summary>
    StridedConv,

    /// <summary>BN → ReLU → 1×1 conv → Dropout → 2×2 max-pool (Jégou et al., 2017).</summary>
    MaxPool,
}

/// <summary>
/// Configuration of a one-hundred-layers Tiramisu (FC-DenseNet). <see cref="DownLayers"/> are the layers per
/// dense block of the down path (the up path mirrors them), <see cref="BottleneckLayers"/> the block between.
/// </summary>
public sealed record TiramisuConfig
{
    public required string Name { get; init; }
    public required int[] DownLayers { get; init; }
    public required int BottleneckLayers { get; init; }
    public required int GrowthRate { get; init; }
    public int InitialFilters { get; init; } = 48;
    public int Classes { get; init; } = 11;
    public double DropoutRate { get; init; } = 0.2;
    public double WeightDecay { get; init; } = 1e-4;
    public TransitionDownKind TransitionDown { get; init; } = TransitionDownKind.StridedConv;

    /// <summary>Keras' default 0.99; short runs (tests) lower it so the moving statistics catch up within a few dozen steps.</summary>
    public double BatchNormMomentum { get; init; } = 0.99;

    /// <summary>Input height and width must be multiples of this (one halving per down block).</summary>
    public int SizeDivisor => 1 << DownLayers.Length;

    public static TiramisuConfig FcDenseNet56 => new() { Name = "fcdn56", DownLayers = [4, 4, 4, 4, 4], BottleneckLayers = 4, GrowthRate = 12 };
    public static TiramisuConfig FcDenseNet67 => new() { Name = "fcdn67", DownLayers = [5, 5, 5, 5, 5], BottleneckLayers = 5, GrowthRate = 16 };
    public static TiramisuConfig FcDenseNet103 => new() { Name = "fcdn103", DownLayers = [4, 5, 7, 10, 12], BottleneckLayers = 15, GrowthRate = 16 };

    /// <summary>
    /// "fcdn56", "fcdn67", "fcdn103", or a custom comma list of layers per block whose last entry is the
    /// bottleneck, e.g. "2,2,3" (two down blocks of 2 layers, bottleneck of 3) with growth <paramref name="growthRate"/> (default 12).
    /// </summary>
    public static TiramisuConfig Parse(string name, int? growthRate = null)
    {
        var known = name.ToLowerInvariant() switch
        {
            "fcdn56" or "fc-densenet56" => FcDenseNet56,
            "fcdn67" or "fc-densenet67" => FcDenseNet67,
            "fcdn103" or "fc-densenet103" => FcDenseNet103,
            _ => null,
        };
        if (known is not null)
            return growthRate is { } g ? known with { GrowthRate = g } : known;
        var parts = name.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 2 || !parts.All(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v > 0))
            throw new ArgumentException($"Unknown model '{name}'. Use fcdn56, fcdn67, fcdn103 or a list of layers per block ending with the bottleneck, e.g. 4,4,4,4,4,4.");
        var layers = parts.Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        return new TiramisuConfig { Name = "fcdn-" + string.Join("-", layers), DownLayers = layers[..^1], BottleneckLayers = layers[^1], GrowthRate = growthRate ?? 12 };
    }
}

/// <summary>
/// Builds FC-DenseNets on the Keras-style API as the reference Keras code does: a 3×3 conv of 48 filters, dense
/// blocks of BN → ReLU → 3×3 conv (growth) → Dropout each concatenated to the block input, transitions down,
/// a bottleneck block, and an up path whose transition up is a 3×3 stride-2 transposed conv over only the
/// feature maps the previous block added (concatenating its input would make the up path quadratic),
/// concatenated with the skip; then a 1×1 conv to the classes and a softmax over channels.
/// All convolutions use he_uniform and an L2 kernel penalty.
/// </summary>
public static class Tiramisu
{
    /// <summary>
    /// The model for <paramref name="height"/>×<paramref name="width"/> RGB inputs (multiples of the size divisor).
    /// Layer names depend only on the configuration, so weights load into a model built for any input size.
    /// </summary>
    public static Model Build(TiramisuConfig c, int height, int width, int? seed = null)
    {
        if (height % c.SizeDivisor != 0 || width % c.SizeDivisor != 0)
            throw new ArgumentException($"{c.Name}: input {width}x{height} must be a multiple of {c.SizeDivisor} in both directions ({c.DownLayers.Length} halvings); pad the image first.");
        var b = new Builder(c);
        var input = Keras.Keras.Input([height, width, 3], "image");
        var x = b.Conv(input, c.InitialFilters, 3, 1, "conv0");
        var skips = new List<KerasTensor>();
        for (int i = 0; i < c.DownLayers.Length; i++)
        {
            (x, _) = b.DenseBlock(x, c.DownLayers[i], $"down{i + 1}");
            skips.Add(x);
            x = b.TransitionDown(x, $"td{i + 1}");
        }
        var (_, added) = b.DenseBlock(x, c.BottleneckLayers, "bottleneck");
        for (int i = c.DownLayers.Length - 1, u = 1; i >= 0; i--, u++)
        {
            var up = b.TransitionUp(added, $"tu{u}");
            x = new Concatenate(name: $"up{u}_skip").Apply(up, skips[i]);
            (x, added) = b.DenseBlock(x, c.DownLayers[i], $"up{u}");
        }
        x = b.Conv(x, c.Classes, 1, 1, "logits");
        var output = new Softmax(name: "softmax").Apply(x);
        return new Model(input, output, c.Name, seed);
    }

    private sealed class Builder(TiramisuConfig c)
    {
        public KerasTensor Conv(KerasTensor x, int filters, int kernel, int stride, string name) =>
            new Conv2D(filters, kernel, stride, "same", kernelInitializer: Initializer.HeUniform(),
                kernelRegularizer: Regularizer.L2(c.WeightDecay), name: name).Apply(x);

        private KerasTensor Dropout(KerasTensor x, string name) => c.DropoutRate > 0 ? new Dropout(c.DropoutRate, name).Apply(x) : x;

        /// <summary>BN → ReLU → conv → Dropout, the reference's conv_relu_bn.</summary>
        private KerasTensor BnReluConv(KerasTensor x, int filters, int kernel, int stride, string name)
        {
            x = new BatchNormalization(c.BatchNormMomentum, name: name + "_bn").Apply(x);
            x = new ReLU(name: name + "_relu").Apply(x);
            x = Conv(x, filters, kernel, stride, name + "_conv");
            return Dropout(x, name + "_drop");
        }

        /// <summary>Returns the block output (input and all new maps) and the new maps alone.</summary>
        public (KerasTensor Output, List<KerasTensor> Added) DenseBlock(KerasTensor x, int layers, string name)
        {
            var added = new List<KerasTensor>();
            for (int i = 0; i < layers; i++)
            {
                var y = BnReluConv(x, c.GrowthRate, 3, 1, $"{name}_l{i + 1}");
                x = new Concatenate(name: $"{name}_cat{i + 1}").Apply(x, y);
                added.Add(y);
            }
            return (x, added);
        }

        public KerasTensor TransitionDown(KerasTensor x, string name)
        {
            int channels = x.Shape[^1];
            if (c.TransitionDown == TransitionDownKind.StridedConv)
                return BnReluConv(x, channels, 1, 2, name);
            var y = BnReluConv(x, channels, 1, 1, name);
            return new MaxPooling2D([2, 2], name: name + "_pool").Apply(y);
        }

        public KerasTensor TransitionUp(List<KerasTensor> added, string name)
        {
            var x = added.Count == 1 ? added[0] : new Concatenate(name: name + "_new").Apply([.. added]);
            int channels = x.Shape[^1];
            return new Conv2DTranspose(channels, 3, 2, "same", kernelInitializer: Initializer.HeUniform(),
                kernelRegularizer: Regularizer.L2(c.WeightDecay), name: name + "_deconv").Apply(x);
        }
    }
}
