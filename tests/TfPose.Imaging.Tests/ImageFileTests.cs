using System.Buffers.Binary;
using OpenCvSharp;
using TfPose.Tests;

namespace TfPose.Imaging.Tests;

/// <summary>
/// Headers are checked against images OpenCV itself wrote and decodes (an independent encoder and decoder), and
/// hostile files are built from real ones by patching the bytes the PNG (ISO/IEC 15948) and JPEG (ITU T.81) formats
/// define: IHDR width/height at bytes 16–23, a chunk's 4-byte big-endian length, SOF0's height and width.
/// </summary>
public sealed class ImageFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tfpose-imaging-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static byte[] Encode(string ext, int width, int height)
    {
        using var image = new Mat(height, width, MatType.CV_8UC3);
        // Something that does not compress to nothing: a gradient with a diagonal.
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
                image.Set(y, x, new Vec3b((byte)(x * 5), (byte)(y * 7), (byte)((x + y) * 3)));
        Cv2.ImEncode(ext, image, out var bytes);
        return bytes;
    }

    [Theory]
    [InlineData(".png", ImageFormat.Png)]
    [InlineData(".jpg", ImageFormat.Jpeg)]
    [InlineData(".bmp", ImageFormat.Bmp)]
    [InlineData(".tif", ImageFormat.Tiff)]
    [InlineData(".webp", ImageFormat.WebP)]
    public void HeaderSize_IsTheSizeOpenCvDecodes(string ext, ImageFormat format)
    {
        var path = Write("a" + ext, Encode(ext, 67, 45));
        var header = ImageHeader.Read(path);
        using var decoded = ImageFile.Read(path);
        Assert.Equal(format, header.Format);
        Assert.Equal((decoded.Width, decoded.Height), (header.Width, header.Height));
        Assert.Equal((67, 45), (header.Width, header.Height));
    }

    [Fact]
    public void SharedPhoto_HeaderMatchesTheDecodedImage()
    {
        var path = SharedData.Image("p3.jpg");
        var header = ImageHeader.Read(path);
        using var decoded = Cv2.ImRead(path);
        Assert.Equal((ImageFormat.Jpeg, decoded.Width, decoded.Height), (header.Format, header.Width, header.Height));
    }

    [Fact]
    public void PngChunkLongerThanTheFile_IsRefusedBeforeDecoding()
    {
        // The audit's reproducer: an IDAT declaring 0xFFFFFFF0 bytes made OpenCV's reader peak at 4.2 GB.
        var png = Encode(".png", 64, 48);
        var idat = IndexOf(png, "IDAT"u8) - 4;
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(idat), 0xFFFFFFF0);
        var path = Write("bomb.png", png);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<InvalidDataException>(() => ImageFile.Read(path));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1_000_000);
        Assert.StartsWith(path + ": ", ex.Message);
        Assert.Contains("IDAT", ex.Message);
        Assert.Contains("4294967280", ex.Message);
    }

    [Theory]
    [InlineData(20000, 20000)]
    [InlineData(30000, 30000)]
    [InlineData(100000, 1000)]
    public void PngDeclaringTooManyPixels_IsRefusedWithTheFileAndTheLimit(int width, int height)
    {
        var png = Encode(".png", 64, 48);
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(16), (uint)width);
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(20), (uint)height);
        var path = Write("huge.png", png);
        var ex = Assert.Throws<InvalidDataException>(() => ImageFile.Read(path));
        Assert.StartsWith(path + ": ", ex.Message);
        Assert.Contains($"{width}x{height} pixels", ex.Message);
        Assert.Contains("89.5 MP", ex.Message); // Pillow's MAX_IMAGE_PIXELS, 1024^3 / 4 / 3 = 89,478,485
    }

    [Fact]
    public void JpegFrameHeaderDeclaringTooManyPixels_IsRefused()
    {
        var jpeg = File.ReadAllBytes(SharedData.Image("p1.jpg"));
        var sof = IndexOfMarker(jpeg, 0xC0, 0xC2);
        BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(sof + 5), 30000); // height
        BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(sof + 7), 30000); // width
        var path = Write("huge.jpg", jpeg);
        var ex = Assert.Throws<InvalidDataException>(() => ImageFile.Read(path));
        Assert.Contains("30000x30000 pixels", ex.Message);
    }

    [Fact]
    public void PixelLimit_IsAnOption()
    {
        var path = Write("a.png", Encode(".png", 100, 100));
        Assert.Throws<InvalidDataException>(() => ImageFile.Read(path, new ImageReadOptions { MaxPixels = 9_999 }));
        using var image = ImageFile.Read(path, new ImageReadOptions { MaxPixels = 10_000 });
        Assert.Equal(100, image.Width);
    }

    [Fact]
    public void MissingEmptyAndForeignFiles_GiveOneLineNamingTheFile()
    {
        var missing = Path.Combine(_dir, "nope.jpg");
        Assert.StartsWith(missing, Assert.Throws<FileNotFoundException>(() => ImageFile.Read(missing)).Message);
        var empty = Write("empty.png", []);
        Assert.Equal($"{empty}: the image file is empty.", Assert.Throws<InvalidDataException>(() => ImageFile.Read(empty)).Message);
        var text = Write("text.jpg", "not an image at all"u8.ToArray());
        Assert.StartsWith($"{text}: cannot read the image", Assert.Throws<InvalidDataException>(() => ImageFile.Read(text)).Message);
    }

    /// <summary>
    /// 300 seeded mutants per format (bytes overwritten, runs cut out, the file cut short, a length field set to a random
    /// value): every read returns an image within the limit or throws one <see cref="InvalidDataException"/> naming the file.
    /// </summary>
    [Theory]
    [InlineData(".png", 1)]
    [InlineData(".jpg", 2)]
    public void Mutants_ReadOrFailCleanly(string ext, int seed)
    {
        var original = Encode(ext, 96, 64);
        var random = new Random(seed);
        var limits = new ImageReadOptions { MaxPixels = 1_000_000 };
        for (var i = 0; i < 300; i++)
        {
            var bytes = Mutate(original, random);
            var path = Write($"m{i}{ext}", bytes);
            try
            {
                using var image = ImageFile.Read(path, limits);
                Assert.True((long)image.Width * image.Height <= limits.MaxPixels);
            }
            catch (InvalidDataException e)
            {
                Assert.StartsWith(path + ": ", e.Message);
            }
            File.Delete(path);
        }
    }

    private static byte[] Mutate(byte[] original, Random random)
    {
        var b = original.ToList();
        switch (random.Next(4))
        {
            case 0:
                for (var n = random.Next(1, 8); n > 0; n--) b[random.Next(b.Count)] = (byte)random.Next(256);
                break;
            case 1:
                var at = random.Next(b.Count);
                b.RemoveRange(at, Math.Min(random.Next(1, 64), b.Count - at));
                break;
            case 2:
                b = b.Take(random.Next(1, b.Count)).ToList();
                break;
            default:
                // A length or size field: 4 big-endian bytes at a random place in the first 64.
                var p = random.Next(8, Math.Min(60, b.Count - 4));
                var v = (uint)random.NextInt64(0, 1L << 32);
                for (var k = 0; k < 4; k++) b[p + k] = (byte)(v >> (24 - 8 * k));
                break;
        }
        return [.. b];
    }

    private static int IndexOf(byte[] haystack, ReadOnlySpan<byte> needle) => haystack.AsSpan().IndexOf(needle);

    // Walks the marker segments (T.81 B.1.1): every segment after SOI is FF, marker, 2-byte length that counts itself.
    private static int IndexOfMarker(byte[] jpeg, params byte[] markers)
    {
        var i = 2;
        while (i + 4 <= jpeg.Length && jpeg[i] == 0xFF)
        {
            if (Array.IndexOf(markers, jpeg[i + 1]) >= 0) return i;
            i += 2 + BinaryPrimitives.ReadUInt16BigEndian(jpeg.AsSpan(i + 2));
        }
        throw new InvalidOperationException("no SOF marker");
    }
}
