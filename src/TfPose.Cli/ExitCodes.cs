namespace TfPose.Cli;

/// <summary>The CLI's exit codes (README, "Exit codes"): scripts tell a finished run from a partial or stopped one.</summary>
internal static class ExitCodes
{
    /// <summary>Everything asked for was done.</summary>
    public const int Ok = 0;

    /// <summary>An error stopped the command (one line on stderr says which).</summary>
    public const int Error = 1;

    /// <summary>The command went on past some inputs it could not use (a warning line each), or a video ended early.</summary>
    public const int SomeInputsFailed = 2;

    /// <summary>Stopped by Ctrl+C (SIGINT): 128 + 2, what shells report for a program that SIGINT ended.</summary>
    public const int Interrupted = 130;

    /// <summary>Stopped by SIGTERM: 128 + 15, likewise.</summary>
    public const int Terminated = 143;
}
