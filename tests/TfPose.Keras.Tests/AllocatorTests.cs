using System.Diagnostics;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace TfPose.Keras.Tests;

/// <summary>
/// Training reallocates the same large activations every step; on glibc, TorchBackend keeps freed blocks in the
/// process so that the next step does not fault every page in again. glibc can keep them only in its main arena,
/// the one a program's main thread allocates from (where the CLI trains), while test runners call tests from pool
/// threads with arenas of their own; so the measurement runs on the main thread of a child process of this assembly.
/// </summary>
public class AllocatorTests
{
    [GlibcFact]
    public void TrainingStepsReuseTheirMemoryInsteadOfFaultingItInAgain()
    {
        // The reference child runs with glibc's default limit set explicitly, which TorchBackend leaves alone.
        long withDefaults = RunProbe(("MALLOC_MMAP_MAX_", "65536"));
        long withMeasure = RunProbe();
        Assert.True(withDefaults > 50_000, $"the reference run faulted only {withDefaults} pages: the probe measures nothing");
        // Measured here: about 88,000 against 433,000 (glibc 2.36 cannot always reuse a freed block for libtorch's
        // 64-byte-aligned requests of the same size, so some steps still take fresh pages).
        Assert.True(withMeasure * 3 < withDefaults,
            $"{withMeasure} minor page faults over 3 training steps, against {withDefaults} with glibc's defaults");
    }

    /// <summary>
    /// The child's side (see <see cref="ProbeEntryPoint"/>): minor faults over three training steps of a convolution
    /// on 224×224 inputs (activations of 40-80 MB, above the 32 MB beyond which glibc maps and unmaps blocks), after
    /// one warm-up step.
    /// </summary>
    internal static long MeasureTrainingStepFaults()
    {
        TorchBackend.EnsureConfigured();
        using var weight = randn(32, 16, 3, 3).requires_grad_();
        long before = 0;
        for (int step = 0; step < 4; step++)
        {
            if (step == 1)
                before = MinorFaults();
            using var x = randn(8, 16, 224, 224);
            using var y = TorchBackend.Conv2d(x, weight, null, [1, 1], [1, 1]);
            using var z = TorchSharp.torch.nn.functional.relu(y);
            using var loss = z.square().mean();
            loss.backward();
            weight.grad!.zero_();
        }
        return MinorFaults() - before;
    }

    private static long RunProbe(params (string Name, string Value)[] environment)
    {
        string assembly = typeof(AllocatorTests).Assembly.Location;
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in new[] { "exec", assembly, ProbeEntryPoint.Argument })
            start.ArgumentList.Add(arg);
        // The child must decide for itself, as a user's process would.
        start.Environment.Remove("MALLOC_MMAP_MAX_");
        start.Environment.Remove("MALLOC_TRIM_THRESHOLD_");
        foreach (var (name, value) in environment)
            start.Environment[name] = value;
        using var child = Process.Start(start)!;
        var stderr = child.StandardError.ReadToEndAsync();
        string stdout = child.StandardOutput.ReadToEnd();
        Assert.True(child.WaitForExit(120_000), "probe did not finish in 2 minutes");
        Assert.True(child.ExitCode == 0, $"probe exited with {child.ExitCode}: {stderr.Result}");
        return long.Parse(stdout.Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static long MinorFaults()
    {
        const int rusageSelf = 0;
        if (GetRUsage(rusageSelf, out var usage) != 0)
            throw new InvalidOperationException("getrusage failed");
        return usage.MinFlt;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct RUsage
    {
        public long UTimeSec, UTimeUsec, STimeSec, STimeUsec;
        public long MaxRss, IxRss, IdRss, IsRss, MinFlt, MajFlt, NSwap, InBlock, OuBlock, MsgSnd, MsgRcv, NSignals, NVCsw, NIvCsw;
    }

    [DllImport("libc", EntryPoint = "getrusage")]
    private static extern int GetRUsage(int who, out RUsage usage);
}

/// <summary>
/// This assembly's entry point. The test runner never calls it; <see cref="AllocatorTests"/> starts the assembly
/// with <see cref="Argument"/> to measure on a main thread.
/// </summary>
public static class ProbeEntryPoint
{
    public const string Argument = "--allocator-probe";

    public static int Main(string[] args)
    {
        if (args is not [Argument])
            return 2;
        Console.WriteLine(AllocatorTests.MeasureTrainingStepFaults());
        return 0;
    }
}

/// <summary>
/// A test of glibc's allocator: reported as skipped, with the reason, on other systems (it would otherwise pass
/// there without measuring anything).
/// </summary>
internal sealed class GlibcFactAttribute : FactAttribute
{
    public GlibcFactAttribute()
    {
        if (!OperatingSystem.IsLinux())
            Skip = "The measure is glibc's (Linux); Windows' and macOS' heaps keep freed blocks themselves.";
        else if (RuntimeInformation.RuntimeIdentifier.Contains("musl", StringComparison.Ordinal))
            Skip = "The measure is glibc's; musl's allocator has no main arena to keep freed blocks in.";
    }
}
