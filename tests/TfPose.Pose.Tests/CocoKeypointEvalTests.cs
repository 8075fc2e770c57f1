using TfPose.Tests;

namespace TfPose.Pose.Tests;

public class CocoKeypointEvalTests
{
    private static CocoKeypointDataset TestCoco => CocoKeypointDataset.Load(SharedData.Path("data", "coco", "test_coco.json"));

    [Fact]
    public void GroundTruthAsItsOwnPrediction_ScoresOne()
    {
        var gt = TestCoco;
        Assert.Equal(14, gt.Annotations.Count);
        // The two annotations without visible keypoints are ignored ground truth; a prediction made from
        // them would have all keypoints at (0,0) and be a false positive, so only real poses are predicted.
        var results = gt.Annotations.Where(a => a.NumKeypoints > 0).Select(a => new CocoKeypointResult(a.ImageId, a.Keypoints, 1.0));
        var s = CocoKeypointEval.Evaluate(gt, results);
        Assert.Equal(1.0, s.AP, 9);
        Assert.Equal(1.0, s.AP50, 9);
        Assert.Equal(1.0, s.AP75, 9);
        Assert.Equal(1.0, s.APMedium, 9);
        Assert.Equal(1.0, s.APLarge, 9);
        Assert.Equal(1.0, s.AR, 9);
        Assert.Equal(1.0, s.ARMedium, 9);
        Assert.Equal(1.0, s.ARLarge, 9);
    }

    [Fact]
    public void MissingHalfTheGroundTruth_AndOneFalsePositive()
    {
        var gt = TestCoco;
        // Image 40083 has two real people (ids in file order) and one zero-keypoint annotation.
        var people = gt.Annotations.Where(a => a.ImageId == 40083 && a.NumKeypoints > 0).ToList();
        Assert.Equal(2, people.Count);
        var sub = new CocoKeypointDataset(gt.Images.Where(i => i.Id == 40083).ToList(), gt.Annotations.Where(a => a.ImageId == 40083).ToList());
        var far = people[0].Keypoints.Select((v, i) => i % 3 == 2 ? v : v + 500).ToArray();
        var s = CocoKeypointEval.Evaluate(sub, [new(40083, people[0].Keypoints, 0.9), new(40083, far, 0.8)]);
        // By hand: 2 real ground truths; detections by score: TP then FP at every threshold.
        // recall [0.5, 0.5], precision [1, 0.5]; recall points 0.00..0.50 (51 of 101) take precision 1,
        // the rest lie beyond the last recall and count 0. AP = 51/101, AR = 0.5.
        Assert.Equal(51.0 / 101, s.AP, 9);
        Assert.Equal(51.0 / 101, s.AP50, 9);
        Assert.Equal(0.5, s.AR, 9);
    }

    [Fact]
    public void OksBetweenThresholds_CountsForTheLowerOnes_AndAreaRangesFollowPycocotools()
    {
        // One ground truth with only the nose visible, area 10000 (large: > 96² = 9216).
        var k = new float[51];
        k[0] = 50; k[1] = 60; k[2] = 2;
        var gt = new CocoKeypointDataset([new CocoImage(1, "a.jpg", 200, 200)],
            [new CocoAnnotation(7, 1, k, 1, 10000, [0, 0, 100, 100], false)]);
        var d = (float[])k.Clone();
        d[0] += 4; // 4 px off: e = 16 / (2·0.026)² / 10000 / 2 = 0.29586, OKS = exp(−e) = 0.7439
        Assert.Equal(Math.Exp(-16 / Math.Pow(0.052, 2) / 10000 / 2), CocoKeypointEval.Oks(d, gt.Annotations[0]), 9);
        var s = CocoKeypointEval.Evaluate(gt, [new CocoKeypointResult(1, d, 0.5)]);
        // Matched at thresholds 0.50..0.70 (5 of 10) with precision 1 at every recall, missed above.
        Assert.Equal(0.5, s.AP, 9);
        Assert.Equal(1.0, s.AP50, 9);
        Assert.Equal(0.0, s.AP75, 9);
        Assert.Equal(0.5, s.AR, 9);
        // No ground truth is medium-sized, so pycocotools reports −1 there; the large range equals "all"
        // (the detection's own box — nose plus the zeros of the missing points — is 54×60, but a matched
        // detection is never ignored for its area).
        Assert.Equal(-1, s.APMedium);
        Assert.Equal(-1, s.ARMedium);
        Assert.Equal(0.5, s.APLarge, 9);
    }

    [Fact]
    public void CrowdAndZeroKeypointGroundTruthIsIgnored()
    {
        var a = new float[51]; a[0] = 50; a[1] = 60; a[2] = 2;
        var b = new float[51]; b[0] = 150; b[1] = 60; b[2] = 2;
        var c = new float[51];
        var gt = new CocoKeypointDataset([new CocoImage(1, "a.jpg", 200, 200)],
        [
            new CocoAnnotation(1, 1, a, 1, 5000, [0, 0, 100, 50], false),
            new CocoAnnotation(2, 1, b, 1, 5000, [100, 0, 100, 50], true),   // crowd
            new CocoAnnotation(3, 1, c, 0, 5000, [0, 100, 100, 50], false), // no visible keypoints
        ]);
        // The detection on the crowd region outranks the real one; it matches ignored ground truth and is
        // itself ignored, so it is no false positive: AP = AR = 1 (with 3 counted GTs, AR would be 1/3).
        var s = CocoKeypointEval.Evaluate(gt, [new(1, a, 0.9), new(1, b, 0.95)]);
        Assert.Equal(1.0, s.AP, 9);
        Assert.Equal(1.0, s.AR, 9);
    }

    [Fact]
    public void ResultsForUnknownImagesAreRejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => CocoKeypointEval.Evaluate(TestCoco, [new(123, new float[51], 1)]));
        Assert.Contains("123", ex.Message);
    }
}
