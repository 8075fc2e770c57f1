using TorchSharp;
using static TorchSharp.torch;

namespace TfPose.Keras.Tests;

/// <summary>The native runtime loads on this machine (Debian 12 needs the build-time patch) and trains.</summary>
public class TorchRuntimeTests
{
    [Fact]
    public void CreatesATensorAndTrainsOneStep()
    {
        var w = new TorchSharp.Modules.Parameter(torch.tensor(new float[] { 1f, -2f }));
        using var x = torch.tensor(new float[] { 3f, 4f });
        using var opt = optim.SGD([w], 0.1);
        using (var loss = (w * x).sum())
            loss.backward();
        opt.step();
        // d/dw sum(w*x) = x, so one SGD step with lr 0.1 gives w - 0.1*x.
        Assert.Equal(0.7f, w[0].item<float>(), 5);
        Assert.Equal(-2.4f, w[1].item<float>(), 5);
        w.Dispose();
    }
}
