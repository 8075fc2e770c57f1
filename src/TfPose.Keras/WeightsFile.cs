using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace TfPose.Keras;

/// <summary>
/// Weights on disk in the safetensors layout (8-byte little-endian header length, a JSON header mapping
/// names to dtype/shape/byte offsets, then raw little-endian float32 data), so other tools can read them.
/// Names are "layer/weight" in Keras layouts (e.g. "dense_1/kernel" is [in, out]); optimizer state, when
/// saved, is "optimizer/layer/weight/slotN" with "optimizer.iterations" in the metadata.
/// Written to a temporary file and renamed, so an interrupted save never leaves a torn checkpoint.
/// </summary>
internal static class WeightsFile
{
    public static void Write(string path, IEnumerable<(string Name, Tensor Value)> tensors, Dictionary<string, string> metadata)
    {
        var header = new JsonObject();
        var meta = new JsonObject();
        foreach (var (k, v) in metadata) meta[k] = v;
        header["__metadata__"] = meta;
        var blobs = new List<byte[]>();
        long offset = 0;
        foreach (var (name, value) in tensors)
        {
            using var c = value.detach().cpu().to_type(ScalarType.Float32).contiguous();
            var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(c.data<float>().ToArray().AsSpan()).ToArray();
            header[name] = new JsonObject
            {
                ["dtype"] = "F32",
                ["shape"] = new JsonArray(c.shape.Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes.Length),
            };
            offset += bytes.Length;
            blobs.Add(bytes);
        }
        var headerBytes = System.Text.Encoding.UTF8.GetBytes(header.ToJsonString());
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        var tmp = path + ".tmp";
        using (var fs = File.Create(tmp))
        {
            fs.Write(BitConverter.GetBytes((ulong)headerBytes.Length));
            fs.Write(headerBytes);
            foreach (var b in blobs) fs.Write(b);
        }
        File.Move(tmp, path, overwrite: true);
    }

    public static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) Read(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"Weights file not found: {path}", path);
        var all = File.ReadAllBytes(path);
        if (all.Length < 8)
            throw new InvalidDataException($"{path}: too short to be a safetensors file.");
        var n = (long)BitConverter.ToUInt64(all, 0);
        if (n <= 0 || 8 + n > all.Length)
            throw new InvalidDataException($"{path}: header length {n} does not fit a {all.Length}-byte file.");
        var header = JsonNode.Parse(all.AsSpan(8, (int)n)) as JsonObject ?? throw new InvalidDataException($"{path}: header is not a JSON object.");
        var tensors = new Dictionary<string, Tensor>();
        var metadata = new Dictionary<string, string>();
        long dataStart = 8 + n;
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__")
            {
                foreach (var (k, v) in node!.AsObject()) metadata[k] = v!.GetValue<string>();
                continue;
            }
            if (node!["dtype"]!.GetValue<string>() != "F32")
                throw new InvalidDataException($"{path}: tensor '{name}' is {node["dtype"]}, only F32 is supported.");
            var shape = node["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
            var off = node["data_offsets"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
            if (dataStart + off[1] > all.Length || off[1] - off[0] != 4 * shape.Aggregate(1L, (a, b) => a * b))
                throw new InvalidDataException($"{path}: tensor '{name}' offsets [{off[0]}, {off[1]}] do not match its shape or the file size.");
            var floats = new float[(off[1] - off[0]) / 4];
            Buffer.BlockCopy(all, (int)(dataStart + off[0]), floats, 0, floats.Length * 4);
            tensors[name] = tensor(floats).reshape(shape);
        }
        return (tensors, metadata);
    }

    public static string ToJson(Dictionary<string, string> d) => JsonSerializer.Serialize(d);
}
