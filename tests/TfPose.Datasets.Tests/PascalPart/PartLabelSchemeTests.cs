using TfPose.Datasets.PascalPart;

namespace TfPose.Datasets.Tests.PascalPart;

public class PartLabelSchemeTests
{
    private static readonly string[] PersonParts =
    [
        "head", "leye", "reye", "lear", "rear", "lebrow", "rebrow", "nose", "mouth", "hair", "torso", "neck",
        "llarm", "luarm", "lhand", "rlarm", "ruarm", "rhand", "llleg", "luleg", "lfoot", "rlleg", "ruleg", "rfoot",
    ];

    [Fact]
    public void Person6_groups_the_24_person_parts_as_documented()
    {
        var expected = new Dictionary<string, string>
        {
            ["head"] = "head", ["leye"] = "head", ["reye"] = "head", ["lear"] = "head", ["rear"] = "head",
            ["lebrow"] = "head", ["rebrow"] = "head", ["nose"] = "head", ["mouth"] = "head", ["hair"] = "head", ["neck"] = "head",
            ["torso"] = "torso",
            ["luarm"] = "upper_arms", ["ruarm"] = "upper_arms",
            ["llarm"] = "lower_arms", ["rlarm"] = "lower_arms", ["lhand"] = "lower_arms", ["rhand"] = "lower_arms",
            ["luleg"] = "upper_legs", ["ruleg"] = "upper_legs",
            ["llleg"] = "lower_legs", ["rlleg"] = "lower_legs", ["lfoot"] = "lower_legs", ["rfoot"] = "lower_legs",
        };
        var s = PartLabelScheme.Person6;
        Assert.Equal(6, s.Labels.Count);
        foreach (var part in PersonParts)
            Assert.Equal(expected[part], s.Labels[s.LabelOf("person", part) - 1].Name);
        Assert.Equal(0, s.LabelOf("dog", "head"));
        Assert.Equal(0, s.LabelOf("person", "tail"));
    }

    [Fact]
    public void Person4_puts_neck_with_torso_and_hands_and_feet_with_limbs()
    {
        var s = PartLabelScheme.Person4;
        string Group(string part) => s.Labels[s.LabelOf("person", part) - 1].Name;
        Assert.Equal(["head", "torso", "arms", "legs"], s.Labels.Select(l => l.Name));
        Assert.Equal("torso", Group("neck"));
        Assert.Equal("head", Group("hair"));
        Assert.Equal("arms", Group("rhand"));
        Assert.Equal("legs", Group("lfoot"));
        Assert.All(PersonParts, p => Assert.InRange(s.LabelOf("person", p), 1, 4));
    }

    [Fact]
    public void Raw_scheme_has_one_label_per_class_and_part_sorted()
    {
        var anno = PascalPartAnnotation.Load(PascalPartAnnotationTests.Annotation("2008_000008"));
        var s = PartLabelScheme.Raw([anno]);

        // 14 person parts + 13 horse parts, none shared once qualified by class.
        Assert.Equal(27, s.Labels.Count);
        Assert.Equal("horse/head", s.Labels[0].Name);
        Assert.Equal("person/torso", s.Labels[^1].Name);
        Assert.NotEqual(s.LabelOf("horse", "head"), s.LabelOf("person", "head"));
        Assert.Equal("person/luleg", s.Labels[s.LabelOf("person", "luleg") - 1].Name);
    }

    [Fact]
    public void Json_mapping_supports_class_qualified_names_and_wildcards()
    {
        var path = Path.Combine(Path.GetTempPath(), $"scheme-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, """
            {
              "name": "mine",
              "labels": [
                { "name": "wheels", "parts": ["car/wheel_*", "bus/wheel_*"] },
                { "name": "heads", "parts": ["head"] },
                { "name": "person-limbs", "parts": ["person/*arm", "person/*leg"] }
              ]
            }
            """);
        try
        {
            var s = PartLabelScheme.FromJson(path);
            Assert.Equal("mine", s.Name);
            Assert.Equal(1, s.LabelOf("car", "wheel_3"));
            Assert.Equal(0, s.LabelOf("aeroplane", "wheel_3"));
            Assert.Equal(2, s.LabelOf("dog", "head"));
            Assert.Equal(2, s.LabelOf("person", "head"));
            Assert.Equal(3, s.LabelOf("person", "luarm"));
            Assert.Equal(3, s.LabelOf("person", "rlleg"));
            Assert.Equal(0, s.LabelOf("person", "lhand"));

            // The scheme's own JSON reads back to the same mapping.
            File.WriteAllText(path, s.ToJson());
            var again = PartLabelScheme.FromJson(path);
            Assert.Equal(s.Labels.Select(l => l.Name), again.Labels.Select(l => l.Name));
            Assert.Equal(1, again.LabelOf("bus", "wheel_1"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Bad_mapping_file_is_reported_with_its_path()
    {
        var path = Path.Combine(Path.GetTempPath(), $"scheme-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, """{ "labels": [ { "name": "x" } ] }""");
        try
        {
            var ex = Assert.Throws<InvalidDataException>(() => PartLabelScheme.FromJson(path));
            Assert.Contains(path, ex.Message);
            Assert.Contains("parts", ex.Message);
        }
        finally
        {
            File.Delete(path);
        }
        Assert.Throws<ArgumentException>(() => PartLabelScheme.Resolve("person7", () => []));
    }
}
