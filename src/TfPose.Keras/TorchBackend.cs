using System.Runtime.InteropServices;

namespace TfPose.Keras;

/// <summary>
/// Process-wide libtorch settings every Keras-style model relies on. libtorch 2.10's oneDNN (mkldnn) convolution
/// path computes wrong values on x86-64 CPUs when a convolution has output channels that are not a multiple of the
/// kernel's channel block (12, the Tiramisu's growth rate, is one): the forward pass and the input gradient come
/// out off by several units, or NaN depending on what the padded tail of a reused buffer held, with or without
/// ONEDNN_MAX_CPU_ISA. libtorch's own convolution kernels agree with a float64 computation to 1e-6 for the same
/// shapes, so models run with oneDNN switched off. TorchSharp has no switch for it; libtorch's
/// <c>at::Context::setUserEnabledMkldnn</c> is called directly (the same switch as PyTorch's
/// <c>torch.backends.mkldnn.enabled</c>).
/// </summary>
public static class TorchBackend
{
    private static readonly Lazy<bool> Configured = new(Configure, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// Applies the settings once per process; returns whether oneDNN is off. Every layer calls it, so only code that
    /// runs raw TorchSharp convolutions before building any layer needs to call it itself.
    /// </summary>
    public static bool EnsureConfigured() => Configured.Value;

    private static bool Configure()
    {
        // Loads libtorch through TorchSharp's own resolution first, so the library below is the one in use.
        using (TorchSharp.torch.zeros(1)) { }
        foreach (var (lib, context, setter) in Symbols)
        {
            if (!NativeLibrary.TryLoad(lib, typeof(TorchBackend).Assembly, DllImportSearchPath.SafeDirectories | DllImportSearchPath.AssemblyDirectory, out var handle)
                && !NativeLibrary.TryLoad(lib, out handle))
                continue;
            if (!NativeLibrary.TryGetExport(handle, context, out var getContext) || !NativeLibrary.TryGetExport(handle, setter, out var setEnabled))
                continue;
            unsafe
            {
                var ctx = ((delegate* unmanaged<nint>)getContext)();
                ((delegate* unmanaged<nint, byte, void>)setEnabled)(ctx, 0);
            }
            return true;
        }
        return false;
    }

    // at::globalContext() and at::Context::setUserEnabledMkldnn(bool), Itanium (Linux) and MSVC (Windows) manglings.
    private static readonly (string Library, string Context, string Setter)[] Symbols =
    [
        ("libtorch_cpu.so", "_ZN2at13globalContextEv", "_ZN2at7Context20setUserEnabledMkldnnEb"),
        ("torch_cpu.dll", "?globalContext@at@@YAAEAVContext@1@XZ", "?setUserEnabledMkldnn@Context@at@@QEAAX_N@Z"),
    ];
}
