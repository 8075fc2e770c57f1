using System.Buffers.Binary;
using System.Text;

namespace TfPose.Datasets.Mat;

/// <summary>
/// A MATLAB level 5 MAT-file (what MATLAB writes with -v6 and -v7, compressed or not), read whole.
/// v7.3 files are HDF5 and are rejected with a message saying so.
/// </summary>
public sealed class MatFile
{
    private const int HeaderLength = 128;
    private static readonly byte[] Hdf5Signature = [0x89, (byte)'H', (byte)'D', (byte)'F', 0x0D, 0x0A, 0x1A, 0x0A];

    private MatFile(string sourceName, string headerText, bool isBigEndian, IReadOnlyList<MatArray> variables)
    {
        SourceName = sourceName;
        HeaderText = headerText;
        IsBigEndian = isBigEndian;
        Variables = variables;
    }

    /// <summary>The path or name used in error messages.</summary>
    public string SourceName { get; }

    /// <summary>The descriptive text at the start of the header (platform, creation date).</summary>
    public string HeaderText { get; }

    public bool IsBigEndian { get; }

    public IReadOnlyList<MatArray> Variables { get; }

    public MatArray this[string name] => TryGet(name, out var v)
        ? v
        : throw new KeyNotFoundException($"{SourceName}: no variable '{name}'; variables: {string.Join(", ", Variables.Select(x => x.Name))}");

    public bool TryGet(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out MatArray? variable)
    {
        variable = Variables.FirstOrDefault(v => v.Name == name);
        return variable is not null;
    }

    public static MatFile Read(string path, MatReadOptions? options = null)
    {
        var length = new FileInfo(path).Length;
        if (length > Array.MaxLength)
            throw new MatFileException(path, 0, $"file is {length} bytes, larger than this reader handles");
        return Parse(File.ReadAllBytes(path), path, options ?? MatReadOptions.Default);
    }

    /// <param name="sourceName">Name used in error messages, e.g. the path the bytes came from.</param>
    public static MatFile Parse(ReadOnlySpan<byte> bytes, string sourceName, MatReadOptions? options = null) =>
        Parse(bytes.ToArray(), sourceName, options ?? MatReadOptions.Default);

    private static MatFile Parse(byte[] data, string path, MatReadOptions options)
    {
        if (data.AsSpan().StartsWith(Hdf5Signature) || (data.Length >= 520 && data.AsSpan(512).StartsWith(Hdf5Signature)))
            throw new MatFileException(path, 0, "this is an HDF5 file (MAT-file v7.3), which is not supported; save it in MATLAB with -v7");
        if (data.Length < HeaderLength)
            throw new MatFileException(path, data.Length, $"truncated: {data.Length} bytes, shorter than the 128-byte MAT-file header");
        var text = Encoding.ASCII.GetString(data, 0, 116).TrimEnd(' ', '\0');
        if (!text.StartsWith("MATLAB", StringComparison.Ordinal))
            throw new MatFileException(path, 0, "not a MATLAB 5 MAT-file: the header does not start with 'MATLAB' (level 4 MAT-files are not supported)");
        if (text.StartsWith("MATLAB 7.3", StringComparison.Ordinal))
            throw new MatFileException(path, 0, "MAT-file v7.3 (HDF5) is not supported; save it in MATLAB with -v7");

        bool bigEndian = (data[126], data[127]) switch
        {
            ((byte)'I', (byte)'M') => false,
            ((byte)'M', (byte)'I') => true,
            _ => throw new MatFileException(path, 126, $"bad byte-order mark 0x{data[126]:X2}{data[127]:X2}; expected 'IM' or 'MI'"),
        };
        var version = bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(124)) : BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(124));
        if (version == 0x0200)
            throw new MatFileException(path, 124, "MAT-file v7.3 (HDF5) is not supported; save it in MATLAB with -v7");
        if (version != 0x0100)
            throw new MatFileException(path, 124, $"unsupported MAT-file version 0x{version:X4}; expected 0x0100");

        var subsystemOffset = SubsystemOffset(data, bigEndian);
        var reader = new MatSegmentReader(data, data.Length, bigEndian, path, compressedAt: null, options);
        var variables = new List<MatArray>();
        var pos = HeaderLength;
        while (pos < data.Length)
        {
            var tag = reader.ReadTag(pos, data.Length);
            // The subsystem block holds MATLAB's private data for objects, not a user variable.
            if (tag.TagOffset != subsystemOffset)
                variables.Add(tag.DataType switch
                {
                    MatDataType.Compressed => ReadCompressed(reader, tag),
                    MatDataType.Matrix => reader.ReadMatrix(tag, depth: 0),
                    _ => throw reader.Error(tag.TagOffset, $"expected a variable (miMATRIX or miCOMPRESSED), found {tag.TypeName}"),
                });
            pos = tag.NextOffset;
        }
        return new MatFile(path, text, bigEndian, variables);
    }

    private static MatArray ReadCompressed(MatSegmentReader reader, MatTag tag)
    {
        var inner = reader.Inflate(tag);
        return inner.ReadMatrix(inner.ReadTag(0, inner.Length), depth: 0);
    }

    private static long SubsystemOffset(byte[] data, bool bigEndian)
    {
        var field = data.AsSpan(116, 8);
        if (!field.ContainsAnyExcept((byte)0, (byte)' '))
            return -1;
        var value = bigEndian ? BinaryPrimitives.ReadUInt64BigEndian(field) : BinaryPrimitives.ReadUInt64LittleEndian(field);
        return value > long.MaxValue ? -1 : (long)value;
    }
}
