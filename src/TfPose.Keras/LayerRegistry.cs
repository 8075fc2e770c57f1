using System.Collections.Frozen;
using System.Reflection;
using System.Text.Json.Nodes;

namespace TfPose.Keras;

/// <summary>
/// Implemented by every layer that saved models can hold: Keras' <c>from_config</c>. With <see cref="Layer.GetConfig"/>
/// (<c>get_config</c>) it lets <see cref="Model.Load"/> rebuild the layer; implementing it is the layer's registration.
/// </summary>
public interface IKerasLayer<TSelf> where TSelf : Layer, IKerasLayer<TSelf>
{
    /// <summary>Rebuilds the layer from <see cref="Layer.GetConfig"/>'s output; absent keys take Keras' defaults.</summary>
    /// <exception cref="ArgumentException">The config lacks a required argument or holds a bad value (all listed).</exception>
    static abstract TSelf FromConfig(JsonObject config);
}

/// <summary>
/// The layer classes saved models may name, keyed by Keras class name (the C# class name, as Keras uses the Python
/// one). Found once by reflection over this assembly, which is the only place layers can be defined, since
/// <see cref="Layer"/>'s forward pass is internal: adding a layer is adding its class.
/// </summary>
internal static class LayerRegistry
{
    private static readonly FrozenDictionary<string, (Type Type, Func<JsonObject, Layer> FromConfig)> Types = Discover();

    public static IEnumerable<string> ClassNames => Types.Keys.Order(StringComparer.Ordinal);

    public static IEnumerable<Type> LayerTypes => Types.Values.Select(v => v.Type);

    public static bool Contains(string className) => Types.ContainsKey(className);

    public static bool TryFromConfig(string className, JsonObject config, out Layer? layer)
    {
        layer = Types.TryGetValue(className, out var entry) ? entry.FromConfig(config) : null;
        return layer is not null;
    }

    private static FrozenDictionary<string, (Type, Func<JsonObject, Layer>)> Discover()
    {
        var factory = typeof(LayerRegistry).GetMethod(nameof(Factory), BindingFlags.NonPublic | BindingFlags.Static)!;
        return typeof(Layer).Assembly.GetTypes()
            .Where(t => t is { IsAbstract: false, IsGenericTypeDefinition: false } && t.GetInterfaces().Any(i =>
                i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IKerasLayer<>) && i.GetGenericArguments()[0] == t))
            .ToFrozenDictionary(t => t.Name, t => (t, (Func<JsonObject, Layer>)factory.MakeGenericMethod(t).Invoke(null, null)!), StringComparer.Ordinal);
    }

    private static Func<JsonObject, Layer> Factory<T>() where T : Layer, IKerasLayer<T> => config => T.FromConfig(config);
}
