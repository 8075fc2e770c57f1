using TfPose.Pose;

namespace TfPose.Pose.Tests;

public class PersonTests
{
    private static Keypoint At(int part, float x) => new(part, x, 0, 0, 0, 0.5f);

    [Fact]
    public void Names_FindTheSameBodyPartInEverySet_WhereverItsChannelIs()
    {
        // The nose is channel 0 in both sets, the left wrist channel 7 in OpenPose's and 9 in COCO's.
        var openPose = new Person(KeypointSet.OpenPose18, [At(0, 10), At(7, 70)], 1);
        var coco = new Person(KeypointSet.Coco17, [At(0, 10), At(9, 90)], 1);
        Assert.Equal(70f, openPose["left_wrist"]!.Value.X);
        Assert.Equal(90f, coco["left_wrist"]!.Value.X);
        Assert.True(coco.TryGet("nose", out var nose));
        Assert.Equal(10f, nose.X);
        Assert.Null(coco["right_ankle"]);
    }

    [Fact]
    public void AKeypointTheSetDoesNotHave_IsAnError_NotAnotherKeypoint()
    {
        var coco = new Person(KeypointSet.Coco17, [At(1, 10)], 1);
        var e = Assert.Throws<ArgumentException>(() => coco["neck"]);
        Assert.Contains("coco17", e.Message);
        Assert.False(coco.TryGet("neck", out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => coco[17]);
        Assert.Throws<ArgumentOutOfRangeException>(() => coco[-1]);
    }

    [Fact]
    public void SlotsIn_MapsByName_AsTheCApiFillsItsCoco18Slots()
    {
        // Worked from the two name lists: COCO-17 (nose, left_eye, right_eye, ...) in OpenPose's order (nose, neck,
        // right_shoulder, ...); AI Challenger's head_top has no OpenPose counterpart, its other 13 share OpenPose's order.
        Assert.Equal([0, 15, 14, 17, 16, 5, 2, 6, 3, 7, 4, 11, 8, 12, 9, 13, 10], KeypointSet.Coco17.SlotsIn(KeypointSet.OpenPose18));
        Assert.Equal([-1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13], KeypointSet.AiChallenger14.SlotsIn(KeypointSet.OpenPose18));
        Assert.Equal(Enumerable.Range(0, 18), KeypointSet.OpenPose18.SlotsIn(KeypointSet.OpenPose18));
    }
}
