using System.Buffers.Binary;
using System.Diagnostics;
using OpenCvSharp;
using TfPose.Runtime;
using TfPose.Tests;
using Xunit.Abstractions;

namespace TfPose.Cli.Tests;

/// <summary>What a new user meets first: misspelt options, subcommand help, a folder run's progress and summary, --device.</summary>
public sealed class CliFirstUseTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tfpose-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static List<string> Typos(params string[] args) => OptionSpelling.Problems(CliCommands.Create().Parse(args));

    [Fact]
    public void AMisspeltOption_IsAnErrorNamingTheClosestOption_NotAnInput()
    {
        var problem = Assert.Single(Typos("pose", "p1.jpg", "--sise", "432x368", "--model", "m.pb"));
        Assert.Contains("unknown option '--sise'", problem);
        Assert.Contains("did you mean '--size'?", problem);
        // Also where an option takes several values and would swallow it, and written with '='.
        Assert.Contains("did you mean '--size'?", Assert.Single(Typos("graph", "run", "m.pb", "--input", "a=b.npy", "--sise", "3x3")));
        Assert.Contains("unknown option '--modle'", Assert.Single(Typos("pose", "p1.jpg", "--modle=m.pb")));
        // Nothing near: no guess, still an error.
        Assert.DoesNotContain("did you mean", Assert.Single(Typos("pose", "p1.jpg", "--model", "m.pb", "--frobnicate")));
    }

    [Fact]
    public void OptionLikeWordsThatAreValues_AreLeftAlone()
    {
        Assert.Empty(Typos("pose", "--model", "m.pb", "--", "--odd-name.jpg"));
        Assert.Empty(Typos("graph", "run", "m.pb", "--input", "a=b.npy", "--offset", "-1"));
        Assert.Empty(Typos("pose", "p1.jpg", "--model", "m.pb", "--size", "432x368"));
    }

    [Fact]
    public async Task AMisspeltOption_StopsTheRunWithExitCode1()
    {
        using var signals = new StopSignals();
        Assert.Equal(ExitCodes.Error, await CliRunner.InvokeAsync(CliCommands.Create(), ["pose", Path.Combine(_dir, "none.jpg"), "--sise", "1x1", "--model", "m.pb"], signals));
    }

    [Fact]
    public void SubcommandHelp_ShowsHowTheSubcommandIsCalled()
    {
        var root = CliCommands.Create();
        using var text = new StringWriter();
        HelpLayout.Write(root.Parse(["pose", "eval", "--help"]), text);
        var help = text.ToString();
        Assert.Contains($"{root.Name} pose eval [options]", help);
        Assert.DoesNotContain("<INPUT>", help);
        Assert.Contains("--coco-annotations", help);
        // The parent keeps its own arguments.
        using var poseText = new StringWriter();
        HelpLayout.Write(root.Parse(["pose", "--help"]), poseText);
        Assert.Contains($"{root.Name} pose <INPUT>... [command] [options]", poseText.ToString());
        Assert.Contains("Exit codes: 0", poseText.ToString());
    }

    [Fact]
    public void CountsAreSpelledForOneAndMany()
    {
        Assert.Equal("1 person", Commands.PoseCommands.People(1));
        Assert.Equal("0 people", Commands.PoseCommands.People(0));
        Assert.Equal("3 people", Commands.PoseCommands.People(3));
    }

    [Fact]
    public void ACudaRequestOnTheCpuTool_SaysWhichBuildToGet_NotWhatToReference()
    {
        var message = CliRunner.Describe(new ExecutionProviderUnavailableException(ExecutionDevice.Cuda, "CUDAExecutionProvider",
            "libonnxruntime_providers_cuda.so", ["CPUExecutionProvider"]));
        Assert.StartsWith("--device cuda: this tfpose is the CPU build", message);
        Assert.Contains("-p:TfPoseGpu=true", message);
        Assert.Contains("-DTFPOSE_GPU=ON", message);
        Assert.DoesNotContain("Reference Microsoft.ML.OnnxRuntime.Gpu", message);
    }

    /// <summary>
    /// A folder of two photos, a text file named .jpg and a PNG declaring 20000x20000 pixels: every image gets a [N/4]
    /// line, the two bad ones a warning each, the run a summary, and the exit code is 2 (done, some inputs skipped).
    /// </summary>
    [Fact]
    public void AFolderRun_ShowsProgress_Skips_AndSummarises()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_dir, "photos")).FullName;
        foreach (var name in new[] { "p1.jpg", "p2.jpg" })
            File.Copy(SharedData.Image(name), Path.Combine(folder, name));
        File.WriteAllText(Path.Combine(folder, "a-text.jpg"), "not an image");
        using (var tiny = new Mat(4, 4, MatType.CV_8UC3, Scalar.All(0)))
        {
            Cv2.ImEncode(".png", tiny, out var png);
            BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(16), 20000);
            BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(20), 20000);
            File.WriteAllBytes(Path.Combine(folder, "b-bomb.png"), png);
        }
        var outDir = Path.Combine(_dir, "out");
        var (code, stdout, stderr) = Run("pose", folder, "--model", SharedData.Model("posenet-mobilenet-v1-050", "model.pb"), "--json", "--out", outDir);
        output.WriteLine(stdout);
        output.WriteLine(stderr);
        Assert.Equal(ExitCodes.SomeInputsFailed, code);
        // Sorted ordinally: a-text.jpg, b-bomb.png, p1.jpg, p2.jpg.
        Assert.Contains("warning: [1/4] skipping " + Path.Combine(folder, "a-text.jpg"), stderr);
        Assert.Contains("warning: [2/4] skipping " + Path.Combine(folder, "b-bomb.png") + ": " + Path.Combine(folder, "b-bomb.png") + ": 20000x20000 pixels", stderr);
        Assert.Contains("[3/4] " + Path.Combine(folder, "p1.jpg") + ": 1 person", stdout);
        Assert.Contains("[4/4] " + Path.Combine(folder, "p2.jpg") + ": 2 people", stdout);
        Assert.Contains($"done: 2 of 4 image(s), 3 people found, 2 skipped (warnings above; exit code 2), output in {outDir}", stdout);
    }

    private (int Code, string Stdout, string Stderr) Run(params string[] args)
    {
        // To files through sh's exec, not pipes: see PoseStopProcessTests.
        string outFile = Path.Combine(_dir, "stdout.txt"), errFile = Path.Combine(_dir, "stderr.txt");
        var start = new ProcessStartInfo("sh");
        foreach (var a in new[] { "-c", "exec \"$0\" \"$@\" >\"$OUT\" 2>\"$ERR\"", "dotnet", Path.Combine(AppContext.BaseDirectory, "tfpose.dll") }.Concat(args))
            start.ArgumentList.Add(a);
        start.Environment["OUT"] = outFile;
        start.Environment["ERR"] = errFile;
        using var process = Process.Start(start)!;
        if (!process.WaitForExit(TimeSpan.FromSeconds(120)))
        {
            process.Kill();
            throw new TimeoutException("tfpose pose did not finish in 2 minutes");
        }
        return (process.ExitCode, File.ReadAllText(outFile), File.ReadAllText(errFile));
    }
}
