namespace TfPose.Datasets.Mat;

/// <summary>A data element's tag: its type, payload size and where the payload and the next element start.</summary>
internal readonly record struct MatTag(uint Type, int Size, int TagOffset, int DataOffset, int NextOffset)
{
    public MatDataType DataType => (MatDataType)Type;

    public string TypeName => MatDataTypes.Name(Type);
}
