namespace TfPose.Pose;

/// <summary>A detected keypoint.</summary>
/// <param name="Part">Index into the person's <see cref="Person.KeypointSet"/> (the network channel).</param>
/// <param name="X">Column in input-image pixels.</param>
/// <param name="Y">Row in input-image pixels.</param>
/// <param name="NormalizedX">X divided by the image width (0..1).</param>
/// <param name="NormalizedY">Y divided by the image height (0..1).</param>
/// <param name="Score">Confidence: heatmap value at the keypoint (for PoseNet, the sigmoid score).</param>
public readonly record struct Keypoint(int Part, float X, float Y, float NormalizedX, float NormalizedY, float Score)
{
    /// <summary>Depth where the model gives one (BlazePose: in the same scale as X, relative to the hips' midpoint; smaller is nearer).</summary>
    public float? Z { get; init; }

    /// <summary>Probability that the keypoint is visible (not occluded), where the model gives one (BlazePose).</summary>
    public float? Visibility { get; init; }

    /// <summary>Probability that the keypoint is inside the image, where the model gives one (BlazePose).</summary>
    public float? Presence { get; init; }

    /// <summary>An OpenPose (COCO-18) keypoint.</summary>
    public Keypoint(BodyPart part, float x, float y, float normalizedX, float normalizedY, float score)
        : this((int)part, x, y, normalizedX, normalizedY, score)
    {
    }
}

/// <summary>A keypoint in metres in a body-centred frame (BlazePose's world landmarks: origin between the hips, y down).</summary>
public readonly record struct WorldKeypoint(int Part, float X, float Y, float Z, float Score);

/// <summary>One person: keypoints of the model's <see cref="KeypointSet"/> (missing ones absent) and an overall score.</summary>
public sealed class Person
{
    private readonly Keypoint?[] _parts;

    public Person(KeypointSet keypointSet, IEnumerable<Keypoint> keypoints, float score)
    {
        ArgumentNullException.ThrowIfNull(keypointSet);
        ArgumentNullException.ThrowIfNull(keypoints);
        KeypointSet = keypointSet;
        _parts = new Keypoint?[keypointSet.Count];
        foreach (var k in keypoints)
        {
            if (k.Part < 0 || k.Part >= _parts.Length)
                throw new ArgumentException($"Keypoint {k.Part} is outside the {keypointSet.Name} set of {_parts.Length} keypoints.", nameof(keypoints));
            _parts[k.Part] = k;
        }
        Score = score;
    }

    /// <summary>
    /// A person from keypoints a decoder holds in a reused buffer: copied straight into the person, without the
    /// intermediate array and boxed enumerator the <see cref="IEnumerable{T}"/> constructor needs, so a person costs
    /// one object and one array per call.
    /// </summary>
    internal Person(KeypointSet keypointSet, ReadOnlySpan<Keypoint> keypoints, float score)
    {
        KeypointSet = keypointSet;
        _parts = new Keypoint?[keypointSet.Count];
        foreach (var k in keypoints)
        {
            if (k.Part < 0 || k.Part >= _parts.Length)
                throw new ArgumentException($"Keypoint {k.Part} is outside the {keypointSet.Name} set of {_parts.Length} keypoints.", nameof(keypoints));
            _parts[k.Part] = k;
        }
        Score = score;
    }

    /// <summary>An OpenPose (COCO-18) person.</summary>
    public Person(IEnumerable<Keypoint> keypoints, float score) : this(KeypointSet.OpenPose18, keypoints, score)
    {
    }

    /// <summary>The person's id across video frames, set by a tracker (<c>null</c> on still images and untracked models).</summary>
    public int? TrackId { get; set; }

    /// <summary>The person's box in image pixels where the model gives one (MoveNet MultiPose, the BlazePose detector).</summary>
    public OpenCvSharp.Rect2f? Box { get; init; }

    /// <summary>3-D keypoints in metres where the model gives them (BlazePose), in set order.</summary>
    public IReadOnlyList<WorldKeypoint>? WorldKeypoints { get; init; }

    /// <summary>Which keypoints <see cref="Keypoint.Part"/> indexes.</summary>
    public KeypointSet KeypointSet { get; }

    /// <summary>
    /// Person score. OpenPose: pafprocess' (sum of peak and limb scores) / number of parts; PoseNet: the mean
    /// keypoint score (multi-pose: counting only keypoints not claimed by an earlier person); single-person
    /// heatmap models: the mean keypoint score.
    /// </summary>
    public float Score { get; }

    /// <summary>The detected keypoints in set order (missing ones skipped).</summary>
    public IEnumerable<Keypoint> Keypoints => _parts.Where(p => p.HasValue).Select(p => p!.Value);

    public int PartCount => _parts.Count(p => p.HasValue);

    /// <summary>
    /// Keypoint <paramref name="part"/> of the person's <see cref="KeypointSet"/> (channel order: for an OpenPose person
    /// <c>(int)BodyPart.Neck</c>, for a PoseNet one <see cref="KeypointSet.Coco17"/>'s order), or null when missing.
    /// Code meant for people of any model indexes by name instead.
    /// </summary>
    public Keypoint? this[int part] => (uint)part < (uint)_parts.Length
        ? _parts[part]
        : throw new ArgumentOutOfRangeException(nameof(part), part, $"The {KeypointSet.Name} set has {_parts.Length} keypoints (0..{_parts.Length - 1}).");

    /// <summary>A keypoint by its name in the person's set (e.g. "left_wrist"), or null when missing; a name the set does not have throws.</summary>
    public Keypoint? this[string name] => _parts[IndexOf(name)];

    /// <summary>A keypoint by name; false when the person's set has it but it was not found, and when the set has no such name.</summary>
    public bool TryGet(string name, out Keypoint keypoint)
    {
        ArgumentNullException.ThrowIfNull(name);
        var i = KeypointSet.IndexOf(name);
        var k = i < 0 ? null : _parts[i];
        keypoint = k.GetValueOrDefault();
        return k.HasValue;
    }

    public string NameOf(Keypoint k) => KeypointSet.Names[k.Part];

    private int IndexOf(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var i = KeypointSet.IndexOf(name);
        if (i < 0) throw new ArgumentException($"The {KeypointSet.Name} set has no keypoint '{name}' ({string.Join(", ", KeypointSet.Names)}).", nameof(name));
        return i;
    }

    public override string ToString() =>
        $"Person(score={Score:F3}, {KeypointSet.Name} parts={PartCount}: {string.Join(", ", Keypoints.Select(k => $"{NameOf(k)}({k.X:F0},{k.Y:F0})"))})";
}
