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
            throw new InvalidOperationException(
                $"{options.Device} was requested, but this ONNX Runtime build has no {provider} ({library} is not present; available: {string.Join(", ", available)}). " +
                "Reference Microsoft.ML.OnnxRuntime.Gpu instead of Microsoft.ML.OnnxRuntime and install CUDA 12 and cuDNN 9, or run on the CPU.");
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
