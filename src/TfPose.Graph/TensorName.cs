namespace TfPose.Graph;

/// <summary>
/// A reference to one output of a node, as TensorFlow spells it: <c>node</c>, <c>node:1</c>,
/// or <c>^node</c> for a control dependency.
/// </summary>
public readonly record struct TensorName(string Node, int Index, bool IsControl = false)
{
    public static TensorName Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.StartsWith('^'))
            return new TensorName(text[1..], -1, true);
        var colon = text.LastIndexOf(':');
        if (colon > 0 && int.TryParse(text.AsSpan(colon + 1), System.Globalization.NumberStyles.None, null, out var index))
            return new TensorName(text[..colon], index);
        return new TensorName(text, 0);
    }

    public override string ToString() => IsControl ? "^" + Node : Index == 0 ? Node : $"{Node}:{Index}";

    /// <summary>The canonical <c>node:index</c> form used as a dictionary key.</summary>
    public string Key => IsControl ? "^" + Node : $"{Node}:{Index}";
}
