using System.Globalization;
using OpenCvSharp;

namespace TfPose.Imaging;

/// <summary>Limits applied by <see cref="ImageFile.Read(string, ImageReadOptions?, ImreadModes)"/>.</summary>
public sealed record ImageReadOptions
{
    /// <summary>
    /// Pillow's <c>Image.MAX_IMAGE_PIXELS</c> (1024³ / 4 / 3 ≈ 89.5 MP, about 256 MB as 8-bit RGB): images declaring more are
    /// refused as likely decompression bombs.
    /// </summary>
    public const long DefaultMaxPixels = 1024L * 1024 * 1024 / 4 / 3;

    /// <summary>The largest width × height read; larger images are refused before decoding.</summary>
    public long MaxPixels { get; init; } = DefaultMaxPixels;

    /// <summary>The defaults.</summary>
    public static ImageReadOptions Default { get; } = new();

    internal void Validate()
    {
        if (MaxPixels < 1) throw new ArgumentOutOfRangeException(nameof(MaxPixels), MaxPixels, "MaxPixels must be at least 1.");
    }
}

/// <summary>
/// The one way TfPose reads image files: the file must exist and not be empty, its header (<see cref="ImageHeader"/>) must be
/// consistent and within <see cref="ImageReadOptions.MaxPixels"/>, and only then does OpenCV decode it. Every failure is an
/// <see cref="InvalidDataException"/> (or <see cref="FileNotFoundException"/>) whose message names the file and the problem.
/// </summary>
public static class ImageFile
{
    /// <summary>Reads <paramref name="path"/> as 8-bit BGR (or as <paramref name="mode"/> says).</summary>
    public static Mat Read(string path, ImageReadOptions? options = null, ImreadModes mode = ImreadModes.Color)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= ImageReadOptions.Default;
        options.Validate();
        var header = ReadHeader(path, options);
        var image = Cv2.ImRead(path, mode);
        if (image.Empty())
        {
            image.Dispose();
            throw new InvalidDataException(header.Format == ImageFormat.Unknown
                ? $"{path}: cannot read the image (not a format OpenCV decodes, or a corrupt file)."
                : $"{path}: cannot read the image (its {header.Format.ToString().ToUpperInvariant()} data is corrupt; OpenCV could not decode it).");
        }
        // Formats whose header is not read here get OpenCV's own limit while decoding (OPENCV_IO_MAX_IMAGE_PIXELS, 2^30 by
        // default); the smaller limit still holds for what is kept.
        if ((long)image.Rows * image.Cols > options.MaxPixels)
        {
            var (rows, cols) = (image.Rows, image.Cols);
            image.Dispose();
            throw TooLarge(path, cols, rows, options.MaxPixels);
        }
        return image;
    }

    /// <summary>The checks of <see cref="Read"/> without decoding: existence, header consistency, pixel limit.</summary>
    public static ImageHeader ReadHeader(string path, ImageReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= ImageReadOptions.Default;
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: image not found.", path);
        if (new FileInfo(path).Length == 0)
            throw new InvalidDataException($"{path}: the image file is empty.");
        var header = ImageHeader.Read(path);
        if (header.Pixels > options.MaxPixels)
            throw TooLarge(path, header.Width, header.Height, options.MaxPixels);
        return header;
    }

    private static InvalidDataException TooLarge(string path, long width, long height, long limit) =>
        new(string.Create(CultureInfo.InvariantCulture,
            $"{path}: {width}x{height} pixels ({width * height / 1e6:0.#} MP) is over the limit of {limit / 1e6:0.#} MP for one image " +
            $"(a guard against decompression bombs); raise ImageReadOptions.MaxPixels (tfpose: --max-pixels) to read it."));
}
