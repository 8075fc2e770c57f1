using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TfPose.Keras;

/// <summary>
/// Helpers for the layers' Keras configs (<see cref="Layer.GetConfig"/> / <c>FromConfig</c>): writing shapes as JSON
/// arrays, and reading a config with Keras' defaults for absent keys and one error that lists every problem.
/// </summary>
internal static class LayerConfig
{
    public static JsonArray Ints(IEnumerable<int> values) => new([.. values.Select(v => (JsonNode)v)]);

    /// <summary>The entries Dense and the convolutions share, in Keras' order (the reading side is ExpectKernelLayerDefaults).</summary>
    public static void WriteKernelLayer(JsonObject config, string activation, bool useBias, Initializer kernelInitializer,
        Initializer biasInitializer, Regularizer? kernelRegularizer)
    {
        config["activation"] = activation;
        config["use_bias"] = useBias;
        config["kernel_initializer"] = kernelInitializer.ToConfig();
        config["bias_initializer"] = biasInitializer.ToConfig();
        config["kernel_regularizer"] = kernelRegularizer?.ToConfig();
    }

    /// <summary>
    /// Builds a layer from its config: <paramref name="make"/> reads the arguments through the reader and calls the
    /// constructor; "name" and "trainable" are handled here. A bad value is recorded and replaced by a harmless
    /// placeholder, so all problems are found in one pass and reported together.
    /// </summary>
    public static T Read<T>(JsonObject config, Func<ConfigReader, T> make) where T : Layer
    {
        var reader = new ConfigReader(config);
        var trainable = reader.Bool("trainable", true);
        T layer;
        try
        {
            layer = make(reader);
        }
        catch (ArgumentException) when (reader.Problems.Count > 0)
        {
            // The constructor rejected a placeholder standing in for a value already reported.
            throw reader.Error(typeof(T).Name);
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"{typeof(T).Name} config: {ex.Message}", nameof(config), ex);
        }
        if (reader.Problems.Count > 0)
        {
            layer.Dispose();
            throw reader.Error(typeof(T).Name);
        }
        layer.Trainable = trainable;
        return layer;
    }
}

/// <summary>Typed access to one layer config; absent optional keys (or JSON null) take the Keras default given.</summary>
internal sealed class ConfigReader(JsonObject config)
{
    internal List<string> Problems { get; } = [];

    internal ArgumentException Error(string className) =>
        new($"{className} config: {string.Join("; ", Problems)}.", nameof(config));

    /// <summary>The layer's name, or null to let the model name it.</summary>
    public string? Name => config["name"] is null ? null : String("name", "");

    public int Int(string key) => Required(key, 0, () => Int(key, 0));

    public int Int(string key, int fallback) => Get(key, fallback, "an integer", n =>
        Number(n) is { } d && d == Math.Floor(d) && d is >= int.MinValue and <= int.MaxValue ? (int)d : null);

    public double Double(string key) => Required(key, 0.0, () => Double(key, 0.0));

    public double Double(string key, double fallback) => Get(key, fallback, "a number", Number);

    public double? NullableDouble(string key) => config[key] is null ? null : Double(key, 0.0);

    public bool Bool(string key, bool fallback) => Get(key, fallback, "true or false", n =>
        n.GetValueKind() switch { JsonValueKind.True => true, JsonValueKind.False => false, _ => (bool?)null });

    public string String(string key) => Required(key, "", () => String(key, ""));

    public string String(string key, string fallback) => Get(key, fallback, "a string", n =>
        n.GetValueKind() == JsonValueKind.String ? n.GetValue<string>() : null);

    /// <summary>A Keras activation name; null, as Keras writes "linear" for none, is allowed.</summary>
    public string Activation(string key = "activation") => String(key, "linear");

    /// <summary>
    /// A tuple argument such as kernel_size or strides: a list of integers, or one integer that Keras repeats
    /// <paramref name="repeat"/> times.
    /// </summary>
    public int[] Ints(string key, int repeat) => Required(key, Enumerable.Repeat(1, repeat).ToArray(), () => Ints(key, repeat, null)!);

    public int[]? Ints(string key, int repeat, int[]? fallback)
    {
        var node = config[key];
        if (node is null)
            return fallback;
        if (node is JsonValue && Number(node) is { } one && one == Math.Floor(one) && repeat > 0)
            return Enumerable.Repeat((int)one, repeat).ToArray();
        if (node is JsonArray a && a.All(v => v is not null && Number(v) is { } d && d == Math.Floor(d) && d is >= int.MinValue and <= int.MaxValue))
            return [.. a.Select(v => (int)Number(v!)!.Value)];
        Problems.Add($"'{key}' must be {(repeat > 0 ? "an integer or " : "")}a list of integers, not {node.ToJsonString()}");
        return fallback ?? Enumerable.Repeat(1, Math.Max(repeat, 1)).ToArray();
    }

