using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TfPose.Keras;

/// <summary>
/// Convolutions that give correct results on libtorch 2.10's CPU backend. libtorch runs float32 convolutions through
/// oneDNN, which stores channels in blocks (8 per block with AVX2, 16 with AVX-512). Measured against the same
/// convolution in float64 on this project's x86-64 machines, its kernels were wrong whenever a channel count left a
/// partly filled block: with AVX-512, the input gradient whenever the output channels were not a multiple of 16 and
/// the forward pass whenever more than 16 input channels were not; with AVX2 the same at 8, and the errors came out
/// as values off by several units or as NaN, depending on what the unused part of a reused buffer held. With
/// AVX-512 and whole blocks, 3×3 stride-2 input gradients were still wrong at 48 and 112 channels; with AVX2 and
/// whole blocks every case checked was right. Those machines were VMs whose CPUID reports no cache topology (leaves 4
/// and 0x8000001D zero), which oneDNN's JIT reorders size themselves by. Hence two measures: every convolution's
/// channel counts are padded with zero channels to whole 16-channel blocks (the padded outputs are dropped, so results
/// and gradients are those of the unpadded convolution), and oneDNN is capped at AVX2 unless the CPU reports its
/// caches (on Linux, in sysfs). On a machine that does (AMD EPYC, AVX-512), the float64 comparisons pass with AVX-512
/// as well, and FC-DenseNet56 trains up to 1.3× faster with it (batch 2; about 1.1× at batch 10). libtorch's own
/// non-oneDNN kernels are correct but 5–45× slower, which would put FC-DenseNet training out of reach on a CPU.
/// </summary>
public static class TorchBackend
{
    /// <summary>Channel counts are padded to multiples of this (16 covers AVX2's 8-channel blocks too).</summary>
    public const int ChannelBlock = 16;

    private static readonly Lazy<bool> Configured = new(Configure, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// Caps oneDNN at AVX2 where needed (see the class remarks) unless ONEDNN_MAX_CPU_ISA is already set, and on glibc
    /// keeps freed memory in the process (see <see cref="KeepFreedMemoryOnGlibc"/>); returns whether oneDNN runs
    /// with an ISA that the float64 comparisons support here: the user's setting, the cap, or no cap needed. oneDNN
    /// reads the variable at its first convolution, so this must run before any: every layer's constructor calls it,
    /// and code that runs raw TorchSharp convolutions first should call it itself.
    /// </summary>
    public static bool EnsureConfigured() => Configured.Value;

    private static bool Configure()
    {
        TorchRuntimeCheck.EnsureLoadable();
        KeepFreedMemoryOnGlibc();
        const string name = "ONEDNN_MAX_CPU_ISA";
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable(name)) || ReportsCacheTopology())
            return true;
        // Environment.SetEnvironmentVariable changes only .NET's copy; oneDNN reads the C runtime's.
        try
        {
            bool ok = OperatingSystem.IsWindows() ? PutEnvWindows(name, "AVX2") == 0 : SetEnvPosix(name, "AVX2", 0) == 0;
            if (ok)
                Environment.SetEnvironmentVariable(name, "AVX2");
            return ok;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <summary>
    /// Whether the kernel found the CPU's cache hierarchy in CPUID (Linux lists it in sysfs). Elsewhere the answer is
    /// no, so oneDNN keeps the cap that is correct everywhere it was checked.
    /// </summary>
    private static bool ReportsCacheTopology() =>
        OperatingSystem.IsLinux() && Directory.Exists("/sys/devices/system/cpu/cpu0/cache/index0");

    /// <summary>
    /// Hands the free memory that <see cref="KeepFreedMemoryOnGlibc"/> keeps back to the system (glibc's malloc_trim).
    /// For after a phase whose allocations will not recur soon, such as full-resolution validation between training
    /// epochs; the next steps fault their pages in once more.
    /// </summary>
    public static void ReleaseFreedMemory()
    {
        if (OperatingSystem.IsLinux())
            TryGlibc(() => MallocTrim(0));
    }

    /// <summary>Runs a glibc-only call; elsewhere (musl has no such knobs) training is slower, not wrong.</summary>
    private static void TryGlibc(Action call)
    {
        try
        {
            call();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
        }
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);

    /// <summary>
    /// libtorch's CPU allocator caches nothing, and glibc hands every block over 32 MB back to the kernel when it is
    /// freed, so each training step faulted its activations in again page by page: FC-DenseNet56 at batch 10 took
    /// about 360,000 page faults a second and spent half its CPU time in the kernel (24.8 s per step; 7.5–10 s with
    /// this). Large blocks therefore come from the heap (no mmap) and freed memory stays with the process (no trim),
    /// so the process keeps its peak footprint. Left alone when the user set either glibc variable.
    /// </summary>
    private static void KeepFreedMemoryOnGlibc()
    {
        if (!OperatingSystem.IsLinux()
            || Environment.GetEnvironmentVariable("MALLOC_MMAP_MAX_") is not null
            || Environment.GetEnvironmentVariable("MALLOC_TRIM_THRESHOLD_") is not null)
            return;
        // mallopt takes an int: 2 GB is the most it can keep, and a step can free more than that at once, so a trim
        // also leaves the same again as padding.
        const int mTrimThreshold = -1, mTopPad = -2, mMmapMax = -4;
        TryGlibc(() =>
        {
            MallOpt(mTrimThreshold, int.MaxValue);
            MallOpt(mTopPad, int.MaxValue);
            MallOpt(mMmapMax, 0);
        });
    }

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int MallOpt(int param, int value);

    [DllImport("libc", EntryPoint = "setenv")]
    private static extern int SetEnvPosix([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);

    [DllImport("ucrtbase", EntryPoint = "_putenv_s")]
    private static extern int PutEnvWindows([MarshalAs(UnmanagedType.LPStr)] string name, [MarshalAs(UnmanagedType.LPStr)] string value);

    /// <summary>
    /// <c>conv2d</c> (NCHW input, [out, in, kh, kw] weight) computed with whole channel blocks: zero input channels
    /// (with zero weights) and extra output channels that are sliced off. Same values and gradients as F.conv2d.
    /// </summary>
    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias, long[] strides, long[] padding, long[]? dilation = null)
    {
        long cin = input.shape[1], cout = weight.shape[0];
        // Up to 4 input channels (RGB images) oneDNN reads unblocked; padding them would multiply the first layer's work.
        long padIn = cin > 4 && cin % ChannelBlock != 0 ? ChannelBlock - cin % ChannelBlock : 0;
        long padOut = cout % ChannelBlock != 0 ? ChannelBlock - cout % ChannelBlock : 0;
        dilation ??= [1, 1];
        if (padIn == 0 && padOut == 0)
            return F.conv2d(input, weight, bias, strides, padding, dilation);
        using var w = F.pad(weight, [0, 0, 0, 0, 0, padIn, 0, padOut]);
        using var x = padIn > 0 ? F.pad(input, [0, 0, 0, 0, 0, padIn]) : input.alias();
        using var b = bias is null ? null : padOut > 0 ? F.pad(bias, [0, padOut]) : bias.alias();
        using var y = F.conv2d(x, w, b, strides, padding, dilation);
        // A view: the padded result's storage stays alive through it, no copy.
        return padOut > 0 ? y.narrow(1, 0, cout) : y.alias();
    }
}

/// <summary>
/// Says why TorchSharp's native runtime cannot load, in terms a user can act on. TorchSharp itself reports every
/// failure as "uses TorchSharp but doesn't contain a reference to libtorch-cpu-linux-x64", also when the package is
/// there and the real cause is the loader's (Debian 12's libstdc++ lacks the GLIBCXX_3.4.32 TorchSharp was built
/// against, and the TfPose.Keras build fix did not run for the application).
/// </summary>
public static class TorchRuntimeCheck
{
    private const string GlibcxxVersion = "GLIBCXX_3.4.32";

