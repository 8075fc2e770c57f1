namespace TfPose.Pose;

/// <summary>One drawn or decoded connection between two keypoints of a set (indices into the set).</summary>
public readonly record struct Bone(int From, int To);

/// <summary>
/// A model's keypoints: names in network channel order, the skeleton drawn between them, colours, and
/// how they map onto COCO's 17 keypoints for evaluation. Instances are immutable; the built-in sets
/// are shared, a model description file may define its own.
/// </summary>
public sealed class KeypointSet
{
    public KeypointSet(string name, IReadOnlyList<string> names, IReadOnlyList<Bone> skeleton,
        IReadOnlyList<int>? toCoco17 = null, IReadOnlyList<(byte B, byte G, byte R)>? colors = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(skeleton);
        if (names.Count == 0)
            throw new ArgumentException($"Keypoint set '{name}' has no keypoints.", nameof(names));
        if (names.Distinct(StringComparer.Ordinal).Count() != names.Count)
            throw new ArgumentException($"Keypoint set '{name}' repeats a keypoint name.", nameof(names));
        foreach (var b in skeleton)
            if (b.From < 0 || b.From >= names.Count || b.To < 0 || b.To >= names.Count)
                throw new ArgumentException($"Keypoint set '{name}': skeleton bone {b.From}-{b.To} is outside its {names.Count} keypoints.", nameof(skeleton));
        if (toCoco17 is not null)
        {
            if (toCoco17.Count != 17)
                throw new ArgumentException($"Keypoint set '{name}': the COCO-17 mapping has {toCoco17.Count} entries, expected 17.", nameof(toCoco17));
            if (toCoco17.Any(i => i < -1 || i >= names.Count))
                throw new ArgumentException($"Keypoint set '{name}': the COCO-17 mapping names a keypoint outside its {names.Count} keypoints.", nameof(toCoco17));
        }
        Name = name;
        Names = names.ToArray();
        Skeleton = skeleton.ToArray();
        ToCoco17 = toCoco17?.ToArray();
        Colors = colors is { Count: > 0 } ? colors.ToArray() : DefaultColors(Math.Max(names.Count, skeleton.Count));
    }

    /// <summary>Identifier written to JSON output (e.g. <c>coco17</c>).</summary>
    public string Name { get; }

    /// <summary>Keypoint names in channel order.</summary>
    public IReadOnlyList<string> Names { get; }

    public int Count => Names.Count;

    /// <summary>Bones drawn by the renderer; bone i uses colour i (modulo the palette).</summary>
    public IReadOnlyList<Bone> Skeleton { get; }

    /// <summary>Colours as (B, G, R); keypoint i uses colour i.</summary>
    public IReadOnlyList<(byte B, byte G, byte R)> Colors { get; }

    /// <summary>
    /// For each COCO-17 keypoint (nose, left_eye, ..., right_ankle) the index of the matching keypoint of
    /// this set, or −1 where the set has none; null when the set does not map onto COCO at all.
    /// </summary>
    public IReadOnlyList<int>? ToCoco17 { get; }

    /// <summary>How many COCO-17 keypoints this set provides.</summary>
    public int CocoKeypointCount => ToCoco17?.Count(i => i >= 0) ?? 0;

    public int IndexOf(string name)
    {
        for (var i = 0; i < Names.Count; i++)
            if (string.Equals(Names[i], name, StringComparison.OrdinalIgnoreCase)) return i;
        return -1;
    }

    /// <summary>
    /// For each keypoint of this set, the index of the keypoint of the same name in <paramref name="target"/>, or −1
    /// where the target has none: how a person of one set fills the slots of another (the C API's COCO-18 slots).
    /// </summary>
    public int[] SlotsIn(KeypointSet target)
    {
        ArgumentNullException.ThrowIfNull(target);
        var slots = new int[Count];
        for (var i = 0; i < slots.Length; i++)
            slots[i] = ReferenceEquals(this, target) ? i : target.IndexOf(Names[i]);
        return slots;
    }

    public override string ToString() => $"{Name} ({Count} keypoints)";

