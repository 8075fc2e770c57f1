using System.Text.Json;

namespace TfPose.Datasets.PascalPart;

/// <summary>
/// Maps (object class, part name) to a part label: 0 is background/unmapped, labels 1..N are
/// <see cref="Labels"/> in order. Rules are patterns "part" (any class) or "class/part", with '*'
/// matching any run of characters; the first label with a matching rule wins.
/// </summary>
public sealed class PartLabelScheme
{
    private readonly (string Label, string Pattern)[] _rules;
    private readonly Dictionary<(string, string), int> _cache = new();

    public PartLabelScheme(string name, IReadOnlyList<PartLabel> labels)
    {
        if (labels.Count > 254)
            throw new ArgumentException($"{labels.Count} labels do not fit a uint8 label image (at most 254)", nameof(labels));
        Name = name;
        Labels = labels;
        _rules = labels.SelectMany(l => l.Parts.Select(p => (l.Name, p))).ToArray();
    }

    public string Name { get; }

    public IReadOnlyList<PartLabel> Labels { get; }

    /// <summary>Label id (1-based) of a part of an object of class <paramref name="className"/>, or 0 when unmapped.</summary>
    public int LabelOf(string className, string partName)
    {
        if (_cache.TryGetValue((className, partName), out var cached))
            return cached;
        var qualified = className + "/" + partName;
        var id = 0;
        foreach (var (label, pattern) in _rules)
        {
            if (Glob.Matches(pattern, pattern.Contains('/') ? qualified : partName))
            {
                id = IndexOf(label) + 1;
                break;
            }
        }
        _cache[(className, partName)] = id;
        return id;
    }

    private int IndexOf(string label)
    {
        for (var i = 0; i < Labels.Count; i++)
            if (Labels[i].Name == label)
                return i;
        return -1;
    }

    /// <summary>
    /// The six-part PASCAL-Person-Part grouping: head (with eyes, ears, eyebrows, nose, mouth, hair and
    /// neck), torso, upper arms, lower arms with hands, upper legs, lower legs with feet.
    /// </summary>
    public static PartLabelScheme Person6 { get; } = new("person6",
    [
        new("head", Person("head", "leye", "reye", "lear", "rear", "lebrow", "rebrow", "nose", "mouth", "hair", "neck")),
        new("torso", Person("torso")),
        new("upper_arms", Person("luarm", "ruarm")),
        new("lower_arms", Person("llarm", "rlarm", "lhand", "rhand")),
        new("upper_legs", Person("luleg", "ruleg")),
        new("lower_legs", Person("llleg", "rlleg", "lfoot", "rfoot")),
    ]);

    /// <summary>Four groups: head, torso with neck, arms with hands, legs with feet.</summary>
    public static PartLabelScheme Person4 { get; } = new("person4",
    [
        new("head", Person("head", "leye", "reye", "lear", "rear", "lebrow", "rebrow", "nose", "mouth", "hair")),
        new("torso", Person("torso", "neck")),
        new("arms", Person("luarm", "ruarm", "llarm", "rlarm", "lhand", "rhand")),
        new("legs", Person("luleg", "ruleg", "llleg", "rlleg", "lfoot", "rfoot")),
    ]);

    /// <summary>
    /// One label per distinct "class/part" pair, sorted, so a dog's head and a person's head stay apart.
    /// The ids depend on the annotations given, so exports write the scheme beside the labels.
    /// </summary>
    public static PartLabelScheme Raw(IEnumerable<PascalPartAnnotation> annotations) => new("raw",
        annotations.SelectMany(a => a.Objects)
            .SelectMany(o => o.Parts.Select(p => o.ClassName + "/" + p.Name))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .Select(n => new PartLabel(n, [Glob.Escape(n)]))
            .ToList());

    /// <summary>
    /// Reads a mapping file: <c>{"name": "...", "labels": [{"name": "upper", "parts": ["person/head", "person/*arm"]}, ...]}</c>.
    /// </summary>
    public static PartLabelScheme FromJson(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var root = doc.RootElement;
            var name = root.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String
                ? n.GetString()!
                : Path.GetFileNameWithoutExtension(path);
            if (!root.TryGetProperty("labels", out var labelsJson) || labelsJson.ValueKind != JsonValueKind.Array)
                throw new InvalidDataException("needs a \"labels\" array");
            var labels = new List<PartLabel>();
            foreach (var l in labelsJson.EnumerateArray())
            {
                var labelName = l.TryGetProperty("name", out var ln) && ln.ValueKind == JsonValueKind.String
                    ? ln.GetString()!
                    : throw new InvalidDataException($"label {labels.Count + 1} needs a \"name\" string");
                if (!l.TryGetProperty("parts", out var parts) || parts.ValueKind != JsonValueKind.Array
                    || parts.EnumerateArray().Any(p => p.ValueKind != JsonValueKind.String))
                    throw new InvalidDataException($"label '{labelName}' needs a \"parts\" array of strings");
                if (labels.Any(x => x.Name == labelName))
                    throw new InvalidDataException($"label '{labelName}' appears twice");
                labels.Add(new PartLabel(labelName, parts.EnumerateArray().Select(p => p.GetString()!).ToArray()));
            }
            return new PartLabelScheme(name, labels);
        }
        catch (Exception ex) when (ex is JsonException or InvalidDataException or ArgumentException)
        {
            throw new InvalidDataException($"{path}: bad part-label mapping: {ex.Message}", ex);
        }
    }

    /// <summary>"raw", "person6", "person4", or a path to a JSON mapping file.</summary>
    public static PartLabelScheme Resolve(string nameOrPath, Func<IEnumerable<PascalPartAnnotation>> annotationsForRaw) => nameOrPath switch
    {
        "person6" => Person6,
        "person4" => Person4,
        "raw" => Raw(annotationsForRaw()),
        _ when File.Exists(nameOrPath) => FromJson(nameOrPath),
        _ => throw new ArgumentException($"unknown part-label scheme '{nameOrPath}': use raw, person6, person4 or a JSON mapping file"),
    };

    /// <summary>The scheme as the JSON mapping format <see cref="FromJson"/> reads back.</summary>
    public string ToJson() => JsonSerializer.Serialize(new
    {
        name = Name,
        labels = Labels.Select((l, i) => new { id = i + 1, name = l.Name, parts = l.Parts }),
    }, new JsonSerializerOptions { WriteIndented = true });

    private static string[] Person(params string[] parts) => parts.Select(p => "person/" + p).ToArray();
}

/// <summary>A label and the part patterns that map to it.</summary>
public sealed record PartLabel(string Name, IReadOnlyList<string> Parts);
