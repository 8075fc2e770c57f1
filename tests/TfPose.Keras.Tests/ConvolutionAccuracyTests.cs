using static TorchSharp.torch;

namespace TfPose.Keras.Tests;

/// <summary>
/// Conv2D in float32 against the same convolution in float64 (which never goes through oneDNN) for the channel counts
/// and strides that libtorch's oneDNN kernels got wrong without <see cref="TorchBackend"/>'s measures: 12 output
/// channels (input gradient off by ~3 or NaN), 60 input channels (forward off by ~3), 48 input channels at stride 2.
/// </summary>
public class ConvolutionAccuracyTests
{
    [Theory]
    [InlineData(60, 12, 64, 1)]
    [InlineData(48, 12, 64, 1)]
    [InlineData(112, 12, 32, 1)]
    [InlineData(3, 48, 64, 1)]
    [InlineData(48, 20, 33, 2)]
    [InlineData(24, 16, 32, 2)]
    public void Conv2D_output_and_gradients_match_float64(int inChannels, int filters, int size, int stride)
    {
        Assert.True(TorchBackend.EnsureConfigured(), "oneDNN's ISA cap could not be set");
        var g = new TorchSharp.torch.Generator(11);
        using var model = new Sequential([new Conv2D(filters, 3, strides: stride, padding: "same", inputShape: [size, size, inChannels])], seed: 5);
        using var x = randn([2, size, size, inChannels], generator: g);
        int outSize = (size + stride - 1) / stride;
        using var upstream = randn([2, outSize, outSize, filters], generator: g);
        // Inside a model rank-4 tensors are NCHW and Conv2D stores its kernel torch-style [filters, in, kh, kw].
        using var xNchw = x.permute(0, 3, 1, 2).contiguous();
        using var upNchw = upstream.permute(0, 3, 1, 2).contiguous();
        var conv = model.Layers[0];

        // Three times: the broken path also varied from call to call.
        for (int rep = 0; rep < 3; rep++)
        {
            using var xi = xNchw.clone().requires_grad_(true);
            var kernel = conv.Weights[0].Value;
            var y = model.Run([xi], new CallContext(true, model.Generator, null))[0];
            var grads = autograd.grad([y], [xi, kernel], [upNchw]);

            using var x64 = xNchw.to_type(ScalarType.Float64).requires_grad_(true);
            using var k64 = kernel.detach().to_type(ScalarType.Float64).requires_grad_(true);
            using var b64 = conv.Weights[1].Value.detach().to_type(ScalarType.Float64);
            // TensorFlow's "same": (out−1)·stride + 3 − size rows of padding in all, the smaller half first.
            long total = Math.Max((outSize - 1) * stride + 3 - size, 0), before = total / 2;
            using var x64Padded = nn.functional.pad(x64, [before, total - before, before, total - before]);
            using var y64 = nn.functional.conv2d(x64Padded, k64, b64, strides: [stride, stride]);
            var ref64 = autograd.grad([y64], [x64, k64], [upNchw.to_type(ScalarType.Float64)]);

            Assert.True(MaxDiff(y, y64) < 1e-4, $"forward differs by {MaxDiff(y, y64)}");
            Assert.True(MaxDiff(grads[0], ref64[0]) < 1e-4, $"input gradient differs by {MaxDiff(grads[0], ref64[0])}");
            // Kernel gradients sum 2·size² products of O(1) values: a relative tolerance.
            var scale = ref64[1].abs().max().item<double>();
            Assert.True(MaxDiff(grads[1], ref64[1]) < 1e-5 * scale, $"kernel gradient differs by {MaxDiff(grads[1], ref64[1])} (scale {scale})");
        }
    }

    private static double MaxDiff(Tensor a, Tensor b)
    {
        using var d = (a.to_type(ScalarType.Float64) - b).abs().max();
        var v = d.item<double>();
        return double.IsNaN(v) ? double.PositiveInfinity : v;
    }
}
