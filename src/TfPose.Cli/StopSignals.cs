using System.Runtime.InteropServices;

namespace TfPose.Cli;

/// <summary>
/// Ctrl+C (SIGINT) and SIGTERM for the whole CLI, in place of System.CommandLine's own handling. Its handler calls
/// <c>TaskCompletionSource.SetResult</c> each time a signal outlasts its 2 s timeout, so a second signal threw
/// "An attempt was made to transition a task to a final state when it had already completed" on the signal thread and
/// the process died (exit 134); it also returned the command's own 0 when the command stopped in time, and did not
/// listen at all while a command without a cancellation token ran.
/// <para>
/// Here the first signal cancels <see cref="Token"/>: a command that takes one finishes the item in hand, writes what is
/// done, says how far it got, and the run exits 130 (SIGINT) or 143 (SIGTERM). A command that takes no token cannot stop
/// part-way, so it quits at once, as it did before. A second signal, or a command still running <see cref="Grace"/>
/// after the first, quits at once: whatever was half-written is left as a temporary file, which the next write of the
/// same file removes.
/// </para>
/// </summary>
internal sealed partial class StopSignals : IDisposable
{
    /// <summary>How long a command that takes the token may take to stop (a few frames of a slow model in flight).</summary>
    public static readonly TimeSpan DefaultGrace = TimeSpan.FromSeconds(30);

    private readonly CancellationTokenSource _cts = new();
    private readonly Action<int> _exit;
    private readonly TextWriter _error;
    private readonly List<PosixSignalRegistration> _registrations = [];
    private Timer? _graceTimer;
    private int _signals;
    private int _exited;
    private int _exitCode;

    /// <param name="exit">Ends the process with a code; tests pass a recorder. Default: flush the console and end now.</param>
    /// <param name="error">Where the stop messages go; default stderr.</param>
    /// <param name="grace">Default <see cref="DefaultGrace"/>.</param>
    public StopSignals(Action<int>? exit = null, TextWriter? error = null, TimeSpan? grace = null)
    {
        _exit = exit ?? ExitNow;
        _error = error ?? Console.Error;
        Grace = grace ?? DefaultGrace;
    }

    public TimeSpan Grace { get; }

    /// <summary>Cancelled by the first signal.</summary>
    public CancellationToken Token => _cts.Token;

    public bool StopRequested => Volatile.Read(ref _signals) > 0;

    /// <summary>130 after SIGINT, 143 after SIGTERM (the first signal's); 0 before any.</summary>
    public int ExitCode => Volatile.Read(ref _exitCode);

    /// <summary>Whether the running command takes the token; one that does not is ended by the first signal.</summary>
    public bool Cooperative { get; set; } = true;

    /// <summary>Starts handling SIGINT and SIGTERM (Ctrl+C and closing the console on Windows).</summary>
    public void Listen()
    {
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM })
        {
            _registrations.Add(PosixSignalRegistration.Create(signal, context =>
            {
                // Handled here, always: the runtime's default would end the process without a word.
                context.Cancel = true;
                OnSignal(context.Signal);
            }));
        }
    }

    /// <summary>One signal's effect; never throws, however many arrive and from however many threads.</summary>
    internal void OnSignal(PosixSignal signal)
    {
        var (code, name) = signal == PosixSignal.SIGTERM ? (ExitCodes.Terminated, "SIGTERM") : (ExitCodes.Interrupted, "Ctrl+C");
        if (Interlocked.Increment(ref _signals) > 1)
        {
            Exit(ExitCode, $"stopped at once ({name} again)");
            return;
        }
        Volatile.Write(ref _exitCode, code);
        if (!Cooperative)
        {
            Exit(code, $"stopped ({name}): this command cannot stop part-way, so it quits now");
            return;
        }
        _error.WriteLine($"stopping ({name}): finishing the work in hand; press Ctrl+C again to quit at once");
        // The token reads as cancelled at once; the callbacks registered on it (the command's continuations) run on the
        // thread pool, not here, so this thread is free for the next signal and a failing callback cannot end the process.
        _ = _cts.CancelAsync();
        _graceTimer = new Timer(_ => Exit(code, $"stopped: the command did not finish within {Grace.TotalSeconds:0} s of {name}, so it quits now"),
            null, Grace, Timeout.InfiniteTimeSpan);
    }

    private void Exit(int code, string message)
    {
        if (Interlocked.Exchange(ref _exited, 1) != 0)
            return;
        try
        {
            _error.WriteLine(message);
        }
        catch (IOException)
        {
            // A closed stderr must not keep the process alive.
        }
        _exit(code);
    }

    public void Dispose()
    {
        foreach (var registration in _registrations)
            registration.Dispose();
        _registrations.Clear();
        _graceTimer?.Dispose();
        // _cts is not disposed: its callbacks may still be running from CancelAsync, and with no timer or linked token
        // it holds nothing that the collector does not free.
    }

    /// <summary>
    /// Ends the process at once from the signal or timer thread. Not <see cref="Environment.Exit(int)"/>: that runs the
    /// native libraries' exit handlers (ONNX Runtime's, OpenCV's) while a worker thread may still be inside them, which
    /// can crash the exit it was meant to make clean.
    /// </summary>
    private static void ExitNow(int code)
    {
        try
        {
            // Spectre's progress display hides the cursor and would have shown it again on its way out.
            if (!Console.IsOutputRedirected)
                Console.Out.Write("\e[?25h");
            Console.Out.Flush();
            Console.Error.Flush();
        }
        catch (IOException)
        {
        }
        if (OperatingSystem.IsWindows())
            Environment.Exit(code);
        else
            PosixExit(code);
    }

    [LibraryImport("libc", EntryPoint = "_exit")]
    private static partial void PosixExit(int status);
}
