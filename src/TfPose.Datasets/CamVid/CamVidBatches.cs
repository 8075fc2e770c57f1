namespace TfPose.Datasets.CamVid;

/// <summary>Per-channel normalisation on the 0–1 scale: (pixel/255 − mean) / std, RGB order.</summary>
public sealed record ChannelNormalization(float[] Mean, float[] Std)
{
    /// <summary>Normalises RGB bytes (H×W×3) into floats of the same layout.</summary>
    public void Apply(ReadOnlySpan<byte> rgb, Span<float> dst)
    {
        if (dst.Length != rgb.Length)
            throw new ArgumentException($"destination holds {dst.Length} floats for {rgb.Length} bytes");
        Span<float> scale = [1f / (255f * Std[0]), 1f / (255f * Std[1]), 1f / (255f * Std[2])];
        Span<float> shift = [Mean[0] / Std[0], Mean[1] / Std[1], Mean[2] / Std[2]];
        for (int i = 0; i < rgb.Length; i += 3)
            for (int c = 0; c < 3; c++)
                dst[i + c] = rgb[i + c] * scale[c] - shift[c];
    }
}

/// <summary>Where a crop starts and whether it is mirrored left–right.</summary>
public readonly record struct CropWindow(int Top, int Left, int Height, int Width, bool Flip);

/// <summary>Training crops (random position, random horizontal flip) and full images for evaluation.</summary>
public static class CamVidBatches
{
    /// <summary>A uniformly placed crop, flipped with probability ½ when <paramref name="flips"/> is set.</summary>
    public static CropWindow RandomCrop(Random rng, int height, int width, int cropHeight, int cropWidth, bool flips = true)
    {
        if (cropHeight > height || cropWidth > width)
            throw new ArgumentException($"crop {cropWidth}x{cropHeight} is larger than the {width}x{height} images");
        return new CropWindow(rng.Next(height - cropHeight + 1), rng.Next(width - cropWidth + 1), cropHeight, cropWidth, flips && rng.Next(2) == 1);
    }

    /// <summary>
    /// Copies a window of image <paramref name="index"/>: normalised RGB floats (crop H×W×3) and labels (crop H×W).
    /// A flip mirrors image and labels together, so every pixel keeps its own label.
    /// </summary>
    public static void Extract(CamVidData data, int index, CropWindow win, ChannelNormalization norm, Span<float> image, Span<byte> labels) =>
        Extract(data, index, win, norm, win.Height, win.Width, image, labels);

    /// <summary>
    /// <see cref="Extract(CamVidData, int, CropWindow, ChannelNormalization, Span{float}, Span{byte})"/> into the top-left
    /// of an <paramref name="outHeight"/>×<paramref name="outWidth"/> crop; the rest is padding: zeros after normalisation
    /// (the mean colour, as inference pads) and the data set's ignore label, so it adds nothing to the loss.
    /// </summary>
    public static void Extract(CamVidData data, int index, CropWindow win, ChannelNormalization norm, int outHeight, int outWidth,
        Span<float> image, Span<byte> labels)
    {
        var (h, w) = data.SizeOf(index);
        if (win.Top < 0 || win.Left < 0 || win.Top + win.Height > h || win.Left + win.Width > w)
            throw new ArgumentOutOfRangeException(nameof(win), $"window {win} lies outside the {w}x{h} image {data.Pairs[index].ImagePath}");
        if (win.Height > outHeight || win.Width > outWidth)
            throw new ArgumentOutOfRangeException(nameof(win), $"window {win} is larger than the {outWidth}x{outHeight} crop");
        if (image.Length < outHeight * outWidth * 3 || labels.Length < outHeight * outWidth)
            throw new ArgumentException($"buffers hold {image.Length} floats and {labels.Length} labels for a {outWidth}x{outHeight} crop");
        if (win.Height < outHeight || win.Width < outWidth)
        {
            image[..(outHeight * outWidth * 3)].Clear();
            labels[..(outHeight * outWidth)].Fill(data.Description.IgnoreLabel);
        }
        var img = data.Image(index);
        var lab = data.Label(index);
        var rowBuf = new byte[win.Width * 3];
        for (int y = 0; y < win.Height; y++)
        {
            int srcRow = (win.Top + y) * w;
            for (int x = 0; x < win.Width; x++)
            {
                int sx = win.Left + (win.Flip ? win.Width - 1 - x : x);
                int s = srcRow + sx;
                rowBuf[x * 3] = img[s * 3];
                rowBuf[x * 3 + 1] = img[s * 3 + 1];
                rowBuf[x * 3 + 2] = img[s * 3 + 2];
                labels[y * outWidth + x] = lab[s];
            }
            norm.Apply(rowBuf, image.Slice(y * outWidth * 3, win.Width * 3));
        }
    }

    /// <summary>
    /// Fills a batch of random training crops of the given images (floats N×H×W×3, labels N×H×W). An image smaller
    /// than the crop along a side is taken whole along it and padded (see the padded <c>Extract</c>).
    /// </summary>
    public static void RandomBatch(CamVidData data, IReadOnlyList<int> indices, Random rng, int cropHeight, int cropWidth, bool flips,
        ChannelNormalization norm, Span<float> images, Span<byte> labels)
    {
        int px = cropHeight * cropWidth;
        for (int b = 0; b < indices.Count; b++)
        {
            var (h, w) = data.SizeOf(indices[b]);
            var win = RandomCrop(rng, h, w, Math.Min(cropHeight, h), Math.Min(cropWidth, w), flips);
            Extract(data, indices[b], win, norm, cropHeight, cropWidth, images.Slice(b * px * 3, px * 3), labels.Slice(b * px, px));
        }
    }
}
