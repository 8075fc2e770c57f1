namespace TfPose.Datasets.Mat;

/// <summary>MATLAB array classes (mxCLASS ids from the MAT-file format, level 5).</summary>
public enum MatClass
{
    Cell = 1,
    Struct = 2,
    Object = 3,
    Char = 4,
    Sparse = 5,
    Double = 6,
    Single = 7,
    Int8 = 8,
    UInt8 = 9,
    Int16 = 10,
    UInt16 = 11,
    Int32 = 12,
    UInt32 = 13,
    Int64 = 14,
    UInt64 = 15,
    Function = 16,
    Opaque = 17,
}

public static class MatClassNames
{
    /// <summary>The name MATLAB's <c>class()</c> and <c>whos</c> show.</summary>
    public static string ToMatlabName(this MatClass cls, bool logical = false) => logical ? "logical" : cls switch
    {
        MatClass.Cell => "cell",
        MatClass.Struct => "struct",
        MatClass.Object => "object",
        MatClass.Char => "char",
        MatClass.Sparse => "sparse",
        MatClass.Double => "double",
        MatClass.Single => "single",
        MatClass.Int8 => "int8",
        MatClass.UInt8 => "uint8",
        MatClass.Int16 => "int16",
        MatClass.UInt16 => "uint16",
        MatClass.Int32 => "int32",
        MatClass.UInt32 => "uint32",
        MatClass.Int64 => "int64",
        MatClass.UInt64 => "uint64",
        MatClass.Function => "function_handle",
        MatClass.Opaque => "opaque",
        _ => $"class{(int)cls}",
    };
}