    /// <summary>
    /// A Keras argument this implementation supports only at some values (data_format "channels_last", groups 1, no
    /// constraints): absent, JSON null or one of <paramref name="supported"/> passes; anything else is a problem
    /// rather than a layer that silently computes something other than the config says.
    /// </summary>
    public void Expect(string key, params JsonNode[] supported)
    {
        var node = config[key];
        if (node is null || supported.Any(s => Same(s, node)))
            return;
        var allowed = supported.Length == 0 ? "null" : string.Join(" or ", supported.Select(s => s.ToJsonString()));
        Problems.Add($"'{key}' {node.ToJsonString()} is not supported (only {allowed})");
    }

    /// <summary>Checks data_format is channels-last (or absent) and returns this reader, for use inside an expression.</summary>
    public ConfigReader ExpectChannelsLast()
    {
        Expect("data_format", "channels_last");
        return this;
    }

    /// <summary>Keras' channels-last data format and no bias regularizer, activity regularizer or constraints.</summary>
    public void ExpectKernelLayerDefaults()
    {
        Expect("data_format", "channels_last");
        foreach (var key in (string[])["bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint"])
            Expect(key);
    }

    /// <summary>
    /// Padding or cropping of height and width as [top, bottom, left, right], from that flat list or any of Keras'
    /// forms: one integer for all sides, [height, width] (symmetric), or [[top, bottom], [left, right]].
    /// </summary>
    public int[] Sides(string key, int[] fallback)
    {
        var node = config[key];
        if (node is null)
            return fallback;
        if (node is JsonArray { Count: 2 } pairs && pairs.All(p => p is JsonArray { Count: 2 }))
        {
            var flat = new JsonObject { [key] = new JsonArray([.. pairs.SelectMany(p => p!.AsArray()).Select(v => v?.DeepClone())]) };
            var reader = new ConfigReader(flat);
            var sides = reader.Ints(key, 0, fallback)!;
            Problems.AddRange(reader.Problems);
            return sides;
        }
        var values = Ints(key, 4, fallback)!;
        return values.Length switch
        {
            4 => values,
            2 => [values[0], values[0], values[1], values[1]],
            _ => Invalid(),
        };

        int[] Invalid()
        {
            Problems.Add($"'{key}' must be an integer, [height, width], [[top, bottom], [left, right]] or [top, bottom, left, right], not {node.ToJsonString()}");
            return fallback;
        }
    }

    /// <summary>An initializer as Keras writes it, <c>{"class_name", "config"}</c>, or by name ("glorot_uniform").</summary>
    public Initializer Initializer(string key, Initializer fallback)
    {
        try
        {
            return config[key] switch
            {
                null => fallback,
                JsonObject o => global::TfPose.Keras.Initializer.FromConfig(o, $"'{key}'"),
                JsonValue v when v.GetValueKind() == JsonValueKind.String => global::TfPose.Keras.Initializer.FromName(v.GetValue<string>()),
                var n => throw new InvalidDataException($"'{key}' must be an initializer object or name, not {n.ToJsonString()}"),
            };
        }
        catch (Exception ex) when (ex is InvalidDataException or ArgumentException or InvalidOperationException or FormatException)
        {
            Problems.Add(ex.Message.TrimEnd('.'));
            return fallback;
        }
    }

    /// <summary>A regularizer object, or null (absent) for none.</summary>
    public Regularizer? Regularizer(string key)
    {
        try
        {
            return config[key] switch
            {
                null => null,
                JsonObject o => global::TfPose.Keras.Regularizer.FromConfig(o, $"'{key}'"),
                var n => throw new InvalidDataException($"'{key}' must be a regularizer object or null, not {n.ToJsonString()}"),
            };
        }
        catch (Exception ex) when (ex is InvalidDataException or InvalidOperationException or FormatException)
        {
            Problems.Add(ex.Message.TrimEnd('.'));
            return null;
        }
    }

    private T Required<T>(string key, T placeholder, Func<T> read)
    {
        if (config[key] is not null)
            return read();
        Problems.Add($"missing '{key}'");
        return placeholder;
    }

    private T Get<T>(string key, T fallback, string expected, Func<JsonNode, T?> convert) where T : struct
    {
        var node = config[key];
        if (node is null)
            return fallback;
        if (node is JsonValue && convert(node) is { } value)
            return value;
        Problems.Add($"'{key}' must be {expected}, not {node.ToJsonString()}");
        return fallback;
    }

    private string Get(string key, string fallback, string expected, Func<JsonNode, string?> convert)
    {
        var node = config[key];
        if (node is null)
            return fallback;
        if (node is JsonValue && convert(node) is { } value)
            return value;
        Problems.Add($"'{key}' must be {expected}, not {node.ToJsonString()}");
        return fallback;
    }

    /// <summary>JSON equality with numbers compared as numbers (Keras writes 0.0 where 0 is meant).</summary>
    private static bool Same(JsonNode a, JsonNode b) => (a, b) switch
    {
        (JsonArray x, JsonArray y) => x.Count == y.Count && x.Zip(y).All(p => p.First is not null && p.Second is not null && Same(p.First, p.Second)),
        _ when Number(a) is { } x && Number(b) is { } y => x == y,
        _ => a.ToJsonString() == b.ToJsonString(),
    };

    private static double? Number(JsonNode n) =>
        n is JsonValue && n.GetValueKind() == JsonValueKind.Number
            ? double.Parse(n.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture)
            : null;
}
