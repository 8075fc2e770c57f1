using OpenCvSharp;
using TfPose.Pose.BlazePose;
using TfPose.Tests;
using Xunit.Abstractions;

namespace TfPose.Pose.Tests;

/// <summary>One pipeline (detector + blazepose-lite) for the class: translating the two graphs is the slow part.</summary>
public sealed class BlazePosePipelineFixture : IDisposable
{
    public BlazePosePipeline Pipeline { get; } = new(
        SharedData.Path("data", "tfjs-models", "blazepose-detector", "model.json"),
        SharedData.Path("data", "tfjs-models", "blazepose-lite", "model.json"));

    public void Dispose() => Pipeline.Dispose();
}

/// <summary>
/// The whole pipeline on p1.jpg. Reference values come from TensorFlow.js' own pose-detection 2.1.3 (BlazePose
/// runtime "tfjs", modelType lite, the same two model.json files, smoothing off, segmentation on, tfjs-core and
/// backend-cpu 4.22.0 in Node) fed the very RGB pixels OpenCV decodes from p1.jpg, as an int32 tensor: a still
/// estimatePoses(image), and for the video case estimatePoses(frame, undefined, 33·k) on the shifted frames below.
/// </summary>
public class BlazePosePipelineTests(BlazePosePipelineFixture fixture, ITestOutputHelper output) : IClassFixture<BlazePosePipelineFixture>
{
    private BlazePosePipeline Pipeline => fixture.Pipeline;

    // pose-detection's keypoints for p1.jpg: x, y (image pixels), z (pixels, as x), score (= visibility).
    internal static readonly double[,] PoseDetectionP1 =
    {
        { 110.3228, 36.0191, -102.3861, 0.99999 }, { 112.3215, 31.9813, -95.4231, 0.99998 }, { 113.5762, 31.9188, -95.4157, 0.99997 },
        { 114.6993, 31.8495, -95.4060, 0.99997 }, { 107.9420, 32.2257, -95.5000, 0.99998 }, { 106.2537, 32.3060, -95.5172, 0.99998 },
        { 104.6857, 32.3817, -95.4829, 0.99998 }, { 116.5435, 32.7347, -47.9741, 0.99995 }, { 102.7012, 33.1925, -50.3047, 0.99996 },
        { 113.1722, 39.4428, -84.2999, 0.99999 }, { 107.8515, 39.7062, -84.9183, 0.99999 }, { 130.5117, 52.0563, -22.5644, 0.99996 },
        { 92.7936, 52.5658, -18.1690, 0.99997 }, { 144.6309, 80.2488, -20.2203, 0.99014 }, { 76.7878, 68.4173, -58.5507, 0.98188 },
        { 144.9620, 107.1097, -71.5796, 0.98329 }, { 60.0488, 75.4354, -164.7829, 0.98258 }, { 146.8032, 113.7612, -82.2180, 0.96831 },
        { 54.0249, 76.0075, -184.9789, 0.97050 }, { 143.3696, 114.0831, -95.4430, 0.97066 }, { 55.1231, 74.8945, -193.4154, 0.97279 },
        { 141.8152, 111.8194, -77.4796, 0.96457 }, { 57.5865, 74.9987, -171.1364, 0.96718 }, { 131.6494, 107.0524, 1.8789, 0.99994 },
        { 110.3814, 110.2715, -1.8473, 0.99997 }, { 145.3451, 142.1887, -33.5790, 0.99004 }, { 105.9175, 146.3654, -84.2468, 0.99412 },
        { 152.7636, 176.4901, 38.5508, 0.98067 }, { 113.5510, 190.3727, -45.2391, 0.99652 }, { 151.1413, 180.2992, 43.0792, 0.89863 },
        { 115.9211, 197.2763, -44.5580, 0.95517 }, { 156.1996, 193.1112, -4.1597, 0.97515 }, { 111.0135, 202.1568, -104.9600, 0.99320 },
    };

    /// <summary>Frame k of the video: p1.jpg moved right 3·(k−1) px and down 2·(k−1) px (black where it leaves the image).</summary>
    private static Mat Shifted(Mat image, int k)
    {
        var m = new Mat();
        Cv2.WarpAffine(image, m, InputArray.Create(new double[,] { { 1, 0, 3 * (k - 1) }, { 0, 1, 2 * (k - 1) } }), image.Size(),
            InterpolationFlags.Nearest, BorderTypes.Constant, Scalar.Black);
        return m;
    }

