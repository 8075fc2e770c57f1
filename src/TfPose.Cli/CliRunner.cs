using System.CommandLine;
using System.CommandLine.Invocation;
using TfPose.Runtime;

namespace TfPose.Cli;

/// <summary>
/// Runs the parsed command and turns library exceptions into one clear line on stderr and a
/// non-zero exit code; the stack trace is for developers only (TFPOSE_DEBUG=1). Ctrl+C and SIGTERM
/// are <see cref="StopSignals"/>' business; a stopped run exits 130 or 143 (<see cref="ExitCodes"/>).
/// </summary>
internal static class CliRunner
{
    public static async Task<int> InvokeAsync(RootCommand root, string[] args)
    {
        using var signals = new StopSignals();
        signals.Listen();
        return await InvokeAsync(root, args, signals);
    }

    /// <summary>Runs with <paramref name="signals"/> already set up (listening, or driven by a test).</summary>
    public static async Task<int> InvokeAsync(RootCommand root, string[] args, StopSignals signals)
    {
        var parse = root.Parse(args);
        if (HelpLayout.IsHelp(parse))
            return HelpLayout.Write(parse, Console.Out);
        if (OptionSpelling.Problems(parse) is { Count: > 0 } typos)
        {
            // Before the command runs: a misspelt option must not become an input to a long run.
            foreach (var typo in typos) Console.Error.WriteLine($"error: {typo}");
            return ExitCodes.Error;
        }
        // A command without a token cannot be asked to stop; the first signal ends it.
        signals.Cooperative = parse.Action is AsynchronousCommandLineAction;
        int code;
        try
        {
            // ProcessTerminationTimeout = null: System.CommandLine registers no signal handler of its own (see StopSignals).
            code = await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null },
                signals.Token);
        }
        catch (Exception ex) when (signals.StopRequested && IsCancellation(ex))
        {
            Console.Error.WriteLine("stopped before the command finished");
            return signals.ExitCode;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return Fail(ex);
        }
        return StoppedCode(code, signals);
    }

    /// <summary>
    /// A stopped run did not do all it was asked, so it must not exit 0 (a script would take it for done): its code is
    /// the signal's. An error stays an error.
    /// </summary>
    public static int StoppedCode(int code, StopSignals signals) =>
        signals.StopRequested && code is ExitCodes.Ok or ExitCodes.SomeInputsFailed ? signals.ExitCode : code;

    private static bool IsCancellation(Exception ex) =>
        ex is OperationCanceledException || (ex is AggregateException agg && agg.Flatten().InnerExceptions.All(e => e is OperationCanceledException));

    /// <summary>
    /// The library's message, except where it tells an application developer what to reference: a tool user cannot
    /// change the tool's references, so they are told which build of the tool to get.
    /// </summary>
    public static string Describe(Exception ex) => ex switch
    {
        ExecutionProviderUnavailableException gpu =>
            $"--device {gpu.Device.ToString().ToLowerInvariant()}: this tfpose is the CPU build of the tool; its ONNX Runtime has no {gpu.Provider} " +
            $"({gpu.Library}; available: {string.Join(", ", gpu.Available)}). For the GPU, build the GPU tool from the repository " +
            $"(README, \"GPU\"): dotnet publish src/TfPose.Cli -c Release -r {(OperatingSystem.IsWindows() ? "win-x64" : "linux-x64")} -p:TfPoseGpu=true " +
            "(CUDA 12 and cuDNN 9 installed), or use the C SDK built with -DTFPOSE_GPU=ON; or leave out --device to run on the CPU.",
        _ => ex.Message,
    };

    public static int Fail(Exception ex)
    {
        var inner = ex is AggregateException { InnerExceptions.Count: 1 } agg ? agg.InnerExceptions[0] : ex;
        Console.Error.WriteLine($"error: {Describe(inner)}");
        if (Environment.GetEnvironmentVariable("TFPOSE_DEBUG") == "1")
            Console.Error.WriteLine(inner);
        return ExitCodes.Error;
    }
}
