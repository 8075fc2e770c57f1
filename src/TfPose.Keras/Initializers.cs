using TorchSharp;
using static TorchSharp.torch;

namespace TfPose.Keras;

/// <summary>Weight initialisers with Keras' names, defaults and fan computations.</summary>
public abstract class Initializer
{
    /// <summary>Fills <paramref name="t"/> in place. fanIn/fanOut are computed from the Keras-layout shape.</summary>
    internal abstract void Fill(Tensor t, long fanIn, long fanOut, Generator generator);

    internal abstract string Describe();

    /// <summary>Keras-style config for saved models: {"class_name": ..., "config": {...}}.</summary>
    internal abstract System.Text.Json.Nodes.JsonObject ToConfig();

    internal static Initializer FromConfig(System.Text.Json.Nodes.JsonObject o, string where)
    {
        var c = o["config"] as System.Text.Json.Nodes.JsonObject;
        double Get(string key) => c?[key]?.GetValue<double>() ?? throw new InvalidDataException($"{where}: initializer '{o["class_name"]}' lacks '{key}'.");
        return o["class_name"]?.GetValue<string>() switch
        {
            "GlorotUniform" => GlorotUniform(),
            "HeUniform" => HeUniform(),
            "RandomNormal" => RandomNormal(Get("mean"), Get("stddev")),
            "Constant" => Constant(Get("value")),
            var n => throw new InvalidDataException($"{where}: unknown initializer '{n}'."),
        };
    }

    private static System.Text.Json.Nodes.JsonObject Config(string className, System.Text.Json.Nodes.JsonObject? config = null) =>
        new() { ["class_name"] = className, ["config"] = config ?? new System.Text.Json.Nodes.JsonObject() };

    public static Initializer GlorotUniform() => new GlorotUniformInit();
    public static Initializer HeUniform() => new HeUniformInit();
    public static Initializer RandomNormal(double mean = 0.0, double stddev = 0.05) => new RandomNormalInit(mean, stddev);
    public static Initializer Zeros() => new ConstantInit(0);
    public static Initializer Ones() => new ConstantInit(1);
    public static Initializer Constant(double value) => new ConstantInit(value);

    /// <summary>Parses a Keras initialiser name ("glorot_uniform", "he_uniform", "zeros", "ones", "random_normal").</summary>
    public static Initializer FromName(string name) => name switch
    {
        "glorot_uniform" => GlorotUniform(),
        "he_uniform" => HeUniform(),
        "random_normal" => RandomNormal(),
        "zeros" => Zeros(),
        "ones" => Ones(),
        _ => throw new ArgumentException($"Unknown initializer '{name}'. Known: glorot_uniform, he_uniform, random_normal, zeros, ones."),
    };

    public static implicit operator Initializer(string name) => FromName(name);

    private sealed class GlorotUniformInit : Initializer
    {
        internal override void Fill(Tensor t, long fanIn, long fanOut, Generator g)
        {
            var limit = Math.Sqrt(6.0 / (fanIn + fanOut));
            using (no_grad()) t.uniform_(-limit, limit, generator: g);
        }
        internal override string Describe() => "glorot_uniform";
        internal override System.Text.Json.Nodes.JsonObject ToConfig() => Config("GlorotUniform");
    }

    private sealed class HeUniformInit : Initializer
    {
        internal override void Fill(Tensor t, long fanIn, long fanOut, Generator g)
        {
            var limit = Math.Sqrt(6.0 / fanIn);
            using (no_grad()) t.uniform_(-limit, limit, generator: g);
        }
        internal override string Describe() => "he_uniform";
        internal override System.Text.Json.Nodes.JsonObject ToConfig() => Config("HeUniform");
    }

    private sealed class RandomNormalInit(double mean, double stddev) : Initializer
    {
        internal override void Fill(Tensor t, long fanIn, long fanOut, Generator g)
        {
            using (no_grad()) t.normal_(mean, stddev, generator: g);
        }
        internal override string Describe() => $"random_normal(mean={mean}, stddev={stddev})";
        internal override System.Text.Json.Nodes.JsonObject ToConfig() => Config("RandomNormal", new() { ["mean"] = mean, ["stddev"] = stddev });
    }

    private sealed class ConstantInit(double value) : Initializer
    {
        internal override void Fill(Tensor t, long fanIn, long fanOut, Generator g)
        {
            using (no_grad()) t.fill_(value);
        }
        internal override string Describe() => value == 0 ? "zeros" : value == 1 ? "ones" : $"constant({value})";
        internal override System.Text.Json.Nodes.JsonObject ToConfig() => Config("Constant", new() { ["value"] = value });
    }
}

/// <summary>Weight penalties added to the training loss, as Keras' kernel_regularizer.</summary>
public abstract class Regularizer
{
    internal abstract Tensor Penalty(Tensor weight);

    internal abstract System.Text.Json.Nodes.JsonObject ToConfig();

    internal static Regularizer FromConfig(System.Text.Json.Nodes.JsonObject o, string where) => o["class_name"]?.GetValue<string>() switch
    {
        "L2" => L2(o["config"]?["l2"]?.GetValue<double>() ?? throw new InvalidDataException($"{where}: L2 regularizer lacks 'l2'.")),
        var n => throw new InvalidDataException($"{where}: unknown regularizer '{n}'."),
    };

    /// <summary>l * sum(w²), Keras' L2 (no factor 1/2).</summary>
    public static Regularizer L2(double l = 0.01) => new L2Reg(l);

    private sealed class L2Reg(double l) : Regularizer
    {
        internal override Tensor Penalty(Tensor w) => w.square().sum().mul(l);
        internal override System.Text.Json.Nodes.JsonObject ToConfig() => new() { ["class_name"] = "L2", ["config"] = new System.Text.Json.Nodes.JsonObject { ["l2"] = l } };
    }
}
