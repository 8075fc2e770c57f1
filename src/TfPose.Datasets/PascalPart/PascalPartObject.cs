namespace TfPose.Datasets.PascalPart;

/// <summary>One named part of an object, e.g. "head" or "lfuleg".</summary>
public sealed record PascalPart(string Name, BinaryMask Mask);

/// <summary>One annotated object: its VOC class, the instance mask and its parts (none for boats, chairs, tables, ...).</summary>
public sealed record PascalPartObject(string ClassName, int ClassIndex, BinaryMask Mask, IReadOnlyList<PascalPart> Parts);
