namespace TfPose.Datasets.Mat;

/// <summary>
/// One MATLAB array. Dimensions are MATLAB's (at least two, e.g. 1×5 for a row); element data of
/// every subclass is stored in row-major order (last dimension fastest), unlike the file's column-major.
/// </summary>
public abstract class MatArray
{
    private protected MatArray(string name, int[] dimensions)
    {
        Name = name;
        Dimensions = dimensions;
        long count = 1;
        foreach (var d in dimensions)
            count *= d;
        Count = (int)count;
    }

    /// <summary>Variable name at top level; empty for cell elements and struct field values.</summary>
    public string Name { get; }

    public IReadOnlyList<int> Dimensions { get; }

    /// <summary>Number of elements (product of the dimensions).</summary>
    public int Count { get; }

    public bool IsEmpty => Count == 0;

    public abstract MatClass Class { get; }

    /// <summary>MATLAB's class name, e.g. "uint8", "logical", "struct".</summary>
    public virtual string ClassName => Class.ToMatlabName();

    /// <summary>Dimensions as MATLAB prints them, e.g. "375x500".</summary>
    public string DimensionsText => string.Join("x", Dimensions);

    /// <summary>Row-major linear index of a MATLAB-style subscript (zero-based here).</summary>
    public int LinearIndex(ReadOnlySpan<int> subscript)
    {
        if (subscript.Length != Dimensions.Count)
            throw new ArgumentException($"expected {Dimensions.Count} subscripts, got {subscript.Length}", nameof(subscript));
        var index = 0;
        for (var i = 0; i < subscript.Length; i++)
        {
            if ((uint)subscript[i] >= (uint)Dimensions[i])
                throw new IndexOutOfRangeException($"subscript {subscript[i]} out of range 0..{Dimensions[i] - 1} in dimension {i + 1}");
            index = index * Dimensions[i] + subscript[i];
        }
        return index;
    }

    /// <summary>This array as a specific kind, with an error naming what it really is.</summary>
    public TArray As<TArray>() where TArray : MatArray =>
        this as TArray ?? throw new InvalidCastException($"{(Name.Length > 0 ? $"'{Name}'" : "array")} is a {DimensionsText} {ClassName}, not a {typeof(TArray).Name}");

    public override string ToString() => $"{(Name.Length > 0 ? Name + " " : "")}{DimensionsText} {ClassName}";
}