    [Fact]
    public void Still_image_p1_matches_pose_detection()
    {
        using var image = Cv2.ImRead(SharedData.Image("p1.jpg"));
        var result = Pipeline.Estimate(image, video: false);
        Assert.True(result.DetectorRan);
        var person = Assert.IsType<Person>(result.Person);
        Assert.Same(KeypointSet.BlazePose33, person.KeypointSet);
        Assert.Equal(33, person.PartCount);
        Assert.Equal(0.9999973, person.Score, 5);

        // Same geometry, arithmetic and models as pose-detection: agreement to a few thousandths of a pixel.
        double worst = 0;
        for (var i = 0; i < 33; i++)
        {
            var k = person[i]!.Value;
            Assert.Equal(PoseDetectionP1[i, 0], k.X, 0.01);
            Assert.Equal(PoseDetectionP1[i, 1], k.Y, 0.01);
            Assert.Equal(PoseDetectionP1[i, 2], k.Z!.Value, 0.05);
            Assert.Equal(PoseDetectionP1[i, 3], k.Score, 1e-4);
            Assert.Equal(k.Score, k.Visibility);
            Assert.InRange(k.Presence!.Value, 0.5, 1);
            Assert.Equal(k.X / image.Width, k.NormalizedX, 5);
            worst = Math.Max(worst, Math.Max(Math.Abs(PoseDetectionP1[i, 0] - k.X), Math.Abs(PoseDetectionP1[i, 1] - k.Y)));
        }
        output.WriteLine($"largest x/y difference from pose-detection: {worst:G3} px");

        // World keypoints in metres, origin between the hips (pose-detection: nose (−0.0918, −0.5977, −0.2333),
        // hips (0.1086, −0.0162, −0.0025) and (−0.1092, 0.0159, 0.0031)).
        var world = person.WorldKeypoints!;
        Assert.Equal(33, world.Count);
        Assert.Equal(-0.09183, world[0].X, 3e-4);
        Assert.Equal(-0.59769, world[0].Y, 3e-4);
        Assert.Equal(-0.23332, world[0].Z, 3e-4);
        Assert.Equal(0.10858, world[23].X, 3e-4);
        Assert.Equal(-0.10922, world[24].X, 3e-4);
        Assert.Equal(person[0]!.Value.Score, world[0].Score);

        // The detector's box is the face's: it holds the nose and eyes.
        var face = result.Detection!.Value.Box;
        foreach (var i in new[] { 0, 2, 5 })
            Assert.True(face.Contains(new Point2f(person[i]!.Value.X, person[i]!.Value.Y)), $"keypoint {i} outside the face box {face}");
        // pose-detection's ROI for the landmarks of this frame: hips at (115.78, 105.09), side 242.18, −4.3°.
        var roi = result.Roi!.Value;
        Assert.Equal(115.78, roi.XCenter, 0.01);
        Assert.Equal(105.09, roi.YCenter, 0.01);
        Assert.Equal(242.18, roi.Width, 0.01);
        Assert.Equal(-0.0751, roi.Rotation, 1e-3);
        // The mask warped back into the image: pose-detection's values on the person's edge (where any shift of the
        // geometry shows), inside and outside.
        var mask = result.Segmentation!;
        (int X, int Y, double V)[] edge = [(82, 56, 0.77403), (117, 134, 0.54110), (160, 198, 0.39762), (151, 189, 0.62930),
            (106, 181, 0.39720), (99, 38, 0.29739), (120, 80, 1.0), (10, 10, 0), (200, 200, 0)];
        foreach (var (x, y, v) in edge)
            Assert.Equal(v, mask.At<float>(y, x), 2e-3);

        // A still image starts no track.
        Assert.Null(Pipeline.TrackedRoi);
    }

