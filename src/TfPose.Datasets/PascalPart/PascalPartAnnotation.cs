using TfPose.Datasets.Mat;

namespace TfPose.Datasets.PascalPart;

/// <summary>
/// One PASCAL-Part annotation file: a MAT-file with an <c>anno</c> struct holding <c>imname</c> and
/// <c>objects</c> (class, class_ind, mask, parts with part_name and mask).
/// </summary>
public sealed class PascalPartAnnotation
{
    public PascalPartAnnotation(string imageName, int height, int width, IReadOnlyList<PascalPartObject> objects)
    {
        ImageName = imageName;
        Height = height;
        Width = width;
        Objects = objects;
    }

    /// <summary>Image name without extension, e.g. "2008_000008" (the JPEG is ImageName + ".jpg").</summary>
    public string ImageName { get; }

    /// <summary>Mask height, which is the image height; 0 when there are no objects.</summary>
    public int Height { get; }

    public int Width { get; }

    public IReadOnlyList<PascalPartObject> Objects { get; }

    public static PascalPartAnnotation Load(string path) => FromMat(MatFile.Read(path), path);

    public static PascalPartAnnotation FromMat(MatFile mat, string source)
    {
        if (!mat.TryGet("anno", out var annoVar))
            throw Bad(source, "anno", $"no variable 'anno' (variables: {string.Join(", ", mat.Variables.Select(v => v.Name))})");
        var anno = Expect<MatStructArray>(source, "anno", annoVar);
        if (anno.Count != 1)
            throw Bad(source, "anno", $"is {anno.DimensionsText}, expected a 1x1 struct");
        var imageName = Text(source, "anno.imname", Field(source, "anno", anno, 0, "imname"));

        var objectsVar = Field(source, "anno", anno, 0, "objects");
        var objects = new List<PascalPartObject>();
        if (!objectsVar.IsEmpty)
        {
            var structs = Expect<MatStructArray>(source, "anno.objects", objectsVar);
            for (var i = 0; i < structs.Count; i++)
                objects.Add(ReadObject(source, $"anno.objects({i + 1})", structs, i));
        }

        var (height, width) = objects.Count > 0 ? (objects[0].Mask.Height, objects[0].Mask.Width) : (0, 0);
        foreach (var (o, i) in objects.Select((o, i) => (o, i)))
            foreach (var mask in o.Parts.Select(p => p.Mask).Prepend(o.Mask))
                if (mask.Height != height || mask.Width != width)
                    throw Bad(source, $"anno.objects({i + 1})", $"has a {mask.Height}x{mask.Width} mask; the first object's is {height}x{width}");
        return new PascalPartAnnotation(imageName, height, width, objects);
    }

    private static PascalPartObject ReadObject(string source, string where, MatStructArray objects, int index)
    {
        var className = Text(source, where + ".class", Field(source, where, objects, index, "class"));
        var classIndexVar = Expect<MatNumeric>(source, where + ".class_ind", Field(source, where, objects, index, "class_ind"));
        if (classIndexVar.Count != 1)
            throw Bad(source, where + ".class_ind", $"is {classIndexVar.DimensionsText}, expected a scalar");
        var mask = Mask(source, where + ".mask", Field(source, where, objects, index, "mask"));

        var parts = new List<PascalPart>();
        var partsVar = Field(source, where, objects, index, "parts");
        if (!partsVar.IsEmpty)
        {
            var partStructs = Expect<MatStructArray>(source, where + ".parts", partsVar);
            for (var p = 0; p < partStructs.Count; p++)
            {
                var partWhere = $"{where}.parts({p + 1})";
                parts.Add(new PascalPart(
                    Text(source, partWhere + ".part_name", Field(source, partWhere, partStructs, p, "part_name")),
                    Mask(source, partWhere + ".mask", Field(source, partWhere, partStructs, p, "mask"))));
            }
        }
        return new PascalPartObject(className, (int)classIndexVar.GetDouble(0), mask, parts);
    }

    private static MatArray Field(string source, string where, MatStructArray s, int index, string field) =>
        s.HasField(field)
            ? s.Get(index, field)
            : throw Bad(source, where, $"has no field '{field}' (fields: {string.Join(", ", s.FieldNames)})");

    private static string Text(string source, string where, MatArray value) => Expect<MatCharArray>(source, where, value).Text;

    private static BinaryMask Mask(string source, string where, MatArray value)
    {
        var numeric = Expect<MatNumeric>(source, where, value);
        if (numeric.Dimensions.Count != 2)
            throw Bad(source, where, $"is {numeric.DimensionsText}, expected a 2-D mask");
        var data = new byte[numeric.Count];
        if (numeric is MatNumericArray<byte> bytes)
            for (var i = 0; i < data.Length; i++)
                data[i] = bytes.Real[i] != 0 ? (byte)1 : (byte)0;
        else
            for (var i = 0; i < data.Length; i++)
                data[i] = numeric.GetDouble(i) != 0 ? (byte)1 : (byte)0;
        return new BinaryMask(numeric.Dimensions[0], numeric.Dimensions[1], data);
    }

    private static T Expect<T>(string source, string where, MatArray value) where T : MatArray =>
        value as T ?? throw Bad(source, where, $"is a {value.DimensionsText} {value.ClassName}, expected {Describe<T>()}");

    private static string Describe<T>() => typeof(T).Name switch
    {
        nameof(MatStructArray) => "a struct",
        nameof(MatCharArray) => "a char array",
        _ => "a numeric array",
    };

    private static InvalidDataException Bad(string source, string where, string problem) =>
        new($"{source}: not a PASCAL-Part annotation: {where} {problem}");
}
