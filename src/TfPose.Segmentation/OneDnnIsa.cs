using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TfPose.Segmentation;

/// <summary>
/// Caps oneDNN (inside libtorch 2.10's CPU build) at AVX2 before it first runs. Why: on this project's AVX-512
/// machines its AVX-512 convolution-backward kernels intermittently return NaN gradients for the Tiramisu's
/// densely connected graphs (anomaly mode names ConvolutionBackward0; a plain conv with the same shapes is
/// fine), which poisons training within a step or two; with ONEDNN_MAX_CPU_ISA=AVX2 the same runs are finite.
/// oneDNN reads the variable with getenv on first use, and .NET's Environment.SetEnvironmentVariable does not
/// reach the native environment on Linux, hence setenv. A value set by the user is left alone.
/// </summary>
internal static partial class OneDnnIsa
{
#pragma warning disable CA2255 // deliberate: it must run before any code of this library touches libtorch
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Apply()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA") is not null)
            return;
        _ = SetEnv("ONEDNN_MAX_CPU_ISA", "AVX2", 0);
        _ = SetEnv("DNNL_MAX_CPU_ISA", "AVX2", 0);
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);
}
