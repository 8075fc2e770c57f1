using TfPose.Segmentation;
using Model = TfPose.Keras.Model;
using TorchBackend = TfPose.Keras.TorchBackend;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TfPose.Benchmarks.Segmentation;

/// <summary>
/// The Tiramisu of <see cref="Tiramisu.Build"/> written the way a TorchSharp user would write it by hand: torch.nn
/// modules, NCHW throughout, fused <c>BatchNorm2d</c>, a native transposed convolution, logits out. It exists only as
/// the baseline of <c>tfpose bench segment</c>, so the Keras-style layer's overhead is measured against the same network
/// (same layers, channel counts, padding and crops; <see cref="CopyFrom"/> takes the Keras model's weights). One
/// departure from plain modules: convolutions go through <see cref="TorchBackend.Conv2d"/>'s whole-channel-block
/// padding (and the transposed one through the same padding here), because libtorch's oneDNN gives wrong values for
/// partly filled channel blocks on these machines; a baseline without it would be fast and wrong. Differences that do
/// not change the forward pass: BatchNorm2d moves its running variance with the unbiased batch variance (the
/// Keras-style layer uses the biased one), and the loss is taken from logits (log-softmax) rather than from clipped
/// probabilities.
/// </summary>
public sealed class RawTiramisu : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv0;
    private readonly ModuleList<ModuleList<BnReluConv>> down = new();
    private readonly ModuleList<BnReluConv> transitionsDown = new();
    private readonly ModuleList<BnReluConv> bottleneck = new();
    private readonly ModuleList<ConvTranspose2d> transitionsUp = new();
    private readonly ModuleList<ModuleList<BnReluConv>> up = new();
    private readonly Conv2d logits;

    // Keras layer name → module, for CopyFrom; the names are Tiramisu.Build's.
    private readonly Dictionary<string, nn.Module> _byKerasName = [];

    public RawTiramisu(TiramisuConfig c) : base("raw_tiramisu")
    {
        // The oneDNN ISA cap must be in place before the first convolution, as for the Keras-style layers.
        TorchBackend.EnsureConfigured();
        Config = c;
        conv0 = nn.Conv2d(3, c.InitialFilters, 3, padding: 1);
        _byKerasName["conv0"] = conv0;
        int channels = c.InitialFilters;
        var skips = new List<int>();
        for (int i = 0; i < c.DownLayers.Length; i++)
        {
            down.Add(Block(ref channels, c.DownLayers[i], $"down{i + 1}"));
            skips.Add(channels);
            var td = new BnReluConv(c, channels, channels, 1, c.TransitionDown == TransitionDownKind.StridedConv ? 2 : 1,
                c.TransitionDown == TransitionDownKind.MaxPool);
            Register(td, $"td{i + 1}");
            transitionsDown.Add(td);
        }
        int bottleneckIn = channels;
        foreach (var l in Block(ref bottleneckIn, c.BottleneckLayers, "bottleneck"))
            bottleneck.Add(l);
        int added = c.BottleneckLayers * c.GrowthRate;
        for (int i = c.DownLayers.Length - 1, u = 1; i >= 0; i--, u++)
        {
            // Padding 0 and a crop of the last row and column in forward: TensorFlow's "same" crops the extra pixel at
            // the bottom/right, while ConvTranspose2d's padding/output_padding would crop the top/left one.
            var tu = nn.ConvTranspose2d(added, added, 3, stride: 2);
            _byKerasName[$"tu{u}_deconv"] = tu;
            transitionsUp.Add(tu);
            channels = added + skips[i];
            up.Add(Block(ref channels, c.DownLayers[i], $"up{u}"));
            added = c.DownLayers[i] * c.GrowthRate;
        }
        logits = nn.Conv2d(channels, c.Classes, 1);
        _byKerasName["logits"] = logits;
        RegisterComponents();
    }

    public TiramisuConfig Config { get; }

    private ModuleList<BnReluConv> Block(ref int channels, int layers, string name)
    {
        var block = new ModuleList<BnReluConv>();
        for (int l = 0; l < layers; l++)
        {
            var m = new BnReluConv(Config, channels, Config.GrowthRate, 3, 1, false);
            Register(m, $"{name}_l{l + 1}");
            block.Add(m);
            channels += Config.GrowthRate;
        }
        return block;
    }

    private void Register(BnReluConv m, string kerasPrefix)
    {
        _byKerasName[kerasPrefix + "_bn"] = m.Bn;
        _byKerasName[kerasPrefix + "_conv"] = m.Conv;
    }

    /// <summary>Class logits, NCHW, for NCHW inputs whose sides are multiples of the size divisor.</summary>
    public override Tensor forward(Tensor x)
    {
        x = Conv(conv0, x);
        var skips = new List<Tensor>();
        for (int i = 0; i < down.Count; i++)
        {
            x = DenseBlock(down[i], x, out _);
            skips.Add(x);
            x = transitionsDown[i].call(x);
        }
        DenseBlock(bottleneck, x, out var added);
        for (int u = 0; u < up.Count; u++)
        {
            var y = ConvTranspose(transitionsUp[u], added.Count == 1 ? added[0] : cat(added, 1));
            long h = y.shape[2] - 1, w = y.shape[3] - 1;
            y = y[.., .., ..(int)h, ..(int)w];
            x = DenseBlock(up[u], cat([y, skips[^(u + 1)]], 1), out added);
        }
        return Conv(logits, x);
    }

    /// <summary>The module's convolution with whole channel blocks (see the class note).</summary>
    private static Tensor Conv(Conv2d m, Tensor x) =>
        TorchBackend.Conv2d(x, m.weight!, m.bias, [m.stride[0], m.stride[1]], [m.padding![0], m.padding[1]]);

    /// <summary>conv_transpose2d with input and output channels padded to whole blocks, the padded outputs dropped.</summary>
    private static Tensor ConvTranspose(ConvTranspose2d m, Tensor x)
    {
        Tensor w = m.weight!, b = m.bias!;
        long cin = w.shape[0], cout = w.shape[1], block = TorchBackend.ChannelBlock;
        long padIn = (block - cin % block) % block, padOut = (block - cout % block) % block;
        if (padIn == 0 && padOut == 0)
            return F.conv_transpose2d(x, w, b, strides: [m.stride[0], m.stride[1]]);
        using var wp = F.pad(w, [0, 0, 0, 0, 0, padOut, 0, padIn]);
        using var xp = F.pad(x, [0, 0, 0, 0, 0, padIn]);
        using var bp = F.pad(b, [0, padOut]);
        using var y = F.conv_transpose2d(xp, wp, bp, strides: [m.stride[0], m.stride[1]]);
        return y.narrow(1, 0, cout);
    }

    private static Tensor DenseBlock(ModuleList<BnReluConv> layers, Tensor x, out List<Tensor> added)
    {
        added = [];
        foreach (var l in layers)
        {
            var y = l.call(x);
            x = cat([x, y], 1);
            added.Add(y);
        }
        return x;
    }

    /// <summary>Copies every weight and BatchNorm statistic of a Keras-style Tiramisu of the same configuration.</summary>
    public void CopyFrom(Model keras)
    {
        var layers = keras.Layers.Where(l => l.Weights.Count > 0).ToList();
        if (layers.Count != _byKerasName.Count)
            throw new ArgumentException($"model '{keras.Name}' has {layers.Count} layers with weights, the raw {Config.Name} has {_byKerasName.Count}; build both from the same configuration.");
        using var _ = no_grad();
        foreach (var layer in layers)
        {
            if (!_byKerasName.TryGetValue(layer.Name, out var module))
                throw new ArgumentException($"model '{keras.Name}': layer '{layer.Name}' has no counterpart in the raw {Config.Name}.");
            var w = layer.GetWeights();
            try
            {
                switch (module)
                {
                    // Keras kernels: Conv2D [kh, kw, in, out] → [out, in, kh, kw]; Conv2DTranspose [kh, kw, out, in] → [in, out, kh, kw].
                    case Conv2d conv:
                        Copy(conv.weight!, w[0].permute(3, 2, 0, 1), layer.Name);
                        Copy(conv.bias!, w[1], layer.Name);
                        break;
                    case ConvTranspose2d deconv:
                        Copy(deconv.weight!, w[0].permute(3, 2, 0, 1), layer.Name);
                        Copy(deconv.bias!, w[1], layer.Name);
                        break;
                    case BatchNorm2d bn:
                        Copy(bn.weight!, w[0], layer.Name);
                        Copy(bn.bias!, w[1], layer.Name);
                        Copy(bn.running_mean!, w[2], layer.Name);
                        Copy(bn.running_var!, w[3], layer.Name);
                        break;
                }
            }
            finally
            {
                foreach (var t in w) t.Dispose();
            }
        }
    }

    private static void Copy(Tensor to, Tensor from, string layer)
    {
        if (!to.shape.SequenceEqual(from.shape))
            throw new ArgumentException($"layer '{layer}': weight shape [{string.Join(", ", from.shape)}] does not fit the raw module's [{string.Join(", ", to.shape)}].");
        to.copy_(from);
    }

    /// <summary>The L2 kernel penalty the Keras-style model adds to its loss (convolution and deconvolution kernels, not biases).</summary>
    public Tensor KernelPenalty()
    {
        Tensor? sum = null;
        foreach (var m in _byKerasName.Values)
        {
            var k = m switch { Conv2d c => c.weight!, ConvTranspose2d d => d.weight!, _ => null };
            if (k is null)
                continue;
            var s = k.square().sum();
            sum = sum is null ? s : sum + s;
        }
        return sum!.mul(Config.WeightDecay);
    }

    /// <summary>BN → ReLU → conv → Dropout (→ 2×2 max-pool for the paper's transition down).</summary>
    private sealed class BnReluConv : nn.Module<Tensor, Tensor>
    {
        private readonly BatchNorm2d bn;
        private readonly Conv2d conv;
        private readonly Dropout? drop;
        private readonly MaxPool2d? pool;

        public BnReluConv(TiramisuConfig c, int inChannels, int outChannels, int kernel, int stride, bool maxPool) : base("bn_relu_conv")
        {
            // Keras' momentum 0.99 keeps 99% of the moving statistic; torch's momentum is the share of the new batch.
            bn = nn.BatchNorm2d(inChannels, eps: 1e-3, momentum: 1 - c.BatchNormMomentum);
            conv = nn.Conv2d(inChannels, outChannels, kernel, stride: stride, padding: kernel / 2);
            drop = c.DropoutRate > 0 ? nn.Dropout(c.DropoutRate) : null;
            pool = maxPool ? nn.MaxPool2d(2) : null;
            RegisterComponents();
        }

        public BatchNorm2d Bn => bn;
        public Conv2d Conv => conv;

        public override Tensor forward(Tensor x)
        {
            var y = Conv(conv, F.relu(bn.call(x)));
            if (drop is not null)
                y = drop.call(y);
            return pool is null ? y : pool.call(y);
        }
    }
}
