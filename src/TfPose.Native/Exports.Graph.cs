using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TfPose.Runtime;

namespace TfPose.Native;

/// <summary>tfpose_session_options in C layout.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NativeSessionOptions
{
    public uint StructSize;
    public int IntraOpThreads;
    public int Device;
    public int DeviceId;
}

/// <summary>tfpose_feed in C layout.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct NativeFeed
{
    public byte* Name;
    public int DType;
    public int Rank;
    public long* Shape;
    public void* Data;
    public nuint ByteSize;
}

internal static unsafe partial class Exports
{
    [UnmanagedCallersOnly(EntryPoint = "tfpose_session_create", CallConvs = [typeof(CallConvCdecl)])]
    public static nint SessionCreate(byte* graphPath, NativeSessionOptions* options, nint* session)
    {
        try
        {
            Out(session, nameof(session));
            var path = Utf8(graphPath, "graph_path");
            if (!File.Exists(path))
                throw new FileNotFoundException($"Graph not found: {path}", path);
            var o = ReadOptions(options, "options");
            if (o.Device is < 0 or > 2)
                throw new ArgumentException($"options->device is {o.Device}; use TFPOSE_DEVICE_CPU (0), _CUDA (1) or _TENSORRT (2).");
            if (o.IntraOpThreads < 0)
                throw new ArgumentException($"options->intra_op_threads is {o.IntraOpThreads}; use 0 for the default or a positive count.");
            var graphSession = new GraphSession(path, new GraphSessionOptions
            {
                IntraOpThreads = o.IntraOpThreads,
                Device = (ExecutionDevice)o.Device,
                DeviceId = o.DeviceId,
            });
            *session = AddOrDispose(new NativeSession(graphSession), HandleKind.Session);
            return 0;
        }
        catch (Exception ex)
        {
            return Status.FromException(ex);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tfpose_session_free", CallConvs = [typeof(CallConvCdecl)])]
    public static nint SessionFree(nint session) => Free<NativeSession>(session, HandleKind.Session, nameof(session));

    [UnmanagedCallersOnly(EntryPoint = "tfpose_session_input_count", CallConvs = [typeof(CallConvCdecl)])]
    public static nint SessionInputCount(nint session, nuint* count)
    {
        try
        {
            Out(count, nameof(count));
            *count = (nuint)Handles.Get<NativeSession>(session, HandleKind.Session, nameof(session)).Inputs.Length;
            return 0;
        }
        catch (Exception ex)
        {
            return Status.FromException(ex);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tfpose_session_output_count", CallConvs = [typeof(CallConvCdecl)])]
    public static nint SessionOutputCount(nint session, nuint* count)
    {
        try
        {
            Out(count, nameof(count));
            *count = (nuint)Handles.Get<NativeSession>(session, HandleKind.Session, nameof(session)).Outputs.Length;
            return 0;
        }
        catch (Exception ex)
        {
            return Status.FromException(ex);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tfpose_session_input", CallConvs = [typeof(CallConvCdecl)])]
    public static nint SessionInput(nint session, nuint index, NativeTensorInfo* info)
    {
        try
        {
            Out(info, nameof(info));
            var inputs = Handles.Get<NativeSession>(session, HandleKind.Session, nameof(session)).Inputs;
            CheckIndex(index, inputs.Length, "Input");
            *info = inputs[(int)index].ToNative();
            return 0;
        }
        catch (Exception ex)
        {
            return Status.FromException(ex);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tfpose_session_output", CallConvs = [typeof(CallConvCdecl)])]
    public static nint SessionOutput(nint session, nuint index, NativeTensorInfo* info)
    {
        try
        {
            Out(info, nameof(info));
            var outputs = Handles.Get<NativeSession>(session, HandleKind.Session, nameof(session)).Outputs;
            CheckIndex(index, outputs.Length, "Output");
            *info = outputs[(int)index].ToNative();
            return 0;
        }
        catch (Exception ex)
        {
            return Status.FromException(ex);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tfpose_session_run", CallConvs = [typeof(CallConvCdecl)])]
    public static nint SessionRun(nint session, NativeFeed* feeds, nuint feedCount, byte** fetches, nuint fetchCount, nint* results)
    {
        var tensors = new List<GraphTensor>();
        try
        {
            Out(results, nameof(results));
            var native = Handles.Get<NativeSession>(session, HandleKind.Session, nameof(session));
            if (feeds == null && feedCount > 0)
                throw new ArgumentNullException(nameof(feeds), $"feeds is NULL but feed_count is {feedCount}.");
            if (fetches == null && fetchCount > 0)
                throw new ArgumentNullException(nameof(fetches), $"fetches is NULL but fetch_count is {fetchCount}.");
            var named = new Dictionary<string, GraphTensor>(StringComparer.Ordinal);
            for (nuint i = 0; i < feedCount; i++)
            {
                var name = Utf8(feeds[i].Name, $"feeds[{i}].name");
                var tensor = ToTensor(feeds[i], $"feeds[{i}] ('{name}')");
                tensors.Add(tensor);
                if (!named.TryAdd(name, tensor))
                    throw new ArgumentException($"feeds[{i}]: '{name}' is fed twice.");
            }
            List<string>? fetchNames = null;
            if (fetchCount > 0)
            {
                fetchNames = [];
                for (nuint i = 0; i < fetchCount; i++)
                    fetchNames.Add(Utf8(fetches[i], $"fetches[{i}]"));
            }
            var run = native.Session.Run(named, fetchNames);
            NativeResults wrapped;
            try
            {
                wrapped = new NativeResults(run);
            }
            catch
            {
                run.Dispose();
                throw;
            }
            *results = AddOrDispose(wrapped, HandleKind.Results);
            return 0;
        }
        catch (Exception ex)
        {
            return Status.FromException(ex);
        }
        finally
        {
            foreach (var tensor in tensors)
                tensor.Dispose();
        }
    }

    /// <summary>Copies a C tensor into a managed one after checking its type, shape and size.</summary>
    private static GraphTensor ToTensor(in NativeFeed feed, string what)
    {
        var elementSize = PinnedTensorInfo.ElementSize(feed.DType);
        if (elementSize == 0)
            throw new ArgumentException($"{what}: dtype {feed.DType} is not a tfpose_dtype that can be fed (FLOAT32, UINT8, INT8, INT32, INT64, BOOL, FLOAT64).");
        if (feed.Rank is < 0 or > 16)
            throw new ArgumentException($"{what}: rank {feed.Rank} is out of range (0..16).");
        if (feed.Rank > 0 && feed.Shape == null)
            throw new ArgumentNullException(nameof(feed), $"{what}: shape is NULL but rank is {feed.Rank}.");
        var shape = new long[feed.Rank];
        long count = 1;
        for (var d = 0; d < feed.Rank; d++)
        {
            shape[d] = feed.Shape[d];
            if (shape[d] < 0)
                throw new ArgumentException($"{what}: dimension {d} is {shape[d]}; a fed tensor needs concrete sizes.");
            count = checked(count * shape[d]);
        }
        var bytes = checked(count * elementSize);
        if ((ulong)bytes != feed.ByteSize)
            throw new ArgumentException($"{what}: byte_size is {feed.ByteSize}, but shape [{string.Join(",", shape)}] of {elementSize}-byte elements needs {bytes} bytes.");
        if (feed.Data == null && bytes > 0)
            throw new ArgumentNullException(nameof(feed), $"{what}: data is NULL.");
        return feed.DType switch
        {
            1 => Copy<float>(feed.Data, count, shape),
            2 => Copy<byte>(feed.Data, count, shape),
            3 => Copy<sbyte>(feed.Data, count, shape),
            6 => Copy<int>(feed.Data, count, shape),
            7 => Copy<long>(feed.Data, count, shape),
            9 => Copy<bool>(feed.Data, count, shape),
            _ => Copy<double>(feed.Data, count, shape),
        };
    }

    // The caller's buffer is only borrowed for the call, so the tensor gets its own copy; for the sizes
    // graphs take (an image is a few MB) the copy is far below the cost of running the graph.
    private static GraphTensor Copy<T>(void* data, long count, long[] shape) where T : unmanaged
    {
        var array = new T[count];
        if (count > 0)
            new ReadOnlySpan<T>(data, checked((int)count)).CopyTo(array);
        return GraphTensor.FromArray(array, shape);
    }

    [UnmanagedCallersOnly(EntryPoint = "tfpose_results_free", CallConvs = [typeof(CallConvCdecl)])]
    public static nint ResultsFree(nint results) => Free<NativeResults>(results, HandleKind.Results, nameof(results));

    [UnmanagedCallersOnly(EntryPoint = "tfpose_results_count", CallConvs = [typeof(CallConvCdecl)])]
    public static nint ResultsCount(nint results, nuint* count)
    {
        try
        {
            Out(count, nameof(count));
            *count = (nuint)Handles.Get<NativeResults>(results, HandleKind.Results, nameof(results)).Infos.Length;
            return 0;
        }
        catch (Exception ex)
        {
            return Status.FromException(ex);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tfpose_results_get", CallConvs = [typeof(CallConvCdecl)])]
    public static nint ResultsGet(nint results, nuint index, NativeTensorInfo* info, void** data, nuint* byteSize)
    {
        try
        {
            if (info == null && data == null && byteSize == null)
                throw new ArgumentNullException(nameof(info), "info, data and byte_size are all NULL; pass at least one.");
            if (data != null) *data = null;
            if (byteSize != null) *byteSize = 0;
            var native = Handles.Get<NativeResults>(results, HandleKind.Results, nameof(results));
            CheckIndex(index, native.Infos.Length, "Result");
            var tensor = native.Results[(int)index];
            if (info != null)
                *info = native.Infos[(int)index].ToNative();
            var (pointer, bytes) = DataOf(tensor, native.Infos[(int)index].DType);
            if (data != null) *data = (void*)pointer;
            if (byteSize != null) *byteSize = bytes;
            return 0;
        }
        catch (Exception ex)
        {
            return Status.FromException(ex);
        }
    }

    // The spans point into ONNX Runtime's native output buffers, which do not move.
    private static (nint Pointer, nuint Bytes) DataOf(GraphTensor tensor, int dtype) => dtype switch
    {
        1 => Span(tensor.AsSpan<float>()),
        2 => Span(tensor.AsSpan<byte>()),
        3 => Span(tensor.AsSpan<sbyte>()),
        6 => Span(tensor.AsSpan<int>()),
        7 => Span(tensor.AsSpan<long>()),
        9 => Span(tensor.AsSpan<bool>()),
        11 => Span(tensor.AsSpan<double>()),
        _ => (0, 0),
    };

    private static (nint, nuint) Span<T>(ReadOnlySpan<T> span) where T : unmanaged =>
        ((nint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(span)), (nuint)(span.Length * sizeof(T)));

    [UnmanagedCallersOnly(EntryPoint = "tfpose_results_find", CallConvs = [typeof(CallConvCdecl)])]
    public static nint ResultsFind(nint results, byte* name, nuint* index)
    {
        try
        {
            Out(index, nameof(index));
            var native = Handles.Get<NativeResults>(results, HandleKind.Results, nameof(results));
            var tensor = native.Results[Utf8(name, nameof(name))]; // KeyNotFoundException names what was fetched
            for (var i = 0; i < native.Results.Count; i++)
            {
                if (ReferenceEquals(native.Results[i], tensor))
                {
                    *index = (nuint)i;
                    return 0;
                }
            }
            throw new InvalidOperationException("The fetched tensor was not found by position.");
        }
        catch (Exception ex)
        {
            return Status.FromException(ex);
        }
    }

    // ------------------------------------------------------------------------------------------

    private static nint AddOrDispose(IDisposable target, HandleKind kind)
    {
        try
        {
            return Handles.Add(target, kind);
        }
        catch
        {
            target.Dispose();
            throw;
        }
    }

    private static nint Free<T>(nint handle, HandleKind kind, string what) where T : class, IDisposable
    {
        if (handle == 0)
            return 0; // like free(NULL): cleanup code need not check
        try
        {
            Handles.Remove<T>(handle, kind, what).Dispose();
            return 0;
        }
        catch (Exception ex)
        {
            return Status.FromException(ex);
        }
    }
}
