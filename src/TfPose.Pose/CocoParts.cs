namespace TfPose.Pose;

/// <summary>The 18 body parts of the OpenPose COCO model, in network channel order.</summary>
public enum BodyPart
{
    Nose = 0, Neck = 1, RShoulder = 2, RElbow = 3, RWrist = 4, LShoulder = 5, LElbow = 6, LWrist = 7,
    RHip = 8, RKnee = 9, RAnkle = 10, LHip = 11, LKnee = 12, LAnkle = 13, REye = 14, LEye = 15, REar = 16, LEar = 17,
}

/// <summary>One limb of the OpenPose COCO skeleton: two parts and the PAF channels (x, y) that join them.</summary>
public readonly record struct Limb(BodyPart From, BodyPart To, int PafX, int PafY);

/// <summary>Static tables of the COCO-18 skeleton (immutable data, not state).</summary>
public static class CocoSkeleton
{
    public const int PartCount = 18;

    /// <summary>
    /// Limbs in the order pafprocess connects them. The order matters: people are seeded by the first 17
    /// limbs only (the two ear-shoulder limbs 17 and 18 never start a person) and merging is order dependent.
    /// </summary>
    public static IReadOnlyList<Limb> Limbs { get; } =
    [
        new(BodyPart.Neck, BodyPart.RShoulder, 12, 13), new(BodyPart.Neck, BodyPart.LShoulder, 20, 21),
        new(BodyPart.RShoulder, BodyPart.RElbow, 14, 15), new(BodyPart.RElbow, BodyPart.RWrist, 16, 17),
        new(BodyPart.LShoulder, BodyPart.LElbow, 22, 23), new(BodyPart.LElbow, BodyPart.LWrist, 24, 25),
        new(BodyPart.Neck, BodyPart.RHip, 0, 1), new(BodyPart.RHip, BodyPart.RKnee, 2, 3),
        new(BodyPart.RKnee, BodyPart.RAnkle, 4, 5), new(BodyPart.Neck, BodyPart.LHip, 6, 7),
        new(BodyPart.LHip, BodyPart.LKnee, 8, 9), new(BodyPart.LKnee, BodyPart.LAnkle, 10, 11),
        new(BodyPart.Neck, BodyPart.Nose, 28, 29), new(BodyPart.Nose, BodyPart.REye, 30, 31),
        new(BodyPart.REye, BodyPart.REar, 34, 35), new(BodyPart.Nose, BodyPart.LEye, 32, 33),
        new(BodyPart.LEye, BodyPart.LEar, 36, 37), new(BodyPart.RShoulder, BodyPart.REar, 18, 19),
        new(BodyPart.LShoulder, BodyPart.LEar, 26, 27),
    ];

    /// <summary>Limbs drawn by the renderer (the first 17; the ear-shoulder limbs are not drawn, as in OpenPose).</summary>
    public static int RenderedLimbCount => 17;

    /// <summary>OpenPose's part/limb colours as (B, G, R).</summary>
    public static IReadOnlyList<(byte B, byte G, byte R)> Colors { get; } =
    [
        (0, 0, 255), (0, 85, 255), (0, 170, 255), (0, 255, 255), (0, 255, 170), (0, 255, 85), (0, 255, 0),
        (85, 255, 0), (170, 255, 0), (255, 255, 0), (255, 170, 0), (255, 85, 0), (255, 0, 0), (255, 0, 85),
        (255, 0, 170), (255, 0, 255), (170, 0, 255), (85, 0, 255),
    ];

    /// <summary>
    /// COCO-17 keypoint order (nose, l_eye, r_eye, l_ear, r_ear, l_shoulder, r_shoulder, l_elbow, r_elbow,
    /// l_wrist, r_wrist, l_hip, r_hip, l_knee, r_knee, l_ankle, r_ankle) as COCO-18 part indices; the neck has
    /// no COCO counterpart and is dropped.
    /// </summary>
    public static IReadOnlyList<BodyPart> Coco17Order { get; } =
    [
        BodyPart.Nose, BodyPart.LEye, BodyPart.REye, BodyPart.LEar, BodyPart.REar, BodyPart.LShoulder,
        BodyPart.RShoulder, BodyPart.LElbow, BodyPart.RElbow, BodyPart.LWrist, BodyPart.RWrist, BodyPart.LHip,
        BodyPart.RHip, BodyPart.LKnee, BodyPart.RKnee, BodyPart.LAnkle, BodyPart.RAnkle,
    ];
}
