using System.CommandLine;
using System.CommandLine.Invocation;

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

    public static int Fail(Exception ex)
    {
        var inner = ex is AggregateException { InnerExceptions.Count: 1 } agg ? agg.InnerExceptions[0] : ex;
        Console.Error.WriteLine($"error: {inner.Message}");
        if (Environment.GetEnvironmentVariable("TFPOSE_DEBUG") == "1")
            Console.Error.WriteLine(inner);
        return ExitCodes.Error;
    }
}
