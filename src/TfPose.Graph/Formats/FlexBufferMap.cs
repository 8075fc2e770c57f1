using System.Buffers.Binary;
using System.Text;

namespace TfPose.Graph.Formats;

/// <summary>
/// The root map of a FlexBuffer (the schema-less format TensorFlow Lite custom operators keep their options in), read
/// for scalar, string and integer-vector values by key. Only what custom options use is read; every offset is
/// checked against the buffer, and anything else is an error naming <c>what</c>.
/// </summary>
internal sealed class FlexBufferMap
{
    // FlexBuffer value types (flexbuffers.h).
    private const int Int = 1, UInt = 2, Float = 3, Key = 4, String = 5, IndirectInt = 6, IndirectUInt = 7, IndirectFloat = 8, Map = 9,
        Vector = 10, VectorInt = 11, VectorUInt = 12, VectorFloat = 13, VectorInt2 = 16, VectorFloat4 = 24, Bool = 26;

    private readonly byte[] _data;
    private readonly string _what;
    private readonly Dictionary<string, (long Position, int Width, byte Packed)> _entries = new(StringComparer.Ordinal);

    private FlexBufferMap(byte[] data, string what)
    {
        _data = data;
        _what = what;
    }

    public IEnumerable<string> Keys => _entries.Keys;

    /// <summary>Reads the map at the root of <paramref name="data"/>.</summary>
    public static FlexBufferMap Read(byte[] data, string what)
    {
        var map = new FlexBufferMap(data, what);
        if (data.Length < 3)
            throw map.Bad($"{data.Length} bytes are too few for a flexbuffer");
        int rootWidth = data[^1];
        var packed = data[^2];
        if (rootWidth is not (1 or 2 or 4 or 8) || data.Length < 2 + rootWidth)
            throw map.Bad($"its root width {rootWidth} is not 1, 2, 4 or 8 bytes");
        if (packed >> 2 != Map)
            throw map.Bad($"its root is of flexbuffer type {packed >> 2}, not a map");
        var rootAt = data.Length - 2 - rootWidth;
        var at = map.Target(rootAt, rootWidth);
        var width = 1 << (packed & 3);
        var rawSize = map.UIntAt(at - width, width);
        var keysAt = map.Target(at - 3 * width, width);
        var keyWidth = (int)map.UIntAt(at - 2 * width, width);
        if (keyWidth is not (1 or 2 or 4 or 8))
            throw map.Bad($"its keys are {keyWidth} bytes wide");
        if (rawSize > (ulong)Math.Max(0, (data.Length - at) / (width + 1)) || map.UIntAt(keysAt - keyWidth, keyWidth) != rawSize)
            throw map.Bad($"its map of {rawSize} entries does not fit the {data.Length} bytes");
        var size = (long)rawSize;
        for (var i = 0; i < size; i++)
        {
            var key = map.CString(map.Target(keysAt + (long)i * keyWidth, keyWidth));
            map._entries[key] = (at + (long)i * width, width, data[at + size * width + i]);
        }
        return map;
    }

    public bool Has(string key) => _entries.ContainsKey(key);

    /// <summary>An integer (or a float, truncated, as flexbuffers' AsInt32 converts it); <paramref name="fallback"/> when absent.</summary>
    public long GetInt(string key, long fallback)
    {
        if (!_entries.TryGetValue(key, out var e))
            return fallback;
        return (e.Packed >> 2) switch
        {
            Int or Bool => IntAt(e.Position, e.Width),
            UInt => (long)UIntAt(e.Position, e.Width),
            Float => (long)FloatAt(e.Position, e.Width),
            IndirectInt => IntAt(Target(e.Position, e.Width), 1 << (e.Packed & 3)),
            IndirectUInt => (long)UIntAt(Target(e.Position, e.Width), 1 << (e.Packed & 3)),
            var t => throw Bad($"'{key}' is of flexbuffer type {t}, not a number"),
        };
    }

    /// <summary>A float (or an integer, converted); <paramref name="fallback"/> when absent.</summary>
    public double GetFloat(string key, double fallback)
    {
        if (!_entries.TryGetValue(key, out var e))
            return fallback;
        return (e.Packed >> 2) switch
        {
            Float => FloatAt(e.Position, e.Width),
            IndirectFloat => FloatAt(Target(e.Position, e.Width), 1 << (e.Packed & 3)),
            Int or UInt or Bool or IndirectInt or IndirectUInt => GetInt(key, 0),
            var t => throw Bad($"'{key}' is of flexbuffer type {t}, not a number"),
        };
    }

