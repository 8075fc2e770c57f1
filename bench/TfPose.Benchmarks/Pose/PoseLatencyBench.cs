using System.Diagnostics;
using OpenCvSharp;
using TfPose.Pose;

namespace TfPose.Benchmarks.Pose;

/// <summary>A model decoded in stages (OpenPose, PoseNet, heatmaps): inference and post-processing timed apart.</summary>
public sealed record StagedPoseTimings(LatencySummary Inference, LatencySummary PostProcessing, int People, PoseOutput Output);

/// <summary>A model that runs as one step (MoveNet, BlazePose): each stage as the estimator timed it, and the whole call.</summary>
public sealed record PipelinePoseTimings(LatencySummary PreProcessing, LatencySummary Inference, LatencySummary PostProcessing, LatencySummary Total, int People);

/// <summary>
/// What a long run of whole estimates on one image did to memory: managed bytes the calls allocated (on the calling
/// thread, which runs every stage; counted around each call, so the measuring itself is left out), garbage collections
/// by generation, the process' resident memory (RSS) before, at its highest and after, and RSS and the managed heap once
/// a full collection has taken the garbage: what is left then is what the run kept.
/// </summary>
public sealed record PoseSoakResult(int Calls, int People, double AllocatedBytesPerCall, int Gen0, int Gen1, int Gen2,
    long RssBefore, long RssPeak, long RssAfter, long RssAfterCollection, long ManagedHeapBefore, long ManagedHeapAfterCollection, TimeSpan Elapsed);

/// <summary>The timing loops behind <c>tfpose bench pose</c>: 5 untimed calls, then <c>iterations</c> timed ones on one image.</summary>
public static class PoseLatencyBench
{
    private const int Warmup = 5;

    public static StagedPoseTimings Staged(PoseEstimator estimator, Mat image, int iterations, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(estimator);
        using var prepared = estimator.Prepare(image);
        var output = new PoseOutput();
        var infer = new List<double>(iterations);
        var post = new List<double>(iterations);
        var people = 0;
        for (var i = 0; i < Warmup; i++) { estimator.Infer(prepared, output); people = estimator.Decode(output, prepared.Mapping).Count; }
        var sw = new Stopwatch();
        for (var i = 0; i < Math.Max(1, iterations); i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            sw.Restart(); estimator.Infer(prepared, output); infer.Add(sw.Elapsed.TotalMilliseconds);
            sw.Restart(); estimator.Decode(output, prepared.Mapping); post.Add(sw.Elapsed.TotalMilliseconds);
        }
        return new StagedPoseTimings(SampleStatistics.Summarize(infer), SampleStatistics.Summarize(post), people, output);
    }

    public static PipelinePoseTimings Pipeline(PoseEstimator estimator, Mat image, int iterations, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(estimator);
        var people = 0;
        for (var i = 0; i < Warmup; i++) people = estimator.Estimate(image).Count;
        var pre = new List<double>(iterations);
        var infer = new List<double>(iterations);
        var post = new List<double>(iterations);
        var total = new List<double>(iterations);
        var sw = new Stopwatch();
        for (var i = 0; i < Math.Max(1, iterations); i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            sw.Restart();
            estimator.Estimate(image);
            total.Add(sw.Elapsed.TotalMilliseconds);
            var t = estimator.LastTimings!.Value;
            pre.Add(t.Preprocess.TotalMilliseconds);
            infer.Add(t.Inference.TotalMilliseconds);
            post.Add(t.Postprocess.TotalMilliseconds);
        }
        return new PipelinePoseTimings(SampleStatistics.Summarize(pre), SampleStatistics.Summarize(infer), SampleStatistics.Summarize(post),
            SampleStatistics.Summarize(total), people);
    }

    /// <summary>
    /// <paramref name="calls"/> whole estimates (<see cref="PoseEstimator.Estimate(Mat, Rect?)"/>) after 5 untimed ones,
    /// as a server or a long video would make them; <paramref name="progress"/> gets the number done every 100 calls.
    /// RSS is sampled then too.
    /// </summary>
    public static PoseSoakResult Soak(PoseEstimator estimator, Mat image, int calls, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(estimator);
        calls = Math.Max(1, calls);
        var people = 0;
        for (var i = 0; i < Warmup; i++) people = estimator.Estimate(image).Count;
        // Start from a collected heap, so that "after" compares with a state rather than with garbage of the warm-up.
        CollectAll();
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        long rssBefore = process.WorkingSet64, rssPeak = rssBefore, heapBefore = GC.GetTotalMemory(forceFullCollection: false);
        int gen0 = GC.CollectionCount(0), gen1 = GC.CollectionCount(1), gen2 = GC.CollectionCount(2);
        var allocated = 0L;
        var sw = Stopwatch.StartNew();
        for (var i = 1; i <= calls; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var before = GC.GetAllocatedBytesForCurrentThread();
            people = estimator.Estimate(image).Count;
            allocated += GC.GetAllocatedBytesForCurrentThread() - before;
            if (i % 100 == 0 || i == calls)
            {
                process.Refresh();
                rssPeak = Math.Max(rssPeak, process.WorkingSet64);
                progress?.Report(i);
            }
        }
        sw.Stop();
        process.Refresh();
        var rssAfter = process.WorkingSet64;
        int c0 = GC.CollectionCount(0) - gen0, c1 = GC.CollectionCount(1) - gen1, c2 = GC.CollectionCount(2) - gen2;
        CollectAll();
        process.Refresh();
        return new PoseSoakResult(calls, people, allocated / (double)calls, c0, c1, c2,
            rssBefore, Math.Max(rssPeak, rssAfter), rssAfter, process.WorkingSet64, heapBefore, GC.GetTotalMemory(forceFullCollection: false), sw.Elapsed);
    }

    private static void CollectAll()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    /// <summary>
    /// End to end on a video: <paramref name="frames"/> copies of the image at <paramref name="size"/> written as MJPG, then
    /// decoded, estimated and rendered into another MJPG file by <see cref="PoseVideo"/> (stages overlapped). Temporary
    /// files are removed.
    /// </summary>
    public static async Task<PoseVideoResult> VideoAsync(PoseEstimator estimator, Mat image, Size size, int frames, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(estimator);
        var dir = Directory.CreateTempSubdirectory("tfpose-bench-").FullName;
        try
        {
            var video = Path.Combine(dir, "bench.avi");
            using (var writer = new VideoWriter(video, FourCC.MJPG, 30, size))
            using (var frame = image.Resize(size))
                for (var i = 0; i < frames; i++) writer.Write(frame);
            estimator.ResetVideo();
            return await PoseVideo.ProcessAsync(video, estimator, new PoseVideoOptions { OutputVideo = Path.Combine(dir, "out.avi") }, null, cancellationToken);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
