using System.Text.Json;
using TfPose.Graph.Proto;

namespace TfPose.Graph.Formats;

/// <summary>
/// One weight of a TensorFlow.js weightsManifest, placed in its group's byte stream. <see cref="Stored"/> is how
/// its elements are written in the shards and <see cref="Logical"/> the dtype TensorFlow.js decodes them to; the two
/// differ only for quantized weights (float16, or uint8/uint16 as <c>q * Scale + Min</c>).
/// </summary>
internal sealed record TfjsWeight(
    string Name, int Group, long[] Shape, long Count, DataType Stored, DataType Logical, double Scale, double Min, long Offset)
{
    public long ByteCount => Count * DataTypes.SizeOf(Stored);
}

/// <summary>A manifest group: shards concatenated in <see cref="Paths"/> order hold <see cref="Weights"/> back to back.</summary>
/// <param name="ByteCount">Bytes the weights occupy, or null when a weight of unknown size stops the layout.</param>
internal sealed record TfjsWeightGroup(int Number, IReadOnlyList<string> Paths, IReadOnlyList<TfjsWeight> Weights, long? ByteCount);

/// <summary>
/// Reads and lays out a weightsManifest. Only names, shapes and dtypes are looked at here, so an absurd
/// declaration is rejected before anything is read or allocated.
/// </summary>
internal static class TfjsWeightManifest
{
    /// <summary>
    /// Parses the manifest. Problems are added to <paramref name="problems"/>; the names of every weight the manifest
    /// lists, decodable or not, go to <paramref name="names"/> in manifest order, so that they can be matched with Const
    /// nodes even when the weight itself cannot be decoded.
    /// </summary>
    public static IReadOnlyList<TfjsWeightGroup> Parse(JsonElement manifest, List<string> problems, List<string> names)
    {
        var groups = new List<TfjsWeightGroup>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        if (manifest.ValueKind != JsonValueKind.Array)
        {
            problems.Add("weightsManifest is not a list of weight groups");
            return groups;
        }
        var number = 0;
        foreach (var group in manifest.EnumerateArray())
        {
            number++;
            var where = $"weightsManifest group {number}";
            if (group.ValueKind != JsonValueKind.Object)
            {
                problems.Add($"{where} is not an object with 'paths' and 'weights'");
                continue;
            }
            var paths = ReadPaths(group, where, problems);
            var weights = new List<TfjsWeight>();
            long? offset = 0;
            if (!group.TryGetProperty("weights", out var list) || list.ValueKind != JsonValueKind.Array)
            {
                problems.Add($"{where} has no 'weights' list");
                continue;
            }
            foreach (var entry in list.EnumerateArray())
            {
                var weight = ReadWeight(entry, number, offset ?? 0, where, problems, out var name, out var byteCount);
                if (name is not null && !seen.Add(name))
                    problems.Add($"weight '{name}' is listed twice in weightsManifest");
                else if (name is not null)
                    names.Add(name);
                // A weight of unknown size hides where every later weight of the group starts.
                offset = offset is null || byteCount is null ? null : offset + byteCount;
                if (weight is not null && offset is not null)
                    weights.Add(weight);
            }
            groups.Add(new TfjsWeightGroup(number, paths, weights, offset));
        }
        return groups;
    }

    private static List<string> ReadPaths(JsonElement group, string where, List<string> problems)
    {
        var paths = new List<string>();
        if (!group.TryGetProperty("paths", out var list) || list.ValueKind != JsonValueKind.Array)
        {
            problems.Add($"{where} has no 'paths' list naming its .bin shards");
            return paths;
        }
        foreach (var path in list.EnumerateArray())
        {
            if (path.ValueKind == JsonValueKind.String && !string.IsNullOrEmpty(path.GetString()))
                paths.Add(path.GetString()!);
            else
                problems.Add($"{where} lists a shard path that is not a file name ({path.GetRawText()})");
        }
        return paths;
    }

