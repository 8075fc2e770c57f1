using System.Buffers.Binary;
using Google.Protobuf;
using Microsoft.Win32.SafeHandles;
using TfPose.Graph.Proto;

namespace TfPose.Graph.Formats;

/// <summary>
/// Puts the weights of a TensorFlow.js manifest into the Const nodes of its topology, whose values the converter
/// left out. Everything that can be checked without reading weight bytes (names, dtypes, shapes, shard files and
/// their lengths) is checked first and every problem collected; bytes are read only when there are none.
/// </summary>
internal static class TfjsWeightLoader
{
    public static void Fill(GraphDef graph, IReadOnlyList<TfjsWeightGroup> groups, IReadOnlyList<string> listed,
        string directory, List<string> problems)
    {
        var targets = Match(graph, groups, listed, problems);
        var shards = new Dictionary<int, ShardSet>();
        try
        {
            foreach (var group in groups)
                shards[group.Number] = ShardSet.Open(group, directory, problems);
            if (problems.Count > 0)
                return;
            foreach (var (weight, tensor, type) in targets)
            {
                var raw = new byte[weight.ByteCount];
                shards[weight.Group].Read(weight.Offset, raw);
                // tensor_content is little-endian bytes, which is what Decode produces.
                tensor.TensorContent = UnsafeByteOperations.UnsafeWrap(Decode(weight, raw, type));
            }
        }
        finally
        {
            foreach (var set in shards.Values)
                set.Dispose();
        }
    }

    /// <summary>Pairs manifest weights with Const nodes; the returned tensors are the nodes' value tensors to fill.</summary>
    private static List<(TfjsWeight Weight, TensorProto Tensor, DataType Type)> Match(
        GraphDef graph, IReadOnlyList<TfjsWeightGroup> groups, IReadOnlyList<string> listed, List<string> problems)
    {
        var nodes = new Dictionary<string, NodeDef>(StringComparer.Ordinal);
        foreach (var node in graph.Node)
            nodes.TryAdd(node.Name, node); // duplicate names are reported by TfGraph's own validation
        foreach (var name in listed)
        {
            if (!nodes.TryGetValue(name, out var node))
                problems.Add($"manifest weight '{name}' has no Const node of that name in modelTopology");
            else if (node.Op != "Const")
                problems.Add($"manifest weight '{name}' names a node of op {node.Op} in modelTopology, not a Const");
        }
        var names = listed.ToHashSet(StringComparer.Ordinal);
        foreach (var node in graph.Node)
        {
            if (node.Op == "Const" && !names.Contains(node.Name) && !HasValue(node.GetTensor("value")))
                problems.Add($"Const node '{node.Name}' has no value and no weight in weightsManifest");
        }

        var targets = new List<(TfjsWeight, TensorProto, DataType)>();
        foreach (var weight in groups.SelectMany(g => g.Weights))
        {
            if (!nodes.TryGetValue(weight.Name, out var node) || node.Op != "Const")
                continue;
            var tensor = node.GetTensor("value");
            var declared = node.HasAttr("dtype") ? node.GetDataType("dtype") : tensor?.Dtype ?? DataType.DtInvalid;
            if (tensor is not null && tensor.Dtype != declared)
            {
                problems.Add($"Const node '{node.Name}' is inconsistent: its dtype attribute is {DataTypes.Name(declared)} but its value tensor is {DataTypes.Name(tensor.Dtype)}");
                continue;
            }
            var ok = true;
            if (!Compatible(declared, weight.Logical))
            {
                problems.Add($"weight '{weight.Name}': the manifest says {DataTypes.Name(weight.Logical)} but the Const node is {DataTypes.Name(declared)}");
                ok = false;
            }
            var shape = tensor?.TensorShape is { } s ? s.Dim.Select(d => d.Size).ToArray() : weight.Shape;
            if (tensor?.TensorShape is { UnknownRank: true } || !shape.AsSpan().SequenceEqual(weight.Shape))
            {
                problems.Add($"weight '{weight.Name}': the manifest says shape {TensorValue.ShapeText(weight.Shape)} but the Const node has shape " +
                    (tensor?.TensorShape is { UnknownRank: true } ? "of unknown rank" : TensorValue.ShapeText(shape)));
                ok = false;
            }
            if (declared != weight.Logical && weight.Count > Array.MaxLength / 8)
            {
                problems.Add($"weight '{weight.Name}' has {weight.Count} elements, too many to widen to {DataTypes.Name(declared)} in one array");
                ok = false;
            }
            if (!ok)
                continue;
            if (tensor is null)
            {
                tensor = new TensorProto { Dtype = declared };
                node.Attr["value"] = new AttrValue { Tensor = tensor };
            }
            tensor.TensorShape ??= TensorValue.ShapeProto(weight.Shape);
            targets.Add((weight, tensor, declared));
        }
        return targets;
    }

    /// <summary>
    /// Whether a Const may hold a manifest weight of the given dtype: the same, or the wider type the converter
    /// narrowed (it writes float64 as float32 and int64 as int32, since TensorFlow.js has neither).
    /// </summary>
    private static bool Compatible(DataType node, DataType manifest) =>
        node == manifest || (node, manifest) is (DataType.DtDouble, DataType.DtFloat) or (DataType.DtInt64, DataType.DtInt32);

