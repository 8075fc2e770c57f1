using System.CommandLine;
using System.Runtime.InteropServices;
using TfPose.Cli;

namespace TfPose.Cli.Tests;

/// <summary>
/// Ctrl+C and SIGTERM, driven in-process (no real signal): a second signal once crashed the CLI with exit 134 from
/// System.CommandLine's handler, and a run stopped by the first exited 0.
/// </summary>
public class StopSignalsTests
{
    private sealed class Recorder
    {
        public List<int> Exits { get; } = [];
        public StringWriter Messages { get; } = new();

        public StopSignals Signals(TimeSpan? grace = null) => new(code => { lock (Exits) Exits.Add(code); }, Messages, grace);
    }

    [Fact]
    public void The_first_signal_cancels_and_a_second_quits_once_whatever_follows()
    {
        var r = new Recorder();
        using var signals = r.Signals();

        signals.OnSignal(PosixSignal.SIGINT);
        Assert.True(signals.Token.IsCancellationRequested);
        Assert.Empty(r.Exits);
        Assert.Contains("Ctrl+C again", r.Messages.ToString());

        // The crash was the second signal; a burst of them from several threads must not throw either.
        Parallel.For(0, 8, _ => signals.OnSignal(PosixSignal.SIGINT));
        signals.OnSignal(PosixSignal.SIGTERM);

        Assert.Equal([ExitCodes.Interrupted], r.Exits);
        Assert.Contains("stopped at once", r.Messages.ToString());
    }

    [Fact]
    public void Sigterm_exits_143()
    {
        var r = new Recorder();
        using var signals = r.Signals();
        signals.OnSignal(PosixSignal.SIGTERM);
        signals.OnSignal(PosixSignal.SIGINT);
        Assert.Equal(ExitCodes.Terminated, signals.ExitCode);
        Assert.Equal([ExitCodes.Terminated], r.Exits);
    }

    [Fact]
    public void A_command_that_takes_no_token_is_ended_by_the_first_signal()
    {
        var r = new Recorder();
        using var signals = r.Signals();
        signals.Cooperative = false;
        signals.OnSignal(PosixSignal.SIGINT);
        Assert.Equal([ExitCodes.Interrupted], r.Exits);
    }

    [Fact]
    public async Task A_command_that_does_not_stop_within_the_grace_period_is_ended()
    {
        var r = new Recorder();
        using var signals = r.Signals(TimeSpan.FromMilliseconds(50));
        signals.OnSignal(PosixSignal.SIGINT);
        for (var i = 0; i < 200 && r.Exits.Count == 0; i++)
            await Task.Delay(25);
        Assert.Equal([ExitCodes.Interrupted], r.Exits);
        Assert.Contains("did not finish within", r.Messages.ToString());
    }

    [Theory]
    [InlineData("return0", ExitCodes.Interrupted)]
    [InlineData("return2", ExitCodes.Interrupted)]
    [InlineData("throw", ExitCodes.Interrupted)]
    [InlineData("error", ExitCodes.Error)]
    public async Task A_stopped_run_exits_with_the_signals_code_not_0(string how, int expected)
    {
        var r = new Recorder();
        using var signals = r.Signals();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var root = new RootCommand();
        var work = new Command("work");
        work.SetAction(async (_, ct) =>
        {
            started.SetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException) when (how != "throw")
            {
            }
            return how switch
            {
                "return2" => ExitCodes.SomeInputsFailed,
                "error" => throw new InvalidDataException("broken"),
                _ => ExitCodes.Ok,
            };
        });
        root.Add(work);

        var run = CliRunner.InvokeAsync(root, ["work"], signals);
        await started.Task;
        signals.OnSignal(PosixSignal.SIGINT);

        Assert.Equal(expected, await run);
        Assert.Empty(r.Exits);
    }

    [Theory]
    [InlineData(ExitCodes.Ok)]
    [InlineData(ExitCodes.SomeInputsFailed)]
    public async Task Without_a_signal_the_commands_code_is_kept(int code)
    {
        using var signals = new Recorder().Signals();
        var root = new RootCommand();
        var work = new Command("work");
        work.SetAction((_, _) => Task.FromResult(code));
        root.Add(work);
        Assert.Equal(code, await CliRunner.InvokeAsync(root, ["work"], signals));
    }
}
