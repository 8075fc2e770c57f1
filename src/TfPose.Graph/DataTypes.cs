using TfPose.Graph.Proto;

namespace TfPose.Graph;

public static class DataTypes
{
    /// <summary>Bytes per element, or 0 for types without a fixed size (string, resource, variant).</summary>
    public static int SizeOf(DataType type) => BaseType(type) switch
    {
        DataType.DtFloat or DataType.DtInt32 or DataType.DtUint32 or DataType.DtQint32 => 4,
        DataType.DtDouble or DataType.DtInt64 or DataType.DtUint64 or DataType.DtComplex64 => 8,
        DataType.DtComplex128 => 16,
        DataType.DtUint8 or DataType.DtInt8 or DataType.DtBool or DataType.DtQint8 or DataType.DtQuint8 => 1,
        DataType.DtInt16 or DataType.DtUint16 or DataType.DtHalf or DataType.DtBfloat16
            or DataType.DtQint16 or DataType.DtQuint16 => 2,
        _ => 0,
    };

    /// <summary>Strips the reference flag TensorFlow adds to variable outputs (DT_FLOAT_REF → DT_FLOAT).</summary>
    public static DataType BaseType(DataType type) => (int)type > 100 ? (DataType)((int)type - 100) : type;

    public static string Name(DataType type) => type.ToString().Replace("Dt", "", StringComparison.Ordinal).ToLowerInvariant();
}
