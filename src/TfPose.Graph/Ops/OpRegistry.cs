namespace TfPose.Graph.Ops;

/// <summary>
/// The one table of ops TfPose understands. An op is added as one <see cref="OpUnit"/> in the family file where
/// it belongs (its shape rule, translation and FLOPs side by side) and a single-op test marked
/// <c>[OpTest("Name")]</c>; a test checks that every op here has one.
/// </summary>
internal static class OpRegistry
{
    private static readonly Dictionary<string, OpUnit> Table = Build();

    public static IReadOnlyCollection<OpUnit> All => Table.Values;

    public static OpUnit? Find(string op) => Table.GetValueOrDefault(op);

    /// <summary>Whether the op can be translated (directly, or by lowering into ops that can).</summary>
    public static bool IsSupported(string op) => Table.TryGetValue(op, out var unit) && (unit.Translate is not null || unit.Lower is not null);

    private static Dictionary<string, OpUnit> Build()
    {
        IEnumerable<OpUnit>[] families =
        [
            IoOps.Units,
            ElementwiseOps.Units,
            MathOps.Units,
            ComparisonOps.Units,
            ConvOps.Units,
            ShapeOps.Units,
            ReductionOps.Units,
            IndexingOps.Units,
            FusedOps.Units,
            ControlFlowOps.Units,
            SpatialOps.Units.Concat(MatMulOps.Units).Concat(NmsOps.Units),
            MediaPipeOps.Units,
            QuantizationOps.Units,
        ];
        var table = new Dictionary<string, OpUnit>(StringComparer.Ordinal);
        foreach (var unit in families.SelectMany(f => f))
        {
            if (!table.TryAdd(unit.Name, unit))
                throw new InvalidOperationException($"Op {unit.Name} is registered twice.");
        }
        return table;
    }
}
