using static TorchSharp.torch;

namespace TfPose.Keras.Tests;

/// <summary>
/// The fault behind the Tiramisu's NaNs, reproduced the way it struck: channel counts that leave a partial oneDNN
/// channel block (54 = 3·16 + 6, 60 = 7·8 + 4, 12, 6 filters) and freed memory that held NaN. libtorch 2.10's oneDNN
/// reorders a convolution kernel into a layout padded to whole blocks of 16 (AVX-512) or 8 (AVX2) channels; on CPUs that
/// report no cache topology (CPUID leaves 4 and 0x8000001D zero, as in Firecracker VMs) its JIT reorder zeroes the
/// padding of the last input-channel block as one contiguous run: the next kernel taps' real weights become zeros and
/// the other taps' padding keeps what the allocator returned, so the output is off by units, and NaN when that memory
/// last held NaN. Each layer is compared with itself run in float64, which never goes through oneDNN.
/// </summary>
public class PartialChannelBlockTests
{
    /// <summary>Frees NaN-filled buffers of many sizes, so the allocator hands NaN memory to whatever asks next.</summary>
    private static void PoisonFreedMemory()
    {
        var junk = new List<Tensor>();
        for (long n = 256; n < 64_000; n += 512)
            junk.Add(full(n, float.NaN));
        foreach (var t in junk)
            t.Dispose();
    }

    [Theory]
    [InlineData(54, 6, false)]
    [InlineData(60, 12, false)]
    [InlineData(12, 6, true)]
    public void Layer_matches_itself_in_float64_after_nan_was_freed(int inChannels, int filters, bool transposed)
    {
        Layer layer = transposed
            ? new Conv2DTranspose(filters, 3, 2, "same")
            : new Conv2D(filters, 3, padding: "same");
        var input = Keras.Input([24, 32, inChannels]);
        using var model = new Model(input, layer.Apply(input), seed: 3);
        using var g = new Generator(17);
        using var x = randn([2, inChannels, 24, 32], generator: g);
        var outShape = model.Outputs[0].Shape;
        using var upstream = randn([2, outShape[2], outShape[0], outShape[1]], generator: g);

        var results = new List<(Tensor Y, Tensor Dx, Tensor Dk)>();
        for (int rep = 0; rep < 3; rep++)
        {
            PoisonFreedMemory();
            using var xi = x.clone().requires_grad_(true);
            var y = model.Run([xi], new CallContext(true, model.Generator, null))[0];
            var grads = autograd.grad([y], [xi, layer.Weights[0].Value], [upstream]);
            results.Add((y.detach(), grads[0], grads[1]));
        }

        // The reference: the same layer with float64 weights on the float64 input.
        foreach (var w in layer.Weights)
            w.Value = w.Value.detach().to_type(ScalarType.Float64).requires_grad_(true);
        using var x64 = x.to_type(ScalarType.Float64).requires_grad_(true);
        var y64 = model.Run([x64], new CallContext(true, model.Generator, null))[0];
        var ref64 = autograd.grad([y64], [x64, layer.Weights[0].Value], [upstream.to_type(ScalarType.Float64)]);
        var kernelScale = ref64[1].abs().max().item<double>();

        foreach (var (y, dx, dk) in results)
        {
            Assert.True(MaxDiff(y, y64) < 1e-4, $"forward differs by {MaxDiff(y, y64)}");
            Assert.True(MaxDiff(dx, ref64[0]) < 1e-4, $"input gradient differs by {MaxDiff(dx, ref64[0])}");
            Assert.True(MaxDiff(dk, ref64[1]) < 1e-5 * kernelScale, $"kernel gradient differs by {MaxDiff(dk, ref64[1])} (scale {kernelScale})");
        }
    }

    private static double MaxDiff(Tensor a, Tensor b)
    {
        using var d = (a.to_type(ScalarType.Float64) - b).abs().max();
        var v = d.item<double>();
        return double.IsNaN(v) ? double.PositiveInfinity : v;
    }
}
