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
