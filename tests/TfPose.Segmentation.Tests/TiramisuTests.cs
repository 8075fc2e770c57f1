using TfPose.Keras;
using static TorchSharp.torch;

namespace TfPose.Segmentation.Tests;

public sealed class TiramisuTests
{
    /// <summary>
    /// Parameters of an FC-DenseNet derived from the paper's architecture, layer by layer (trainable, BN moving statistics):
    /// conv 3×3 c→48 with bias; each dense layer BN(c) + 3×3 conv c→g; transition down BN(c) + 1×1 conv c→c;
    /// transition up 3×3 deconv over the n·g new maps of the previous block; skip concatenation; 1×1 conv to 11 classes.
    /// </summary>
    private static (long Trainable, long Moving) HandCount(int[] down, int bottleneck, int g, int classes = 11)
    {
        long trainable = 3 * 3 * 3 * 48 + 48, moving = 0;
        int c = 48;
        void Dense(int n)
        {
            for (int i = 0; i < n; i++)
            {
                trainable += 2 * c + 9L * c * g + g; // gamma, beta; kernel, bias
                moving += 2 * c;
                c += g;
            }
        }
        var skips = new List<int>();
        foreach (var n in down)
        {
            Dense(n);
            skips.Add(c);
            trainable += 2 * c + (long)c * c + c;
            moving += 2 * c;
        }
        Dense(bottleneck);
        int prevNew = bottleneck * g;
        for (int i = down.Length - 1; i >= 0; i--)
        {
            trainable += 9L * prevNew * prevNew + prevNew;
            c = prevNew + skips[i];
            Dense(down[i]);
            prevNew = down[i] * g;
        }
        trainable += (long)c * classes + classes;
        return (trainable, moving);
    }

    [Theory]
    [InlineData("fcdn56", 1_376_795L, 1.3e6, 1.6e6)]
    [InlineData("fcdn67", 3_463_243L, 3.4e6, 3.6e6)]
    [InlineData("fcdn103", 9_322_091L, 9.2e6, 9.5e6)]
    public void Parameter_counts_match_the_architecture_derived_by_hand(string name, long expectedTrainable, double low, double high)
    {
        var c = TiramisuConfig.Parse(name);
        var (trainable, moving) = HandCount(c.DownLayers, c.BottleneckLayers, c.GrowthRate);
        // The literal was worked out once with the same arithmetic on paper; both must agree with the model.
        Assert.Equal(expectedTrainable, trainable);
        using var m = Tiramisu.Build(c, 64, 64, seed: 1);
        Assert.Equal(trainable + moving, m.CountParams());
        var summary = m.Summary();
        Assert.Contains($"Trainable params: {trainable:N0}", summary);
        Assert.Contains($"Non-trainable params: {moving:N0}", summary);
        // The paper's rounded figures: 1.5M, 3.5M, 9.4M (56 comes out at 1.38M with these layer counts).
        Assert.InRange(trainable, low, high);
    }

    [Fact]
    public void Paper_transition_down_has_the_same_parameters_and_a_max_pool()
    {
        var c = TiramisuConfig.FcDenseNet56 with { TransitionDown = TransitionDownKind.MaxPool };
        using var m = Tiramisu.Build(c, 64, 64, seed: 1);
        var (t, mv) = HandCount(c.DownLayers, c.BottleneckLayers, c.GrowthRate);
        Assert.Equal(t + mv, m.CountParams());
        Assert.Equal(5, m.Layers.Count(l => l is MaxPooling2D));
        using var f = Tiramisu.Build(TiramisuConfig.FcDenseNet56, 64, 64, seed: 1);
        Assert.Equal(0, f.Layers.Count(l => l is MaxPooling2D));
        Assert.Equal(5, f.Layers.OfType<Conv2D>().Count(l => l.Strides[0] == 2 && l.KernelSize[0] == 1));
    }

    [Fact]
    public void Transition_up_sees_only_the_new_maps_of_the_previous_block()
    {
        using var m = Tiramisu.Build(TiramisuConfig.FcDenseNet103, 64, 64, seed: 1);
        // Keras kernel layout [kh, kw, out, in]; in = out = layers × growth of the block before: 15, 12, 10, 7, 5 (× 16).
        var shapes = m.Layers.OfType<Conv2DTranspose>().Select(l => l.GetWeights()[0]).Select(k => (k.shape[2], k.shape[3], k.shape[0])).ToList();
        Assert.Equal(new[] { (240L, 240L, 3L), (192L, 192L, 3L), (160L, 160L, 3L), (112L, 112L, 3L), (80L, 80L, 3L) }, shapes);
        Assert.All(m.Layers.OfType<Conv2DTranspose>(), l => Assert.Equal(2, l.Strides[0]));
    }

    [Fact]
    public void Custom_list_shapes_and_softmax_output()
    {
        var c = TiramisuConfig.Parse("2,3,2", growthRate: 4);
        Assert.Equal(new[] { 2, 3 }, c.DownLayers);
        Assert.Equal(2, c.BottleneckLayers);
        Assert.Equal(4, c.SizeDivisor);
        using var m = Tiramisu.Build(c, 16, 24, seed: 3);
        Assert.Equal(new[] { 16, 24, 11 }, m.Outputs[0].Shape);
        // Skip concatenations by hand: up1 = deconv over the bottleneck's 2·4 new maps at 8×12 + skip 2 (48 + 2·4 + 3·4 = 68) = 76;
        // up2 = deconv over up1's 3·4 new maps at 16×24 + skip 1 (48 + 2·4 = 56) = 68.
        var summary = m.Summary();
        Assert.Matches(@"up1_skip \(Concatenate\)\s+\(None, 8, 12, 76\)", summary);
        Assert.Matches(@"up2_skip \(Concatenate\)\s+\(None, 16, 24, 68\)", summary);
        Assert.Matches(@"td2_conv \(Conv2D\)\s+\(None, 4, 6, 68\)", summary);
        using var x = randn(2, 16, 24, 3);
        using var y = m.PredictOnBatch(x);
        Assert.Equal(new long[] { 2, 16, 24, 11 }, y.shape);
        using var sums = y.sum(-1);
        Assert.True(sums.allclose(ones_like(sums), atol: 1e-5));
        var (t, mv) = HandCount([2, 3], 2, 4);
        Assert.Equal(t + mv, m.CountParams());
    }

    [Fact]
    public void Sizes_that_do_not_halve_cleanly_and_unknown_names_are_rejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => Tiramisu.Build(TiramisuConfig.FcDenseNet56, 360, 480));
        Assert.Contains("multiple of 32", ex.Message);
        Assert.Throws<ArgumentException>(() => TiramisuConfig.Parse("fcdn99"));
    }

    [Fact]
    public void He_uniform_and_L2_on_every_kernel()
    {
        using var m = Tiramisu.Build(TiramisuConfig.FcDenseNet56, 32, 32, seed: 2);
        var convs = m.Layers.OfType<Conv2D>().ToList();
        Assert.All(convs, l => Assert.NotNull(l.KernelRegularizer));
        Assert.All(m.Layers.OfType<Conv2DTranspose>(), l => Assert.NotNull(l.KernelRegularizer));
        // he_uniform: |w| ≤ sqrt(6 / fan_in); first conv fan_in = 27.
        var k = convs[0].GetWeights()[0];
        Assert.True(k.abs().max().item<float>() <= Math.Sqrt(6.0 / 27) + 1e-6);
        Assert.True(k.abs().max().item<float>() > 0.8 * Math.Sqrt(6.0 / 27));
    }
}
