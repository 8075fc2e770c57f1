namespace TfPose.Datasets.PascalPart;

/// <summary>The PASCAL VOC colour map (label bits spread over the high bits of R, G and B).</summary>
public static class VocPalette
{
    public static (byte R, byte G, byte B) Color(int label)
    {
        int r = 0, g = 0, b = 0;
        for (var shift = 7; shift >= 0 && label > 0; shift--, label >>= 3)
        {
            r |= (label & 1) << shift;
            g |= ((label >> 1) & 1) << shift;
            b |= ((label >> 2) & 1) << shift;
        }
        return ((byte)r, (byte)g, (byte)b);
    }
}
