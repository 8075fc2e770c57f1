using System.Text;
using System.Text.Json.Nodes;

namespace TfPose.Segmentation.Tests;

/// <summary>A run's config.json is checked field by field before anything is built: one error naming the file and every problem.</summary>
public sealed class RunConfigTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("run-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static SegmentationSettings Valid() => new()
    {
        Model = TiramisuConfig.FcDenseNet56, Mean = [0.4f, 0.4f, 0.4f], Std = [0.3f, 0.3f, 0.3f], CropHeight = 224, CropWidth = 224, Seed = 1,
    };

    private string Write(Action<JsonObject> edit)
    {
        var path = Path.Combine(_dir, "config.json");
        Valid().Save(path);
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(json);
        File.WriteAllText(path, json.ToJsonString());
        return path;
    }

    [Fact]
    public void The_audits_three_configs_fail_with_one_error_listing_every_problem()
    {
        var path = Write(j =>
        {
            j["Model"]!["DownLayers"] = new JsonArray(2, int.MaxValue);
            j["Mean"] = null;
            j["Model"]!["GrowthRate"] = -1;
        });
        var ex = Assert.Throws<InvalidDataException>(() => SegmentationSettings.Load(path));
        Assert.StartsWith(path + ": invalid segmentation config (3 problems)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Model.DownLayers[1]: 2147483647 layers, must be 1 to 64", ex.Message);
        Assert.Contains("Mean: missing", ex.Message);
        Assert.Contains("Model.GrowthRate: -1, must be 1 to 256", ex.Message);
        // segment predict/eval/export load through SegmentationNetwork.Load: the same error, before any model is built.
        File.WriteAllBytes(Path.Combine(_dir, SegmentationNetwork.BestWeights), [0]);
        var viaNetwork = Assert.Throws<InvalidDataException>(() => SegmentationNetwork.Load(_dir));
        Assert.Equal(ex.Message, viaNetwork.Message);
    }

    [Fact]
    public void Crop_sizes_must_be_multiples_of_the_size_divisor_and_class_weights_match_the_classes()
    {
        var s = Valid() with { CropHeight = 100, ClassWeights = [1, 2] };
        var ex = Assert.Throws<InvalidDataException>(() => s.Validate("x.json"));
        Assert.Contains("CropHeight: 100, must be a positive multiple of 32", ex.Message);
        Assert.Contains("ClassWeights: 2 values for 11 classes", ex.Message);
        Assert.Empty(Valid().Problems());
    }

    /// <summary>
    /// 300 seeded mutants of a valid config (a field replaced by a hostile value or removed, or bytes flipped, inserted or
    /// cut): every one either loads with every field in range or fails with an InvalidDataException naming the file.
    /// </summary>
    [Fact]
    public void Mutated_configs_load_in_range_or_fail_with_a_clear_error()
    {
        var path = Path.Combine(_dir, "config.json");
        Valid().Save(path);
        var original = File.ReadAllBytes(path);
        var rng = new Random(20261203);
        JsonNode?[] hostile = [null, -1, 0, 1, 3, int.MaxValue, int.MinValue, 1e308, -0.5, 0.99, "x", "", true, new JsonArray(), new JsonObject(),
            new JsonArray(2, int.MaxValue), new JsonArray(1, 2, 3), new JsonArray(float.MaxValue, 0, 1)];
        int loaded = 0, rejected = 0;
        for (int i = 0; i < 300; i++)
        {
            byte[] bytes;
            if (i % 3 == 2)
            {
                var b = original.ToList();
                for (int k = rng.Next(1, 4); k > 0; k--)
                {
                    int at = rng.Next(b.Count);
                    switch (rng.Next(3))
                    {
                        case 0: b[at] = (byte)rng.Next(256); break;
                        case 1: b.Insert(at, (byte)rng.Next(256)); break;
                        default: b.RemoveAt(at); break;
                    }
                }
                bytes = [.. b];
            }
            else
            {
                var json = JsonNode.Parse(original)!.AsObject();
                var (parent, key) = PickField(json, rng);
                if (rng.Next(6) == 0)
                    Remove(parent, key);
                else
                    Set(parent, key, hostile[rng.Next(hostile.Length)]?.DeepClone());
                bytes = Encoding.UTF8.GetBytes(json.ToJsonString());
            }
            File.WriteAllBytes(path, bytes);
            try
            {
                var s = SegmentationSettings.Load(path);
                AssertInRange(s, i);
                loaded++;
            }
            catch (InvalidDataException ex)
            {
                Assert.StartsWith(path + ": ", ex.Message, StringComparison.Ordinal);
                rejected++;
            }
        }
        // Both outcomes occur (byte flips inside numbers or names often leave a valid config).
        Assert.True(loaded > 10 && rejected > 100, $"{loaded} loaded, {rejected} rejected");
    }

    private static void AssertInRange(SegmentationSettings s, int mutant)
    {
        var m = s.Model;
        string at = $"mutant {mutant}";
        Assert.True(m.DownLayers.Length is >= 1 and <= 7 && m.DownLayers.All(n => n is >= 1 and <= 64), at);
        Assert.True(m.BottleneckLayers is >= 1 and <= 64 && m.GrowthRate is >= 1 and <= 256 && m.InitialFilters is >= 1 and <= 1024, at);
        Assert.True(m.Classes is >= 2 and <= 256 && m.DropoutRate is >= 0 and < 1 && m.BatchNormMomentum is >= 0 and < 1, at);
        Assert.True(s.Mean.Length == 3 && s.Std.Length == 3 && s.Mean.All(float.IsFinite) && s.Std.All(v => v > 0 && float.IsFinite(v)), at);
        int d = 1 << m.DownLayers.Length;
        Assert.True(s.CropHeight > 0 && s.CropHeight % d == 0 && s.CropWidth > 0 && s.CropWidth % d == 0, at);
    }

    private static (JsonNode Parent, object Key) PickField(JsonObject root, Random rng)
    {
        var leaves = new List<(JsonNode, object)>();
        void Walk(JsonNode node)
        {
            if (node is JsonObject o)
                foreach (var (k, v) in o.ToList())
                {
                    leaves.Add((o, k));
                    if (v is not null) Walk(v);
                }
            else if (node is JsonArray a)
                for (int i = 0; i < a.Count; i++)
                {
                    leaves.Add((a, i));
                    if (a[i] is { } v) Walk(v);
                }
        }
        Walk(root);
        return leaves[rng.Next(leaves.Count)];
    }

    private static void Set(JsonNode parent, object key, JsonNode? value)
    {
        if (parent is JsonObject o) o[(string)key] = value;
        else ((JsonArray)parent)[(int)key] = value;
    }

    private static void Remove(JsonNode parent, object key)
    {
        if (parent is JsonObject o) o.Remove((string)key);
        else ((JsonArray)parent).RemoveAt((int)key);
    }
}
