namespace TfPose.Datasets.Mat;

public sealed class MatCellArray : MatArray
{
    private readonly MatArray[] _cells;

    public MatCellArray(string name, int[] dimensions, MatArray[] rowMajorCells)
        : base(name, dimensions)
    {
        if (rowMajorCells.Length != Count)
            throw new ArgumentException($"{rowMajorCells.Length} cells for dimensions {DimensionsText}", nameof(rowMajorCells));
        _cells = rowMajorCells;
    }

    public override MatClass Class => MatClass.Cell;

    /// <summary>Cells in row-major order.</summary>
    public IReadOnlyList<MatArray> Cells => _cells;

    public MatArray this[int index] => _cells[index];

    public MatArray this[int row, int column] => _cells[LinearIndex([row, column])];
}
