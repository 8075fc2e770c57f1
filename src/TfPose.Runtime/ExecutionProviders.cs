using Microsoft.ML.OnnxRuntime;

namespace TfPose.Runtime;

/// <summary>Adds the requested execution provider, or explains precisely what is missing.</summary>
internal static class ExecutionProviders
{
    public static void Append(SessionOptions sessionOptions, GraphSessionOptions options)
    {
        if (options.Device == ExecutionDevice.Cpu)
            return;
        var (provider, library) = options.Device switch
        {
            ExecutionDevice.Cuda => ("CUDAExecutionProvider", OperatingSystem.IsWindows() ? "onnxruntime_providers_cuda.dll" : "libonnxruntime_providers_cuda.so"),
            _ => ("TensorrtExecutionProvider", OperatingSystem.IsWindows() ? "onnxruntime_providers_tensorrt.dll" : "libonnxruntime_providers_tensorrt.so"),
        };
        var available = OrtEnv.Instance().GetAvailableProviders();
        if (!available.Contains(provider))
        {
            throw new ExecutionProviderUnavailableException(options.Device, provider, library, available);
        }
        try
        {
            if (options.Device == ExecutionDevice.Cuda)
                sessionOptions.AppendExecutionProvider_CUDA(options.DeviceId);
            else
                sessionOptions.AppendExecutionProvider_Tensorrt(options.DeviceId);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new InvalidOperationException($"{options.Device} was requested but could not be initialised ({library} or its CUDA dependencies failed to load): {ex.Message}", ex);
        }
    }
}

/// <summary>
/// The requested device's execution provider is not in the ONNX Runtime build the process loaded. An application fixes
/// it by referencing a GPU build of ONNX Runtime; a finished program (the tfpose tool, the C SDK) cannot, so its face
/// catches this type and says which GPU build of itself to get instead.
/// </summary>
public sealed class ExecutionProviderUnavailableException(ExecutionDevice device, string provider, string library, IReadOnlyCollection<string> available)
    : InvalidOperationException(
        $"{device} was requested, but this ONNX Runtime build has no {provider} ({library} is not present; available: {string.Join(", ", available)}). " +
        "Reference Microsoft.ML.OnnxRuntime.Gpu (or its .Linux / .Windows package) instead of Microsoft.ML.OnnxRuntime and install CUDA 12 and cuDNN 9, or run on the CPU.")
{
    public ExecutionDevice Device { get; } = device;

    /// <summary>ONNX Runtime's name of the missing provider, e.g. CUDAExecutionProvider.</summary>
    public string Provider { get; } = provider;

    /// <summary>The provider library ONNX Runtime would load, e.g. libonnxruntime_providers_cuda.so.</summary>
    public string Library { get; } = library;

    public IReadOnlyCollection<string> Available { get; } = available;
}
