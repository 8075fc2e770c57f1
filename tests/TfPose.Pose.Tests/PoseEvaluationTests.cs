using OpenCvSharp;
using TfPose.Tests;

namespace TfPose.Pose.Tests;

public class PoseEvaluationTests
{
    private static CocoKeypointDataset TestCoco => CocoKeypointDataset.Load(SharedData.Path("data", "coco", "test_coco.json"));

    [Fact]
    public void GrowBox_GrowsAboutTheCentre_ToWholePixelsCoveringIt()
    {
        // [10, 20, 30, 40] x 1.25: centre (25, 40), size 37.5 x 50 -> left 6.25, top 15 -> pixels 6, 15, 38 x 50.
        Assert.Equal(new Rect(6, 15, 38, 50), PoseEvaluation.GrowBox([10, 20, 30, 40], 1.25));
        Assert.Equal(new Rect(10, 20, 30, 40), PoseEvaluation.GrowBox([10, 20, 30, 40], 1));
        Assert.Throws<ArgumentException>(() => PoseEvaluation.GrowBox([1, 2, 3], 1.25));
    }

    [Fact]
    public void GroundTruthBoxes_RunOncePerAnnotatedPerson_AndFindKeypointsOnlyInsideItsBox()
    {
        var gt = TestCoco;
        using var estimator = new PoseEstimator(SharedData.Model("cpm-mobile", "model.pb"), new PoseEstimatorOptions { KeepAspectRatio = true });
        var steps = new List<PoseEvaluationStep>();
        var run = PoseEvaluation.Run(estimator, gt, SharedData.Path("data", "coco"), new PoseEvaluationOptions { GroundTruthBoxes = true }, new Collect(steps));

        Assert.Equal(gt.Images.Select(i => i.FileName), steps.Select(s => s.Image.FileName));
        Assert.Empty(run.SkippedImages);
        // A single-person model gives at most one person per box; boxes are the non-crowd annotations with keypoints.
        var boxes = gt.Annotations.Where(a => !a.IsCrowd && a.NumKeypoints > 0).ToList();
        Assert.InRange(run.Detections.Count, 1, boxes.Count);
        foreach (var d in run.Detections)
            Assert.Contains(boxes.Where(a => a.ImageId == d.ImageId), a =>
            {
                var r = PoseEvaluation.GrowBox(a.Bbox, 1.25);
                return d.Person.Keypoints.All(k => k.X >= r.X - 1 && k.X <= r.Right + 1 && k.Y >= r.Y - 1 && k.Y <= r.Bottom + 1);
            });
        Assert.InRange(run.Stats.AP, 0, 1);
    }

    [Fact]
    public void AnImageThatCannotBeRead_IsSkippedAndNamed_TheOthersStillScore()
    {
        var gt = TestCoco;
        var one = gt.Images[0];
        var withMissing = new CocoKeypointDataset([one, one with { Id = 999_999, FileName = "missing.jpg" }],
            gt.Annotations.Where(a => a.ImageId == one.Id).ToList());
        using var estimator = new PoseEstimator(SharedData.Model("posenet-mobilenet-v1-050", "model.pb"));
        var steps = new List<PoseEvaluationStep>();
        var run = PoseEvaluation.Run(estimator, withMissing, SharedData.Path("data", "coco"), progress: new Collect(steps));

        var skipped = Assert.Single(run.SkippedImages);
        Assert.EndsWith("missing.jpg", skipped);
        Assert.Contains("missing.jpg", steps[1].Skipped);
        Assert.Null(steps[0].Skipped);
        Assert.All(run.Detections, d => Assert.Equal(one.Id, d.ImageId));
        Assert.Equal(steps[0].People, run.Detections.Count);
    }

    private sealed class Collect(List<PoseEvaluationStep> steps) : IProgress<PoseEvaluationStep>
    {
        public void Report(PoseEvaluationStep value) => steps.Add(value);
    }
}
