using System.Numerics;

namespace TfPose.Datasets.Mat;

/// <summary>Numeric or logical array, independent of its element type.</summary>
public abstract class MatNumeric : MatArray
{
    private protected MatNumeric(string name, int[] dimensions, MatClass cls, bool isLogical)
        : base(name, dimensions)
    {
        Class = cls;
        IsLogical = isLogical;
    }

    public override MatClass Class { get; }

    public bool IsLogical { get; }

    public abstract bool IsComplex { get; }

    public override string ClassName => Class.ToMatlabName(IsLogical);

    /// <summary>Real part of element <paramref name="index"/> (row-major) widened to double.</summary>
    public abstract double GetDouble(int index);
}

/// <summary>
/// A numeric array whose CLR element type matches its MATLAB class (double → double, uint8 → byte, ...;
/// logical → byte). Values are converted from whatever smaller type the file used to store them.
/// </summary>
public sealed class MatNumericArray<T> : MatNumeric
    where T : unmanaged, INumber<T>
{
    public MatNumericArray(string name, int[] dimensions, MatClass cls, T[] real, T[]? imaginary = null, bool isLogical = false)
        : base(name, dimensions, cls, isLogical)
    {
        if (real.Length != Count)
            throw new ArgumentException($"{real.Length} values for dimensions {DimensionsText}", nameof(real));
        if (imaginary is not null && imaginary.Length != Count)
            throw new ArgumentException($"{imaginary.Length} imaginary values for dimensions {DimensionsText}", nameof(imaginary));
        Real = real;
        Imaginary = imaginary;
    }

    /// <summary>Real part, row-major.</summary>
    public T[] Real { get; }

    /// <summary>Imaginary part, row-major, or null for real arrays.</summary>
    public T[]? Imaginary { get; }

    public override bool IsComplex => Imaginary is not null;

    public T this[int row, int column] => Real[LinearIndex([row, column])];

    public override double GetDouble(int index) => double.CreateTruncating(Real[index]);
}
