using System.Text.Json;

namespace TfPose.Pose.Tests;

public class PoseJsonTests
{
    private static Person Sample() => new(
    [
        new Keypoint(BodyPart.Nose, 10, 20, 0.1f, 0.2f, 0.9f),
        new Keypoint(BodyPart.Neck, 11, 30, 0.11f, 0.3f, 0.8f),
        new Keypoint(BodyPart.LEye, 12, 18, 0.12f, 0.18f, 0.7f),
        new Keypoint(BodyPart.RAnkle, 40, 90, 0.4f, 0.9f, 0.6f),
    ], 1.25f);

    [Fact]
    public void OpenPoseJson_HasVersion_PersonId_And54Values()
    {
        using var doc = JsonDocument.Parse(PoseJson.ToOpenPoseJson([Sample()]));
        Assert.Equal(1.3, doc.RootElement.GetProperty("version").GetDouble());
        var person = Assert.Single(doc.RootElement.GetProperty("people").EnumerateArray());
        Assert.Equal(-1, Assert.Single(person.GetProperty("person_id").EnumerateArray()).GetInt32());
        var k = person.GetProperty("pose_keypoints_2d").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(54, k.Length);
        Assert.Equal([10, 20, 0.9], k[0..3].Select(v => Math.Round(v, 5)));
        Assert.Equal([11, 30, 0.8], k[3..6].Select(v => Math.Round(v, 5)));
        Assert.Equal([0, 0, 0], k[6..9]); // RShoulder missing
        Assert.Equal([40, 90, 0.6], k[30..33].Select(v => Math.Round(v, 5))); // RAnkle = part 10
        Assert.Equal([12, 18, 0.7], k[45..48].Select(v => Math.Round(v, 5))); // LEye = part 15
    }

    [Fact]
    public void CocoResults_Drop_TheNeck_AndUseCocoOrder()
    {
        var path = Path.Combine(Path.GetTempPath(), $"tfpose-coco-{Guid.NewGuid():N}.json");
        try
        {
            PoseJson.WriteCocoResults(path, [new CocoDetection(785, Sample())]);
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var r = Assert.Single(doc.RootElement.EnumerateArray());
            Assert.Equal(785, r.GetProperty("image_id").GetInt64());
            Assert.Equal(1, r.GetProperty("category_id").GetInt32());
            Assert.Equal(1.25, r.GetProperty("score").GetDouble(), 5);
            var k = r.GetProperty("keypoints").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            Assert.Equal(51, k.Length);
            Assert.Equal([10, 20, 1], k[0..3]);   // nose
            Assert.Equal([12, 18, 1], k[3..6]);   // left_eye is COCO index 1
            Assert.Equal([0, 0, 0], k[6..9]);     // right_eye missing
            Assert.Equal([40, 90, 1], k[48..51]); // right_ankle is COCO index 16
            Assert.DoesNotContain(k, v => v == 11 || v == 30); // the neck is gone
            Assert.Empty(Directory.GetFiles(Path.GetTempPath(), $".{Path.GetFileName(path)}*.tmp"));
        }
        finally
        {
            File.Delete(path);
        }
    }
}

public class KeypointSetJsonTests
{
    private static Person AicPerson() => new(KeypointSet.AiChallenger14,
    [
        new Keypoint(0, 50, 5, 0.5f, 0.05f, 0.9f),   // head_top: no COCO counterpart
        new Keypoint(2, 40, 30, 0.4f, 0.3f, 0.8f),   // right_shoulder
        new Keypoint(7, 70, 60, 0.7f, 0.6f, 0.7f),   // left_wrist
        new Keypoint(10, 45, 95, 0.45f, 0.95f, 0.6f), // right_ankle
    ], 0.5f);

    [Fact]
    public void OpenPoseJson_NamesTheKeypointSet_AndWritesItsKeypoints()
    {
        using var doc = System.Text.Json.JsonDocument.Parse(PoseJson.ToOpenPoseJson([AicPerson()]));
        Assert.Equal("ai-challenger14", doc.RootElement.GetProperty("keypoint_set").GetString());
        Assert.Equal(KeypointSet.AiChallenger14.Names, doc.RootElement.GetProperty("keypoint_names").EnumerateArray().Select(e => e.GetString()!));
        var k = Assert.Single(doc.RootElement.GetProperty("people").EnumerateArray()).GetProperty("pose_keypoints_2d").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(42, k.Length);
        Assert.Equal([40, 30, 0.8], k[6..9].Select(v => Math.Round(v, 5)));
        // No people: the set comes from the model.
        using var empty = System.Text.Json.JsonDocument.Parse(PoseJson.ToOpenPoseJson([], KeypointSet.Coco17));
        Assert.Equal("coco17", empty.RootElement.GetProperty("keypoint_set").GetString());
    }

    [Fact]
    public void CocoResult_OfAnAiChallengerPerson_UsesTheTwelveSharedKeypoints()
    {
        var r = CocoKeypointResult.FromPerson(7, AicPerson());
        var k = r.Keypoints;
        Assert.Equal([40, 30, 1], k[18..21]);  // right_shoulder is COCO index 6
        Assert.Equal([70, 60, 1], k[27..30]);  // left_wrist is COCO index 9
        Assert.Equal([45, 95, 1], k[48..51]);  // right_ankle is COCO index 16
        Assert.All(k[0..15], v => Assert.Equal(0, v)); // no face keypoints; head_top is dropped
        Assert.Equal(3, k.Where((_, i) => i % 3 == 2).Count(v => v > 0));
    }

    [Fact]
    public void ASetWithoutCocoMapping_CannotBeScoredOnCoco()
    {
        var set = new KeypointSet("hands", ["thumb", "index"], [new Bone(0, 1)]);
        var ex = Assert.Throws<ArgumentException>(() => CocoKeypointResult.FromPerson(1, new Person(set, [new Keypoint(0, 1, 1, 0, 0, 1)], 1)));
        Assert.Contains("hands", ex.Message);
    }
}
