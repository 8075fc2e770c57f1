namespace TfPose.Pose.MoveNet;

/// <summary>
/// The square region of the image a single-pose MoveNet looks at, normalised to the image (0..1 across its width and
/// height; it may reach past the edges, which are then padded with black). Square in pixels, so its normalised width
/// and height differ on a non-square image.
/// </summary>
public readonly record struct CropRegion(float YMin, float XMin, float YMax, float XMax)
{
    public float Height => YMax - YMin;

    public float Width => XMax - XMin;

    /// <summary>Keypoints below this score do not count towards the torso or the body's extent (pose-detection's value).</summary>
    public const float MinKeypointScore = 0.2f;

    private const float TorsoExpansion = 1.9f;
    private const float BodyExpansion = 1.2f;

    /// <summary>The whole image, padded on two sides to a square.</summary>
    public static CropRegion WholeImage(int imageWidth, int imageHeight)
    {
        if (imageWidth > imageHeight)
        {
            var h = imageWidth / (float)imageHeight;
            var y = (imageHeight / 2f - imageWidth / 2f) / imageHeight;
            return new CropRegion(y, 0, y + h, 1);
        }
        var w = imageHeight / (float)imageWidth;
        var x = (imageWidth / 2f - imageHeight / 2f) / imageWidth;
        return new CropRegion(0, x, 1, x + w);
    }

    /// <summary>
    /// Where to look in the next frame, from this frame's COCO-17 keypoints (in image pixels): a square centred on
    /// the hips, large enough for 1.9× the torso's and 1.2× the body's reach from that centre, clamped to the image's
    /// extent from the centre; the whole image when the torso (a hip and a shoulder) is not visible or the square
    /// would be larger than the image.
    /// </summary>
    public static CropRegion Next(ReadOnlySpan<Keypoint> coco17, int imageWidth, int imageHeight)
    {
        const int leftShoulder = 5, rightShoulder = 6, leftHip = 11, rightHip = 12;
        static bool Seen(in Keypoint k) => k.Score > MinKeypointScore;
        if (!(Seen(coco17[leftHip]) || Seen(coco17[rightHip])) || !(Seen(coco17[leftShoulder]) || Seen(coco17[rightShoulder])))
            return WholeImage(imageWidth, imageHeight);
        var centerY = (coco17[leftHip].Y + coco17[rightHip].Y) / 2;
        var centerX = (coco17[leftHip].X + coco17[rightHip].X) / 2;
        float torsoY = 0, torsoX = 0, bodyY = 0, bodyX = 0;
        foreach (var i in (ReadOnlySpan<int>)[leftShoulder, rightShoulder, leftHip, rightHip])
        {
            // The torso's reach counts its four joints whatever their scores, as pose-detection does.
            torsoY = Math.Max(torsoY, Math.Abs(centerY - coco17[i].Y));
            torsoX = Math.Max(torsoX, Math.Abs(centerX - coco17[i].X));
        }
        for (var i = 0; i < coco17.Length; i++)
        {
            if (coco17[i].Score < MinKeypointScore)
                continue;
            bodyY = Math.Max(bodyY, Math.Abs(centerY - coco17[i].Y));
            bodyX = Math.Max(bodyX, Math.Abs(centerX - coco17[i].X));
        }
        var half = Math.Max(Math.Max(torsoX * TorsoExpansion, torsoY * TorsoExpansion), Math.Max(bodyY * BodyExpansion, bodyX * BodyExpansion));
        half = Math.Min(half, Math.Max(Math.Max(centerX, imageWidth - centerX), Math.Max(centerY, imageHeight - centerY)));
        if (half > Math.Max(imageWidth, imageHeight) / 2f)
            return WholeImage(imageWidth, imageHeight);
        float top = centerY - half, left = centerX - half, side = 2 * half;
        return new CropRegion(top / imageHeight, left / imageWidth, (top + side) / imageHeight, (left + side) / imageWidth);
    }
}
