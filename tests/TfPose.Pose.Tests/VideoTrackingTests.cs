using OpenCvSharp;
using TfPose.Pose.Tracking;
using TfPose.Tests;
using Xunit.Abstractions;

namespace TfPose.Pose.Tests;

/// <summary>
/// Video behaviour end to end: people keep their ids on a clip made from a photo that moves and grows from frame to
/// frame, and smoothing makes a still person's keypoints steadier.
/// </summary>
public sealed class VideoTrackingTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tfpose-tracking-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string TfjsModel(string name) => SharedData.Path("data", "tfjs-models", name, "model.json");

    /// <summary>Frame i shows the photo scaled by 1 + 0.02·i and shifted right and down by 6·i and 3·i pixels.</summary>
    private static Mat Frame(Mat photo, int i, Size size)
    {
        var scale = 0.8 + 0.02 * i;
        using var map = Mat.FromPixelData(2, 3, MatType.CV_64FC1, new double[] { scale, 0, 6 * i, 0, scale, 3 * i });
        var frame = new Mat();
        Cv2.WarpAffine(photo, frame, map, size, InterpolationFlags.Linear, BorderTypes.Constant, Scalar.Gray);
        return frame;
    }

    private string MovingClip(string image, int frames)
    {
        var path = Path.Combine(_dir, $"{Path.GetFileNameWithoutExtension(image)}.avi");
        using var photo = Cv2.ImRead(SharedData.Image(image));
        var size = new Size(640, 480);
        using var writer = new VideoWriter(path, FourCC.MJPG, 10, size);
        Assert.True(writer.IsOpened());
        for (var i = 0; i < frames; i++)
        {
            using var frame = Frame(photo, i, size);
            writer.Write(frame);
        }
        return path;
    }

    /// <summary>Per frame, each person's id and hip centre, read back from the JSON PoseVideo wrote.</summary>
    private static List<List<(int Id, double X, double Y)>> Tracks(string jsonDirectory, KeypointSet set)
    {
        int left = set.IndexOf("left_hip"), right = set.IndexOf("right_hip");
        var frames = new List<List<(int, double, double)>>();
        foreach (var file in Directory.GetFiles(jsonDirectory).Order())
        {
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(file));
            var people = new List<(int, double, double)>();
            foreach (var p in doc.RootElement.GetProperty("people").EnumerateArray())
            {
                var k = p.GetProperty("pose_keypoints_2d").EnumerateArray().Select(v => v.GetDouble()).ToArray();
                people.Add((p.GetProperty("person_id")[0].GetInt32(), (k[3 * left] + k[3 * right]) / 2, (k[3 * left + 1] + k[3 * right + 1]) / 2));
            }
            frames.Add(people);
        }
        return frames;
    }

    [Theory]
    [InlineData("movenet-multipose")]
    [InlineData("openpose")]
    public async Task Each_person_keeps_their_id_while_the_picture_moves(string model)
    {
        const int frameCount = 12;
        var clip = MovingClip("p3.jpg", frameCount);
        var path = model == "openpose" ? SharedData.Model("openpose-mobilenet-v2-small", "graph_opt.pb") : TfjsModel(model);
        using var estimator = new PoseEstimator(path);
        var json = Path.Combine(_dir, "json-" + model);
        var result = await PoseVideo.ProcessAsync(clip, estimator, new PoseVideoOptions { JsonDirectory = json });
        Assert.Equal(frameCount, result.Frames);

        var frames = Tracks(json, estimator.Model.Keypoints);
        Assert.All(frames.SelectMany(f => f), p => Assert.True(p.Id > 0, "every person of a video frame has a track id"));
        // The three people stay three tracks: each person of a frame has the id of the nearest person of the frame
        // before (they move 6-7 px a frame, and stand 100+ px apart).
        var compared = 0;
        for (var f = 1; f < frames.Count; f++)
        {
            foreach (var p in frames[f])
            {
                var previous = frames[f - 1].OrderBy(q => Math.Pow(q.X - p.X, 2) + Math.Pow(q.Y - p.Y, 2)).FirstOrDefault();
                if (previous.Id == 0 || Math.Abs(previous.X - p.X) > 40)
                    continue;
                Assert.Equal(previous.Id, p.Id);
                compared++;
            }
        }
        Assert.True(compared >= 2 * (frameCount - 1), $"only {compared} person-to-person links compared");
        Assert.True(frames.SelectMany(f => f).Select(p => p.Id).Distinct().Count() <= 4, "ids stay few: people are not re-numbered");
    }

    /// <summary>Mean distance a keypoint moves between consecutive frames, over confident keypoints.</summary>
    private static double Jitter(IReadOnlyList<Person> frames)
    {
        double sum = 0;
        var n = 0;
        for (var f = 1; f < frames.Count; f++)
        {
            foreach (var k in frames[f].Keypoints)
            {
                if (frames[f - 1][k.Part] is not { } before || k.Score < 0.3f || before.Score < 0.3f)
                    continue;
                sum += Math.Sqrt(Math.Pow(k.X - before.X, 2) + Math.Pow(k.Y - before.Y, 2));
                n++;
            }
        }
        return sum / n;
    }

    [Fact]
    public void Smoothing_steadies_a_still_person()
    {
        // A still person filmed with sensor noise: the network's keypoints wobble a little from frame to frame.
        using var photo = Cv2.ImRead(SharedData.Image("p1.jpg"));
        var rng = new Random(5);
        var frames = Enumerable.Range(0, 40).Select(_ =>
        {
            var noise = new Mat(photo.Size(), MatType.CV_8SC3);
            Cv2.Randn(noise, new Scalar(0, 0, 0), new Scalar(12, 12, 12));
            var noisy = new Mat();
            using (var signed = new Mat())
            {
                photo.ConvertTo(signed, MatType.CV_16SC3);
                using var noise16 = new Mat();
                noise.ConvertTo(noise16, MatType.CV_16SC3);
                Cv2.Add(signed, noise16, signed);
                signed.ConvertTo(noisy, MatType.CV_8UC3);
            }
            noise.Dispose();
            return noisy;
        }).ToList();
        try
        {
            double Run(bool smooth)
            {
                using var estimator = new PoseEstimator(TfjsModel("movenet-lightning"),
                    new PoseEstimatorOptions { Smoothing = SmoothingOptions.MoveNet with { Enabled = smooth } });
                var people = frames.Select((f, i) => Assert.Single(estimator.EstimateFrame(f, TimeSpan.FromSeconds(i / 30.0)))).ToList();
                return Jitter(people);
            }
            var raw = Run(smooth: false);
            var smoothed = Run(smooth: true);
            output.WriteLine($"frame-to-frame keypoint movement of a still person: {raw:F3} px raw, {smoothed:F3} px smoothed ({smoothed / raw:P0})");
            Assert.True(raw > 0.2, $"the noisy frames should make the raw keypoints move ({raw:F3} px)");
            Assert.True(smoothed < 0.8 * raw, $"smoothing should steady the keypoints: {smoothed:F3} px against {raw:F3} px raw");
        }
        finally
        {
            foreach (var f in frames) f.Dispose();
        }
    }
}
