namespace TfPose.Pose;

/// <summary>A detected body part.</summary>
/// <param name="Part">Which part.</param>
/// <param name="X">Column in input-image pixels.</param>
/// <param name="Y">Row in input-image pixels.</param>
/// <param name="NormalizedX">X divided by the image width (0..1).</param>
/// <param name="NormalizedY">Y divided by the image height (0..1).</param>
/// <param name="Score">Heatmap confidence at the peak (unsmoothed).</param>
public readonly record struct Keypoint(BodyPart Part, float X, float Y, float NormalizedX, float NormalizedY, float Score);

/// <summary>One person: up to 18 keypoints (missing parts are absent) and an overall score.</summary>
public sealed class Person
{
    private readonly Keypoint?[] _parts;

    public Person(IEnumerable<Keypoint> keypoints, float score)
    {
        _parts = new Keypoint?[CocoSkeleton.PartCount];
        foreach (var k in keypoints)
            _parts[(int)k.Part] = k;
        Score = score;
    }

    /// <summary>Person score as pafprocess defines it: (sum of peak and limb scores) / number of parts.</summary>
    public float Score { get; }

    /// <summary>The detected keypoints in COCO-18 order (missing parts skipped).</summary>
    public IEnumerable<Keypoint> Keypoints => _parts.Where(p => p.HasValue).Select(p => p!.Value);

    public int PartCount => _parts.Count(p => p.HasValue);

    public Keypoint? this[BodyPart part] => _parts[(int)part];

    public bool TryGet(BodyPart part, out Keypoint keypoint)
    {
        var k = _parts[(int)part];
        keypoint = k.GetValueOrDefault();
        return k.HasValue;
    }

    public override string ToString() =>
        $"Person(score={Score:F3}, parts={PartCount}: {string.Join(", ", Keypoints.Select(k => $"{k.Part}({k.X:F0},{k.Y:F0})"))})";
}
