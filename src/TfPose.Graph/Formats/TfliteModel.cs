using System.Text;
using Microsoft.Win32.SafeHandles;
using S = TfPose.Graph.Formats.TfliteSchema;

namespace TfPose.Graph.Formats;

/// <summary>
/// Quantization parameters of a tensor: <c>real = scale · (q − zero_point)</c>, per tensor (one scale) or per channel
/// along <see cref="Dimension"/>.
/// </summary>
public sealed record TfliteQuantization(float[] Scale, long[] ZeroPoint, int Dimension, float[] Min, float[] Max)
{
    public bool IsPerChannel => Scale.Length > 1;

    public long ZeroPointAt(int channel) => ZeroPoint.Length == 0 ? 0 : ZeroPoint[ZeroPoint.Length == 1 ? 0 : channel];
}

/// <summary>
/// One tensor of a subgraph. <see cref="Shape"/> is the static shape the converter wrote; <see cref="Signature"/> the same
/// with -1 for sizes known only at run time (shape_signature), when the file has one.
/// </summary>
public sealed record TfliteTensor(int Index, string Name, sbyte Type, int[] Shape, int[]? Signature, int Buffer,
    TfliteQuantization? Quantization, bool IsVariable, bool IsSparse)
{
    public string TypeName => S.TypeName(Type);

    /// <summary>
    /// The shape with unknown sizes as -1 (shape_signature wins over shape). A shape [] is a scalar, as TensorFlow Lite's
    /// interpreter reads it: has_rank = false, which would mark an unknown rank, is the field's default and so never written.
    /// </summary>
    public long[] DeclaredShape => Array.ConvertAll(Signature ?? Shape, d => d < 0 ? -1L : d);

    /// <summary>Whether the tensor holds quantized integers (a scale is declared for an integer tensor).</summary>
    public bool IsQuantized => Quantization is { Scale.Length: > 0 } && Type is S.Int8 or S.UInt8 or S.Int16 or S.Int32 or S.Int64;
}

/// <summary>An operator: its code (a builtin, or <see cref="TfliteSchema.Custom"/> with <see cref="CustomCode"/>), tensors and options table.</summary>
internal sealed record TfliteOperator(int Index, int Code, string? CustomCode, int Version, int[] Inputs, int[] Outputs, byte OptionsType, FbTable? Options)
{
    /// <summary>A custom operator's options as the file stores them (a C struct or a flexbuffer, as the operator defines); empty for builtins.</summary>
    public byte[] CustomOptions { get; init; } = [];

    public string Name => Code == S.Custom ? CustomCode ?? "CUSTOM" : S.OperatorName(Code);
}

internal sealed record TfliteSubgraph(int Index, string? Name, IReadOnlyList<TfliteTensor> Tensors, int[] Inputs, int[] Outputs,
    IReadOnlyList<TfliteOperator> Operators);

/// <summary>Where a buffer's bytes are: inside the flatbuffer (a data vector) or, for models over 2 GB, at a file offset.</summary>
internal readonly record struct TfliteBuffer(long Offset, long Length, bool External);

/// <summary>A SignatureDef: named inputs and outputs of one subgraph.</summary>
public sealed record TfliteSignature(string Key, int Subgraph, IReadOnlyList<(string Name, int Tensor)> Inputs, IReadOnlyList<(string Name, int Tensor)> Outputs);

/// <summary>The bytes of a .tflite file: the flatbuffer in memory, and the file for constant data stored past it.</summary>
internal sealed class TfliteSource : IDisposable
{
    private readonly SafeFileHandle? _file;

    public TfliteSource(byte[] bytes)
    {
        Head = bytes;
        HeadLength = bytes.Length;
        Length = bytes.Length;
    }

    private TfliteSource(SafeFileHandle file, byte[] head, long length)
    {
        _file = file;
        Head = head;
        HeadLength = head.Length;
        Length = length;
    }

