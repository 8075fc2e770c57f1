using System.Text;
using TfPose.Graph.Proto;

namespace TfPose.Graph;

/// <summary>Typed access to NodeDef attributes with TensorFlow's defaults where an attribute is absent.</summary>
public static class NodeAttributes
{
    public static bool HasAttr(this NodeDef node, string name) => node.Attr.ContainsKey(name);

    public static long GetInt(this NodeDef node, string name, long? fallback = null) =>
        node.Attr.TryGetValue(name, out var v) && v.ValueCase == AttrValue.ValueOneofCase.I ? v.I
        : fallback ?? throw Missing(node, name);

    public static float GetFloat(this NodeDef node, string name, float? fallback = null) =>
        node.Attr.TryGetValue(name, out var v) && v.ValueCase == AttrValue.ValueOneofCase.F ? v.F
        : fallback ?? throw Missing(node, name);

    public static bool GetBool(this NodeDef node, string name, bool? fallback = null) =>
        node.Attr.TryGetValue(name, out var v) && v.ValueCase == AttrValue.ValueOneofCase.B ? v.B
        : fallback ?? throw Missing(node, name);

    public static string GetString(this NodeDef node, string name, string? fallback = null) =>
        node.Attr.TryGetValue(name, out var v) && v.ValueCase == AttrValue.ValueOneofCase.S ? v.S.ToString(Encoding.UTF8)
        : fallback ?? throw Missing(node, name);

    public static DataType GetDataType(this NodeDef node, string name, DataType? fallback = null) =>
        node.Attr.TryGetValue(name, out var v) && v.ValueCase == AttrValue.ValueOneofCase.Type ? v.Type
        : fallback ?? throw Missing(node, name);

    public static long[] GetInts(this NodeDef node, string name, long[]? fallback = null) =>
        node.Attr.TryGetValue(name, out var v) && v.ValueCase == AttrValue.ValueOneofCase.List ? [.. v.List.I]
        : fallback ?? throw Missing(node, name);

    /// <summary>The shape attribute, or null when absent or of unknown rank; unknown dims are -1.</summary>
    public static long[]? GetShape(this NodeDef node, string name) =>
        node.Attr.TryGetValue(name, out var v) && v.ValueCase == AttrValue.ValueOneofCase.Shape && !v.Shape.UnknownRank
            ? [.. v.Shape.Dim.Select(d => d.Size)]
            : null;

    public static TensorProto? GetTensor(this NodeDef node, string name) =>
        node.Attr.TryGetValue(name, out var v) && v.ValueCase == AttrValue.ValueOneofCase.Tensor ? v.Tensor : null;

    /// <summary>Data inputs only (control dependencies dropped), parsed.</summary>
    public static IEnumerable<TensorName> DataInputs(this NodeDef node) =>
        node.Input.Select(TensorName.Parse).Where(t => !t.IsControl);

    public static TensorName DataInput(this NodeDef node, int index)
    {
        var i = 0;
        foreach (var input in node.DataInputs())
        {
            if (i++ == index)
                return input;
        }
        throw new InvalidDataException($"Node '{node.Name}' ({node.Op}) has no input #{index}.");
    }

    public static int DataInputCount(this NodeDef node) => node.DataInputs().Count();

    private static InvalidDataException Missing(NodeDef node, string name) =>
        new($"Node '{node.Name}' ({node.Op}) lacks the required attribute '{name}'.");
}