    [Fact]
    public void Still_image_p1_is_a_plausible_person_with_a_matching_mask()
    {
        using var image = Cv2.ImRead(SharedData.Image("p1.jpg"));
        var result = Pipeline.Estimate(image, video: false);
        var person = result.Person!;
        var bounds = new Rect2f(0, 0, image.Width, image.Height);
        Assert.All(person.Keypoints, k => Assert.True(bounds.Contains(new Point2f(k.X, k.Y)), $"{person.NameOf(k)} ({k.X}, {k.Y}) is outside the image"));
        Keypoint K(string name) => person[name]!.Value;
        Assert.True(K("nose").Y < K("left_hip").Y && K("nose").Y < K("right_hip").Y, "the nose is not above the hips");
        Assert.True(Math.Abs(K("left_shoulder").X - K("right_shoulder").X) > Math.Abs(K("left_eye").X - K("right_eye").X),
            "the shoulders are not wider apart than the eyes");
        Assert.True(K("left_hip").Y < K("left_knee").Y && K("left_knee").Y < K("left_ankle").Y);

        // Person.Box is the box around the 33 keypoints.
        var box = person.Box!.Value;
        Assert.Equal(person.Keypoints.Min(k => k.X), box.X, 4);
        Assert.Equal(person.Keypoints.Max(k => k.Y), box.Y + box.Height, 4);

        // The mask: image-sized floats, the person inside the keypoint box, background well outside it.
        var mask = result.Segmentation!;
        Assert.Equal((image.Width, image.Height, MatType.CV_32FC1), (mask.Width, mask.Height, mask.Type()));
        int inside = 0, insideOn = 0, outside = 0, outsideOn = 0;
        var far = new Rect2f(box.X - 15, box.Y - 15, box.Width + 30, box.Height + 30);
        int rows = mask.Rows, cols = mask.Cols;
        for (var y = 0; y < rows; y++)
        {
            for (var x = 0; x < cols; x++)
            {
                var on = mask.At<float>(y, x) > 0.5f;
                if (box.Contains(new Point2f(x, y))) { inside++; insideOn += on ? 1 : 0; }
                else if (!far.Contains(new Point2f(x, y))) { outside++; outsideOn += on ? 1 : 0; }
            }
        }
        output.WriteLine($"mask > 0.5: {insideOn}/{inside} inside the keypoint box, {outsideOn}/{outside} far outside");
        Assert.True(outside > 1000, "too little of the image is far from the person to check");
        // With arms and legs spread, much of the box is background (on p1 40% of it is person), but along the
        // skeleton's bones it is person almost everywhere.
        Assert.True(insideOn > 0.3 * inside, $"only {insideOn} of {inside} pixels inside the person box are person");
        int samples = 0, onBones = 0;
        foreach (var bone in person.KeypointSet.Skeleton)
        {
            Keypoint a = person[bone.From]!.Value, b = person[bone.To]!.Value;
            for (var t = 0; t <= 10; t++, samples++)
                onBones += mask.At<float>((int)Math.Round(a.Y + (b.Y - a.Y) * t / 10f), (int)Math.Round(a.X + (b.X - a.X) * t / 10f)) > 0.5f ? 1 : 0;
        }
        output.WriteLine($"mask > 0.5 at {onBones} of {samples} points along the bones");
        Assert.True(onBones > 0.9 * samples, $"the mask is person at only {onBones} of {samples} points along the skeleton");
        Assert.True(outsideOn < 0.01 * outside, $"{outsideOn} of {outside} pixels far outside the box are person");
        // Between the hips and the shoulders (inside both pairs) it is person throughout.
        var torso = Rect.FromLTRB((int)Math.Max(K("right_shoulder").X, K("right_hip").X) + 3, (int)K("left_shoulder").Y + 3,
            (int)Math.Min(K("left_shoulder").X, K("left_hip").X) - 3, (int)K("left_hip").Y - 3);
        Assert.True(torso.Width > 10 && torso.Height > 30, $"torso {torso}");
        using var torsoMask = new Mat(mask, torso);
        Cv2.MinMaxLoc(torsoMask, out double torsoMin, out _);
        Assert.True(torsoMin > 0.5, $"the torso {torso} has mask values down to {torsoMin}");
    }