    public string? GetString(string key)
    {
        if (!_entries.TryGetValue(key, out var e))
            return null;
        if (e.Packed >> 2 is not (String or Key))
            throw Bad($"'{key}' is of flexbuffer type {e.Packed >> 2}, not a string");
        return CString(Target(e.Position, e.Width));
    }

    /// <summary>A vector of integers: typed (as flexbuffers' AsTypedVector reads), fixed-size typed, or untyped; null when absent.</summary>
    public long[]? GetInts(string key)
    {
        if (!_entries.TryGetValue(key, out var e))
            return null;
        var type = e.Packed >> 2;
        var at = Target(e.Position, e.Width);
        var width = 1 << (e.Packed & 3);
        if (type is >= VectorInt2 and <= VectorFloat4)
        {
            var fixedType = (type - VectorInt2) % 3;
            var count = (type - VectorInt2) / 3 + 2;
            Need(at, (long)count * width);
            return [.. Enumerable.Range(0, count).Select(i => fixedType switch
            {
                0 => IntAt(at + (long)i * width, width),
                1 => (long)UIntAt(at + (long)i * width, width),
                _ => (long)FloatAt(at + (long)i * width, width),
            })];
        }
        if (type is not (VectorInt or VectorUInt or VectorFloat or Vector))
            throw Bad($"'{key}' is of flexbuffer type {type}, not a vector of numbers");
        var size = UIntAt(at - width, width);
        if (size > (ulong)(_data.Length - at) / (ulong)width)
            throw Bad($"'{key}' declares {size} elements, past the end of the buffer");
        var values = new long[size];
        for (var i = 0; i < values.Length; i++)
        {
            var p = at + (long)i * width;
            var elementType = type == Vector ? _data[at + (long)size * width + i] >> 2 : type - VectorInt + Int;
            values[i] = elementType switch
            {
                Int or Bool => IntAt(p, width),
                UInt => (long)UIntAt(p, width),
                Float => (long)FloatAt(p, width),
                _ => throw Bad($"'{key}' holds an element of flexbuffer type {elementType}, not a number"),
            };
        }
        return values;
    }

    private InvalidDataException Bad(string problem) => new($"{_what}: the custom options flexbuffer is unreadable: {problem}");

    private void Need(long position, long size)
    {
        if (position < 0 || size < 0 || position + size > _data.Length)
            throw Bad($"a value at byte {position} runs past the end of its {_data.Length} bytes");
    }

    private ulong UIntAt(long position, int width)
    {
        Need(position, width);
        var span = _data.AsSpan((int)position, width);
        return width switch
        {
            1 => span[0],
            2 => BinaryPrimitives.ReadUInt16LittleEndian(span),
            4 => BinaryPrimitives.ReadUInt32LittleEndian(span),
            8 => BinaryPrimitives.ReadUInt64LittleEndian(span),
            _ => throw Bad($"a {width}-byte value"),
        };
    }

    private long IntAt(long position, int width)
    {
        var raw = UIntAt(position, width);
        return width switch
        {
            1 => (sbyte)raw,
            2 => (short)raw,
            4 => (int)raw,
            _ => (long)raw,
        };
    }

    private double FloatAt(long position, int width)
    {
        Need(position, width);
        return width switch
        {
            4 => BinaryPrimitives.ReadSingleLittleEndian(_data.AsSpan((int)position, 4)),
            8 => BinaryPrimitives.ReadDoubleLittleEndian(_data.AsSpan((int)position, 8)),
            _ => throw Bad($"a {width}-byte float"),
        };
    }

    /// <summary>Where the offset stored at <paramref name="position"/> points (flexbuffer offsets point backwards).</summary>
    private long Target(long position, int width)
    {
        var offset = UIntAt(position, width);
        if (offset > (ulong)position)
            throw Bad($"an offset at byte {position} points before the start");
        return position - (long)offset;
    }

    private string CString(long position)
    {
        Need(position, 1);
        var end = Array.IndexOf(_data, (byte)0, (int)position);
        if (end < 0)
            throw Bad($"the string at byte {position} has no end");
        return Encoding.UTF8.GetString(_data, (int)position, end - (int)position);
    }
}
