using System.Diagnostics;
using TfPose.Graph;
using TfPose.IO;

namespace TfPose.Graph.Tests;

/// <summary>
/// A killed <c>graph fold</c> or <c>convert</c> left <c>.NAME.PID.GUID.tmp</c> beside its output for good; the next
/// write into the folder now removes what dead processes left, and nothing a live one may be writing.
/// </summary>
public sealed class AtomicFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tfpose-atomic-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Temp(string target, int pid)
    {
        var path = Path.Combine(_dir, $".{target}.{pid}.{Guid.NewGuid():N}.tmp");
        File.WriteAllText(path, "half a graph");
        return path;
    }

    /// <summary>The id of a process that has run and exited (the id of a killed run, as far as the sweep can tell).</summary>
    private static int DeadProcessId()
    {
        using var process = OperatingSystem.IsWindows()
            ? Process.Start(new ProcessStartInfo("cmd", "/c exit 0") { CreateNoWindow = true })!
            : Process.Start("true")!;
        process.WaitForExit();
        return process.Id;
    }

    [Fact]
    public void Leftovers_of_a_killed_run_are_removed_by_the_next_write()
    {
        var dead = DeadProcessId();
        var leftover = Temp("folded.pb", dead);
        var otherTarget = Temp("other.onnx", dead);

        AtomicFile.WriteAllText(Path.Combine(_dir, "folded.pb"), "graph");

        Assert.False(File.Exists(leftover));
        Assert.False(File.Exists(otherTarget));
        Assert.Equal("graph", File.ReadAllText(Path.Combine(_dir, "folded.pb")));
        Assert.Equal(["folded.pb"], Directory.GetFiles(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public void Files_a_running_process_may_be_writing_are_kept_unless_very_old()
    {
        using var sleeper = OperatingSystem.IsWindows()
            ? Process.Start(new ProcessStartInfo("cmd", "/c ping -n 30 127.0.0.1") { CreateNoWindow = true, RedirectStandardOutput = true })!
            : Process.Start("sleep", "30")!;
        try
        {
            var live = Temp("a.pb", sleeper.Id);
            var mine = Temp("a.pb", Environment.ProcessId);
            var reused = Temp("a.pb", sleeper.Id);
            File.SetLastWriteTimeUtc(reused, DateTime.UtcNow - AtomicFile.StaleAfter - TimeSpan.FromHours(1));
            var users = Path.Combine(_dir, ".notes.tmp");
            File.WriteAllText(users, "not ours");
            var lookalike = Path.Combine(_dir, ".a.pb.123.not-a-guid.tmp");
            File.WriteAllText(lookalike, "not ours either");

            Assert.Equal(1, AtomicFile.RemoveStaleTemporaries(_dir));

            Assert.True(File.Exists(live));
            Assert.True(File.Exists(mine));
            Assert.False(File.Exists(reused));
            Assert.True(File.Exists(users));
            Assert.True(File.Exists(lookalike));
        }
        finally
        {
            sleeper.Kill();
        }
    }

    [Fact]
    public void Writers_that_need_a_path_get_one_with_the_targets_extension_and_their_leftovers_are_swept_too()
    {
        var dead = DeadProcessId();
        var leftover = Path.Combine(_dir, $".mask.png.{dead}.{Guid.NewGuid():N}.tmp.png");
        File.WriteAllText(leftover, "half an image");
        string? given = null;

        AtomicFile.WriteThroughPath(Path.Combine(_dir, "mask.png"), temp =>
        {
            given = temp;
            File.WriteAllText(temp, "image");
        });

        Assert.Equal(".png", Path.GetExtension(given));
        Assert.Equal(_dir, Path.GetDirectoryName(given));
        Assert.Equal(["mask.png"], Directory.GetFiles(_dir).Select(Path.GetFileName));
        Assert.Equal("image", File.ReadAllText(Path.Combine(_dir, "mask.png")));

        Assert.Throws<IOException>(() => AtomicFile.WriteThroughPath(Path.Combine(_dir, "broken.png"), temp =>
        {
            File.WriteAllText(temp, "half");
            throw new IOException("encoder failed");
        }));
        Assert.Equal(["mask.png"], Directory.GetFiles(_dir).Select(Path.GetFileName));
    }
}
