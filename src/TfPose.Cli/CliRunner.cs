using System.CommandLine;

namespace TfPose.Cli;

/// <summary>
/// Runs the parsed command and turns library exceptions into one clear line on stderr and a
/// non-zero exit code; the stack trace is for developers only (TFPOSE_DEBUG=1).
/// </summary>
internal static class CliRunner
{
    public static async Task<int> InvokeAsync(RootCommand root, string[] args)
    {
        try
        {
            return await root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return Fail(ex);
        }
    }

    public static int Fail(Exception ex)
    {
        var inner = ex is AggregateException { InnerExceptions.Count: 1 } agg ? agg.InnerExceptions[0] : ex;
        Console.Error.WriteLine($"error: {inner.Message}");
        if (Environment.GetEnvironmentVariable("TFPOSE_DEBUG") == "1")
            Console.Error.WriteLine(inner);
        return 1;
    }
}
