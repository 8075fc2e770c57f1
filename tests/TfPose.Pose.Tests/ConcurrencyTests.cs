using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using OpenCvSharp;
using TfPose.Tests;
using Xunit.Abstractions;

namespace TfPose.Pose.Tests;

/// <summary>
/// One estimator shared by threads, as a server or a parallel folder run shares it. Before pooled per-call state, 8
/// threads × 500 calls on one OpenPose estimator returned 428 wrong results (people lost, merged or shifted) and 133
/// exceptions. Here every call on every model kind must give exactly what the same estimator gives on one thread:
/// every person, every keypoint, bit for bit (the runtime's kernels do not depend on how calls interleave).
/// </summary>
public class ConcurrencyTests(ITestOutputHelper output)
{
    private const int Threads = 8;
    private const int CallsPerThread = 8;
    private const int VideoFrames = 6;
    private static readonly string[] Images = ["p1.jpg", "p2.jpg", "p3.jpg"];

    public static TheoryData<string, PoseModelKind> Kinds => new()
    {
        { "openpose-mobilenet-v2-small", PoseModelKind.OpenPose },
        { "openpose-mobilenet-v2-small, 2 scales", PoseModelKind.OpenPose },
        { "posenet-mobilenet-v1-050", PoseModelKind.PoseNet },
        { "cpm-mobile", PoseModelKind.Heatmap },
        { "hourglass-mobile", PoseModelKind.Heatmap },
        { "movenet-lightning", PoseModelKind.MoveNet },
        { "movenet-multipose", PoseModelKind.MoveNetMultiPose },
        { "blazepose-lite", PoseModelKind.BlazePose },
    };

    private static PoseEstimator Create(string model) => model switch
    {
        "openpose-mobilenet-v2-small" => new PoseEstimator(SharedData.Model(model, "graph_opt.pb")),
        // Averaging scales runs the network again into a second buffer, rented per call like the first (at half the
        // default size, since it runs the network twice per call).
        "openpose-mobilenet-v2-small, 2 scales" => new PoseEstimator(SharedData.Model("openpose-mobilenet-v2-small", "graph_opt.pb"),
            new PoseEstimatorOptions { ScaleNumber = 2, Width = 216, Height = 184 }),
        // With the segmentation mask, so that each call's own mask (PoseEstimateDetails) is checked too.
        "blazepose-lite" => new PoseEstimator(Tfjs(model), new PoseEstimatorOptions { Segmentation = true }),
        "movenet-lightning" or "movenet-multipose" => new PoseEstimator(Tfjs(model)),
        _ => new PoseEstimator(SharedData.Model(model, "model.pb")),
    };

    private static string Tfjs(string name) => SharedData.Path("data", "tfjs-models", name, "model.json");

    /// <summary>
    /// 8 threads × 8 calls on p1/p2/p3 in turn, all released at once, while a ninth thread runs a short video through the
    /// same estimator (still images must not disturb its carried state). Staged models run every third call through
    /// Prepare/Infer/Decode with the thread's own output, which must be as safe as Estimate.
    /// </summary>
    [Theory]
    [MemberData(nameof(Kinds))]
    public void OneEstimator_SharedBy8Threads_GivesEveryCallTheSingleThreadedResult(string model, PoseModelKind kind)
    {
        using var estimator = Create(model);
        Assert.Equal(kind, estimator.Model.Kind);
        var images = Images.Select(f => Cv2.ImRead(SharedData.Image(f))).ToArray();
        try
        {
            var staged = !estimator.Model.RunsAsPipeline;
            string[] expected;
            using (var details = new PoseEstimateDetails())
                expected = images.Select(image => Describe(estimator.Estimate(image, null, details), details.Segmentation)).ToArray();
            Assert.Contains(expected, e => e.Contains("person", StringComparison.Ordinal)); // the comparison is about someone
            var expectedVideo = RunVideo(estimator, images[2]);

            var failures = new ConcurrentQueue<string>();
            var calls = 0;
            string? video = null;
            using var start = new Barrier(Threads + 2);
            var workers = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
            {
                using var details = new PoseEstimateDetails();
                var maps = new PoseOutput();
                start.SignalAndWait();
                for (var i = 0; i < CallsPerThread; i++)
                {
                    var which = (t + i) % images.Length;
                    try
                    {
                        string got;
                        if (staged && i % 3 == 2)
                        {
                            using var prepared = estimator.Prepare(images[which]);
                            estimator.Infer(prepared, maps);
                            got = Describe(estimator.Decode(maps, prepared.Mapping), null);
                        }
                        else
                        {
                            got = Describe(estimator.Estimate(images[which], null, details), details.Segmentation);
                        }
                        Interlocked.Increment(ref calls);
                        if (got != expected[which])
                            failures.Enqueue($"thread {t} call {i} ({Images[which]}):\n  got      {got}\n  expected {expected[which]}");
                    }
                    catch (Exception e)
                    {
                        failures.Enqueue($"thread {t} call {i} ({Images[which]}): {e.GetType().Name}: {e.Message}");
                    }
                }
            })
            { IsBackground = true }).ToList();
            workers.Add(new Thread(() =>
            {
                start.SignalAndWait();
                try
                {
                    video = RunVideo(estimator, images[2]);
                }
                catch (Exception e)
                {
                    failures.Enqueue($"video: {e.GetType().Name}: {e.Message}");
                }
            })
            { IsBackground = true });