    /// <summary>
    /// Loads TorchSharp's native backend; when that fails, throws <see cref="InvalidOperationException"/> with what
    /// is missing (<see cref="Diagnose"/>) and what to do.
    /// </summary>
    public static void EnsureLoadable()
    {
        try
        {
            InitializeDeviceType(DeviceType.CPU);
        }
        catch (Exception e) when (e is TypeInitializationException or NotSupportedException or DllNotFoundException or EntryPointNotFoundException)
        {
            var why = Diagnose(AppContext.BaseDirectory) ?? (e.InnerException ?? e).Message;
            throw new InvalidOperationException("TorchSharp's native runtime could not be loaded: " + why, e);
        }
    }

    /// <summary>
    /// Why TorchSharp's native library (libLibTorchSharp.so / LibTorchSharp.dll) cannot be loaded from an application
    /// folder (the folder itself or its runtimes/&lt;rid&gt;/native), or null when it loads.
    /// </summary>
    public static string? Diagnose(string applicationFolder)
    {
        applicationFolder = Path.TrimEndingDirectorySeparator(applicationFolder);
        string rid = RuntimeInformation.RuntimeIdentifier.StartsWith("win", StringComparison.Ordinal) ? "win-x64"
            : OperatingSystem.IsMacOS() ? "osx-arm64" : "linux-x64";
        string glue = OperatingSystem.IsWindows() ? "LibTorchSharp.dll" : OperatingSystem.IsMacOS() ? "libLibTorchSharp.dylib" : "libLibTorchSharp.so";
        string torchLib = OperatingSystem.IsWindows() ? "torch_cpu.dll" : OperatingSystem.IsMacOS() ? "libtorch_cpu.dylib" : "libtorch_cpu.so";
        string[] folders = [applicationFolder, Path.Combine(applicationFolder, "runtimes", rid, "native")];
        string? gluePath = folders.Select(f => Path.Combine(f, glue)).FirstOrDefault(File.Exists);
        string? torchPath = folders.Select(f => Path.Combine(f, torchLib)).FirstOrDefault(File.Exists);
        var problems = new List<string>();
        if (gluePath is null)
            problems.Add($"{glue} (from the TorchSharp package) is not in {applicationFolder} or runtimes/{rid}/native; restore and build the application again");
        if (torchPath is null)
            problems.Add($"LibTorch ({torchLib}) is not in {applicationFolder} or runtimes/{rid}/native: TfPose.Keras does not bring a native runtime, "
                + $"add <PackageReference Include=\"libtorch-cpu-{rid}\" Version=\"2.10.0\" /> to the application (libtorch-cpu-linux-x64 on Linux, libtorch-cpu-win-x64 on Windows)");
        if (problems.Count > 0)
            return string.Join("; ", problems);
        try
        {
            NativeLibrary.Free(NativeLibrary.Load(gluePath!));
            return null;
        }
        catch (DllNotFoundException e) when (e.Message.Contains("GLIBCXX_", StringComparison.Ordinal))
        {
            return $"{gluePath} needs {GlibcxxVersion} (libstdc++ from GCC 13 or later) and this system's libstdc++ is older "
                + "(Debian 12 has GLIBCXX_3.4.30). The TfPose.Keras package patches a copy of the library for such systems when "
                + "the application is built on Linux (buildTransitive/TfPose.Keras.targets); build the application on this "
                + $"machine (or publish it with -r linux-x64), or install a newer libstdc++. Loader: {e.Message}";
        }
        catch (DllNotFoundException e)
        {
            return $"{gluePath} could not be loaded: {e.Message}";
        }
    }
}
