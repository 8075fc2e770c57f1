using System.Diagnostics;
using System.Threading.Channels;
using OpenCvSharp;

namespace TfPose.Pose;

/// <summary>What to write while processing a video.</summary>
public sealed record PoseVideoOptions
{
    /// <summary>Annotated video to write (.avi = MJPG, .mp4 = mp4v); null = none.</summary>
    public string? OutputVideo { get; init; }

    /// <summary>Folder for one OpenPose JSON per frame (<c>{name}_{frame:000000000000}_keypoints.json</c>); null = none.</summary>
    public string? JsonDirectory { get; init; }

    /// <summary>Prefix of the per-frame JSON files.</summary>
    public string JsonPrefix { get; init; } = "frame";

    /// <summary>Frames queued between stages; small, so memory stays bounded.</summary>
    public int QueueCapacity { get; init; } = 2;
}

/// <summary>Progress of a video run.</summary>
public readonly record struct PoseVideoProgress(int FramesDone, int FrameCount, double FramesPerSecond);

/// <summary>Summary of a video run.</summary>
public sealed record PoseVideoResult(int Frames, int People, TimeSpan Elapsed, bool Cancelled)
{
    public double FramesPerSecond => Elapsed.TotalSeconds > 0 ? Frames / Elapsed.TotalSeconds : 0;

    /// <summary>Frames the container announces (0 when it does not say, as for a camera).</summary>
    public int ExpectedFrames { get; init; }

    /// <summary>
    /// The video stopped giving frames before the count its container announces, without being cancelled: the file is
    /// damaged or cut short (a copy interrupted, a recording that crashed). Reading just ends then, as at the real end,
    /// so without this a run on a broken file looked finished.
    /// </summary>
    public bool EndedEarly => !Cancelled && ExpectedFrames > 0 && Frames < ExpectedFrames;
}

