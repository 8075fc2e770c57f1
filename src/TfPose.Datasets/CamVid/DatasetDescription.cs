using System.Text.Json;

namespace TfPose.Datasets.CamVid;

/// <summary>
/// What the label PNGs of a segmentation data set in the CamVid layout mean: the class names (grey value = index)
/// and the grey value that is ignored by the loss and every metric. Read from <c>dataset.json</c> in the data root;
/// a root without one is CamVid (11 classes, void 11), so SegNet's folder works unchanged.
/// </summary>
public sealed class DatasetDescription
{
    public const string FileName = "dataset.json";

    public DatasetDescription(string name, IReadOnlyList<string> classNames, byte ignoreLabel)
    {
        if (classNames.Count == 0)
            throw new ArgumentException("a data set needs at least one class", nameof(classNames));
        if (ignoreLabel < classNames.Count)
            throw new ArgumentException($"ignore label {ignoreLabel} is one of the {classNames.Count} classes (0–{classNames.Count - 1})", nameof(ignoreLabel));
        Name = name;
        ClassNames = classNames;
        IgnoreLabel = ignoreLabel;
    }

    public string Name { get; }

    /// <summary>Class names in label order: grey value i is class i.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    public int Classes => ClassNames.Count;

    /// <summary>Grey value of unlabelled pixels (and of the padding around images smaller than a crop).</summary>
    public byte IgnoreLabel { get; }

    public static DatasetDescription CamVid { get; } = new("CamVid", CamVidClasses.Names, CamVidClasses.Void);

    /// <summary><c>{root}/dataset.json</c> when present, else <see cref="CamVid"/>.</summary>
    public static DatasetDescription Load(string root)
    {
        var path = Path.Combine(root, FileName);
        if (!File.Exists(path))
            return CamVid;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var r = doc.RootElement;
            if (r.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException("expected a JSON object");
            var name = r.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : Path.GetFileName(Path.GetFullPath(root));
            if (!r.TryGetProperty("classes", out var c) || c.ValueKind != JsonValueKind.Array || c.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
                throw new InvalidDataException("needs a \"classes\" array of class names (grey value = index)");
            var classes = c.EnumerateArray().Select(e => e.GetString()!).ToArray();
            if (classes.Length is 0 or > 255)
                throw new InvalidDataException($"{classes.Length} classes; a uint8 label image holds 1–255 classes besides the ignore label");
            if (!r.TryGetProperty("ignore_label", out var ig) || !ig.TryGetInt32(out var ignore) || ignore < classes.Length || ignore > 255)
                throw new InvalidDataException($"needs \"ignore_label\": a grey value {classes.Length}–255 that is not a class");
            return new DatasetDescription(name, classes, (byte)ignore);
        }
        catch (Exception ex) when (ex is JsonException or InvalidDataException)
        {
            throw new InvalidDataException($"{path}: bad data set description: {ex.Message}", ex);
        }
    }

    public string ToJson() => JsonSerializer.Serialize(new { name = Name, classes = ClassNames, ignore_label = (int)IgnoreLabel },
        new JsonSerializerOptions { WriteIndented = true });
}
