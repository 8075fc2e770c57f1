using System.IO.Compression;

namespace TfPose.Datasets.FashionMnist;

/// <summary>
/// An IDX file (the MNIST container): magic 0x00 0x00 type ndims, big-endian dimension sizes, then the data.
/// Only unsigned-byte data (type 0x08) is supported, which is what (Fashion-)MNIST uses. Gzip is detected
/// from its signature, so both "*.gz" and decompressed files load.
/// </summary>
public sealed class IdxFile
{
    private IdxFile(int[] dimensions, byte[] data)
    {
        Dimensions = dimensions;
        Data = data;
    }

    public int[] Dimensions { get; }

    /// <summary>Row-major data, Dimensions.Product() bytes.</summary>
    public byte[] Data { get; }

    public static IdxFile Read(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"IDX file not found: {path}", path);
        byte[] raw = File.ReadAllBytes(path);
        if (raw.Length >= 2 && raw[0] == 0x1f && raw[1] == 0x8b)
        {
            try
            {
                using var gz = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
                using var ms = new MemoryStream();
                gz.CopyTo(ms);
                raw = ms.ToArray();
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"{path}: corrupt gzip data ({e.Message}).", e);
            }
        }
        return Parse(raw, path);
    }

    public static IdxFile Parse(byte[] raw, string source = "IDX data")
    {
        if (raw.Length < 4)
            throw new InvalidDataException($"{source}: {raw.Length} bytes is too short for an IDX header.");
        if (raw[0] != 0 || raw[1] != 0)
            throw new InvalidDataException($"{source}: bad IDX magic {raw[0]:X2} {raw[1]:X2} {raw[2]:X2} {raw[3]:X2} (expected 00 00 08 nn).");
        if (raw[2] != 0x08)
            throw new InvalidDataException($"{source}: IDX data type 0x{raw[2]:X2} is not supported (only unsigned bytes, 0x08).");
        int nd = raw[3];
        if (nd == 0 || raw.Length < 4 + 4 * nd)
            throw new InvalidDataException($"{source}: header declares {nd} dimensions but the file is {raw.Length} bytes.");
        var dims = new int[nd];
        long count = 1;
        for (int i = 0; i < nd; i++)
        {
            int o = 4 + 4 * i;
            dims[i] = (raw[o] << 24) | (raw[o + 1] << 16) | (raw[o + 2] << 8) | raw[o + 3];
            if (dims[i] < 0)
                throw new InvalidDataException($"{source}: negative dimension {dims[i]}.");
            count *= dims[i];
        }
        long header = 4 + 4L * nd;
        if (raw.Length - header != count)
            throw new InvalidDataException($"{source}: dimensions [{string.Join(", ", dims)}] need {count} data bytes but the file has {raw.Length - header}.");
        return new IdxFile(dims, raw.AsSpan((int)header).ToArray());
    }
}
