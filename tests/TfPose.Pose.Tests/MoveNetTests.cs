using OpenCvSharp;
using TfPose.Graph;
using TfPose.Pose.MoveNet;
using TfPose.Runtime;
using TfPose.Tests;

namespace TfPose.Pose.Tests;

/// <summary>
/// MoveNet's crop regions worked out by hand, its decoding of TensorFlow.js' stored outputs, and the whole pipeline on
/// the sample photos against those outputs.
/// </summary>
public class MoveNetTests
{
    private static string Model(string name) => SharedData.Path("data", "tfjs-models", name, "model.json");

    private static string Reference(string name, string image, string file) => SharedData.Path("data", "tfjs-models", name, "reference", image, file);

    [Fact]
    public void Whole_image_crop_pads_the_short_side_to_a_square()
    {
        // Portrait 217×232: the square is 232 wide, centred, so it starts 7.5 px left of the image.
        var portrait = CropRegion.WholeImage(217, 232);
        Assert.Equal(-7.5f / 217, portrait.XMin, 6);
        Assert.Equal((217 + 7.5f) / 217, portrait.XMax, 6);
        Assert.Equal((0f, 1f), (portrait.YMin, portrait.YMax));
        // Landscape 600×471: 600 high, 64.5 px above.
        var landscape = CropRegion.WholeImage(600, 471);
        Assert.Equal(-64.5f / 471, landscape.YMin, 6);
        Assert.Equal(600f / 471, landscape.Height, 5);
        Assert.Equal((0f, 1f), (landscape.XMin, landscape.XMax));
    }

    private static Keypoint[] Pose(params (int Part, float X, float Y, float Score)[] points)
    {
        var keypoints = Enumerable.Range(0, 17).Select(i => new Keypoint(i, 0, 0, 0, 0, 0.05f)).ToArray();
        foreach (var (part, x, y, score) in points)
            keypoints[part] = new Keypoint(part, x, y, 0, 0, score);
        return keypoints;
    }

    [Fact]
    public void Next_crop_is_centred_on_the_hips_and_sized_by_torso_and_body_reach()
    {
        // 400×300 image; hips at (190,150) and (210,150): centre (200,150). Shoulders 40 px above, 20 px out:
        // torso reach y 40, x 20 → 1.9·40 = 76. A wrist at (260,100) (score 0.5): body reach x 60, y 50 → 1.2·60 = 72.
        // Half side 76 (below the centre's 200 px to the far edge); square from (124,74), side 152.
        var keypoints = Pose((5, 180, 110, 0.9f), (6, 220, 110, 0.9f), (11, 190, 150, 0.8f), (12, 210, 150, 0.8f), (9, 260, 100, 0.5f));
        var crop = CropRegion.Next(keypoints, 400, 300);
        Assert.Equal(74f / 300, crop.YMin, 5);
        Assert.Equal(124f / 400, crop.XMin, 5);
        Assert.Equal(226f / 300, crop.YMax, 5);
        Assert.Equal(276f / 400, crop.XMax, 5);

        // A wrist below the score threshold does not widen it; a far one with a good score does: 1.2·150 = 180.
        var wide = CropRegion.Next(Pose((5, 180, 110, 0.9f), (6, 220, 110, 0.9f), (11, 190, 150, 0.8f), (12, 210, 150, 0.8f), (9, 350, 150, 0.6f)), 400, 300);
        Assert.Equal((200f - 180) / 400, wide.XMin, 5);
    }

    [Fact]
    public void Next_crop_falls_back_to_the_whole_image()
    {
        // No shoulder above the score threshold: the torso is not visible.
        var noTorso = CropRegion.Next(Pose((11, 190, 150, 0.8f), (12, 210, 150, 0.8f), (5, 180, 110, 0.1f)), 400, 300);
        Assert.Equal(CropRegion.WholeImage(400, 300), noTorso);
        // A body reaching further than half the image's longer side.
        var huge = CropRegion.Next(Pose((5, 10, 10, 0.9f), (6, 390, 10, 0.9f), (11, 190, 290, 0.8f), (12, 210, 290, 0.8f)), 400, 300);
        Assert.Equal(CropRegion.WholeImage(400, 300), huge);
    }

    [Fact]
    public void SinglePose_output_is_mapped_through_the_crop_region()
    {
        // TensorFlow.js' output on p1 (217×232) stretched to 192²: the crop is the whole image, y·232 and x·217.
        using var output = NpyFile.Read(Reference("movenet-lightning", "p1", "Identity.npy"));
        var raw = output.ToArray<float>();
        var keypoints = new Keypoint[17];
        var score = MoveNetPipeline.DecodeSingle(raw, new CropRegion(0, 0, 1, 1), 217, 232, keypoints);
        for (var k = 0; k < 17; k++)
        {
            Assert.Equal(raw[3 * k] * 232, keypoints[k].Y, 3);
            Assert.Equal(raw[3 * k + 1] * 217, keypoints[k].X, 3);
        }
        var confident = Enumerable.Range(0, 17).Select(k => raw[3 * k + 2]).Where(s => s > 0.2f).ToList();
        Assert.Equal(confident.Average(), score, 5);

        // A crop region of the right half, shifted down: x = (0.5 + x'·0.5)·217, y = (0.25 + y'·0.5)·232.
        MoveNetPipeline.DecodeSingle(raw, new CropRegion(0.25f, 0.5f, 0.75f, 1f), 217, 232, keypoints);
        Assert.Equal((0.5f + raw[1] * 0.5f) * 217, keypoints[0].X, 3);
        Assert.Equal((0.25f + raw[0] * 0.5f) * 232, keypoints[0].Y, 3);
    }

