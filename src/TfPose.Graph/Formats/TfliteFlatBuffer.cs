using System.Text;
using Google.FlatBuffers;

namespace TfPose.Graph.Formats;

/// <summary>A structural fault in a flatbuffer: an offset or length that does not fit the file.</summary>
internal sealed class TfliteFormatException(string message) : Exception(message);

/// <summary>
/// Bounds-checked access to a flatbuffer held in memory. Scalars are read with Google.FlatBuffers' <see cref="ByteBuffer"/>,
/// but every table, vtable, offset and vector length is checked against the buffer's size first (in 64-bit arithmetic,
/// so nothing wraps), and vectors are only allocated once their whole extent is known to lie inside the file. A budget
/// on the elements decoded stops a crafted file whose tables all point at one huge vector from costing more than the
/// file's size allows.
/// </summary>
internal sealed class FlatBufferReader
{
    private readonly byte[] _bytes;
    private readonly ByteBuffer _buffer;
    private long _budget;

    public FlatBufferReader(byte[] bytes, int length)
    {
        _bytes = bytes;
        Length = length;
        _buffer = new ByteBuffer(bytes);
        // Honest files decode each vector once, so a few times the file's size covers them; sharing beyond that is an attack.
        _budget = 16L * length + (1L << 20);
    }

    /// <summary>Bytes of the flatbuffer (a prefix of the file when constant data lies beyond it).</summary>
    public int Length { get; }

    /// <summary>The root table: the uoffset at the start of the buffer.</summary>
    public FbTable Root(string what)
    {
        if (Length < 8)
            throw new TfliteFormatException($"the file has {Length} bytes, too short for a flatbuffer (8 at least)");
        return Table(Target(0, what), what);
    }

    /// <summary>The table at <paramref name="position"/>, after checking its vtable lies in the buffer.</summary>
    public FbTable Table(long position, string what)
    {
        Need(position, 4, what);
        var vtable = position - _buffer.GetInt((int)position);
        if (vtable < 0 || vtable > Length - 4)
            throw new TfliteFormatException($"{what}: the table at byte {position} has its field table at byte {vtable}, outside the file");
        var vtableSize = _buffer.GetUshort((int)vtable);
        var tableSize = _buffer.GetUshort((int)vtable + 2);
        if (vtableSize < 4 || vtableSize % 2 != 0 || vtable + vtableSize > Length)
            throw new TfliteFormatException($"{what}: the field table at byte {vtable} declares {vtableSize} bytes, which do not fit the file");
        if (tableSize < 4 || position + tableSize > Length)
            throw new TfliteFormatException($"{what}: the table at byte {position} declares {tableSize} bytes, which run past the end of the file");
        Spend(1, what);
        return new FbTable(this, position, vtable, vtableSize, tableSize, what);
    }

    /// <summary>Where the uoffset stored at <paramref name="position"/> points: always forward, so offsets can never form a cycle.</summary>
    public long Target(long position, string what)
    {
        Need(position, 4, what);
        var offset = _buffer.GetUint((int)position);
        var target = position + offset;
        if (offset == 0 || target > Length - 4)
            throw new TfliteFormatException($"{what}: an offset at byte {position} points to byte {target}, outside the file of {Length} bytes");
        return target;
    }

    /// <summary>Element count and first element of the vector at <paramref name="position"/>, all of it checked to lie in the buffer.</summary>
    public (long Start, int Count) Vector(long position, int elementSize, string what)
    {
        Need(position, 4, what);
        var count = _buffer.GetUint((int)position);
        var start = position + 4;
        if (count > (Length - start) / elementSize)
            throw new TfliteFormatException($"{what}: a vector at byte {position} declares {count} elements of {elementSize} bytes, " +
                $"more than the {Length - start} bytes left in the file");
        Spend(count, what);
        return (start, (int)count);
    }

    public string String(long position, string what)
    {
        var (start, count) = Vector(position, 1, what);
        return Encoding.UTF8.GetString(_bytes, (int)start, count);
    }

    public byte Byte(long position) => _buffer.Get((int)position);
    public sbyte SByte(long position) => _buffer.GetSbyte((int)position);
    public ushort UShort(long position) => _buffer.GetUshort((int)position);
    public int Int(long position) => _buffer.GetInt((int)position);
    public uint UInt(long position) => _buffer.GetUint((int)position);
    public long Long(long position) => _buffer.GetLong((int)position);
    public ulong ULong(long position) => _buffer.GetUlong((int)position);
    public float Float(long position) => _buffer.GetFloat((int)position);

