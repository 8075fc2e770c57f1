namespace TfPose.Pose;

/// <summary>
/// Maps coordinates normalised to the network input (0..1 across the network's width/height) back to
/// input-image pixels: imageX = nx * ScaleX + OffsetX. A plain resize uses the image size as the scale;
/// a letterboxed (padded) input uses a larger scale and a negative offset.
/// </summary>
public readonly record struct ImageMapping(int ImageWidth, int ImageHeight, float ScaleX, float ScaleY, float OffsetX, float OffsetY)
{
    /// <summary>The network input was the whole image, stretched.</summary>
    public static ImageMapping Stretch(int imageWidth, int imageHeight) =>
        new(imageWidth, imageHeight, imageWidth, imageHeight, 0, 0);
}
