using OpenCvSharp;
using TfPose.Tests;

namespace TfPose.Pose.Tests;

public sealed class PoseVideoTests(EstimatorFixture fixture) : IClassFixture<EstimatorFixture>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tfpose-video-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task AVideoMadeFromTheSampleImages_RunsEndToEnd()
    {
        // 6 frames: p1, p2, p3 twice, each resized to 432×368, as MJPG.
        var input = Path.Combine(_dir, "in.avi");
        var size = new Size(432, 368);
        using (var writer = new VideoWriter(input, FourCC.MJPG, 10, size))
        {
            Assert.True(writer.IsOpened());
            for (var i = 0; i < 6; i++)
            {
                using var img = Cv2.ImRead(SharedData.Image($"p{i % 3 + 1}.jpg"));
                using var resized = img.Resize(size);
                writer.Write(resized);
            }
        }
        // Expected people per frame: the same estimator on the frames as decoded back from the file.
        var expected = new List<int>();
        using (var cap = new VideoCapture(input))
        using (var frame = new Mat())
            while (cap.Read(frame) && !frame.Empty())
                expected.Add(fixture.Estimator.Estimate(frame).Count);
        Assert.Equal(6, expected.Count);

        var output = Path.Combine(_dir, "out.avi");
        var json = Path.Combine(_dir, "json");
        var reports = new List<PoseVideoProgress>();
        var result = await PoseVideo.ProcessAsync(input, fixture.Estimator, new PoseVideoOptions { OutputVideo = output, JsonDirectory = json },
            new SyncProgress<PoseVideoProgress>(reports.Add));

        Assert.Equal(6, result.Frames);
        Assert.False(result.Cancelled);
        Assert.Equal(6, result.ExpectedFrames);
        Assert.False(result.EndedEarly);
        Assert.Equal(expected.Sum(), result.People);
        Assert.Equal(6, reports[^1].FramesDone);
        var files = Directory.GetFiles(json).Order().ToArray();
        Assert.Equal(6, files.Length);
        for (var i = 0; i < 6; i++)
        {
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(files[i]));
            Assert.Equal(expected[i], doc.RootElement.GetProperty("people").GetArrayLength());
        }
        using var check = new VideoCapture(output);
        Assert.True(check.IsOpened());
        Assert.Equal(6, check.FrameCount);
        Assert.Equal(432, check.FrameWidth);
    }

    [Fact]
    public async Task CancellingStopsCleanly_WithWhatIsDoneWritten()
    {
        var input = Path.Combine(_dir, "in.avi");
        using (var writer = new VideoWriter(input, FourCC.MJPG, 10, new Size(432, 368)))
        using (var img = Cv2.ImRead(SharedData.Image("p1.jpg")).Resize(new Size(432, 368)))
            for (var i = 0; i < 40; i++) writer.Write(img);
        using var cts = new CancellationTokenSource();
        var output = Path.Combine(_dir, "out.avi");
        var result = await PoseVideo.ProcessAsync(input, fixture.Estimator, new PoseVideoOptions { OutputVideo = output },
            new SyncProgress<PoseVideoProgress>(p => { if (p.FramesDone == 3) cts.Cancel(); }), cts.Token);
        Assert.True(result.Cancelled);
        Assert.InRange(result.Frames, 3, 39);
        using var check = new VideoCapture(output);
        Assert.Equal(result.Frames, check.FrameCount);
    }

    [Fact]
    public async Task ADamagedVideoThatEndsEarly_SaysSo()
    {
        // A 40-frame MJPG .avi cut to 60% of its bytes (a copy interrupted): it opens, its header still announces 40
        // frames, and reading ends early as if at the end. The run used to look finished.
        var whole = Path.Combine(_dir, "whole.avi");
        using (var writer = new VideoWriter(whole, FourCC.MJPG, 10, new Size(432, 368)))
        using (var img = Cv2.ImRead(SharedData.Image("p1.jpg")).Resize(new Size(432, 368)))
            for (var i = 0; i < 40; i++) writer.Write(img);
        var bytes = await File.ReadAllBytesAsync(whole);
        var cut = Path.Combine(_dir, "cut.avi");
        await File.WriteAllBytesAsync(cut, bytes[..(bytes.Length * 6 / 10)]);

        var result = await PoseVideo.ProcessAsync(cut, fixture.Estimator, new PoseVideoOptions());

        Assert.Equal(40, result.ExpectedFrames);
        Assert.InRange(result.Frames, 1, 39);
        Assert.False(result.Cancelled);
        Assert.True(result.EndedEarly);
    }

    [Fact]
    public async Task AVideoThatCannotBeOpened_IsAClearError()
    {
        var ex = await Assert.ThrowsAsync<IOException>(() => PoseVideo.ProcessAsync(Path.Combine(_dir, "missing.mp4"), fixture.Estimator, new PoseVideoOptions()));
        Assert.Contains("missing.mp4", ex.Message);
    }

    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
