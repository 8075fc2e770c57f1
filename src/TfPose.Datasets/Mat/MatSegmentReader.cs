using System.Buffers.Binary;
using System.IO.Compression;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;

namespace TfPose.Datasets.Mat;

/// <summary>
/// Decodes data elements from one contiguous byte region: the file itself, or the decompressed
/// payload of one miCOMPRESSED element. Every size a file declares is checked against the bytes that
/// are really there before anything is allocated, so a hostile file cannot force a big allocation.
/// </summary>
internal sealed class MatSegmentReader
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly byte[] _data;
    private readonly int _length;
    private readonly bool _bigEndian;
    private readonly string _path;
    private readonly long? _compressedAt;
    private readonly MatReadOptions _options;

    public MatSegmentReader(byte[] data, int length, bool bigEndian, string path, long? compressedAt, MatReadOptions options)
    {
        _data = data;
        _length = length;
        _bigEndian = bigEndian;
        _path = path;
        _compressedAt = compressedAt;
        _options = options;
    }

    public int Length => _length;

    public MatFileException Error(long offset, string problem, Exception? inner = null) =>
        new(_path, offset, problem, _compressedAt, inner);

    public MatTag ReadTag(int pos, int limit)
    {
        if (limit - pos < 8)
            throw Error(pos, $"truncated: an element tag needs 8 bytes but only {limit - pos} remain");
        var first = U32(pos);
        if ((first >> 16) != 0)
        {
            // Small data element: type and size share the first four bytes, payload fills the next four.
            var smallSize = (int)(first >> 16);
            if (smallSize > 4)
                throw Error(pos, $"small data element declares {smallSize} bytes; at most 4 fit");
            return new MatTag(first & 0xFFFF, smallSize, pos, pos + 4, pos + 8);
        }
        var size = U32(pos + 4);
        long available = limit - (pos + 8);
        if (size > available)
            throw Error(pos, $"{MatDataTypes.Name(first)} element declares {size} bytes but only {available} remain (truncated or corrupt)");
        long next = first == (uint)MatDataType.Compressed ? pos + 8L + size : pos + 8L + ((size + 7L) & ~7L);
        // Writers may leave out the padding of the last element in a region.
        return new MatTag(first, (int)size, pos, pos + 8, (int)Math.Min(next, limit));
    }

    public MatSegmentReader Inflate(MatTag tag)
    {
        if (_compressedAt is not null)
            throw Error(tag.TagOffset, "miCOMPRESSED element nested inside compressed data");
        try
        {
            using var input = new MemoryStream(_data, tag.DataOffset, tag.Size, writable: false);
            using var zlib = new ZLibStream(input, CompressionMode.Decompress);
            var head = new byte[8];
            var got = ReadFully(zlib, head);
            if (got < 8)
                throw Error(tag.TagOffset, $"compressed element decompresses to {got} bytes, not even an element tag");
            var first = U32(head, 0);
            long total = (first >> 16) != 0 ? 8 : 8L + U32(head, 4);
            if (total > _options.MaxDecompressedBytes || total > Array.MaxLength)
                throw Error(tag.TagOffset, $"compressed element declares {total} bytes of data, over the {_options.MaxDecompressedBytes}-byte limit");
            // Grow as data really arrives rather than trusting the declared size up front.
            var buffer = new byte[(int)Math.Min(total, Math.Max(1 << 16, tag.Size * 4L))];
            head.CopyTo(buffer, 0);
            var filled = 8;
            var headerChecked = false;
            while (filled < total)
            {
                if (filled == buffer.Length)
                {
                    if (!headerChecked)
                    {
                        // The first block holds the array's header: a numeric array's dimensions fix how many bytes
                        // it may hold, so a 1x1 array declaring a gigabyte is refused before the gigabyte is inflated.
                        CheckDeclaredSize(buffer, filled, total, tag);
                        headerChecked = true;
                    }
                    Array.Resize(ref buffer, (int)Math.Min(total, buffer.Length * 2L));
                }
                var n = zlib.Read(buffer, filled, buffer.Length - filled);
                if (n == 0)
                    throw Error(tag.TagOffset, $"compressed element ends after {filled} of the {total} bytes it declares (truncated zlib stream)");
                filled += n;
            }
            // Drive the stream to its end so zlib verifies the Adler-32 checksum: a corrupt stream can
            // inflate to plausible-looking bytes, and those should fail as "corrupt", not as odd structure.
            // Trailing bytes after the element are ignored; a bounded amount is read so a bomb cannot stall us.
            Span<byte> scratch = stackalloc byte[4096];
            for (var trailing = 0; trailing < (1 << 20);)
            {
                var n = zlib.Read(scratch);
                if (n == 0)
                    break;
                trailing += n;
            }
            return new MatSegmentReader(buffer, filled, _bigEndian, _path, tag.TagOffset, _options);
        }
        catch (InvalidDataException ex)
        {
            throw Error(tag.TagOffset, $"corrupt zlib stream in compressed element: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Checks what an inflated miMATRIX's first <paramref name="filled"/> bytes declare against its total size. Only a
    /// numeric array can be bounded this way (cells and structs nest); anything not yet readable is left to the full
    /// parse, which reports it with its offset.
    /// </summary>
    private void CheckDeclaredSize(byte[] data, int filled, long total, MatTag tag)
    {
        if (U32(data, 0) != (uint)MatDataType.Matrix
            || Peek(data, filled, 8) is not { Type: (uint)MatDataType.UInt32, Size: 8 } flags || flags.Data + 8 > filled)
            return;
        var cls = (MatClass)(U32(data, flags.Data) & 0xFF);
        var complex = (U32(data, flags.Data) & 0x0800) != 0;
        if (cls is < MatClass.Double or > MatClass.UInt64
            || Peek(data, filled, flags.Next) is not { Type: (uint)MatDataType.Int32 } dims || dims.Size < 8 || dims.Data + dims.Size > filled
            || Peek(data, filled, dims.Next) is not { } name
            || Peek(data, filled, name.Next) is not { } real)
            return;
        long count = 1;
        for (var i = 0; i < dims.Size / 4; i++)
        {
            long d = (int)U32(data, dims.Data + 4 * i);
            if (d < 0 || (d > 0 && count > _options.MaxElements / d)) return;
            count *= d;
        }
        var width = MatDataTypes.SizeOf((MatDataType)Math.Min(real.Type, 255));
        if (width == 0 || real.Type is (uint)MatDataType.Utf8 or (uint)MatDataType.Utf16 or (uint)MatDataType.Utf32)
            return;
        var shape = string.Join("x", Enumerable.Range(0, (int)(dims.Size / 4)).Select(i => (int)U32(data, dims.Data + 4 * i)));
        if (real.Size != count * width)
            throw Error(tag.TagOffset, $"compressed {cls.ToMatlabName()} array of dimensions {shape} needs {count * width} bytes of " +
                                      $"{MatDataTypes.Name(real.Type)} data but declares {real.Size} (refused before inflating its {total} bytes)");
        // Real part, then an imaginary part of at most 8 bytes per value, each padded to 8 bytes.
        var bound = real.Next + (complex ? 8 + ((count * 8 + 7) & ~7L) : 0);
        if (total > bound)
            throw Error(tag.TagOffset, $"compressed {cls.ToMatlabName()} array of dimensions {shape} declares {total} bytes, " +
                                      $"but its dimensions account for at most {bound} (refused before inflating it)");
    }

    private readonly record struct PeekedTag(uint Type, long Size, int Data, long Next);

    private PeekedTag? Peek(byte[] data, int filled, long pos)
    {
        if (pos + 8 > filled) return null;
        var first = U32(data, (int)pos);
        if ((first >> 16) != 0) return new PeekedTag(first & 0xFFFF, first >> 16, (int)pos + 4, pos + 8);
        long size = U32(data, (int)pos + 4);
        return new PeekedTag(first, size, (int)pos + 8, pos + 8 + ((size + 7) & ~7L));
    }

    public MatArray ReadMatrix(MatTag tag, int depth)
    {
        if (tag.DataType != MatDataType.Matrix)
            throw Error(tag.TagOffset, $"expected an miMATRIX element, found {tag.TypeName}");
        if (depth > _options.MaxDepth)
            throw Error(tag.TagOffset, $"arrays nested more than {_options.MaxDepth} levels deep");
        if (tag.Size == 0)
            return new MatNumericArray<double>("", [0, 0], MatClass.Double, []);

        var end = tag.DataOffset + tag.Size;
        var flagsTag = ReadTag(tag.DataOffset, end);
        if (flagsTag.DataType != MatDataType.UInt32 || flagsTag.Size != 8)
            throw Error(flagsTag.TagOffset, $"array flags must be 8 bytes of miUINT32, found {flagsTag.Size} bytes of {flagsTag.TypeName}");
        var flags = U32(flagsTag.DataOffset);
        var cls = (MatClass)(flags & 0xFF);
        var complex = (flags & 0x0800) != 0;
        var logical = (flags & 0x0200) != 0;

        var dimsTag = ReadTag(flagsTag.NextOffset, end);
        var dims = ReadDimensions(dimsTag);
        var count = CountElements(dims, dimsTag.TagOffset);

        var nameTag = ReadTag(dimsTag.NextOffset, end);
        if (nameTag.DataType is not (MatDataType.Int8 or MatDataType.UInt8 or MatDataType.Utf8))
            throw Error(nameTag.TagOffset, $"array name must be miINT8, found {nameTag.TypeName}");
        var name = Encoding.UTF8.GetString(_data, nameTag.DataOffset, nameTag.Size).TrimEnd('\0');
        var pos = nameTag.NextOffset;
        var label = name.Length > 0 ? $"'{name}'" : "an element";

        return cls switch
        {
            MatClass.Double => Numeric<double>(name, dims, count, cls, complex, logical, pos, end),
            MatClass.Single => Numeric<float>(name, dims, count, cls, complex, logical, pos, end),
            MatClass.Int8 => Numeric<sbyte>(name, dims, count, cls, complex, logical, pos, end),
            MatClass.UInt8 => Numeric<byte>(name, dims, count, cls, complex, logical, pos, end),
            MatClass.Int16 => Numeric<short>(name, dims, count, cls, complex, logical, pos, end),
            MatClass.UInt16 => Numeric<ushort>(name, dims, count, cls, complex, logical, pos, end),
            MatClass.Int32 => Numeric<int>(name, dims, count, cls, complex, logical, pos, end),
            MatClass.UInt32 => Numeric<uint>(name, dims, count, cls, complex, logical, pos, end),
            MatClass.Int64 => Numeric<long>(name, dims, count, cls, complex, logical, pos, end),
            MatClass.UInt64 => Numeric<ulong>(name, dims, count, cls, complex, logical, pos, end),
            MatClass.Char => Chars(name, dims, count, pos, end),
            MatClass.Cell => Cell(name, dims, count, depth, pos, end),
            MatClass.Struct => Struct(name, dims, count, depth, pos, end, objectClass: null),
            MatClass.Object => Object(name, dims, count, depth, pos, end),
            MatClass.Sparse => throw Error(tag.TagOffset, $"{label} is a sparse array; sparse arrays are not supported (convert with full() before saving)"),
            MatClass.Function or MatClass.Opaque => throw Error(tag.TagOffset, $"{label} is a {cls.ToMatlabName()}; MATLAB function handles and opaque objects are not supported"),
            _ => throw Error(flagsTag.DataOffset, $"unknown array class {(int)cls} in the array flags of {label}"),
        };
    }

    private int[] ReadDimensions(MatTag tag)
    {
        if (tag.DataType != MatDataType.Int32 || tag.Size % 4 != 0 || tag.Size < 8)
            throw Error(tag.TagOffset, $"dimensions must be at least two miINT32 values, found {tag.Size} bytes of {tag.TypeName}");
        var dims = new int[tag.Size / 4];
        for (var i = 0; i < dims.Length; i++)
        {
            dims[i] = (int)U32(tag.DataOffset + 4 * i);
            if (dims[i] < 0)
                throw Error(tag.DataOffset + 4 * i, $"negative dimension {dims[i]}");
        }
        return dims;
    }

    private int CountElements(int[] dims, int offset)
    {
        if (Array.IndexOf(dims, 0) >= 0)
            return 0;
        long count = 1;
        foreach (var d in dims)
        {
            if (count > _options.MaxElements / d)
                throw Error(offset, $"dimensions {string.Join("x", dims)} hold more than {_options.MaxElements} elements (overflow or corrupt)");
            count *= d;
        }
        return (int)count;
    }

    private MatNumericArray<T> Numeric<T>(string name, int[] dims, int count, MatClass cls, bool complex, bool logical, int pos, int end)
        where T : unmanaged, INumber<T>
    {
        var realTag = ReadTag(pos, end);
        var real = Decode<T>(realTag, dims, count);
        T[]? imaginary = null;
        if (complex)
            imaginary = Decode<T>(ReadTag(realTag.NextOffset, end), dims, count);
        return new MatNumericArray<T>(name, dims, cls, real, imaginary, logical);
    }

    private T[] Decode<T>(MatTag tag, int[] dims, int count)
        where T : unmanaged, INumber<T>
    {
        var width = tag.DataType is MatDataType.Utf8 or MatDataType.Utf16 or MatDataType.Utf32 ? 0 : MatDataTypes.SizeOf(tag.DataType);
        if (width == 0)
            throw Error(tag.TagOffset, $"numeric data stored as {tag.TypeName}");
        if (tag.Size % width != 0)
            throw Error(tag.TagOffset, $"{tag.Size} bytes of {tag.TypeName} is not a whole number of values");
        if (tag.Size / width != count)
            throw Error(tag.TagOffset, $"dimensions {string.Join("x", dims)} need {count} values but the data holds {tag.Size / width}");
        var src = _data.AsSpan(tag.DataOffset, tag.Size);
        var rowMajor = new T[count];
        if (_bigEndian != BitConverter.IsLittleEndian && ClrTypeOf(tag.DataType) == typeof(T))
        {
            // Same type and byte order as memory: reorder straight from the file bytes, no second copy.
            ColumnMajor.ToRowMajor(MemoryMarshal.Cast<byte, T>(src), dims, rowMajor);
            return rowMajor;
        }
        var columnMajor = new T[count];
        Convert(src, tag.DataType, columnMajor);
        ColumnMajor.ToRowMajor<T>(columnMajor, dims, rowMajor);
        return rowMajor;
    }

    private void Convert<T>(ReadOnlySpan<byte> src, MatDataType type, Span<T> dst)
        where T : unmanaged, INumber<T>
    {
        // MATLAB stores values in the smallest type that holds them (a double mask as miUINT8), so convert.
        for (var i = 0; i < dst.Length; i++)
        {
            dst[i] = type switch
            {
                MatDataType.Int8 => T.CreateSaturating((sbyte)src[i]),
                MatDataType.UInt8 => T.CreateSaturating(src[i]),
                MatDataType.Int16 => T.CreateSaturating((short)U16(src, 2 * i)),
                MatDataType.UInt16 => T.CreateSaturating(U16(src, 2 * i)),
                MatDataType.Int32 => T.CreateSaturating((int)U32(src, 4 * i)),
                MatDataType.UInt32 => T.CreateSaturating(U32(src, 4 * i)),
                MatDataType.Int64 => T.CreateSaturating((long)U64(src, 8 * i)),
                MatDataType.UInt64 => T.CreateSaturating(U64(src, 8 * i)),
                MatDataType.Single => T.CreateSaturating(BitConverter.Int32BitsToSingle((int)U32(src, 4 * i))),
                MatDataType.Double => T.CreateSaturating(BitConverter.Int64BitsToDouble((long)U64(src, 8 * i))),
                _ => throw new InvalidOperationException("unreachable: non-numeric type passed the width check"),
            };
        }
    }

    private static Type? ClrTypeOf(MatDataType type) => type switch
    {
        MatDataType.Int8 => typeof(sbyte),
        MatDataType.UInt8 => typeof(byte),
        MatDataType.Int16 => typeof(short),
        MatDataType.UInt16 => typeof(ushort),
        MatDataType.Int32 => typeof(int),
        MatDataType.UInt32 => typeof(uint),
        MatDataType.Int64 => typeof(long),
        MatDataType.UInt64 => typeof(ulong),
        MatDataType.Single => typeof(float),
        MatDataType.Double => typeof(double),
        _ => null,
    };

    private MatCharArray Chars(string name, int[] dims, int count, int pos, int end)
    {
        if (count == 0 && pos >= end)
            return new MatCharArray(name, dims, []);
        var tag = ReadTag(pos, end);
        var src = _data.AsSpan(tag.DataOffset, tag.Size);
        char[] chars;
        try
        {
            chars = tag.DataType switch
            {
                MatDataType.Utf8 => StrictUtf8.GetChars(src.ToArray()),
                MatDataType.UInt8 or MatDataType.Int8 => Encoding.Latin1.GetChars(src.ToArray()),
                MatDataType.Utf16 or MatDataType.UInt16 or MatDataType.Int16 => Utf16(src, tag),
                MatDataType.Utf32 or MatDataType.UInt32 or MatDataType.Int32 => Utf32(src, tag),
                _ => throw Error(tag.TagOffset, $"char data stored as {tag.TypeName}"),
            };
        }
        catch (DecoderFallbackException ex)
        {
            throw Error(tag.DataOffset, "invalid UTF-8 in char data", ex);
        }
        if (chars.Length != count)
            throw Error(tag.TagOffset, $"char dimensions {string.Join("x", dims)} need {count} characters but the data holds {chars.Length}");
        var rowMajor = new char[count];
        ColumnMajor.ToRowMajor<char>(chars, dims, rowMajor);
        return new MatCharArray(name, dims, rowMajor);
    }

    private char[] Utf16(ReadOnlySpan<byte> src, MatTag tag)
    {
        if (src.Length % 2 != 0)
            throw Error(tag.TagOffset, $"UTF-16 char data has an odd byte count {src.Length}");
        var chars = new char[src.Length / 2];
        for (var i = 0; i < chars.Length; i++)
            chars[i] = (char)U16(src, 2 * i);
        return chars;
    }

    private char[] Utf32(ReadOnlySpan<byte> src, MatTag tag)
    {
        if (src.Length % 4 != 0)
            throw Error(tag.TagOffset, $"UTF-32 char data has {src.Length} bytes, not a multiple of 4");
        var text = new StringBuilder(src.Length / 4);
        for (var i = 0; i < src.Length / 4; i++)
        {
            var cp = U32(src, 4 * i);
            if (cp > 0x10FFFF || cp is >= 0xD800 and <= 0xDFFF)
                throw Error(tag.DataOffset + 4 * i, $"invalid UTF-32 code point 0x{cp:X}");
            text.Append(char.ConvertFromUtf32((int)cp));
        }
        return text.ToString().ToCharArray();
    }

    private MatCellArray Cell(string name, int[] dims, int count, int depth, int pos, int end)
    {
        // Every cell is at least an 8-byte tag, so a count the remaining bytes cannot hold is corrupt.
        if ((long)count * 8 > end - pos)
            throw Error(pos, $"cell array {string.Join("x", dims)} has {count} cells but only {end - pos} bytes remain");
        var columnMajor = new MatArray[count];
        for (var i = 0; i < count; i++)
        {
            var tag = ReadTag(pos, end);
            columnMajor[i] = ReadMatrix(tag, depth + 1);
            pos = tag.NextOffset;
        }
        var rowMajor = new MatArray[count];
        ColumnMajor.ToRowMajor<MatArray>(columnMajor, dims, rowMajor);
        return new MatCellArray(name, dims, rowMajor);
    }

    private MatStructArray Object(string name, int[] dims, int count, int depth, int pos, int end)
    {
        var classTag = ReadTag(pos, end);
        if (classTag.DataType is not (MatDataType.Int8 or MatDataType.UInt8))
            throw Error(classTag.TagOffset, $"object class name must be miINT8, found {classTag.TypeName}");
        var className = Encoding.UTF8.GetString(_data, classTag.DataOffset, classTag.Size).TrimEnd('\0');
        return Struct(name, dims, count, depth, classTag.NextOffset, end, className);
    }

    private MatStructArray Struct(string name, int[] dims, int count, int depth, int pos, int end, string? objectClass)
    {
        var lengthTag = ReadTag(pos, end);
        if (lengthTag.DataType != MatDataType.Int32 || lengthTag.Size != 4)
            throw Error(lengthTag.TagOffset, $"struct field name length must be one miINT32, found {lengthTag.Size} bytes of {lengthTag.TypeName}");
        var nameLength = (int)U32(lengthTag.DataOffset);
        var namesTag = ReadTag(lengthTag.NextOffset, end);
        if (namesTag.DataType is not (MatDataType.Int8 or MatDataType.UInt8))
            throw Error(namesTag.TagOffset, $"struct field names must be miINT8, found {namesTag.TypeName}");
        if (nameLength <= 0 ? namesTag.Size != 0 : namesTag.Size % nameLength != 0)
            throw Error(namesTag.TagOffset, $"{namesTag.Size} bytes of field names is not a whole number of {nameLength}-byte names");
        var fieldCount = nameLength <= 0 ? 0 : namesTag.Size / nameLength;
        var fields = new string[fieldCount];
        for (var f = 0; f < fieldCount; f++)
        {
            var raw = _data.AsSpan(namesTag.DataOffset + f * nameLength, nameLength);
            var zero = raw.IndexOf((byte)0);
            fields[f] = Encoding.UTF8.GetString(zero >= 0 ? raw[..zero] : raw);
        }

        pos = namesTag.NextOffset;
        // A struct array with no fields holds no data whatever its size: return it without the
        // count-sized reorder tables below, which a tiny file declaring 16383x16383 would otherwise force.
        if (fieldCount == 0)
            return new MatStructArray(name, dims, fields, [], objectClass);
        var total = (long)count * fieldCount;
        if (total * 8 > end - pos)
            throw Error(pos, $"struct array {string.Join("x", dims)} with {fieldCount} fields needs {total} values but only {end - pos} bytes remain");
        var columnMajor = new MatArray[total];
        for (var i = 0; i < total; i++)
        {
            var tag = ReadTag(pos, end);
            columnMajor[i] = ReadMatrix(tag, depth + 1);
            pos = tag.NextOffset;
        }

        // Reorder whole elements: find, for each row-major position, which column-major element lands there.
        var order = new int[count];
        var identity = new int[count];
        for (var i = 0; i < count; i++)
            identity[i] = i;
        ColumnMajor.ToRowMajor<int>(identity, dims, order);
        var values = new MatArray[total];
        for (var r = 0; r < count; r++)
            Array.Copy(columnMajor, (long)order[r] * fieldCount, values, (long)r * fieldCount, fieldCount);
        return new MatStructArray(name, dims, fields, values, objectClass);
    }

    private static int ReadFully(Stream stream, Span<byte> buffer)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var n = stream.Read(buffer[total..]);
            if (n == 0)
                break;
            total += n;
        }
        return total;
    }

    private uint U32(int offset) => U32(_data, offset);

    private uint U32(ReadOnlySpan<byte> s, int offset) => _bigEndian
        ? BinaryPrimitives.ReadUInt32BigEndian(s[offset..])
        : BinaryPrimitives.ReadUInt32LittleEndian(s[offset..]);

    private ushort U16(ReadOnlySpan<byte> s, int offset) => _bigEndian
        ? BinaryPrimitives.ReadUInt16BigEndian(s[offset..])
        : BinaryPrimitives.ReadUInt16LittleEndian(s[offset..]);

    private ulong U64(ReadOnlySpan<byte> s, int offset) => _bigEndian
        ? BinaryPrimitives.ReadUInt64BigEndian(s[offset..])
        : BinaryPrimitives.ReadUInt64LittleEndian(s[offset..]);
}