    /// <summary>
    /// Opens a file. A flatbuffer is at most 2 GB, so only that much is read into memory; constant data a larger model
    /// keeps past its flatbuffer is read from the file when needed.
    /// </summary>
    public static TfliteSource Open(string path)
    {
        var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        try
        {
            var length = RandomAccess.GetLength(file);
            var head = new byte[(int)Math.Min(length, Array.MaxLength)];
            var read = 0;
            while (read < head.Length)
            {
                var n = RandomAccess.Read(file, head.AsSpan(read), read);
                if (n == 0)
                    throw new IOException($"the file ended at byte {read}, before its length of {length} bytes; was it changed while loading?");
                read += n;
            }
            if (length <= head.Length)
            {
                file.Dispose();
                return new TfliteSource(head);
            }
            return new TfliteSource(file, head, length);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public byte[] Head { get; }

    public int HeadLength { get; }

    /// <summary>The whole file's length.</summary>
    public long Length { get; }

    /// <summary>Bytes at a file offset the caller has checked against <see cref="Length"/>.</summary>
    public byte[] Read(long offset, long count)
    {
        var bytes = new byte[count];
        if (offset + count <= HeadLength)
        {
            Head.AsSpan((int)offset, (int)count).CopyTo(bytes);
            return bytes;
        }
        if (_file is null)
            throw new InvalidOperationException("read past the end of an in-memory model");
        var done = 0;
        while (done < count)
        {
            var n = RandomAccess.Read(_file, bytes.AsSpan(done), offset + done);
            if (n == 0)
                throw new IOException($"the file ended at byte {offset + done} while reading constant data; was it changed while loading?");
            done += n;
        }
        return bytes;
    }

    public void Dispose() => _file?.Dispose();
}

/// <summary>
/// A TensorFlow Lite model (schema v3) read from its flatbuffer with every offset, vector and index checked. Reading
/// collects every problem it finds (a table that cannot be read is skipped, not guessed), so one error can list them
/// all; constant data is located and sized here but copied only when the importer asks for it.
/// </summary>
internal sealed class TfliteModel
{
    private readonly TfliteSource _source;
    private readonly FlatBufferReader _reader;

    private TfliteModel(TfliteSource source, FlatBufferReader reader)
    {
        _source = source;
        _reader = reader;
    }

    public uint Version { get; private set; }

    public string? Description { get; private set; }

    public IReadOnlyList<TfliteSubgraph> Subgraphs { get; private set; } = [];

    public IReadOnlyList<TfliteBuffer> Buffers { get; private set; } = [];

    public IReadOnlyList<TfliteSignature> Signatures { get; private set; } = [];

    public IReadOnlyList<(string Name, int Buffer)> Metadata { get; private set; } = [];

    /// <summary>The oldest TensorFlow Lite runtime the converter says runs the model (metadata <c>min_runtime_version</c>).</summary>
    public string? MinRuntimeVersion { get; private set; }

    /// <summary>
    /// Reads the model. Faults that leave nothing to read (not a flatbuffer, wrong identifier or version) throw
    /// <see cref="TfliteFormatException"/>; everything else is added to <paramref name="problems"/>.
    /// </summary>
    public static TfliteModel Read(TfliteSource source, List<string> problems)
    {
        var bytes = source.Head;
        if (source.Length < 8)
            throw new TfliteFormatException($"the file has {source.Length} bytes, too short for a TensorFlow Lite model");
        var identifier = Encoding.ASCII.GetString(bytes, 4, 4);
        if (identifier != S.Identifier)
            throw new TfliteFormatException($"not a TensorFlow Lite model: its flatbuffer identifier (bytes 4-7) is {Printable(bytes.AsSpan(4, 4))}, " +
                $"not \"{S.Identifier}\".{Hint(bytes)}");
        var reader = new FlatBufferReader(bytes, source.HeadLength);
        var model = new TfliteModel(source, reader);
        var root = reader.Root("the model table");
        model.Version = root.UInt(S.Model.Version);
        if (model.Version != S.Version)
            throw new TfliteFormatException($"TensorFlow Lite schema version {model.Version} is not supported; TfPose reads version {S.Version} " +
                "(what every converter since TensorFlow 1.x writes). Convert the model again with a current TensorFlow.");
        model.Description = TryRead(() => root.String(S.Model.Description, "description"), problems);
        model.Buffers = ReadBuffers(root, source.Length, problems);
        var codes = ReadCodes(root, problems);
        model.Subgraphs = ReadSubgraphs(root, codes, model.Buffers, problems);
        if (model.Subgraphs.Count == 0 && problems.Count == 0)
            problems.Add("the model has no subgraphs, so no graph to run");
        model.Signatures = ReadSignatures(root, model.Subgraphs, problems);
        model.Metadata = ReadMetadata(root, model.Buffers.Count, problems);
        model.MinRuntimeVersion = model.ReadMinRuntimeVersion(problems);
        return model;
    }

    /// <summary>A buffer's bytes; the caller has checked its size against the tensor it holds.</summary>
    public byte[] ReadBuffer(int index)
    {
        var buffer = Buffers[index];
        return _source.Read(buffer.Offset, buffer.Length);
    }

    private string? ReadMinRuntimeVersion(List<string> problems)
    {
        foreach (var (name, buffer) in Metadata)
        {
            if (name != "min_runtime_version" || buffer < 0 || buffer >= Buffers.Count)
                continue;
            if (Buffers[buffer].Length > 256)
            {
                problems.Add($"metadata 'min_runtime_version' holds {Buffers[buffer].Length} bytes, not a version string");
                return null;
            }
            return Encoding.UTF8.GetString(ReadBuffer(buffer)).TrimEnd('\0');
        }
        return null;
    }

    private static string? TryRead(Func<string?> read, List<string> problems)
    {
        try
        {
            return read();
        }
        catch (TfliteFormatException ex)
        {
            problems.Add(ex.Message);
            return null;
        }
    }

    private static List<TfliteBuffer> ReadBuffers(FbTable root, long fileLength, List<string> problems)
    {
        var vector = root.Tables(S.Model.Buffers, "buffers");
        var buffers = new List<TfliteBuffer>(vector.Count);
        for (var i = 0; i < vector.Count; i++)
        {
            try
            {
                var table = root.TableAt(vector, i, $"buffer {i}");
                var offset = table.ULong(S.Buffer.Offset);
                var size = table.ULong(S.Buffer.Size);
                // Offsets 0 and 1 mean "not stored outside the flatbuffer" (the converter's placeholders).
                if (offset > 1)
                {
                    if (offset > (ulong)fileLength || size > (ulong)fileLength - offset)
                    {
                        problems.Add($"buffer {i} says its {size} bytes are at file offset {offset}, past the end of the file of {fileLength} bytes");
                        buffers.Add(default);
                    }
                    else
                    {
                        buffers.Add(new TfliteBuffer((long)offset, (long)size, true));
                    }
                    continue;
                }
                var (start, count) = table.Vector(S.Buffer.Data, 1, "data");
                buffers.Add(new TfliteBuffer(start, count, false));
            }
            catch (TfliteFormatException ex)
            {
                problems.Add(ex.Message);
                buffers.Add(default);
            }
        }
        return buffers;
    }

    private static List<(int Code, string? Custom, int Version)?> ReadCodes(FbTable root, List<string> problems)
    {
        var vector = root.Tables(S.Model.OperatorCodes, "operator codes");
        var codes = new List<(int, string?, int)?>(vector.Count);
        for (var i = 0; i < vector.Count; i++)
        {
            try
            {
                var table = root.TableAt(vector, i, $"operator code {i}");
                // Codes below 127 were written in the old one-byte field; newer converters fill both, older only the byte.
                var code = Math.Max(table.SByte(S.OperatorCode.DeprecatedBuiltinCode), table.Int(S.OperatorCode.BuiltinCode));
                var custom = table.String(S.OperatorCode.CustomCode, "custom_code");
                if (code == S.Custom && string.IsNullOrEmpty(custom))
                    problems.Add($"operator code {i} is CUSTOM but names no custom operator");
                codes.Add((code, custom, table.Int(S.OperatorCode.Version, 1)));
            }
            catch (TfliteFormatException ex)
            {
                problems.Add(ex.Message);
                codes.Add(null);
            }
        }
        return codes;
    }

    private static List<TfliteSubgraph> ReadSubgraphs(FbTable root, List<(int Code, string? Custom, int Version)?> codes,
        IReadOnlyList<TfliteBuffer> buffers, List<string> problems)
    {
        var vector = root.Tables(S.Model.Subgraphs, "subgraphs");
        var subgraphs = new List<TfliteSubgraph>(vector.Count);
        for (var g = 0; g < vector.Count; g++)
        {
            var where = $"subgraph {g}";
            FbTable table;
            try
            {
                table = root.TableAt(vector, g, where);
            }
            catch (TfliteFormatException ex)
            {
                problems.Add(ex.Message);
                continue;
            }
            var tensors = ReadTensors(table, where, buffers, problems);
            var inputs = ReadIndices(table, S.SubGraph.Inputs, "inputs", where, tensors.Count, false, problems);
            var outputs = ReadIndices(table, S.SubGraph.Outputs, "outputs", where, tensors.Count, false, problems);
            var operators = ReadOperators(table, where, codes, tensors.Count, problems);
            var name = TryRead(() => table.String(S.SubGraph.Name, "name"), problems);
            subgraphs.Add(new TfliteSubgraph(g, name, tensors, inputs, outputs, operators));
        }
        return subgraphs;
    }

    private static int[] ReadIndices(FbTable table, int id, string name, string where, int tensorCount, bool optional, List<string> problems)
    {
        int[] indices;
        try
        {
            indices = table.Ints(id, name);
        }
        catch (TfliteFormatException ex)
        {
            problems.Add(ex.Message);
            return [];
        }
        foreach (var index in indices)
        {
            if ((index < 0 && !(optional && index == -1)) || index >= tensorCount)
                problems.Add($"{where} {name} name tensor {index}, but the subgraph has {tensorCount} tensors");
        }
        return indices;
    }

    private static List<TfliteTensor> ReadTensors(FbTable subgraph, string where, IReadOnlyList<TfliteBuffer> buffers, List<string> problems)
    {
        var tensors = new List<TfliteTensor>();
        (long Start, int Count) vector;
        try
        {
            vector = subgraph.Tables(S.SubGraph.Tensors, $"{where} tensors");
        }
        catch (TfliteFormatException ex)
        {
            problems.Add(ex.Message);
            return tensors;
        }
        for (var i = 0; i < vector.Count; i++)
        {
            var at = $"{where} tensor {i}";
            try
            {
                var table = subgraph.TableAt(vector, i, at);
                var name = table.String(S.Tensor.Name, "name") ?? "";
                var what = name.Length > 0 ? $"{where} tensor {i} '{name}'" : at;
                var type = table.SByte(S.Tensor.Type);
                var shape = table.Ints(S.Tensor.Shape, "shape");
                var signature = table.Has(S.Tensor.ShapeSignature) ? table.Ints(S.Tensor.ShapeSignature, "shape_signature") : null;
                var buffer = table.UInt(S.Tensor.Buffer);
                var quantization = table.Table(S.Tensor.Quantization, "quantization") is { } q ? ReadQuantization(q) : null;
                var tensor = new TfliteTensor(i, name, type, shape, signature is { Length: > 0 } ? signature : null,
                    buffer > int.MaxValue ? -1 : (int)buffer, quantization, table.Bool(S.Tensor.IsVariable), table.Has(S.Tensor.Sparsity));
                Check(tensor, what, buffers, problems);
                tensors.Add(tensor);
            }
            catch (TfliteFormatException ex)
            {
                problems.Add(ex.Message);
                tensors.Add(new TfliteTensor(i, "", -1, [], null, 0, null, false, false));
            }
        }
        return tensors;
    }

    private static TfliteQuantization ReadQuantization(FbTable table) => new(
        table.Floats(S.Quantization.Scale, "scale"),
        table.Longs(S.Quantization.ZeroPoint, "zero_point"),
        table.Int(S.Quantization.QuantizedDimension),
        table.Floats(S.Quantization.Min, "min"),
        table.Floats(S.Quantization.Max, "max"));

    /// <summary>Checks what can be checked of a tensor alone: its type, shape, buffer and quantization.</summary>
    private static void Check(TfliteTensor tensor, string what, IReadOnlyList<TfliteBuffer> buffers, List<string> problems)
    {
        if (tensor.Type < 0 || tensor.Type >= S.TypeNames.Length)
            problems.Add($"{what} has an unknown type {tensor.Type}");
        if (tensor.Shape.Any(d => d < -1))
            problems.Add($"{what} has a negative size in its shape [{string.Join(",", tensor.Shape)}]");
        if (tensor.Signature is { } sig && (sig.Length != tensor.Shape.Length || sig.Any(d => d < -1)))
            problems.Add($"{what}: shape_signature [{string.Join(",", sig)}] does not match shape [{string.Join(",", tensor.Shape)}]");
        if (tensor.Buffer < 0 || tensor.Buffer >= buffers.Count)
        {
            // Buffer 0 is the empty sentinel every file has; a model without buffers has no constants to point at.
            if (!(tensor.Buffer == 0 && buffers.Count == 0))
                problems.Add($"{what} names buffer {tensor.Buffer}, but the model has {buffers.Count} buffers");
        }
        else if (buffers[tensor.Buffer].Length > 0)
        {
            CheckConstant(tensor, buffers[tensor.Buffer].Length, what, problems);
        }
        if (tensor.Quantization is { } q && q.Scale.Length > 0)
        {
            if (q.ZeroPoint.Length > 0 && q.ZeroPoint.Length != q.Scale.Length)
                problems.Add($"{what} has {q.Scale.Length} quantization scales but {q.ZeroPoint.Length} zero points");
            if (q.Scale.Length > 1 && (q.Dimension < 0 || q.Dimension >= tensor.Shape.Length || tensor.Shape[q.Dimension] != q.Scale.Length))
                problems.Add($"{what} has {q.Scale.Length} per-channel scales along dimension {q.Dimension}, which does not match its shape [{string.Join(",", tensor.Shape)}]");
        }
    }

    private static void CheckConstant(TfliteTensor tensor, long bytes, string what, List<string> problems)
    {
        if (tensor.IsSparse)
            return; // sparse constants are reported by the importer, which does not densify them
        var size = DataTypes.SizeOf(S.ToDataType(tensor.Type));
        if (size == 0)
            return; // strings and resources: variable-size contents, not read as dense values
        long count = 1;
        foreach (var d in tensor.Shape)
        {
            if (d < 0)
            {
                problems.Add($"{what} holds constant data but has unknown sizes in its shape [{string.Join(",", tensor.Shape)}]");
                return;
            }
            if (d > 0 && count > TensorValue.MaxElements / d)
            {
                problems.Add($"{what} declares shape [{string.Join(",", tensor.Shape)}], more than {TensorValue.MaxElements:N0} elements");
                return;
            }
            count *= d;
        }
        if (count * size != bytes)
            problems.Add($"{what} is {tensor.TypeName} of shape [{string.Join(",", tensor.Shape)}] ({count * size} bytes) but its buffer {tensor.Buffer} holds {bytes} bytes");
    }

    private static List<TfliteOperator> ReadOperators(FbTable subgraph, string where, List<(int Code, string? Custom, int Version)?> codes,
        int tensorCount, List<string> problems)
    {
        var operators = new List<TfliteOperator>();
        (long Start, int Count) vector;
        try
        {
            vector = subgraph.Tables(S.SubGraph.Operators, $"{where} operators");
        }
        catch (TfliteFormatException ex)
        {
            problems.Add(ex.Message);
            return operators;
        }
        for (var i = 0; i < vector.Count; i++)
        {
            var at = $"{where} operator {i}";
            try
            {
                var table = subgraph.TableAt(vector, i, at);
                var index = table.UInt(S.Operator.OpcodeIndex);
                if (index >= codes.Count || codes[(int)index] is not { } code)
                {
                    problems.Add(index >= codes.Count
                        ? $"{at} uses operator code {index}, but the model has {codes.Count}"
                        : $"{at} uses operator code {index}, which could not be read");
                    continue;
                }
                var what = $"{at} ({(code.Code == S.Custom ? code.Custom : S.OperatorName(code.Code))})";
                var inputs = ReadIndices(table, S.Operator.Inputs, "inputs", what, tensorCount, true, problems);
                var outputs = ReadIndices(table, S.Operator.Outputs, "outputs", what, tensorCount, false, problems);
                var optionsType = table.Byte(S.Operator.BuiltinOptionsType);
                var options = table.Table(S.Operator.BuiltinOptions, "builtin_options");
                var custom = code.Code == S.Custom ? table.Bytes(S.Operator.CustomOptions, "custom_options") : [];
                operators.Add(new TfliteOperator(i, code.Code, code.Custom, code.Version, inputs, outputs, optionsType, options) { CustomOptions = custom });
            }
            catch (TfliteFormatException ex)
            {
                problems.Add(ex.Message);
            }
        }
        return operators;
    }

    private static List<TfliteSignature> ReadSignatures(FbTable root, IReadOnlyList<TfliteSubgraph> subgraphs, List<string> problems)
    {
        var signatures = new List<TfliteSignature>();
        try
        {
            var vector = root.Tables(S.Model.SignatureDefs, "signature_defs");
            for (var i = 0; i < vector.Count; i++)
            {
                var table = root.TableAt(vector, i, $"signature {i}");
                var key = table.String(S.SignatureDef.SignatureKey, "signature_key") ?? "";
                var graph = table.UInt(S.SignatureDef.SubgraphIndex);
                var where = $"signature '{key}'";
                if (graph >= subgraphs.Count)
                {
                    problems.Add($"{where} is for subgraph {graph}, but the model has {subgraphs.Count}");
                    continue;
                }
                var count = subgraphs[(int)graph].Tensors.Count;
                signatures.Add(new TfliteSignature(key, (int)graph,
                    ReadTensorMaps(table, S.SignatureDef.Inputs, where + " input", count, problems),
                    ReadTensorMaps(table, S.SignatureDef.Outputs, where + " output", count, problems)));
            }
        }
        catch (TfliteFormatException ex)
        {
            problems.Add(ex.Message);
        }
        return signatures;
    }

    private static List<(string, int)> ReadTensorMaps(FbTable signature, int id, string where, int tensorCount, List<string> problems)
    {
        var maps = new List<(string, int)>();
        var vector = signature.Tables(id, where + "s");
        for (var i = 0; i < vector.Count; i++)
        {
            var map = signature.TableAt(vector, i, $"{where} {i}");
            var name = map.String(S.TensorMap.Name, "name") ?? "";
            var tensor = map.UInt(S.TensorMap.TensorIndex);
            if (tensor >= tensorCount)
                problems.Add($"{where} '{name}' names tensor {tensor}, but its subgraph has {tensorCount} tensors");
            else
                maps.Add((name, (int)tensor));
        }
        return maps;
    }

    private static List<(string, int)> ReadMetadata(FbTable root, int bufferCount, List<string> problems)
    {
        var metadata = new List<(string, int)>();
        try
        {
            var vector = root.Tables(S.Model.Metadata, "metadata");
            for (var i = 0; i < vector.Count; i++)
            {
                var table = root.TableAt(vector, i, $"metadata {i}");
                var name = table.String(S.Metadata.Name, "name") ?? "";
                var buffer = table.UInt(S.Metadata.Buffer);
                if (buffer >= bufferCount)
                    problems.Add($"metadata '{name}' names buffer {buffer}, but the model has {bufferCount} buffers");
                else
                    metadata.Add((name, (int)buffer));
            }
        }
        catch (TfliteFormatException ex)
        {
            problems.Add(ex.Message);
        }
        return metadata;
    }

    private static string Printable(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder("\"");
        foreach (var b in bytes)
            text.Append(b is >= 0x20 and < 0x7F ? ((char)b).ToString() : $"\\x{b:X2}");
        return text.Append('"').ToString();
    }

    private static string Hint(byte[] bytes) => bytes switch
    {
        [(byte)'P', (byte)'K', ..] => " It is a zip archive (a MediaPipe .task bundle?); TfPose reads the .tflite files inside it.",
        [(byte)'{', ..] or [(byte)' ', ..] => " It looks like JSON or text.",
        [0x08, ..] => " It starts like a protobuf (an ONNX model or a SavedModel?).",
        [0x0A, ..] => " It starts like a protobuf GraphDef; give it a .pb extension.",
        [0xFF, 0xD8, ..] => " It is a JPEG image.",
        _ => "",
    };
}