/// <summary>
/// Runs pose estimation over a video as a three-stage pipeline — decode + preprocess, inference,
/// post-processing + rendering + writing — with bounded queues between stages so they overlap.
/// Cancelling stops reading; frames already in flight are finished and the outputs are closed
/// properly, so what is done is written.
/// </summary>
public static class PoseVideo
{
    public static async Task<PoseVideoResult> ProcessAsync(string input, PoseEstimator estimator, PoseVideoOptions options,
        IProgress<PoseVideoProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(estimator);
        ArgumentNullException.ThrowIfNull(options);
        using var capture = int.TryParse(input, out var camera) && !File.Exists(input) ? new VideoCapture(camera) : new VideoCapture(input);
        if (!capture.IsOpened())
            throw new IOException($"{input}: cannot open the video (missing file, unsupported codec, or no such camera).");
        var fps = capture.Fps is > 0 and < 1000 ? capture.Fps : 30;
        var frameCount = Math.Max(0, capture.FrameCount);
        int width = capture.FrameWidth, height = capture.FrameHeight;

        VideoWriter? writer = null;
        if (options.OutputVideo is { } outPath)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outPath))!);
            FourCC fourcc = Path.GetExtension(outPath).ToLowerInvariant() switch
            {
                ".avi" => FourCC.MJPG,
                ".mp4" => FourCC.FromString("mp4v"),
                var e => throw new ArgumentException($"{outPath}: unsupported video extension '{e}'; use .avi (MJPG) or .mp4 (mp4v)."),
            };
            writer = new VideoWriter(outPath, fourcc, fps, new Size(width, height));
            if (!writer.IsOpened())
            {
                writer.Dispose();
                throw new IOException($"{outPath}: cannot create the video writer.");
            }
        }
        if (options.JsonDirectory is { } jsonDir) Directory.CreateDirectory(jsonDir);
        estimator.ResetVideo();

        int done = 0, people = 0;
        var stopwatch = Stopwatch.StartNew();
        // Post-processing's last step, in frame order: tracked and smoothed people drawn and written.
        void Write(int index, Mat frame, IReadOnlyList<Person> found)
        {
            people += found.Count;
            if (writer is not null)
            {
                PoseRenderer.Draw(frame, found);
                writer.Write(frame);
            }
            if (options.JsonDirectory is { } dir)
                PoseJson.WriteOpenPose(Path.Combine(dir, $"{options.JsonPrefix}_{index:D12}_keypoints.json"), found, estimator.Model.Keypoints);
            done++;
            progress?.Report(new PoseVideoProgress(done, frameCount, done / Math.Max(1e-9, stopwatch.Elapsed.TotalSeconds)));
        }
        TimeSpan At(int index) => TimeSpan.FromSeconds(index / fps);

        if (estimator.Model.RunsAsPipeline)
        {
            try
            {
                var cancelledSequential = await ProcessSequentialAsync(capture, options, (i, f) => estimator.EstimateFrame(f, At(i)), Write, cancellationToken).ConfigureAwait(false);
                return new PoseVideoResult(done, people, stopwatch.Elapsed, cancelledSequential) { ExpectedFrames = frameCount };
            }
            finally
            {
                writer?.Release();
                writer?.Dispose();
            }
        }

        var capacity = Math.Max(1, options.QueueCapacity);
        var decoded = Channel.CreateBounded<(int Index, Mat Frame, PreparedImage Input)>(capacity);
        var inferred = Channel.CreateBounded<(int Index, Mat Frame, PreparedImage Input, PoseOutput Output)>(capacity);
        // Output buffers circulate: one per frame that can be in flight after inference.
        var buffers = Channel.CreateUnbounded<PoseOutput>();
        for (var i = 0; i < capacity + 2; i++) buffers.Writer.TryWrite(new PoseOutput());

        var reader = ReadFramesAsync(capture, decoded.Writer, (index, frame) => (index, frame, estimator.Prepare(frame)), cancellationToken, CancellationToken.None);

        var inference = Task.Run(async () =>
        {
            try
            {
                await foreach (var item in decoded.Reader.ReadAllAsync().ConfigureAwait(false))
                {
                    var output = await buffers.Reader.ReadAsync().ConfigureAwait(false);
                    try { estimator.Infer(item.Input, output); }
                    catch { item.Frame.Dispose(); item.Input.Dispose(); throw; }
                    await inferred.Writer.WriteAsync((item.Index, item.Frame, item.Input, output)).ConfigureAwait(false);
                }
                inferred.Writer.Complete();
            }
            catch (Exception e)
            {
                inferred.Writer.Complete(e);
                // Unblock the reader if it waits on a full queue.
                while (decoded.Reader.TryRead(out var left)) { left.Frame.Dispose(); left.Input.Dispose(); }
            }
        }, CancellationToken.None);

        try
        {
            await foreach (var item in inferred.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                using (item.Frame)
                using (item.Input)
                {
                    var found = estimator.Track(estimator.Decode(item.Output, item.Input.Mapping), At(item.Index));
                    buffers.Writer.TryWrite(item.Output);
                    Write(item.Index, item.Frame, found);
                }
            }
        }
        finally
        {
            // Drain on failure so the stages can finish and nothing native leaks.
            while (inferred.Reader.TryRead(out var left)) { left.Frame.Dispose(); left.Input.Dispose(); }
            while (decoded.Reader.TryRead(out var left)) { left.Frame.Dispose(); left.Input.Dispose(); }
            try { await Task.WhenAll(reader, inference).ConfigureAwait(false); } catch { /* already surfaced below */ }
            writer?.Release();
            writer?.Dispose();
        }
        var cancelled = await reader.ConfigureAwait(false);
        await inference.ConfigureAwait(false);
        return new PoseVideoResult(done, people, stopwatch.Elapsed, cancelled) { ExpectedFrames = frameCount };
    }

    /// <summary>
    /// Models whose next frame depends on this one (MoveNet's crop, BlazePose's region) estimate in frame order; reading
    /// and decoding the video before, and drawing and writing after, run beside them. Returns whether it stopped early.
    /// </summary>
    private static async Task<bool> ProcessSequentialAsync(VideoCapture capture, PoseVideoOptions options,
        Func<int, Mat, List<Person>> estimate, Action<int, Mat, IReadOnlyList<Person>> write, CancellationToken cancellationToken)
    {
        var capacity = Math.Max(1, options.QueueCapacity);
        var frames = Channel.CreateBounded<(int Index, Mat Frame)>(capacity);
        var estimated = Channel.CreateBounded<(int Index, Mat Frame, List<Person> People)>(capacity);
        // Stops the reader and the estimator when a later stage fails, so none waits on a queue nobody reads.
        using var stop = new CancellationTokenSource();
        var reader = ReadFramesAsync(capture, frames.Writer, (index, frame) => (index, frame), cancellationToken, stop.Token);
        var estimatorTask = Task.Run(async () =>
        {
            try
            {
                await foreach (var (index, frame) in frames.Reader.ReadAllAsync().ConfigureAwait(false))
                {
                    List<Person> people;
                    try { people = estimate(index, frame); }
                    catch { frame.Dispose(); throw; }
                    try { await estimated.Writer.WriteAsync((index, frame, people), stop.Token).ConfigureAwait(false); }
                    catch { frame.Dispose(); throw; }
                }
                estimated.Writer.Complete();
            }
            catch (Exception e)
            {
                estimated.Writer.Complete(e);
            }
        }, CancellationToken.None);
        try
        {
            await foreach (var (index, frame, people) in estimated.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                using (frame)
                    write(index, frame, people);
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            // Both complete their channels themselves, with or without an error; then nothing is left in flight.
            await reader.ConfigureAwait(false);
            while (frames.Reader.TryRead(out var left)) left.Frame.Dispose();
            await estimatorTask.ConfigureAwait(false);
            while (frames.Reader.TryRead(out var left)) left.Frame.Dispose();
            while (estimated.Reader.TryRead(out var left)) left.Frame.Dispose();
        }
        return await reader.ConfigureAwait(false);
    }

    /// <summary>
    /// Reads frames in order into a bounded queue, each turned into an item first, until the video ends or
    /// <paramref name="cancel"/> is requested; completes the queue either way (with the error, if one). Writes give up
    /// when <paramref name="stop"/> is requested (a later stage failed). Returns whether the caller cancelled.
    /// </summary>
    private static Task<bool> ReadFramesAsync<T>(VideoCapture capture, ChannelWriter<T> queue, Func<int, Mat, T> item,
        CancellationToken cancel, CancellationToken stop) => Task.Run(async () =>
    {
        var cancelled = false;
        try
        {
            for (var index = 0; ; index++)
            {
                if (cancel.IsCancellationRequested) { cancelled = true; break; }
                var frame = new Mat();
                if (!capture.Read(frame) || frame.Empty()) { frame.Dispose(); break; }
                try { await queue.WriteAsync(item(index, frame), stop).ConfigureAwait(false); }
                catch { frame.Dispose(); throw; }
            }
            queue.Complete();
        }
        catch (Exception e)
        {
            queue.Complete(e);
        }
        return cancelled;
    }, CancellationToken.None);
}