    private static bool HasValue(TensorProto? tensor)
    {
        if (tensor is null)
            return false;
        if (!tensor.TensorContent.IsEmpty || tensor.FloatVal.Count + tensor.DoubleVal.Count + tensor.IntVal.Count + tensor.StringVal.Count
            + tensor.Int64Val.Count + tensor.BoolVal.Count + tensor.HalfVal.Count + tensor.Uint32Val.Count + tensor.Uint64Val.Count
            + tensor.ScomplexVal.Count + tensor.DcomplexVal.Count > 0)
            return true;
        // An empty tensor has nothing to load.
        return tensor.TensorShape is { UnknownRank: false } shape && shape.Dim.Any(d => d.Size == 0);
    }

    /// <summary>Stored bytes to the Const's dtype: dequantized as TensorFlow.js does, then widened where the converter narrowed.</summary>
    private static byte[] Decode(TfjsWeight weight, byte[] raw, DataType target)
    {
        var logical = Dequantize(weight, raw);
        var n = (int)weight.Count;
        if (target == weight.Logical)
            return logical;
        var wide = new byte[n * 8];
        for (var i = 0; i < n; i++)
        {
            if (target == DataType.DtDouble)
                BinaryPrimitives.WriteDoubleLittleEndian(wide.AsSpan(i * 8), BinaryPrimitives.ReadSingleLittleEndian(logical.AsSpan(i * 4)));
            else
                BinaryPrimitives.WriteInt64LittleEndian(wide.AsSpan(i * 8), BinaryPrimitives.ReadInt32LittleEndian(logical.AsSpan(i * 4)));
        }
        return wide;
    }

    private static byte[] Dequantize(TfjsWeight weight, byte[] raw)
    {
        if (weight.Stored == weight.Logical)
            return raw;
        var n = (int)weight.Count;
        var values = new byte[n * 4];
        for (var i = 0; i < n; i++)
        {
            var target = values.AsSpan(i * 4);
            if (weight.Stored == DataType.DtHalf)
            {
                BinaryPrimitives.WriteSingleLittleEndian(target, (float)BinaryPrimitives.ReadHalfLittleEndian(raw.AsSpan(i * 2)));
                continue;
            }
            double q = weight.Stored == DataType.DtUint8 ? raw[i] : BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(i * 2));
            // TensorFlow.js computes in double, then stores into a Float32Array or rounds with Math.round (half up).
            var v = q * weight.Scale + weight.Min;
            if (weight.Logical == DataType.DtInt32)
                BinaryPrimitives.WriteInt32LittleEndian(target, (int)Math.Floor(v + 0.5));
            else
                BinaryPrimitives.WriteSingleLittleEndian(target, (float)v);
        }
        return values;
    }

    /// <summary>A group's shard files read as one byte stream, as TensorFlow.js concatenates them.</summary>
    private sealed class ShardSet : IDisposable
    {
        private readonly List<(string Path, SafeFileHandle Handle, long Length)> _files = [];

        public static ShardSet Open(TfjsWeightGroup group, string directory, List<string> problems)
        {
            var set = new ShardSet();
            var where = $"weightsManifest group {group.Number}";
            var complete = true;
            foreach (var path in group.Paths)
            {
                var full = Path.Combine(directory, path);
                try
                {
                    var handle = File.OpenHandle(full, FileMode.Open, FileAccess.Read, FileShare.Read);
                    set._files.Add((path, handle, RandomAccess.GetLength(handle)));
                }
                catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
                {
                    problems.Add($"weight shard '{path}' of {where} is missing (no file {full})");
                    complete = false;
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
                {
                    problems.Add($"weight shard '{path}' of {where} cannot be opened ({ex.Message.TrimEnd('.')})");
                    complete = false;
                }
            }
            if (complete && group.ByteCount is { } expected)
            {
                var found = set._files.Sum(f => f.Length);
                var files = group.Paths.Count switch
                {
                    0 => "no shard files hold",
                    1 => $"shard '{group.Paths[0]}' holds",
                    _ => $"shards {string.Join(", ", group.Paths.Select(p => $"'{p}'"))} hold",
                };
                if (found < expected)
                    problems.Add($"{where} is too short: the manifest's weights need {expected} bytes but {files} {found} " +
                        $"({expected - found} bytes missing); a shard is truncated or belongs to another model");
                else if (found > expected)
                    problems.Add($"{where} does not match its shards: the manifest's weights need {expected} bytes but {files} {found} " +
                        $"({found - expected} bytes more); the manifest does not describe these shards");
            }
            return set;
        }

        /// <summary>Fills <paramref name="target"/> from the stream at <paramref name="offset"/>, failing if the files end early.</summary>
        public void Read(long offset, Span<byte> target)
        {
            foreach (var (path, handle, length) in _files)
            {
                if (target.IsEmpty)
                    return;
                if (offset >= length)
                {
                    offset -= length;
                    continue;
                }
                var span = target[..(int)Math.Min(target.Length, length - offset)];
                while (!span.IsEmpty)
                {
                    var read = RandomAccess.Read(handle, span, offset);
                    if (read == 0)
                        throw new IOException($"weight shard '{path}' ended at byte {offset}, before its declared length {length}; was it changed while loading?");
                    span = span[read..];
                    target = target[read..];
                    offset += read;
                }
                offset = 0;
            }
            if (!target.IsEmpty)
                throw new IOException("the weight shards ended before the manifest's weights did.");
        }

        public void Dispose()
        {
            foreach (var file in _files)
                file.Handle.Dispose();
        }
    }
}
