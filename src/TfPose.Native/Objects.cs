using System.Runtime.InteropServices;
using System.Text;
using Microsoft.ML.OnnxRuntime.Tensors;
using OpenCvSharp;
using TfPose.Pose;
using TfPose.Runtime;

namespace TfPose.Native;

/// <summary>tfpose_tensor_info in C layout.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct NativeTensorInfo
{
    public byte* Name;
    public int DType;
    public int Rank;
    public long* Shape;
}

/// <summary>
/// Name and shape of a tensor kept in pinned-object-heap arrays: C borrows the pointers for as long as
/// the owning handle lives, and the arrays never move or need freeing by hand.
/// </summary>
internal sealed unsafe class PinnedTensorInfo
{
    private readonly byte[] _name;
    private readonly long[] _shape;

    public PinnedTensorInfo(string name, TensorElementType type, long[]? shape)
    {
        var count = Encoding.UTF8.GetByteCount(name);
        _name = GC.AllocateArray<byte>(count + 1, pinned: true);
        Encoding.UTF8.GetBytes(name, _name);
        Rank = shape?.Length ?? -1;
        _shape = GC.AllocateArray<long>(Math.Max(1, shape?.Length ?? 0), pinned: true);
        shape?.CopyTo(_shape, 0);
        DType = ToDType(type);
    }

    public int Rank { get; }

    public int DType { get; }

    public NativeTensorInfo ToNative() => new()
    {
        Name = (byte*)Marshal.UnsafeAddrOfPinnedArrayElement(_name, 0),
        DType = DType,
        Rank = Rank,
        Shape = Rank > 0 ? (long*)Marshal.UnsafeAddrOfPinnedArrayElement(_shape, 0) : null,
    };

    // tfpose_dtype uses ONNX's TensorProto numbering, as does TensorElementType.
    public static int ToDType(TensorElementType type) => type switch
    {
        TensorElementType.Float or TensorElementType.UInt8 or TensorElementType.Int8 or TensorElementType.Int32
            or TensorElementType.Int64 or TensorElementType.Bool or TensorElementType.Double => (int)type,
        _ => 0,
    };

    public static int ElementSize(int dtype) => dtype switch
    {
        1 or 6 => 4,
        2 or 3 or 9 => 1,
        7 or 11 => 8,
        _ => 0,
    };
}

/// <summary>A graph session with its input/output descriptions pinned for C.</summary>
internal sealed class NativeSession(GraphSession session) : IDisposable
{
    public GraphSession Session { get; } = session;

    public PinnedTensorInfo[] Inputs { get; } = session.Inputs.Select(i => new PinnedTensorInfo(i.Name, i.ElementType, i.Shape)).ToArray();

    public PinnedTensorInfo[] Outputs { get; } = session.Outputs.Select(o => new PinnedTensorInfo(o.Name, o.ElementType, o.Shape)).ToArray();

    public void Dispose() => Session.Dispose();
}

/// <summary>The tensors of one run; their data stays in ONNX Runtime's buffers (no copy) until freed.</summary>
internal sealed class NativeResults(GraphResults results) : IDisposable
{
    public GraphResults Results { get; } = results;

    public PinnedTensorInfo[] Infos { get; } = results.Select((t, i) => new PinnedTensorInfo(results.Names[i], t.ElementType, t.Shape)).ToArray();

    public void Dispose() => Results.Dispose();
}

/// <summary>
/// A pose estimator. Still-image calls run concurrently (<see cref="PoseEstimator"/> is thread-safe for them); video
/// calls take <see cref="VideoGate"/>, since the estimator rejects overlapping video calls and C callers expect to queue.
/// </summary>
internal sealed class NativeEstimator(PoseEstimator estimator) : IDisposable
{
    public PoseEstimator Estimator { get; } = estimator;

    public Lock VideoGate { get; } = new();

    // The estimator waits for calls still running on other threads, so a free racing an estimate cannot pull the
    // networks from under it; a call that starts after it fails with an error status.
    public void Dispose() => Estimator.Dispose();
}

/// <summary>The people found in one image.</summary>
internal sealed unsafe class NativePeople(List<Person> people, int imageWidth, int imageHeight, Mat? mask = null) : IDisposable
{
    private byte[][]? _names;

    public List<Person> People { get; } = people;

    public int ImageWidth { get; } = imageWidth;

    public int ImageHeight { get; } = imageHeight;

    /// <summary>The segmentation mask of the image (a copy, owned here), or null.</summary>
    public Mat? Mask { get; } = mask;

    /// <summary>The keypoint set of these people (all of one estimator share it); null when there are none.</summary>
    public KeypointSet? KeypointSet => People.Count > 0 ? People[0].KeypointSet : null;

    /// <summary>
    /// A NUL-terminated UTF-8 name C may borrow while this handle lives: index −1 is the set's name, others its
    /// keypoints'. Pinned arrays, made on first use.
    /// </summary>
    public byte* Name(KeypointSet set, int index)
    {
        _names ??= [.. new[] { set.Name }.Concat(set.Names).Select(Pinned)];
        return (byte*)Marshal.UnsafeAddrOfPinnedArrayElement(_names[index + 1], 0);
    }

    private static byte[] Pinned(string text)
    {
        var bytes = GC.AllocateArray<byte>(Encoding.UTF8.GetByteCount(text) + 1, pinned: true);
        Encoding.UTF8.GetBytes(text, bytes);
        return bytes;
    }

    public void Dispose() => Mask?.Dispose();
}

/// <summary>An image read by tfpose_image_read (a continuous BGR Mat).</summary>
internal sealed class NativeImage(Mat mat) : IDisposable
{
    public Mat Mat { get; } = mat;

    public void Dispose() => Mat.Dispose();
}
