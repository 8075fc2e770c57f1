namespace TfPose.Datasets.PascalPart;

/// <summary>A 0/1 mask of Height×Width pixels, row-major.</summary>
public sealed class BinaryMask
{
    public BinaryMask(int height, int width, byte[] data)
    {
        if (data.Length != (long)height * width)
            throw new ArgumentException($"{data.Length} bytes for a {height}x{width} mask", nameof(data));
        Height = height;
        Width = width;
        Data = data;
        PixelCount = data.AsSpan().Length - data.AsSpan().Count((byte)0);
    }

    public int Height { get; }

    public int Width { get; }

    /// <summary>Row-major pixels, 1 inside the mask and 0 outside.</summary>
    public byte[] Data { get; }

    /// <summary>Number of pixels inside the mask.</summary>
    public int PixelCount { get; }

    public bool this[int row, int column] => Data[row * Width + column] != 0;
}