    /// <summary>COCO's 17 keypoint names, in COCO order.</summary>
    public static IReadOnlyList<string> Coco17Names { get; } =
    [
        "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder", "left_elbow",
        "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    ];

    /// <summary>
    /// OpenPose's 18 COCO parts (<see cref="BodyPart"/> order). Drawn with OpenPose's 17 rendered limbs and
    /// colours; maps onto COCO-17 by dropping the neck.
    /// </summary>
    public static KeypointSet OpenPose18 { get; } = new(
        "openpose-coco18",
        ["nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow", "left_wrist",
         "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle", "right_eye", "left_eye", "right_ear", "left_ear"],
        CocoSkeleton.Limbs.Take(CocoSkeleton.RenderedLimbCount).Select(l => new Bone((int)l.From, (int)l.To)).ToArray(),
        CocoSkeleton.Coco17Order.Select(p => (int)p).ToArray(),
        CocoSkeleton.Colors);

    /// <summary>COCO's 17 keypoints (PoseNet), drawn with COCO's own 19-bone skeleton.</summary>
    public static KeypointSet Coco17 { get; } = new(
        "coco17",
        Coco17Names,
        // The skeleton of COCO's person category (1-based there).
        new (int, int)[] { (16, 14), (14, 12), (17, 15), (15, 13), (12, 13), (6, 12), (7, 13), (6, 7), (6, 8), (7, 9), (8, 10), (9, 11), (2, 3), (1, 2), (1, 3), (2, 4), (3, 5), (4, 6), (5, 7) }
            .Select(b => new Bone(b.Item1 - 1, b.Item2 - 1)).ToArray(),
        Enumerable.Range(0, 17).ToArray());

    /// <summary>
    /// AI Challenger's 14 keypoints (CPM and hourglass models of PoseEstimationForMobile). Twelve map onto
    /// COCO (shoulders to ankles); head top and neck have no COCO counterpart and COCO's five face
    /// keypoints have none here.
    /// </summary>
    public static KeypointSet AiChallenger14 { get; } = new(
        "ai-challenger14",
        ["head_top", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow", "left_wrist",
         "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle"],
        [new(0, 1), new(1, 2), new(2, 3), new(3, 4), new(1, 5), new(5, 6), new(6, 7), new(2, 8), new(8, 9), new(9, 10),
         new(5, 11), new(11, 12), new(12, 13), new(8, 11)],
        [-1, -1, -1, -1, -1, 5, 2, 6, 3, 7, 4, 11, 8, 12, 9, 13, 10]);

    /// <summary>
    /// MediaPipe BlazePose's 33 landmarks (face, hands and feet beyond COCO's 17), drawn with MediaPipe's pose
    /// connections; 17 map onto COCO.
    /// </summary>
    public static KeypointSet BlazePose33 { get; } = new(
        "blazepose33",
        ["nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye", "right_eye_outer", "left_ear", "right_ear",
         "mouth_left", "mouth_right", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
         "left_pinky", "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip", "right_hip",
         "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel", "right_heel", "left_foot_index", "right_foot_index"],
        new (int, int)[]
        {
            (0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10), (11, 12), (11, 13), (13, 15), (15, 17), (15, 19),
            (15, 21), (17, 19), (12, 14), (14, 16), (16, 18), (16, 20), (16, 22), (18, 20), (11, 23), (12, 24), (23, 24), (23, 25),
            (24, 26), (25, 27), (26, 28), (27, 29), (28, 30), (29, 31), (30, 32), (27, 31), (28, 32),
        }.Select(b => new Bone(b.Item1, b.Item2)).ToArray(),
        [0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28]);

    /// <summary>The built-in sets, by <see cref="Name"/>.</summary>
    public static IReadOnlyList<KeypointSet> BuiltIn { get; } = [OpenPose18, Coco17, AiChallenger14, BlazePose33];

    public static KeypointSet? FindBuiltIn(string name) =>
        BuiltIn.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));

    // OpenPose's palette, repeated: distinct neighbouring colours for any number of parts.
    private static (byte B, byte G, byte R)[] DefaultColors(int n) =>
        Enumerable.Range(0, Math.Max(1, n)).Select(i => CocoSkeleton.Colors[i % CocoSkeleton.Colors.Count]).ToArray();
}
