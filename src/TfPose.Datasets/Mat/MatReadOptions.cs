namespace TfPose.Datasets.Mat;

/// <summary>Safety limits checked against what a file declares before anything is allocated.</summary>
public sealed record MatReadOptions
{
    public static MatReadOptions Default { get; } = new();

    /// <summary>Deepest nesting of cells and structs accepted; real data rarely goes past a handful.</summary>
    public int MaxDepth { get; init; } = 32;

    /// <summary>Largest decompressed size of one miCOMPRESSED element.</summary>
    public long MaxDecompressedBytes { get; init; } = 1L << 30;

    /// <summary>Largest number of elements in one array.</summary>
    public long MaxElements { get; init; } = int.MaxValue / 8;
}
