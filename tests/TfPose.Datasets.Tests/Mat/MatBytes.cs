using System.Buffers.Binary;
using System.Text;

namespace TfPose.Datasets.Tests.Mat;

/// <summary>
/// Builds level 5 MAT-files byte by byte straight from the format specification, independently of the
/// reader under test. Compression uses hand-written zlib "stored" blocks with their own Adler-32.
/// </summary>
internal sealed class MatBytes(bool bigEndian)
{
    public const uint MiInt8 = 1, MiUInt8 = 2, MiInt16 = 3, MiUInt16 = 4, MiInt32 = 5, MiUInt32 = 6,
        MiSingle = 7, MiDouble = 9, MiInt64 = 12, MiUInt64 = 13, MiMatrix = 14, MiCompressed = 15,
        MiUtf8 = 16, MiUtf16 = 17, MiUtf32 = 18;

    public const int MxCell = 1, MxStruct = 2, MxChar = 4, MxSparse = 5, MxDouble = 6, MxSingle = 7, MxInt8 = 8,
        MxUInt8 = 9, MxInt16 = 10, MxUInt16 = 11, MxInt32 = 12, MxUInt32 = 13, MxInt64 = 14, MxUInt64 = 15;

    public const uint Complex = 0x0800, Logical = 0x0200;

    public bool BigEndian { get; } = bigEndian;

    public byte[] Header(string text = "MATLAB 5.0 MAT-file, Platform: test, Created by hand", ushort version = 0x0100)
    {
        var h = new byte[128];
        Array.Fill(h, (byte)' ', 0, 116);
        Encoding.ASCII.GetBytes(text).CopyTo(h, 0);
        Array.Clear(h, 116, 8);
        if (BigEndian)
        {
            BinaryPrimitives.WriteUInt16BigEndian(h.AsSpan(124), version);
            (h[126], h[127]) = ((byte)'M', (byte)'I');
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(124), version);
            (h[126], h[127]) = ((byte)'I', (byte)'M');
        }
        return h;
    }

    public byte[] File(params byte[][] elements) => Concat([Header(), .. elements]);

    public byte[] U32(uint v)
    {
        var b = new byte[4];
        if (BigEndian) BinaryPrimitives.WriteUInt32BigEndian(b, v); else BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        return b;
    }

    public byte[] Values(uint type, params double[] values)
    {
        var parts = values.Select(v => type switch
        {
            MiInt8 => [(byte)(sbyte)v],
            MiUInt8 => [(byte)v],
            MiInt16 => Bytes(2, (ulong)(ushort)(short)v),
            MiUInt16 => Bytes(2, (ushort)v),
            MiInt32 => Bytes(4, (uint)(int)v),
            MiUInt32 => Bytes(4, (uint)v),
            MiInt64 => Bytes(8, (ulong)(long)v),
            MiUInt64 => Bytes(8, (ulong)v),
            MiSingle => Bytes(4, BitConverter.SingleToUInt32Bits((float)v)),
            MiDouble => Bytes(8, BitConverter.DoubleToUInt64Bits(v)),
            _ => throw new ArgumentException("type"),
        });
        return Concat(parts.ToArray());
    }

    public byte[] Bytes(int width, ulong value)
    {
        var b = new byte[width];
        for (var i = 0; i < width; i++)
            b[BigEndian ? width - 1 - i : i] = (byte)(value >> (8 * i));
        return b;
    }

    /// <summary>A data element: 8-byte tag, payload, zero padding to a multiple of 8.</summary>
    public byte[] Element(uint type, byte[] payload, uint? declaredSize = null)
    {
        var pad = (8 - payload.Length % 8) % 8;
        return Concat(U32(type), U32(declaredSize ?? (uint)payload.Length), payload, new byte[pad]);
    }

    /// <summary>Small data element: type and size packed in 4 bytes, payload (at most 4 bytes) in the next 4.</summary>
    public byte[] SmallElement(uint type, byte[] payload)
    {
        if (payload.Length > 4) throw new ArgumentException("too long");
        var tag = U32(((uint)payload.Length << 16) | type);
        var data = new byte[4];
        payload.CopyTo(data, 0);
        return Concat(tag, data);
    }

    public byte[] Matrix(int cls, int[] dims, string name, uint flags, params byte[][] body)
    {
        var flagsPayload = Concat(U32(flags | (uint)cls), U32(0));
        var dimsPayload = Concat(dims.Select(d => U32((uint)d)).ToArray());
        var parts = new List<byte[]>
        {
            Element(MiUInt32, flagsPayload),
            Element(MiInt32, dimsPayload),
            Element(MiInt8, Encoding.ASCII.GetBytes(name)),
        };
        parts.AddRange(body);
        return Element(MiMatrix, Concat(parts.ToArray()));
    }

    public byte[] Numeric(int cls, int[] dims, string name, uint storedAs, double[] columnMajor, uint flags = 0) =>
        Matrix(cls, dims, name, flags, Element(storedAs, Values(storedAs, columnMajor)));

    public byte[] CharUtf8(int[] dims, string name, string columnMajor) =>
        Matrix(MxChar, dims, name, 0, Element(MiUtf8, Encoding.UTF8.GetBytes(columnMajor)));

    public byte[] CharUtf16(int[] dims, string name, string columnMajor) =>
        Matrix(MxChar, dims, name, 0, Element(MiUtf16, (BigEndian ? Encoding.BigEndianUnicode : Encoding.Unicode).GetBytes(columnMajor)));

    /// <param name="values">Field values element by element (column-major), fields in order.</param>
    public byte[] Struct(int[] dims, string name, string[] fields, params byte[][] values)
    {
        const int len = 32;
        var names = new byte[len * fields.Length];
        for (var i = 0; i < fields.Length; i++)
            Encoding.ASCII.GetBytes(fields[i]).CopyTo(names, i * len);
        return Matrix(MxStruct, dims, name, 0, [Element(MiInt32, U32(len)), Element(MiInt8, names), .. values]);
    }

    public byte[] Cell(int[] dims, string name, params byte[][] cells) => Matrix(MxCell, dims, name, 0, cells);

    /// <summary>miCOMPRESSED element holding <paramref name="element"/> as a zlib stream of stored (uncompressed) blocks.</summary>
    public byte[] Compressed(byte[] element) => CompressedRaw(Zlib(element));

    public byte[] CompressedRaw(byte[] zlib) => Concat(U32(MiCompressed), U32((uint)zlib.Length), zlib);

    public static byte[] Zlib(byte[] data)
    {
        var output = new List<byte> { 0x78, 0x01 };
        var pos = 0;
        do
        {
            var n = Math.Min(65535, data.Length - pos);
            var final = pos + n == data.Length;
            output.Add(final ? (byte)1 : (byte)0);
            output.AddRange([(byte)n, (byte)(n >> 8), (byte)~n, (byte)(~n >> 8)]);
            output.AddRange(data.AsSpan(pos, n).ToArray());
            pos += n;
        } while (pos < data.Length);
        uint a = 1, b = 0;
        foreach (var x in data)
        {
            a = (a + x) % 65521;
            b = (b + a) % 65521;
        }
        var adler = (b << 16) | a;
        output.AddRange([(byte)(adler >> 24), (byte)(adler >> 16), (byte)(adler >> 8), (byte)adler]);
        return output.ToArray();
    }

    public static byte[] Concat(params byte[][] parts)
    {
        var result = new byte[parts.Sum(p => p.Length)];
        var pos = 0;
        foreach (var p in parts)
        {
            p.CopyTo(result, pos);
            pos += p.Length;
        }
        return result;
    }
}