            foreach (var w in workers) w.Start();
            var clock = Stopwatch.StartNew();
            start.SignalAndWait();
            foreach (var w in workers)
                Assert.True(w.Join(TimeSpan.FromMinutes(5)), "a thread did not finish in 5 minutes");
            output.WriteLine($"{model}: {calls} concurrent calls on {Threads} threads and {VideoFrames} video frames beside them in {clock.Elapsed.TotalSeconds:F1} s");

            Assert.True(failures.IsEmpty, $"{failures.Count} of {Threads * CallsPerThread} calls went wrong:\n{string.Join("\n", failures.Take(5))}");
            Assert.Equal(Threads * CallsPerThread, calls);
            Assert.Equal(expectedVideo, video);
        }
        finally
        {
            foreach (var image in images) image.Dispose();
        }
    }

    /// <summary>
    /// Video calls carry state from frame to frame, so one that overlaps another fails at once (two streams interleaved
    /// into one state would give wrong tracks silently); a still image is not held up by a running frame; Dispose waits
    /// for calls still running and later calls fail cleanly.
    /// </summary>
    [Fact]
    public async Task OverlappingVideoCalls_FailClearly_StillImagesGoOn_AndDisposeWaitsForRunningCalls()
    {
        var network = new BlockingNetwork();
        var estimator = new PoseEstimator(network, new PoseEstimatorOptions { Model = PoseModel.OpenPose, Width = 64, Height = 64 });
        try
        {
            using var image = new Mat(64, 64, MatType.CV_8UC3, Scalar.All(0));
            var frame = Task.Run(() => estimator.EstimateFrame(image, TimeSpan.Zero));
            Assert.True(await Task.Run(() => network.Entered.Wait(TimeSpan.FromMinutes(1))), "the frame never reached the network");

            var overlap = Assert.Throws<InvalidOperationException>(() => estimator.EstimateFrame(image, TimeSpan.FromSeconds(1)));
            Assert.Contains("one frame at a time", overlap.Message);
            Assert.Throws<InvalidOperationException>(estimator.ResetVideo);
            Assert.Throws<InvalidOperationException>(() => estimator.Track([], TimeSpan.FromSeconds(1)));
            Assert.Empty(estimator.Estimate(image));

            var dispose = Task.Run(estimator.Dispose);
            Assert.NotSame(dispose, await Task.WhenAny(dispose, Task.Delay(300)));
            Assert.False(network.Disposed, "Dispose went ahead while a frame was still running on the network");
            network.Release();
            Assert.Empty(await frame);
            await dispose.WaitAsync(TimeSpan.FromMinutes(1));
            Assert.True(network.Disposed);
            Assert.Throws<ObjectDisposedException>(() => estimator.Estimate(image));
        }
        finally
        {
            network.Release();
            estimator.Dispose();
        }
    }

    private static string RunVideo(PoseEstimator estimator, Mat image)
    {
        estimator.ResetVideo();
        var text = new StringBuilder();
        // Track ids go on counting after ResetVideo: numbered here by first appearance, so two runs compare.
        var ids = new Dictionary<int, int>();
        for (var f = 0; f < VideoFrames; f++)
        {
            var people = estimator.EstimateFrame(image, TimeSpan.FromSeconds(f / 30.0));
            foreach (var p in people)
                if (p.TrackId is { } id)
                    p.TrackId = ids.TryGetValue(id, out var seen) ? seen : ids[id] = ids.Count + 1;
            text.AppendLine(Describe(people, null));
        }
        return text.ToString();
    }

    /// <summary>Everything a call returns, with floats in round-trip form, so that equal text means equal bits.</summary>
    private static string Describe(List<Person> people, Mat? mask)
    {
        var text = new StringBuilder().Append(CultureInfo.InvariantCulture, $"{people.Count} people");
        foreach (var p in people)
        {
            text.Append(CultureInfo.InvariantCulture, $" | person {p.KeypointSet.Name} score {p.Score:R} track {p.TrackId} box {p.Box}:");
            foreach (var k in p.Keypoints)
                text.Append(CultureInfo.InvariantCulture, $" {k.Part}({k.X:R},{k.Y:R},{k.Score:R},{k.Z:R},{k.Visibility:R},{k.Presence:R})");
            foreach (var w in p.WorldKeypoints ?? [])
                text.Append(CultureInfo.InvariantCulture, $" w{w.Part}({w.X:R},{w.Y:R},{w.Z:R},{w.Score:R})");
        }
        if (mask is not null)
        {
            Assert.True(mask.IsContinuous());
            text.Append(CultureInfo.InvariantCulture, $" | mask {mask.Width}x{mask.Height} {Convert.ToHexString(SHA256.HashData(mask.AsSpan<byte>()))}");
        }
        return text.ToString();
    }

    /// <summary>An OpenPose-shaped network that finds no one; its first run waits until released.</summary>
    private sealed class BlockingNetwork : IPoseNetwork
    {
        private readonly ManualResetEventSlim _release = new();
        private int _runs;

        public ManualResetEventSlim Entered { get; } = new();

        public bool Disposed { get; private set; }

        public void Release() => _release.Set();

        public void Run(Mat input, PoseOutput output)
        {
            ObjectDisposedException.ThrowIf(Disposed, this);
            if (Interlocked.Increment(ref _runs) == 1)
            {
                Entered.Set();
                _release.Wait();
            }
            var model = PoseModel.OpenPose;
            output.Reset(model.OutputSize(input.Rows), model.OutputSize(input.Cols), model.OutputChannels).Clear();
        }

        public void Dispose() => Disposed = true;
    }
}
