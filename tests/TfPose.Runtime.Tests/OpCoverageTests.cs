using System.Reflection;
using TfPose.Graph.Translation;

namespace TfPose.Runtime.Tests;

public class OpCoverageTests
{
    [Fact]
    public void Every_supported_op_has_a_single_op_test()
    {
        var tested = typeof(OpCoverageTests).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance))
            .SelectMany(m => m.GetCustomAttributes<OpTestAttribute>())
            .SelectMany(a => a.Ops)
            .ToHashSet(StringComparer.Ordinal);
        var untested = GraphTranslator.SupportedOps.Where(op => !tested.Contains(op)).ToList();
        Assert.True(untested.Count == 0, $"{untested.Count} supported op(s) have no [OpTest]: {string.Join(", ", untested)}");
        var unknown = tested.Where(op => !GraphTranslator.SupportedOps.Contains(op)).ToList();
        Assert.True(unknown.Count == 0, $"[OpTest] names ops that are not registered: {string.Join(", ", unknown)}");
    }
}