    private void Need(long position, int size, string what)
    {
        if (position < 0 || position > Length - size)
            throw new TfliteFormatException($"{what}: byte {position} is outside the file of {Length} bytes");
    }

    private void Spend(long elements, string what)
    {
        _budget -= elements;
        if (_budget < 0)
            throw new TfliteFormatException($"{what}: the file's tables describe far more elements than its {Length} bytes can hold " +
                "(offsets reuse the same data over and over); it is corrupt");
    }
}

/// <summary>A flatbuffer table whose vtable was checked; fields are read by their schema id.</summary>
internal readonly struct FbTable(FlatBufferReader reader, long position, long vtable, int vtableSize, int tableSize, string what)
{
    /// <summary>The field's position, or -1 when absent; the field must fit inside the table.</summary>
    private long Field(int id, int size)
    {
        var slot = 4 + 2 * id;
        if (slot + 2 > vtableSize)
            return -1;
        var offset = reader.UShort(vtable + slot);
        if (offset == 0)
            return -1;
        if (offset + size > tableSize)
            throw new TfliteFormatException($"{what}: field {id} at offset {offset} runs past the end of its {tableSize}-byte table");
        return position + offset;
    }

    public bool Has(int id) => Field(id, 1) >= 0;

    public byte Byte(int id, byte fallback = 0) => Field(id, 1) is var p and >= 0 ? reader.Byte(p) : fallback;
    public sbyte SByte(int id, sbyte fallback = 0) => Field(id, 1) is var p and >= 0 ? reader.SByte(p) : fallback;
    public bool Bool(int id, bool fallback = false) => Field(id, 1) is var p and >= 0 ? reader.Byte(p) != 0 : fallback;
    public int Int(int id, int fallback = 0) => Field(id, 4) is var p and >= 0 ? reader.Int(p) : fallback;
    public uint UInt(int id, uint fallback = 0) => Field(id, 4) is var p and >= 0 ? reader.UInt(p) : fallback;
    public ulong ULong(int id, ulong fallback = 0) => Field(id, 8) is var p and >= 0 ? reader.ULong(p) : fallback;
    public float Float(int id, float fallback = 0) => Field(id, 4) is var p and >= 0 ? reader.Float(p) : fallback;

    public FbTable? Table(int id, string name)
    {
        var p = Field(id, 4);
        return p < 0 ? null : reader.Table(reader.Target(p, $"{what} {name}"), $"{what} {name}");
    }

    public string? String(int id, string name)
    {
        var p = Field(id, 4);
        return p < 0 ? null : reader.String(reader.Target(p, $"{what} {name}"), $"{what} {name}");
    }

    /// <summary>A vector's first element and length; (0, 0) when the field is absent.</summary>
    public (long Start, int Count) Vector(int id, int elementSize, string name)
    {
        var p = Field(id, 4);
        return p < 0 ? (0, 0) : reader.Vector(reader.Target(p, $"{what} {name}"), elementSize, $"{what} {name}");
    }

    public int[] Ints(int id, string name)
    {
        var (start, count) = Vector(id, 4, name);
        var values = new int[count];
        for (var i = 0; i < count; i++)
            values[i] = reader.Int(start + 4L * i);
        return values;
    }

    public long[] Longs(int id, string name)
    {
        var (start, count) = Vector(id, 8, name);
        var values = new long[count];
        for (var i = 0; i < count; i++)
            values[i] = reader.Long(start + 8L * i);
        return values;
    }

    public float[] Floats(int id, string name)
    {
        var (start, count) = Vector(id, 4, name);
        var values = new float[count];
        for (var i = 0; i < count; i++)
            values[i] = reader.Float(start + 4L * i);
        return values;
    }

    /// <summary>A byte vector's contents (custom operator options), copied; empty when the field is absent.</summary>
    public byte[] Bytes(int id, string name)
    {
        var (start, count) = Vector(id, 1, name);
        var values = new byte[count];
        for (var i = 0; i < count; i++)
            values[i] = reader.Byte(start + i);
        return values;
    }

    /// <summary>A vector of tables: its extent, checked once; read its items with <see cref="TableAt"/>.</summary>
    public (long Start, int Count) Tables(int id, string name) => Vector(id, 4, name);

    public FbTable TableAt((long Start, int Count) vector, int index, string name) =>
        reader.Table(reader.Target(vector.Start + 4L * index, name), name);
}
