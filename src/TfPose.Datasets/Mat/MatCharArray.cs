namespace TfPose.Datasets.Mat;

/// <summary>A char array; most are single rows holding one string.</summary>
public sealed class MatCharArray : MatArray
{
    private readonly char[] _chars;

    public MatCharArray(string name, int[] dimensions, char[] rowMajorChars)
        : base(name, dimensions)
    {
        if (rowMajorChars.Length != Count)
            throw new ArgumentException($"{rowMajorChars.Length} chars for dimensions {DimensionsText}", nameof(rowMajorChars));
        _chars = rowMajorChars;
    }

    public override MatClass Class => MatClass.Char;

    public ReadOnlySpan<char> Chars => _chars;

    /// <summary>All characters in row-major order; for a 1×N array, the string itself.</summary>
    public string Text => new(_chars);

    /// <summary>Rows of a 2-D char matrix (MATLAB's padded string lists).</summary>
    public IReadOnlyList<string> Rows
    {
        get
        {
            if (Dimensions.Count != 2)
                throw new InvalidOperationException($"Rows needs a 2-D char array, this one is {DimensionsText}");
            var (rows, cols) = (Dimensions[0], Dimensions[1]);
            var result = new string[rows];
            for (var r = 0; r < rows; r++)
                result[r] = new string(_chars, r * cols, cols);
            return result;
        }
    }
}
