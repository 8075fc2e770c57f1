namespace TfPose.Datasets.Mat;

/// <summary>Element data types (miXXX ids) of the level 5 MAT-file format.</summary>
internal enum MatDataType
{
    Int8 = 1,
    UInt8 = 2,
    Int16 = 3,
    UInt16 = 4,
    Int32 = 5,
    UInt32 = 6,
    Single = 7,
    Double = 9,
    Int64 = 12,
    UInt64 = 13,
    Matrix = 14,
    Compressed = 15,
    Utf8 = 16,
    Utf16 = 17,
    Utf32 = 18,
}

internal static class MatDataTypes
{
    /// <summary>Bytes per value, or 0 for types that are not plain numbers.</summary>
    public static int SizeOf(MatDataType type) => type switch
    {
        MatDataType.Int8 or MatDataType.UInt8 or MatDataType.Utf8 => 1,
        MatDataType.Int16 or MatDataType.UInt16 or MatDataType.Utf16 => 2,
        MatDataType.Int32 or MatDataType.UInt32 or MatDataType.Single or MatDataType.Utf32 => 4,
        MatDataType.Double or MatDataType.Int64 or MatDataType.UInt64 => 8,
        _ => 0,
    };

    public static string Name(uint type) => Enum.IsDefined(typeof(MatDataType), (int)Math.Min(type, int.MaxValue))
        ? "mi" + ((MatDataType)type).ToString().ToUpperInvariant()
        : $"unknown type {type}";
}
