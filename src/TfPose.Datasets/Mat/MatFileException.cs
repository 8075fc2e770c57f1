namespace TfPose.Datasets.Mat;

/// <summary>
/// A MAT-file that cannot be read: malformed, truncated, over a safety limit, or using a feature this
/// reader does not support. The message names the file and the byte offset so the bad spot can be
/// found with a hex viewer. (InvalidDataException is sealed, so this derives from IOException.)
/// </summary>
public sealed class MatFileException : IOException
{
    public MatFileException(string filePath, long offset, string problem, long? compressedElementOffset = null, Exception? inner = null)
        : base(Format(filePath, offset, problem, compressedElementOffset), inner)
    {
        FilePath = filePath;
        Offset = offset;
        Problem = problem;
        CompressedElementOffset = compressedElementOffset;
    }

    public string FilePath { get; }

    /// <summary>Byte offset in the file, or in the decompressed data when <see cref="CompressedElementOffset"/> is set.</summary>
    public long Offset { get; }

    /// <summary>File offset of the miCOMPRESSED element whose decompressed data <see cref="Offset"/> refers to.</summary>
    public long? CompressedElementOffset { get; }

    public string Problem { get; }

    private static string Format(string path, long offset, string problem, long? compressedAt) =>
        compressedAt is { } outer
            ? $"{path}: {problem} (at byte {offset} of the decompressed data of the compressed element at file byte {outer})"
            : $"{path}: {problem} (at byte {offset})";
}
