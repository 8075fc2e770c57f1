using System.Text.Json;
using System.Text.Json.Nodes;

namespace TfPose.Keras;

/// <summary>
/// Whole models on disk, so <see cref="Model.Load"/> rebuilds them without the code that defined them. A model
/// folder holds two files:
/// <list type="bullet">
/// <item><c>config.json</c>: <c>{"format": "tfpose-keras-model-1", "model": M}</c> where M is
/// <c>{"class_name": "Sequential" | "Functional", "name", "seed", "trainable", "layers": [L...], ...}</c>.
/// Each L is <c>{"class_name": "Dense", "name": "dense", "trainable": true, "config": {...}}</c>: the config is the
/// layer's <see cref="Layer.GetConfig"/> (Keras' argument names: units, activation, kernel_size, strides, padding, ...;
/// initialisers and regularisers as <c>{"class_name", "config"}</c>) without name and trainable, which sit beside it,
/// and class_name picks the layer's <c>FromConfig</c> (<see cref="LayerRegistry"/>) on loading. A nested model's L
/// has class_name Sequential/Functional and M as its config.
/// A Sequential M adds <c>"input_shape"</c> and lists its stack in order. A Functional M adds
/// <c>"inputs": [{"name", "shape"}]</c>, <c>"nodes": [{"layer": name, "inputs": [ref...]}]</c> in execution order and
/// <c>"outputs": [ref...]</c>, where a ref is <c>{"input": i}</c> (model input i) or <c>{"node": k}</c> (output of node k).
/// Shapes are channels-last without the batch dimension.</item>
/// <item><c>model.safetensors</c>: the weights exactly as <see cref="Model.SaveWeights"/> writes them
/// ("layer/weight" in Keras layouts, nested models prefixed by their name).</item>
/// </list>
/// The compile configuration (optimizer, loss) is not saved: compile the loaded model to train it further.
/// </summary>
internal static class ModelFile
{
    public const string Format = "tfpose-keras-model-1";
    public const string ConfigName = "config.json";
    public const string WeightsName = "model.safetensors";

    public static void Save(Model model, string directory)
    {
        var full = Path.GetFullPath(directory).TrimEnd(Path.DirectorySeparatorChar);
        var config = new JsonObject { ["format"] = Format, ["model"] = ModelConfig(model) };
        // Written into a sibling folder and swapped in, so a reader never sees a config with other weights.
        var tmp = full + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        Directory.CreateDirectory(tmp);
        try
        {
            File.WriteAllText(Path.Combine(tmp, ConfigName), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            model.SaveWeights(Path.Combine(tmp, WeightsName), metadata: new Dictionary<string, string> { ["format"] = Format });
            if (Directory.Exists(full))
            {
                foreach (var name in new[] { ConfigName, WeightsName })
                    File.Move(Path.Combine(tmp, name), Path.Combine(full, name), overwrite: true);
                Directory.Delete(tmp, true);
            }
            else
            {
                Directory.Move(tmp, full);
            }
        }
        catch
        {
            if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
            throw;
        }
    }

    public static Model Load(string directory, string device)
    {
        var configPath = Path.Combine(directory, ConfigName);
        var weightsPath = Path.Combine(directory, WeightsName);
        if (!File.Exists(configPath))
            throw new FileNotFoundException($"{directory}: no {ConfigName}; a saved model folder holds {ConfigName} and {WeightsName} (Model.Save).", configPath);
        JsonObject root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(configPath)) as JsonObject ?? throw new InvalidDataException($"{configPath}: not a JSON object.");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{configPath}: invalid JSON: {ex.Message}", ex);
        }
        if (root["format"]?.GetValue<string>() != Format)
            throw new InvalidDataException($"{configPath}: format is '{root["format"]}', expected '{Format}'.");
        var model = BuildModel(Obj(root, "model", configPath), configPath, device);
        try
        {
            model.LoadWeights(weightsPath);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return model;
    }

    // ----- writing -----

