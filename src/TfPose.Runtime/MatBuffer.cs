using OpenCvSharp;
using OpenCvSharp.Internal;

namespace TfPose.Runtime;

/// <summary>
/// A Mat written call after call (OpenCV's output-argument pattern: a destination already of the right size and type is
/// written in place), with its OpenCV array views made once. OpenCvSharp wraps every plain Mat argument of a call in a
/// new <see cref="InputArray"/> or <see cref="OutputArray"/>, an object with native memory per argument per call, and
/// disposes an <see cref="OutputArray"/> after one use; a loop over frames that must not allocate writes through this
/// buffer's operations and reads it through <see cref="Input"/>.
/// </summary>
public sealed class MatBuffer : IDisposable
{
    // Kept away from Cv2's functions, which dispose the OutputArray they are given.
    private readonly OutputArray _output;

    public MatBuffer()
        : this(new Mat())
    {
    }

    /// <summary>A buffer over a region of <paramref name="parent"/> (a view sharing its pixels, as <c>new Mat(parent, roi)</c>).</summary>
    public MatBuffer(Mat parent, Rect roi)
        : this(new Mat(parent, roi))
    {
    }

    private MatBuffer(Mat mat)
    {
        Mat = mat;
        // Both views refer to the Mat's header, not its pixels, so they stay valid when an operation reallocates it.
        Input = InputArray.Create(Mat);
        _output = OutputArray.Create(Mat);
    }

    public Mat Mat { get; }

    /// <summary>The Mat as a source argument of Cv2 functions, made once.</summary>
    public InputArray Input { get; }

    /// <summary><see cref="Cv2.Resize"/> of <paramref name="src"/> into this buffer.</summary>
    public void Resize(InputArray src, Size size, InterpolationFlags interpolation)
    {
        ArgumentNullException.ThrowIfNull(src);
        NativeMethods.HandleException(NativeMethods.imgproc_resize(src.CvPtr, _output.CvPtr, size, 0, 0, (int)interpolation));
        GC.KeepAlive(src);
        GC.KeepAlive(this);
    }

    /// <summary><see cref="Mat.ConvertTo"/> of <paramref name="src"/> into this buffer: value · alpha + beta as <paramref name="type"/>.</summary>
    public void ConvertFrom(Mat src, MatType type, double alpha, double beta)
    {
        ArgumentNullException.ThrowIfNull(src);
        NativeMethods.HandleException(NativeMethods.core_Mat_convertTo(src.CvPtr, _output.CvPtr, type, alpha, beta));
        GC.KeepAlive(src);
        GC.KeepAlive(this);
    }

    /// <summary><see cref="Cv2.CvtColor"/> of this buffer in place (a conversion that keeps the channel count and depth).</summary>
    public void CvtColor(ColorConversionCodes code)
    {
        NativeMethods.HandleException(NativeMethods.imgproc_cvtColor(Input.CvPtr, _output.CvPtr, (int)code, 0));
        GC.KeepAlive(this);
    }

    /// <summary><see cref="Cv2.WarpAffine"/> of <paramref name="src"/> into this buffer (<paramref name="map"/> a 2×3 matrix).</summary>
    public void WarpAffine(InputArray src, MatBuffer map, Size size, InterpolationFlags flags, BorderTypes border, Scalar borderValue)
    {
        ArgumentNullException.ThrowIfNull(src);
        ArgumentNullException.ThrowIfNull(map);
        NativeMethods.HandleException(NativeMethods.imgproc_warpAffine(src.CvPtr, _output.CvPtr, map.Input.CvPtr, size, (int)flags, (int)border, borderValue));
        GC.KeepAlive(src);
        GC.KeepAlive(map);
        GC.KeepAlive(this);
    }

    public void Dispose()
    {
        Input.Dispose();
        _output.Dispose();
        Mat.Dispose();
    }
}