    [Fact]
    public void MultiPose_output_is_mapped_from_the_padded_input()
    {
        // A 600×471 image resized to 256×201 and padded to 256×224: a value v·224/201·471 in height, v·600 in width.
        using var output = NpyFile.Read(Reference("movenet-multipose", "p3", "Identity.npy"));
        var raw = output.ToArray<float>();
        var people = MoveNetPipeline.DecodeMulti(raw, 600, 471, 256, 201, 256, 224, 0.25f);
        var kept = Enumerable.Range(0, 6).Where(i => raw[i * 56 + 55] >= 0.25f).ToList();
        Assert.Equal(kept.Count, people.Count);
        for (var p = 0; p < people.Count; p++)
        {
            var row = kept[p] * 56;
            var nose = people[p][0]!.Value;
            Assert.Equal(raw[row] * 224f / 201 * 471, nose.Y, 2);
            Assert.Equal(raw[row + 1] * 600, nose.X, 2);
            var box = people[p].Box!.Value;
            Assert.Equal(raw[row + 52] * 600, box.X, 2);
            Assert.Equal((raw[row + 53] - raw[row + 51]) * 224f / 201 * 471, box.Height, 2);
            Assert.Equal(raw[row + 55], people[p].Score);
        }
    }

    /// <summary>Keypoints TensorFlow.js found on a stretched copy of the image, in the image's pixels.</summary>
    private static (float X, float Y, float Score)[] ReferenceKeypoints(string model, string image, int person, int width, int height)
    {
        using var output = NpyFile.Read(Reference(model, image, "Identity.npy"));
        var raw = output.ToArray<float>();
        var stride = model == "movenet-multipose" ? 56 : 51;
        return Enumerable.Range(0, 17).Select(k => (raw[person * stride + 3 * k + 1] * width, raw[person * stride + 3 * k] * height, raw[person * stride + 3 * k + 2])).ToArray();
    }

    [Fact]
    public void SinglePose_on_a_photo_finds_the_joints_tensorflow_js_found()
    {
        using var image = Cv2.ImRead(SharedData.Image("p1.jpg"));
        using var estimator = new PoseEstimator(Model("movenet-lightning"));
        Assert.Equal(PoseModelKind.MoveNet, estimator.Model.Kind);
        var person = Assert.Single(estimator.Estimate(image));
        Assert.Same(KeypointSet.Coco17, person.KeypointSet);
        // TfPose pads the photo to a square, the reference stretched it: the same joints, a few pixels apart.
        var expected = ReferenceKeypoints("movenet-lightning", "p1", 0, image.Width, image.Height);
        var compared = 0;
        for (var k = 0; k < 17; k++)
        {
            var found = person[k]!.Value;
            if (expected[k].Score < 0.4f || found.Score < 0.4f)
                continue;
            var distance = Math.Sqrt(Math.Pow(found.X - expected[k].X, 2) + Math.Pow(found.Y - expected[k].Y, 2));
            Assert.True(distance < 0.05 * image.Height, $"{KeypointSet.Coco17.Names[k]}: ({found.X:F1},{found.Y:F1}) vs TensorFlow.js ({expected[k].X:F1},{expected[k].Y:F1})");
            compared++;
        }
        Assert.True(compared >= 10, $"only {compared} keypoints confident on both sides");
    }

    [Fact]
    public void MultiPose_on_a_photo_finds_the_people_tensorflow_js_found()
    {
        using var image = Cv2.ImRead(SharedData.Image("p3.jpg"));
        using var estimator = new PoseEstimator(Model("movenet-multipose"));
        Assert.Equal(PoseModelKind.MoveNetMultiPose, estimator.Model.Kind);
        var people = estimator.Estimate(image);
        using var output = NpyFile.Read(Reference("movenet-multipose", "p3", "Identity.npy"));
        var raw = output.ToArray<float>();
        var referencePeople = Enumerable.Range(0, 6).Where(i => raw[i * 56 + 55] >= 0.25f).ToList();
        Assert.Equal(referencePeople.Count, people.Count);
        foreach (var r in referencePeople)
        {
            // Each person TensorFlow.js found is one of ours: their noses and hips close.
            var expected = ReferenceKeypoints("movenet-multipose", "p3", r, image.Width, image.Height);
            Assert.Contains(people, p => new[] { 0, 11, 12 }.All(k =>
                Math.Abs(p[k]!.Value.X - expected[k].X) < 0.05 * image.Width && Math.Abs(p[k]!.Value.Y - expected[k].Y) < 0.05 * image.Height));
        }
        Assert.All(people, p => Assert.True(p.Box is { Width: > 0, Height: > 0 }));
    }

    [Fact]
    public void In_video_the_crop_follows_the_person_and_still_images_start_over()
    {
        using var image = Cv2.ImRead(SharedData.Image("p1.jpg"));
        using var pipeline = new MoveNetPipeline(TfGraph.Load(Model("movenet-lightning")));
        Assert.False(pipeline.MultiPose);
        Assert.Equal(192, pipeline.InputSize);
        pipeline.Estimate(image, video: true);
        var next = Assert.IsType<CropRegion>(pipeline.NextCropRegion);
        // p1 shows one person in most of the frame: the crop tightens on them, inside the padded square.
        Assert.True(next.Width < CropRegion.WholeImage(image.Width, image.Height).Width);
        pipeline.Reset();
        Assert.Null(pipeline.NextCropRegion);
        pipeline.Estimate(image, video: false);
        Assert.Null(pipeline.NextCropRegion);
    }
}