    private static JsonObject ModelConfig(Model model)
    {
        var o = new JsonObject { ["class_name"] = model.KerasName, ["name"] = model.Name, ["seed"] = model.Seed, ["trainable"] = model.Trainable };
        if (model is Sequential)
        {
            o["input_shape"] = Ints(model.Inputs[0].Shape);
            o["layers"] = new JsonArray([.. model.Nodes.Select(n => LayerEntry(n.Layer))]);
            return o;
        }
        o["layers"] = new JsonArray([.. model.Layers.Select(LayerEntry)]);
        var index = new Dictionary<KerasTensor, JsonObject>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < model.Inputs.Count; i++)
            index[model.Inputs[i]] = new JsonObject { ["input"] = i };
        var nodes = new JsonArray();
        foreach (var n in model.Nodes)
        {
            nodes.Add(new JsonObject { ["layer"] = n.Layer.Name, ["inputs"] = new JsonArray([.. n.Inputs.Select(t => index[t].DeepClone())]) });
            index[n.Output] = new JsonObject { ["node"] = nodes.Count - 1 };
        }
        o["inputs"] = new JsonArray([.. model.Inputs.Select(t => new JsonObject { ["name"] = t.Input?.Name ?? t.Name, ["shape"] = Ints(t.Shape) })]);
        o["nodes"] = nodes;
        o["outputs"] = new JsonArray([.. model.Outputs.Select(t => index[t].DeepClone())]);
        return o;
    }

    private static JsonArray Ints(IEnumerable<int> v) => LayerConfig.Ints(v);

    private static JsonObject LayerEntry(Layer layer)
    {
        JsonObject config;
        if (layer is Model m)
        {
            config = ModelConfig(m);
        }
        else
        {
            if (!LayerRegistry.Contains(layer.KerasName))
                throw NoConfig(layer);
            try
            {
                config = layer.GetConfig();
            }
            catch (NotSupportedException ex)
            {
                throw NoConfig(layer, ex);
            }
            // Name and trainable live beside the config, where the format has always kept them.
            config.Remove("name");
            config.Remove("trainable");
        }
        return new JsonObject { ["class_name"] = layer.KerasName, ["name"] = layer.Name, ["trainable"] = layer.Trainable, ["config"] = config };
    }

    private static NotSupportedException NoConfig(Layer layer, Exception? inner = null) =>
        new($"Model.Save: layer '{layer.Name}' ({layer.GetType().Name}) has no saved-model config; save its weights with SaveWeights and rebuild it in code.", inner);

    // ----- reading -----

    private static JsonObject Obj(JsonNode? parent, string key, string where) =>
        parent?[key] as JsonObject ?? throw new InvalidDataException($"{where}: missing object '{key}'.");

    private static JsonArray Arr(JsonNode? parent, string key, string where) =>
        parent?[key] as JsonArray ?? throw new InvalidDataException($"{where}: missing array '{key}'.");

    private static T Val<T>(JsonNode? parent, string key, string where)
    {
        try
        {
            return parent?[key] is { } v ? v.GetValue<T>() : throw new InvalidDataException($"{where}: missing '{key}'.");
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{where}: '{key}' is not a {typeof(T).Name}: {ex.Message}", ex);
        }
    }

    private static int[] IntArray(JsonNode? parent, string key, string where) =>
        [.. Arr(parent, key, where).Select(v => v?.GetValue<int>() ?? throw new InvalidDataException($"{where}: null in '{key}'."))];

    private static Model BuildModel(JsonObject m, string file, string device)
    {
        var className = Val<string>(m, "class_name", file);
        var name = Val<string>(m, "name", file);
        var where = $"{file}: model '{name}'";
        int seed = Val<int>(m, "seed", where);
        var layerConfigs = Arr(m, "layers", where).Select(l => l as JsonObject ?? throw new InvalidDataException($"{where}: a layer entry is not an object.")).ToList();
        Model model;
        if (className == "Sequential")
        {
            var seq = new Sequential(name: name, seed: seed, device: device);
            seq.Add(new InputLayer(IntArray(m, "input_shape", where)));
            foreach (var lc in layerConfigs)
                seq.Add(BuildLayer(lc, where, device));
            model = seq;
        }
        else if (className == "Functional")
        {
            var layers = new Dictionary<string, Layer>();
            foreach (var lc in layerConfigs)
            {
                var layer = BuildLayer(lc, where, device);
                if (!layers.TryAdd(layer.Name, layer))
                    throw new InvalidDataException($"{where}: two layers are named '{layer.Name}'.");
            }
            var inputs = Arr(m, "inputs", where).Select(i => Keras.Input(IntArray(i, "shape", where), Val<string>(i, "name", where))).ToArray();
            var outputs = new List<KerasTensor>();
            KerasTensor Resolve(JsonNode? r)
            {
                if (r?["input"] is { } ii)
                    return ii.GetValue<int>() is var i && i >= 0 && i < inputs.Length ? inputs[i] : throw new InvalidDataException($"{where}: input reference {i} out of range.");
                if (r?["node"] is { } nn)
                    return nn.GetValue<int>() is var k && k >= 0 && k < outputs.Count ? outputs[k] : throw new InvalidDataException($"{where}: node reference {k} is not an earlier node.");
                throw new InvalidDataException($"{where}: a tensor reference must be {{\"input\": i}} or {{\"node\": k}}, got {r?.ToJsonString()}.");
            }
            foreach (var n in Arr(m, "nodes", where))
            {
                var layerName = Val<string>(n, "layer", where);
                if (!layers.TryGetValue(layerName, out var layer))
                    throw new InvalidDataException($"{where}: a node calls unknown layer '{layerName}'.");
                outputs.Add(layer.Call([.. Arr(n, "inputs", where).Select(Resolve)]));
            }
            model = new Model(inputs, [.. Arr(m, "outputs", where).Select(Resolve)], name: name, seed: seed, device: device);
        }
        else
        {
            throw new InvalidDataException($"{where}: unknown model class '{className}' (expected Sequential or Functional).");
        }
        model.Trainable = m["trainable"]?.GetValue<bool>() ?? true;
        return model;
    }

    private static Layer BuildLayer(JsonObject l, string modelWhere, string device)
    {
        var className = Val<string>(l, "class_name", modelWhere);
        var name = Val<string>(l, "name", modelWhere);
        var where = $"{modelWhere}, layer '{name}' ({className})";
        var c = Obj(l, "config", where);
        var trainable = l["trainable"]?.GetValue<bool>() ?? true;
        if (className is "Sequential" or "Functional")
        {
            var model = BuildModel(c, modelWhere, device);
            model.Trainable = trainable;
            return model;
        }
        // FromConfig takes Keras' get_config form, name and trainable included.
        var config = new JsonObject { ["name"] = name, ["trainable"] = trainable };
        foreach (var (key, value) in c)
            if (key is not ("name" or "trainable"))
                config[key] = value?.DeepClone();
        try
        {
            return LayerRegistry.TryFromConfig(className, config, out var layer)
                ? layer!
                : throw new InvalidDataException($"{where}: unknown layer class '{className}'; known: {string.Join(", ", LayerRegistry.ClassNames)}.");
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"{where}: invalid config: {ex.Message}", ex);
        }
    }
}
