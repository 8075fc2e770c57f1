using System.Buffers.Binary;
using System.Text;

namespace TfPose.Imaging;

/// <summary>Image container formats whose header <see cref="ImageHeader"/> can read without decoding.</summary>
public enum ImageFormat
{
    /// <summary>A format OpenCV may still decode (PNM, EXR, HDR, JPEG 2000, ...) whose header is not read here.</summary>
    Unknown,
    Png,
    Jpeg,
    Bmp,
    Gif,
    WebP,
    Tiff,
}

/// <summary>
/// What an image file declares before any pixel is decoded: its format and size. Reading it costs a few small reads,
/// so a file declaring 30000×30000 pixels, or a PNG chunk longer than the file, is refused before a decoder allocates
/// for it (OpenCV's PNG reader trusts chunk lengths: a 66 KB file whose IDAT declares 0xFFFFFFF0 bytes reaches 4 GB).
/// </summary>
public readonly record struct ImageHeader(ImageFormat Format, int Width, int Height)
{
    /// <summary>Width × height; 0 for <see cref="ImageFormat.Unknown"/>.</summary>
    public long Pixels => (long)Width * Height;

    /// <summary>
    /// Reads and checks the header of <paramref name="path"/>. Throws <see cref="InvalidDataException"/> naming the file
    /// and the problem when a known format's header is inconsistent (zero or negative sizes, lengths past the end of the
    /// file, a JPEG without a frame header before its scan). An unrecognised format gives <see cref="ImageFormat.Unknown"/>.
    /// </summary>
    public static ImageHeader Read(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 4096, FileOptions.RandomAccess);
        return Read(stream, path);
    }

    /// <summary>Reads the header from a seekable <paramref name="stream"/>; <paramref name="name"/> is used in errors.</summary>
    public static ImageHeader Read(Stream stream, string name)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek)
            throw new ArgumentException("The stream must be seekable.", nameof(stream));
        var reader = new HeaderReader(stream, name);
        Span<byte> magic = stackalloc byte[12];
        var got = reader.ReadUpTo(0, magic);
        magic = magic[..got];
        if (magic.StartsWith(PngSignature)) return reader.Png();
        if (magic.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8])) return reader.Jpeg();
        if (magic.StartsWith("BM"u8)) return reader.Bmp();
        if (magic.StartsWith("GIF87a"u8) || magic.StartsWith("GIF89a"u8)) return reader.Gif();
        if (magic.Length >= 12 && magic.StartsWith("RIFF"u8) && magic[8..12].SequenceEqual("WEBP"u8)) return reader.WebP();
        if (magic.StartsWith("II*\0"u8) || magic.StartsWith("MM\0*"u8)) return reader.Tiff(magic[0] == (byte)'I');
        return new ImageHeader(ImageFormat.Unknown, 0, 0);
    }

    private static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    private readonly struct HeaderReader(Stream stream, string name)
    {
        private readonly long _length = stream.Length;

        private InvalidDataException Bad(string problem) => new($"{name}: {problem}");

        public int ReadUpTo(long offset, Span<byte> buffer)
        {
            stream.Position = offset;
            var total = 0;
            while (total < buffer.Length)
            {
                var n = stream.Read(buffer[total..]);
                if (n == 0) break;
                total += n;
            }
            return total;
        }

        private void ReadExactly(long offset, Span<byte> buffer, string what)
        {
            if (offset < 0 || offset + buffer.Length > _length || ReadUpTo(offset, buffer) != buffer.Length)
                throw Bad($"the file ends inside the {what} (byte {offset}, {_length} bytes in the file); it is truncated or not an image.");
        }

        private static ImageHeader Checked(ImageFormat format, long width, long height, Func<string, InvalidDataException> bad)
        {
            if (width <= 0 || height <= 0 || width > int.MaxValue || height > int.MaxValue)
                throw bad($"the {format.ToString().ToUpperInvariant()} header declares a size of {width}x{height} pixels, which is not a valid image size.");
            return new ImageHeader(format, (int)width, (int)height);
        }

        // PNG (ISO/IEC 15948): IHDR first; every chunk is length, type, data, CRC, and no length may exceed 2^31 - 1.
        public ImageHeader Png()
        {
            Span<byte> b = stackalloc byte[8 + 8 + 13];
            ReadExactly(0, b, "PNG header");
            if (BinaryPrimitives.ReadUInt32BigEndian(b[8..]) != 13 || !b[12..16].SequenceEqual("IHDR"u8))
                throw Bad("the PNG does not start with a 13-byte IHDR chunk.");
            var header = Checked(ImageFormat.Png, BinaryPrimitives.ReadUInt32BigEndian(b[16..]), BinaryPrimitives.ReadUInt32BigEndian(b[20..]), Bad);
            Span<byte> chunk = stackalloc byte[8];
            long position = 8;
            while (position < _length)
            {
                ReadExactly(position, chunk, "PNG chunk header");
                var length = BinaryPrimitives.ReadUInt32BigEndian(chunk);
                var type = Encoding.ASCII.GetString(chunk[4..8]);
                if (!IsChunkType(chunk[4..8]))
                    throw Bad($"byte {position + 4} of the PNG should start a chunk type (4 letters) but holds {Convert.ToHexString(chunk[4..8])}.");
                if (length > int.MaxValue)
                    throw Bad($"PNG chunk {type} at byte {position} declares {length} bytes, more than a PNG chunk may hold (2^31 - 1).");
                var end = position + 12 + length;
                if (end > _length)
                    throw Bad($"PNG chunk {type} at byte {position} declares {length} bytes of data, but the file holds only {Math.Max(0, _length - position - 12)} after its header; it is truncated or corrupt.");
                if (type == "IEND") break;
                position = end;
            }
            return header;
        }

        private static bool IsChunkType(ReadOnlySpan<byte> type)
        {
            foreach (var c in type)
                if (c is not (>= (byte)'A' and <= (byte)'Z' or >= (byte)'a' and <= (byte)'z')) return false;
            return true;
        }

        // JPEG (ITU T.81): marker segments up to the frame header (SOFn); each length must stay inside the file.
        public ImageHeader Jpeg()
        {
            long position = 2;
            var skipped = 0;
            Span<byte> two = stackalloc byte[2];
            Span<byte> frame = stackalloc byte[6];
            while (true)
            {
                ReadExactly(position, two, "JPEG marker");
                if (two[0] != 0xFF)
                {
                    // Extraneous bytes before a marker: libjpeg skips them with a warning, and so does this, up to a point.
                    if (++skipped > 65536)
                        throw Bad($"the JPEG holds more than 64 KB of bytes that belong to no marker segment before byte {position}; it is corrupt.");
                    position++;
                    continue;
                }
                var marker = two[1];
                if (marker == 0xFF) { position++; continue; } // fill byte
                position += 2;
                if (marker is >= 0xD0 and <= 0xD7 or 0x01) continue; // no length
                if (marker is 0xD9 or 0xDA or 0xD8)
                    throw Bad($"the JPEG reaches marker 0x{marker:X2} at byte {position - 2} before any frame header (SOF) that gives its size.");
                ReadExactly(position, two, "JPEG segment length");
                int length = BinaryPrimitives.ReadUInt16BigEndian(two);
                if (length < 2 || position + length > _length)
                    throw Bad($"JPEG segment 0x{marker:X2} at byte {position - 2} declares {length} bytes, but the file holds {_length - position} after it.");
                if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
                {
                    if (length < 8)
                        throw Bad($"the JPEG frame header at byte {position - 2} is {length} bytes long, too short to hold a size.");
                    ReadExactly(position + 2, frame, "JPEG frame header");
                    int height = BinaryPrimitives.ReadUInt16BigEndian(frame[1..]), width = BinaryPrimitives.ReadUInt16BigEndian(frame[3..]);
                    if (height == 0)
                        throw Bad("the JPEG frame header declares height 0 (a height given later by a DNL marker), which is not supported.");
                    return Checked(ImageFormat.Jpeg, width, height, Bad);
                }
                position += length;
            }
        }

        // BMP: BITMAPCOREHEADER (12 bytes) has 16-bit sizes, the later info headers 32-bit ones; a negative height means top-down rows.
        public ImageHeader Bmp()
        {
            Span<byte> b = stackalloc byte[26];
            ReadExactly(0, b[..18], "BMP header");
            var infoSize = BinaryPrimitives.ReadUInt32LittleEndian(b[14..]);
            if (infoSize == 12)
            {
                ReadExactly(0, b[..22], "BMP header");
                return Checked(ImageFormat.Bmp, BinaryPrimitives.ReadUInt16LittleEndian(b[18..]), BinaryPrimitives.ReadUInt16LittleEndian(b[20..]), Bad);
            }
            ReadExactly(0, b, "BMP header");
            long height = BinaryPrimitives.ReadInt32LittleEndian(b[22..]);
            return Checked(ImageFormat.Bmp, BinaryPrimitives.ReadInt32LittleEndian(b[18..]), Math.Abs(height), Bad);
        }

        public ImageHeader Gif()
        {
            Span<byte> b = stackalloc byte[10];
            ReadExactly(0, b, "GIF header");
            return Checked(ImageFormat.Gif, BinaryPrimitives.ReadUInt16LittleEndian(b[6..]), BinaryPrimitives.ReadUInt16LittleEndian(b[8..]), Bad);
        }

        // WebP container: the first chunk is VP8 (lossy), VP8L (lossless) or VP8X (extended, canvas size).
        public ImageHeader WebP()
        {
            Span<byte> b = stackalloc byte[30];
            ReadExactly(0, b, "WebP header");
            var chunk = Encoding.ASCII.GetString(b[12..16]);
            switch (chunk)
            {
                case "VP8 ":
                    if (b[23] != 0x9D || b[24] != 0x01 || b[25] != 0x2A)
                        throw Bad("the WebP VP8 frame lacks its start code.");
                    return Checked(ImageFormat.WebP, BinaryPrimitives.ReadUInt16LittleEndian(b[26..]) & 0x3FFF, BinaryPrimitives.ReadUInt16LittleEndian(b[28..]) & 0x3FFF, Bad);
                case "VP8L":
                    if (b[20] != 0x2F)
                        throw Bad("the WebP VP8L stream lacks its signature byte.");
                    var bits = BinaryPrimitives.ReadUInt32LittleEndian(b[21..]);
                    return Checked(ImageFormat.WebP, (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, Bad);
                case "VP8X":
                    long w = (b[24] | b[25] << 8 | b[26] << 16) + 1, h = (b[27] | b[28] << 8 | b[29] << 16) + 1;
                    return Checked(ImageFormat.WebP, w, h, Bad);
                default:
                    throw Bad($"the WebP file's first chunk is '{chunk}', not VP8, VP8L or VP8X.");
            }
        }

        // TIFF: the first image file directory's ImageWidth (256) and ImageLength (257) tags, SHORT or LONG.
        public ImageHeader Tiff(bool little)
        {
            Span<byte> b = stackalloc byte[12];
            ReadExactly(4, b[..4], "TIFF header");
            long ifd = little ? BinaryPrimitives.ReadUInt32LittleEndian(b) : BinaryPrimitives.ReadUInt32BigEndian(b);
            ReadExactly(ifd, b[..2], "TIFF image directory");
            int count = little ? BinaryPrimitives.ReadUInt16LittleEndian(b) : BinaryPrimitives.ReadUInt16BigEndian(b);
            long width = -1, height = -1;
            for (var i = 0; i < count && (width < 0 || height < 0); i++)
            {
                ReadExactly(ifd + 2 + 12L * i, b, "TIFF image directory");
                int tag = little ? BinaryPrimitives.ReadUInt16LittleEndian(b) : BinaryPrimitives.ReadUInt16BigEndian(b);
                int type = little ? BinaryPrimitives.ReadUInt16LittleEndian(b[2..]) : BinaryPrimitives.ReadUInt16BigEndian(b[2..]);
                if (tag is not (256 or 257)) continue;
                long value = type switch
                {
                    3 => little ? BinaryPrimitives.ReadUInt16LittleEndian(b[8..]) : BinaryPrimitives.ReadUInt16BigEndian(b[8..]),
                    4 => little ? BinaryPrimitives.ReadUInt32LittleEndian(b[8..]) : BinaryPrimitives.ReadUInt32BigEndian(b[8..]),
                    _ => throw Bad($"TIFF tag {tag} has type {type}; a size is SHORT (3) or LONG (4)."),
                };
                if (tag == 256) width = value; else height = value;
            }
            if (width < 0 || height < 0)
                throw Bad("the TIFF's first image directory gives no ImageWidth and ImageLength.");
            return Checked(ImageFormat.Tiff, width, height, Bad);
        }
    }
}
