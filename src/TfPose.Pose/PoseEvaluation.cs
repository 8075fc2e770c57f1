using TfPose.Imaging;
using OpenCvSharp;

namespace TfPose.Pose;

/// <summary>How <see cref="PoseEvaluation.Run"/> looks at each image.</summary>
public sealed record PoseEvaluationOptions
{
    /// <summary>
    /// Top-down protocol: run the model once per ground-truth person box (not crowd, with keypoints), grown by
    /// <see cref="BoxGrowth"/> about its centre, instead of once on the whole image. For single-person models; the
    /// estimator should keep the aspect ratio (<see cref="PoseEstimatorOptions.KeepAspectRatio"/>) so a tall box is
    /// not stretched.
    /// </summary>
    public bool GroundTruthBoxes { get; init; }

    /// <summary>Context added around a ground-truth box (top-down pose estimation usually adds 25%).</summary>
    public double BoxGrowth { get; init; } = 1.25;
}

/// <summary>One image done (for progress reports).</summary>
public readonly record struct PoseEvaluationStep(CocoImage Image, int People, string? Skipped);

/// <summary>What an evaluation run found: the scores, every detection (for a COCO results file), the images it could not read.</summary>
public sealed record PoseEvaluationResult(CocoKeypointStats Stats, IReadOnlyList<CocoDetection> Detections, IReadOnlyList<string> SkippedImages);

/// <summary>
/// Runs an estimator over a COCO person-keypoints set and scores it as pycocotools does (<see cref="CocoKeypointEval"/>):
/// the evaluation behind <c>tfpose pose eval</c>, usable from any face.
/// </summary>
public static class PoseEvaluation
{
    /// <summary>
    /// Estimates every image of <paramref name="groundTruth"/> (files under <paramref name="imagesFolder"/>) and scores the
    /// people. Images that cannot be read are skipped (listed in the result); a model whose keypoints have no COCO-17
    /// mapping is refused before any image is read.
    /// </summary>
    public static PoseEvaluationResult Run(PoseEstimator estimator, CocoKeypointDataset groundTruth, string imagesFolder,
        PoseEvaluationOptions? options = null, IProgress<PoseEvaluationStep>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(estimator);
        ArgumentNullException.ThrowIfNull(groundTruth);
        ArgumentException.ThrowIfNullOrEmpty(imagesFolder);
        options ??= new PoseEvaluationOptions();
        if (!Directory.Exists(imagesFolder))
            throw new DirectoryNotFoundException($"Images folder not found: {imagesFolder}");
        var set = estimator.Model.Keypoints;
        if (set.ToCoco17 is null)
            throw new ArgumentException($"{estimator.Model.Name}: its {set.Name} keypoints have no COCO-17 mapping; it cannot be scored on COCO.");

        var detections = new List<CocoDetection>();
        var skipped = new List<string>();
        foreach (var image in groundTruth.Images)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var path = Path.Combine(imagesFolder, image.FileName);
            Mat mat;
            try { mat = ImageFile.Read(path); }
            catch (Exception e) when (e is IOException or InvalidDataException)
            {
                // The message already names the file and what is wrong with it (missing, not an image, too many pixels).
                skipped.Add(path);
                progress?.Report(new PoseEvaluationStep(image, 0, e.Message));
                continue;
            }
            using var _ = mat;
            var people = new List<Person>();
            if (!options.GroundTruthBoxes)
                people.AddRange(estimator.Estimate(mat));
            else
                foreach (var a in groundTruth.Annotations.Where(a => a.ImageId == image.Id && !a.IsCrowd && a.NumKeypoints > 0))
                    people.AddRange(estimator.Estimate(mat, GrowBox(a.Bbox, options.BoxGrowth)));
            detections.AddRange(people.Select(p => new CocoDetection(image.Id, p)));
            progress?.Report(new PoseEvaluationStep(image, people.Count, null));
        }
        var stats = CocoKeypointEval.Evaluate(groundTruth, detections.Select(d => CocoKeypointResult.FromPerson(d.ImageId, d.Person)));
        return new PoseEvaluationResult(stats, detections, skipped);
    }

    /// <summary>A COCO box [x, y, w, h] grown by <paramref name="factor"/> about its centre, as whole pixels covering it.</summary>
    public static Rect GrowBox(IReadOnlyList<double> box, double factor)
    {
        ArgumentNullException.ThrowIfNull(box);
        if (box.Count != 4)
            throw new ArgumentException($"A COCO box has 4 numbers [x, y, w, h]; this one has {box.Count}.", nameof(box));
        double cx = box[0] + box[2] / 2, cy = box[1] + box[3] / 2, w = box[2] * factor, h = box[3] * factor;
        return new Rect((int)Math.Floor(cx - w / 2), (int)Math.Floor(cy - h / 2), Math.Max(1, (int)Math.Ceiling(w)), Math.Max(1, (int)Math.Ceiling(h)));
    }
}
