using System.Diagnostics;
using System.Runtime.InteropServices;
using OpenCvSharp;
using TfPose.Tests;
using Xunit.Abstractions;

namespace TfPose.Cli.Tests;

/// <summary>
/// <c>tfpose pose</c> on a long video, stopped by real signals (Linux: kill(2)). Before, 2 of 10 double-SIGINT and
/// 6 of 10 double-SIGTERM runs died with exit 134 in System.CommandLine's termination handler, and a single signal gave
/// exit 0. Each run takes a few seconds: loading the model, a few frames, the stop.
/// </summary>
public sealed partial class PoseStopProcessTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tfpose-stop-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("INT", 1, ExitCodes.Interrupted)]
    [InlineData("INT", 2, ExitCodes.Interrupted)]
    [InlineData("TERM", 2, ExitCodes.Terminated)]
    public void A_pose_run_stopped_by_signals_exits_with_the_signals_code_and_says_so(string signal, int count, int expected)
    {
        if (!OperatingSystem.IsLinux())
            return;
        // A shell without job control starts background jobs with SIGINT ignored, and children inherit that: the CLI then
        // never sees Ctrl+C, which is right, and this test cannot send one.
        if (signal == "INT" && SignalIgnored(2))
        {
            output.WriteLine("SIGINT is ignored in this process tree; nothing to test");
            return;
        }
        var video = Path.Combine(_dir, "long.avi");
        using (var writer = new VideoWriter(video, FourCC.MJPG, 25, new Size(320, 240)))
        using (var image = Cv2.ImRead(SharedData.Image("p1.jpg")).Resize(new Size(320, 240)))
            for (var i = 0; i < 3000; i++) writer.Write(image);
        var json = Path.Combine(_dir, "out", "long_json");
        string outFile = Path.Combine(_dir, "stdout.txt"), errFile = Path.Combine(_dir, "stderr.txt");

        // Output goes to files through sh's exec (same process id), not pipes: reading two pipes takes two thread-pool
        // threads for the whole run, and on a busy 2-core machine the test then waited half a minute for a third, so
        // the CLI had finished before it was signalled.
        var start = new ProcessStartInfo("sh");
        foreach (var a in new[] { "-c", "exec \"$0\" \"$@\" >\"$OUT\" 2>\"$ERR\"", "dotnet", Path.Combine(AppContext.BaseDirectory, "tfpose.dll"), "pose",
                     "--model", SharedData.Model("posenet-mobilenet-v1-050", "model.pb"), "--json", "--out", Path.Combine(_dir, "out"), video })
            start.ArgumentList.Add(a);
        start.Environment["OUT"] = outFile;
        start.Environment["ERR"] = errFile;
        using var process = Process.Start(start)!;
        try
        {
            // Stop it in the middle: once it has written a few frames (the signal handlers are in place by then).
            var watch = Stopwatch.StartNew();
            while ((!Directory.Exists(json) || Directory.GetFiles(json).Length < 5) && !process.HasExited && watch.Elapsed < TimeSpan.FromSeconds(120))
                Thread.Sleep(20);
            Assert.False(process.HasExited, $"exited before it was signalled, with {(process.HasExited ? process.ExitCode : 0)}");
            Assert.Equal(0, Kill(process.Id, signal == "INT" ? 2 : 15));
            if (count == 2)
            {
                // Two signals sent back to back merge into one pending signal (the kernel does not queue them), so the
                // second goes once the first has been taken, as a person's second Ctrl+C would.
                while (!File.ReadAllText(errFile).Contains("stopping (", StringComparison.Ordinal) && !process.HasExited && watch.Elapsed < TimeSpan.FromSeconds(120))
                    Thread.Sleep(5);
                if (!process.HasExited)
                    Kill(process.Id, signal == "INT" ? 2 : 15);
            }
            Assert.True(process.WaitForExit(TimeSpan.FromSeconds(60)), "still running a minute after the signal");
        }
        finally
        {
            if (!process.HasExited)
                process.Kill();
        }
        var err = File.ReadAllText(errFile);
        var outText = File.ReadAllText(outFile);
        output.WriteLine(outText);
        output.WriteLine(err);

        Assert.Equal(expected, process.ExitCode);
        // Our own words, not a death by the signal (which a parent also reads as 128 + signal).
        Assert.Contains("stopping (", err);
        Assert.DoesNotContain("Unhandled exception", err);
        if (count == 1)
        {
            // Stopped cleanly: the video's line says how far it got, and every frame it counts has its JSON.
            var line = outText.Split('\n').Single(l => l.StartsWith(video + ": ", StringComparison.Ordinal));
            Assert.Contains(" of 3000 frames", line);
            Assert.Contains("(stopped;", line);
            var frames = int.Parse(line[(video.Length + 2)..].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(frames, 5, 2999);
            Assert.Equal(frames, Directory.GetFiles(json).Length);
            Assert.Contains($"stopped: done {frames} of 3000 frames of {video}", err);
        }
        else
        {
            // Usually the second signal finds the run still finishing its frames; a fast model may have finished first.
            Assert.True(err.Contains("stopped at once", StringComparison.Ordinal) || err.Contains("stopped: done", StringComparison.Ordinal), err);
        }
    }

    // libc's kill(2), not the kill program: on the project's machine procps' kill answered "No such process" for a live
    // child of the test host (which ps listed, and which bash's kill reached), so the test sent nothing.
    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>Whether this process ignores the signal (Linux: the SigIgn mask in /proc/self/status).</summary>
    private static bool SignalIgnored(int signal)
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & (1UL << (signal - 1))) != 0;
    }
}
