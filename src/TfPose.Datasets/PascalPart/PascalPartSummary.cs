using System.Text.Json;
using System.Text.Json.Serialization;

namespace TfPose.Datasets.PascalPart;

public sealed record PartSummary(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("pixels")] int Pixels);

public sealed record ObjectSummary(
    [property: JsonPropertyName("class")] string Class,
    [property: JsonPropertyName("classIndex")] int ClassIndex,
    [property: JsonPropertyName("maskHeight")] int MaskHeight,
    [property: JsonPropertyName("maskWidth")] int MaskWidth,
    [property: JsonPropertyName("pixels")] int Pixels,
    [property: JsonPropertyName("parts")] IReadOnlyList<PartSummary> Parts);

/// <summary>The structure <c>tfpose data pascal-part show --json</c> prints.</summary>
public sealed record PascalPartSummary(
    [property: JsonPropertyName("image")] string Image,
    [property: JsonPropertyName("objects")] IReadOnlyList<ObjectSummary> Objects)
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static PascalPartSummary Of(PascalPartAnnotation annotation) => new(
        annotation.ImageName,
        annotation.Objects.Select(o => new ObjectSummary(
            o.ClassName, o.ClassIndex, o.Mask.Height, o.Mask.Width, o.Mask.PixelCount,
            o.Parts.Select(p => new PartSummary(p.Name, p.Mask.PixelCount)).ToList())).ToList());

    public string ToJson() => JsonSerializer.Serialize(this, Indented);
}