    [Fact]
    public void Video_runs_the_detector_once_while_the_pose_flag_stays_high()
    {
        using var image = Cv2.ImRead(SharedData.Image("p1.jpg"));
        Pipeline.Reset();
        var runs = Pipeline.DetectorRuns;
        BlazePoseResult? last = null;
        for (var k = 1; k <= 5; k++)
        {
            using var frame = Shifted(image, k);
            last = Pipeline.Estimate(frame, video: true, TimeSpan.FromMilliseconds(33 * k));
            Assert.NotNull(last.Person);
            Assert.True(last.PoseScore > 0.5);
            Assert.Equal(k == 1, last.DetectorRan);
            Assert.Equal(k == 1, last.Detection is not null);
        }
        Assert.Equal(1, Pipeline.DetectorRuns - runs);

        // pose-detection on the same frames: the region it keeps for the next frame after frame 5, and frame 5's
        // nose and hips. The region follows the image's shift of (3, 2) px per frame.
        var next = Pipeline.TrackedRoi!.Value;
        Assert.Equal(133.3947, next.XCenter, 0.01);
        Assert.Equal(116.7716, next.YCenter, 0.01);
        Assert.Equal(250.0836, next.Width, 0.01);
        Assert.Equal(-0.164179, next.Rotation, 1e-3);
        Assert.Equal(121.0576, last!.Person![0]!.Value.X, 0.01);
        Assert.Equal(44.0469, last.Person[0]!.Value.Y, 0.01);
        Assert.Equal(143.0280, last.Person[23]!.Value.X, 0.01);
        Assert.Equal(118.1138, last.Person[24]!.Value.Y, 0.01);

        // A frame with no one in it: the tracked region's pose flag collapses, no person, and the track is dropped,
        // so the next frame runs the detector again.
        using (var empty = new Mat(image.Size(), MatType.CV_8UC3, new Scalar(128, 128, 128)))
        {
            var lost = Pipeline.Estimate(empty, video: true);
            Assert.False(lost.DetectorRan);
            Assert.Null(lost.Person);
            Assert.Null(lost.Segmentation);
            Assert.True(lost.PoseScore < 0.5, $"pose flag {lost.PoseScore} on a grey frame");
        }
        Assert.Null(Pipeline.TrackedRoi);
        using (var again = Shifted(image, 1))
            Assert.True(Pipeline.Estimate(again, video: true).DetectorRan);
        Assert.Equal(2, Pipeline.DetectorRuns - runs);

        // Reset forgets the track.
        Pipeline.Reset();
        using (var after = Shifted(image, 2))
            Assert.True(Pipeline.Estimate(after, video: true).DetectorRan);
        Assert.Equal(3, Pipeline.DetectorRuns - runs);
    }

    [Fact]
    public void Nobody_in_the_image_gives_no_person()
    {
        using var empty = new Mat(240, 320, MatType.CV_8UC3, new Scalar(128, 128, 128));
        var runs = Pipeline.DetectorRuns;
        var result = Pipeline.Estimate(empty, video: true);
        Assert.True(result.DetectorRan);
        Assert.Equal(1, Pipeline.DetectorRuns - runs);
        Assert.Null(result.Person);
        Assert.Null(result.Roi);
        Assert.Null(Pipeline.TrackedRoi);
    }

    [Fact]
    public void Filter_sees_video_frames_and_steers_the_next_region()
    {
        using var image = Cv2.ImRead(SharedData.Image("p1.jpg"));
        var filter = new ShiftingFilter();
        using var pipeline = new BlazePosePipeline(
            SharedData.Path("data", "tfjs-models", "blazepose-detector", "model.json"),
            SharedData.Path("data", "tfjs-models", "blazepose-lite", "model.json"),
            new BlazePoseOptions { Filter = filter, EnableSegmentation = false });
        var still = pipeline.Estimate(image, video: false);
        Assert.Equal(0, filter.Frames);
        Assert.Null(still.Segmentation);

        var first = pipeline.Estimate(image, video: true, TimeSpan.FromSeconds(1));
        Assert.Equal(1, filter.Frames);
        Assert.Equal(TimeSpan.FromSeconds(1), filter.LastTimestamp);
        Assert.Equal((35, 33), (filter.LandmarkCount, filter.WorldCount));
        // The filter moved every landmark 10 px right: the output and the next region (from landmarks 33 and 34) follow.
        Assert.Equal(still.Person![0]!.Value.X + 10, first.Person![0]!.Value.X, 3);
        Assert.Equal(still.Roi!.Value.XCenter, first.Roi!.Value.XCenter, 3);
        // Unfiltered, the next region would be centred at x = 121.4298 (pose-detection's, after p1).
        Assert.Equal(121.4298 + 10, pipeline.TrackedRoi!.Value.XCenter, 0.01);
        var resets = filter.Resets;
        pipeline.Reset();
        Assert.Equal(resets + 1, filter.Resets);
        Assert.Null(pipeline.TrackedRoi);
    }

    private sealed class ShiftingFilter : IBlazePoseFilter
    {
        public int Frames, Resets, LandmarkCount, WorldCount;
        public TimeSpan? LastTimestamp;

        public void Apply(Span<BlazePoseLandmark> landmarks, Span<BlazePoseLandmark> worldLandmarks, int imageWidth, int imageHeight, TimeSpan? timestamp)
        {
            Frames++;
            LastTimestamp = timestamp;
            (LandmarkCount, WorldCount) = (landmarks.Length, worldLandmarks.Length);
            for (var i = 0; i < landmarks.Length; i++)
                landmarks[i] = landmarks[i] with { X = landmarks[i].X + 10 };
        }

        public void Reset() => Resets++;
    }
}
