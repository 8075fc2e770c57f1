namespace TfPose.Datasets.PascalPart;

/// <summary>
/// Per-pixel label images of one annotation, row-major Height×Width: VOC class index, instance id
/// (1-based object order) and part label of the chosen scheme; 0 is background everywhere.
/// Objects are painted in file order, so where masks overlap the later object wins.
/// </summary>
public sealed class PascalPartLabelMaps
{
    private PascalPartLabelMaps(int height, int width, byte[] classes, byte[] instances, byte[] parts)
    {
        Height = height;
        Width = width;
        Classes = classes;
        Instances = instances;
        Parts = parts;
    }

    public int Height { get; }

    public int Width { get; }

    public byte[] Classes { get; }

    public byte[] Instances { get; }

    public byte[] Parts { get; }

    public static PascalPartLabelMaps Render(PascalPartAnnotation annotation, PartLabelScheme scheme)
    {
        if (annotation.Objects.Count > 255)
            throw new InvalidDataException($"{annotation.ImageName}: {annotation.Objects.Count} objects do not fit a uint8 instance image");
        var n = annotation.Height * annotation.Width;
        var classes = new byte[n];
        var instances = new byte[n];
        var parts = new byte[n];
        for (var i = 0; i < annotation.Objects.Count; i++)
        {
            var obj = annotation.Objects[i];
            if (obj.ClassIndex is < 0 or > 255)
                throw new InvalidDataException($"{annotation.ImageName}: object {i + 1} has class index {obj.ClassIndex}, outside 0..255");
            Paint(obj.Mask.Data, classes, (byte)obj.ClassIndex);
            Paint(obj.Mask.Data, instances, (byte)(i + 1));
            foreach (var part in obj.Parts)
            {
                var label = scheme.LabelOf(obj.ClassName, part.Name);
                if (label > 0)
                    Paint(part.Mask.Data, parts, (byte)label);
            }
        }
        return new PascalPartLabelMaps(annotation.Height, annotation.Width, classes, instances, parts);
    }

    private static void Paint(ReadOnlySpan<byte> mask, Span<byte> target, byte value)
    {
        for (var p = 0; p < mask.Length; p++)
            if (mask[p] != 0)
                target[p] = value;
    }
}
