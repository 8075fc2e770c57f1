using System.Globalization;

namespace TfPose.Datasets.Mat;

/// <summary>
/// Writes a MAT-file's variables as an indented tree (name, dimensions, class, short values), like
/// MATLAB's <c>whos</c> but descending into structs and cells.
/// </summary>
public sealed class MatTreeWriter
{
    private readonly TextWriter _out;
    private readonly int _maxElements;

    /// <param name="maxElements">Struct and cell elements listed per array before the rest are summarised.</param>
    public MatTreeWriter(TextWriter output, int maxElements = 50)
    {
        _out = output;
        _maxElements = maxElements;
    }

    public void Write(MatFile file)
    {
        foreach (var variable in file.Variables)
            Write(variable.Name, variable, "", "");
    }

    private void Write(string label, MatArray array, string indent, string childIndent)
    {
        _out.WriteLine($"{indent}{label}  {array.DimensionsText} {array.ClassName}{Summary(array)}");
        switch (array)
        {
            case MatStructArray s when s.Count == 1:
                WriteFields(s, 0, childIndent, "");
                break;
            case MatStructArray s:
                var shown = Math.Min(s.Count, _maxElements);
                for (var i = 0; i < shown; i++)
                {
                    var last = i == shown - 1 && shown == s.Count;
                    _out.WriteLine($"{childIndent}{(last ? "└─ " : "├─ ")}({i + 1})");
                    WriteFields(s, i, childIndent + (last ? "   " : "│  "), "");
                }
                if (shown < s.Count)
                    _out.WriteLine($"{childIndent}└─ … {s.Count - shown} more elements");
                break;
            case MatCellArray c:
                var cells = Math.Min(c.Count, _maxElements);
                for (var i = 0; i < cells; i++)
                {
                    var last = i == cells - 1 && cells == c.Count;
                    Write($"{{{i + 1}}}", c[i], childIndent + (last ? "└─ " : "├─ "), childIndent + (last ? "   " : "│  "));
                }
                if (cells < c.Count)
                    _out.WriteLine($"{childIndent}└─ … {c.Count - cells} more cells");
                break;
        }
    }

    private void WriteFields(MatStructArray s, int index, string indent, string prefix)
    {
        for (var f = 0; f < s.FieldNames.Count; f++)
        {
            var last = f == s.FieldNames.Count - 1;
            var name = s.FieldNames[f];
            Write(prefix + name, s.Get(index, name), indent + (last ? "└─ " : "├─ "), indent + (last ? "   " : "│  "));
        }
    }

    private static string Summary(MatArray array) => array switch
    {
        MatCharArray c when c.Dimensions.Count == 2 && c.Dimensions[0] <= 1 => $"  '{Shorten(c.Text)}'",
        MatNumeric n when n.Count == 1 && !n.IsComplex => "  " + n.GetDouble(0).ToString("G", CultureInfo.InvariantCulture),
        MatNumeric n when n.Count > 1 && n.Count <= 6 && !n.IsComplex =>
            "  [" + string.Join(" ", Enumerable.Range(0, n.Count).Select(i => n.GetDouble(i).ToString("G", CultureInfo.InvariantCulture))) + "]",
        MatNumeric n when n.IsComplex => "  complex",
        _ => "",
    };

    private static string Shorten(string s) => s.Length <= 60 ? s : s[..57] + "...";
}
