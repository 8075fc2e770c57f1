using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TfPose.Pose;

namespace TfPose.Native;

/// <summary>tfpose_eval_options in C layout.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NativeEvalOptions
{
    public uint StructSize;
    public int GroundTruthBoxes;
    public float BoxGrowth;
}

/// <summary>tfpose_coco_stats in C layout.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NativeCocoStats
{
    public uint StructSize;
    public double AP;
    public double AP50;
    public double AP75;
    public double APMedium;
    public double APLarge;
    public double AR;
    public double AR50;
    public double AR75;
    public double ARMedium;
    public double ARLarge;
    public int ImagesScored;
    public int ImagesSkipped;
}

/// <summary>COCO keypoint evaluation: the C face of <see cref="PoseEvaluation.Run"/>, the evaluation behind <c>tfpose pose eval</c>.</summary>
internal static unsafe partial class Exports
{
    [UnmanagedCallersOnly(EntryPoint = "tfpose_evaluate_coco", CallConvs = [typeof(CallConvCdecl)])]
    public static nint EvaluateCoco(nint estimator, byte* annotationsJson, byte* imagesDir, NativeEvalOptions* options, NativeCocoStats* stats)
    {
        try
        {
            if (stats == null)
                throw new ArgumentNullException(nameof(stats), "stats (the output pointer) is NULL.");
            // The fields before the first number are struct_size and its padding; a smaller struct cannot hold any result.
            if (stats->StructSize < sizeof(uint) + sizeof(uint) + sizeof(double))
                throw new ArgumentException($"stats->struct_size is {stats->StructSize}; set it to sizeof(tfpose_coco_stats) (or use TFPOSE_COCO_STATS_INIT).");
            var native = Handles.Get<NativeEstimator>(estimator, HandleKind.Estimator, nameof(estimator));
            var annotations = Utf8(annotationsJson, "annotations_json");
            var images = Utf8(imagesDir, "images_dir");
            var o = ReadOptions(options, "options");
            if (float.IsNaN(o.BoxGrowth) || o.BoxGrowth < 0)
                throw new ArgumentException($"options->box_growth is {o.BoxGrowth}; use 0 for the default (1.25) or a positive factor.");
            var evaluationOptions = new PoseEvaluationOptions { GroundTruthBoxes = o.GroundTruthBoxes != 0 };
            if (o.BoxGrowth > 0)
                evaluationOptions = evaluationOptions with { BoxGrowth = o.BoxGrowth };

            CocoKeypointDataset groundTruth;
            try
            {
                groundTruth = CocoKeypointDataset.Load(annotations);
            }
            catch (InvalidDataException e)
            {
                // A malformed annotation file is a bad argument to this call (TFPOSE_INVALID_ARGUMENT), not a bad model.
                throw new ArgumentException(e.Message, e);
            }
            var run = PoseEvaluation.Run(native.Estimator, groundTruth, images, evaluationOptions);
            var s = run.Stats;
            var result = new NativeCocoStats
            {
                StructSize = (uint)sizeof(NativeCocoStats),
                AP = s.AP,
                AP50 = s.AP50,
                AP75 = s.AP75,
                APMedium = s.APMedium,
                APLarge = s.APLarge,
                AR = s.AR,
                AR50 = s.AR50,
                AR75 = s.AR75,
                ARMedium = s.ARMedium,
                ARLarge = s.ARLarge,
                ImagesScored = groundTruth.Images.Count - run.SkippedImages.Count,
                ImagesSkipped = run.SkippedImages.Count,
            };
            // A caller built against an older, shorter struct gets the fields it knows.
            var size = Math.Min(stats->StructSize, (uint)sizeof(NativeCocoStats));
            Buffer.MemoryCopy(&result, stats, size, size);
            stats->StructSize = size;
            return 0;
        }
        catch (Exception ex)
        {
            return Status.FromException(ex);
        }
    }
}