    /// <summary>
    /// One manifest entry. Returns null when the weight cannot be decoded (the problem is recorded); its
    /// <paramref name="byteCount"/> is still given when known, so the weights after it can be placed.
    /// </summary>
    private static TfjsWeight? ReadWeight(
        JsonElement entry, int group, long offset, string where, List<string> problems, out string? name, out long? byteCount)
    {
        name = null;
        byteCount = null;
        if (entry.ValueKind != JsonValueKind.Object || !entry.TryGetProperty("name", out var nameElement)
            || nameElement.ValueKind != JsonValueKind.String)
        {
            problems.Add($"{where} has a weight entry without a name ({Abbreviate(entry.GetRawText())})");
            return null;
        }
        name = nameElement.GetString()!;
        var what = $"weight '{name}'";

        var dtype = entry.TryGetProperty("dtype", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString()! : null;
        if (dtype is null)
        {
            problems.Add($"{what} has no dtype in weightsManifest");
            return null;
        }
        DataType stored, logical;
        double scale = 1, min = 0;
        var quantized = entry.TryGetProperty("quantization", out var quantization) && quantization.ValueKind == JsonValueKind.Object;
        if (quantized)
        {
            var qtype = quantization.TryGetProperty("dtype", out var q) && q.ValueKind == JsonValueKind.String ? q.GetString()! : "";
            var original = quantization.TryGetProperty("original_dtype", out var o) && o.ValueKind == JsonValueKind.String ? o.GetString()! : dtype;
            if (qtype is not ("float16" or "uint8" or "uint16"))
            {
                problems.Add($"{what} is quantized as '{qtype}'; TensorFlow.js quantizes only to float16, uint8 or uint16");
                return null;
            }
            stored = StorageType(qtype)!.Value;
            logical = StorageType(original) ?? DataType.DtInvalid;
            var supported = qtype == "float16" ? logical == DataType.DtFloat : logical is DataType.DtFloat or DataType.DtInt32;
            if (!supported)
            {
                byteCount = ByteCount(entry, what, stored, problems, out _, out _);
                problems.Add($"{what} is {original} quantized as {qtype}; TensorFlow.js dequantizes {qtype} only to " +
                    (qtype == "float16" ? "float32" : "float32 or int32"));
                return null;
            }
            if (qtype != "float16" && !(TryNumber(quantization, "scale", out scale) && TryNumber(quantization, "min", out min)))
            {
                byteCount = ByteCount(entry, what, stored, problems, out _, out _);
                problems.Add($"{what} is quantized as {qtype} but its quantization lacks a numeric 'scale' and 'min'");
                return null;
            }
        }
        else
        {
            if (dtype == "string")
            {
                problems.Add($"{what} is a string tensor; TfPose does not read string weights (lookup tables and the like), " +
                    "and the weights after it in its group cannot be located");
                return null;
            }
            var type = StorageType(dtype);
            if (type is null)
            {
                problems.Add($"{what} has dtype '{dtype}', which TensorFlow.js does not write (float32, int32, bool, " +
                    "or quantized float16/uint8/uint16 expected); the weights after it in its group cannot be located");
                return null;
            }
            stored = logical = type.Value;
        }
        byteCount = ByteCount(entry, what, stored, problems, out var shape, out var count);
        return byteCount is null ? null : new TfjsWeight(name, group, shape, count, stored, logical, scale, min, offset);
    }

    /// <summary>
    /// The element types a manifest may name. int64 and float64 are not among them: the converter narrows them to
    /// int32 and float32 before writing (the Const node keeps its wide dtype), but int64 is accepted if met.
    /// </summary>
    public static DataType? StorageType(string dtype) => dtype switch
    {
        "float32" => DataType.DtFloat,
        "int32" => DataType.DtInt32,
        "bool" => DataType.DtBool,
        "float16" => DataType.DtHalf,
        "uint8" => DataType.DtUint8,
        "uint16" => DataType.DtUint16,
        "int64" => DataType.DtInt64,
        "complex64" => DataType.DtComplex64,
        _ => null,
    };

    /// <summary>Checks the declared shape against <see cref="TensorValue.MaxElements"/> and returns the stored byte count.</summary>
    private static long? ByteCount(JsonElement entry, string what, DataType stored, List<string> problems, out long[] shape, out long count)
    {
        shape = [];
        count = 0;
        if (!entry.TryGetProperty("shape", out var dims) || dims.ValueKind != JsonValueKind.Array)
        {
            problems.Add($"{what} has no shape in weightsManifest; the weights after it in its group cannot be located");
            return null;
        }
        var list = new List<long>();
        long n = 1;
        foreach (var dim in dims.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out var size) || size < 0)
            {
                problems.Add($"{what} has an invalid dimension {dim.GetRawText()} in its manifest shape {dims.GetRawText()}");
                return null;
            }
            list.Add(size);
            if (size > 0 && n > TensorValue.MaxElements / size)
            {
                problems.Add($"{what} declares shape {Abbreviate(dims.GetRawText())}, more than {TensorValue.MaxElements} elements; " +
                    "the weights after it in its group cannot be located");
                return null;
            }
            n *= size;
        }
        if (n * DataTypes.SizeOf(stored) > Array.MaxLength)
        {
            problems.Add($"{what} declares {n} {DataTypes.Name(stored)} elements, more bytes than one array holds; " +
                "the weights after it in its group cannot be located");
            return null;
        }
        shape = [.. list];
        count = n;
        return n * DataTypes.SizeOf(stored);
    }

    private static bool TryNumber(JsonElement obj, string property, out double value)
    {
        value = 0;
        return obj.TryGetProperty(property, out var e) && e.ValueKind == JsonValueKind.Number && e.TryGetDouble(out value) && double.IsFinite(value);
    }

    internal static string Abbreviate(string text) => text.Length <= 80 ? text : text[..77] + "...";
}
