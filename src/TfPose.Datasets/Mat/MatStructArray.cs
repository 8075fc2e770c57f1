namespace TfPose.Datasets.Mat;

/// <summary>A struct array (or a MATLAB object, which has the same layout plus a class name).</summary>
public sealed class MatStructArray : MatArray
{
    private readonly string[] _fieldNames;
    private readonly Dictionary<string, int> _fieldIndex;
    private readonly MatArray[] _values;

    /// <param name="values">Field values, element by element in row-major order, fields in declaration order.</param>
    public MatStructArray(string name, int[] dimensions, string[] fieldNames, MatArray[] values, string? objectClassName = null)
        : base(name, dimensions)
    {
        if (values.Length != (long)Count * fieldNames.Length)
            throw new ArgumentException($"{values.Length} values for {Count} elements of {fieldNames.Length} fields", nameof(values));
        _fieldNames = fieldNames;
        _values = values;
        ObjectClassName = objectClassName;
        _fieldIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < fieldNames.Length; i++)
            _fieldIndex.TryAdd(fieldNames[i], i);
    }

    public override MatClass Class => ObjectClassName is null ? MatClass.Struct : MatClass.Object;

    public override string ClassName => ObjectClassName ?? "struct";

    /// <summary>For MATLAB objects, the class name stored in the file; null for plain structs.</summary>
    public string? ObjectClassName { get; }

    public IReadOnlyList<string> FieldNames => _fieldNames;

    public bool HasField(string field) => _fieldIndex.ContainsKey(field);

    /// <summary>Field of element <paramref name="index"/> (row-major, zero-based).</summary>
    public MatArray Get(int index, string field)
    {
        if ((uint)index >= (uint)Count)
            throw new IndexOutOfRangeException($"struct element {index} out of range; '{Name}' is {DimensionsText}");
        if (!_fieldIndex.TryGetValue(field, out var f))
            throw new KeyNotFoundException($"struct has no field '{field}'; fields: {string.Join(", ", _fieldNames)}");
        return _values[index * _fieldNames.Length + f];
    }

    /// <summary>Field of a scalar (1×1) struct.</summary>
    public MatArray this[string field] => Count == 1
        ? Get(0, field)
        : throw new InvalidOperationException($"struct is {DimensionsText}; use Get(index, \"{field}\")");

    public MatArray this[int index, string field] => Get(index, field);
}
