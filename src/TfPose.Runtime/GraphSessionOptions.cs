namespace TfPose.Runtime;

/// <summary>Where a session executes. CPU is always available; the others need ONNX Runtime's GPU build.</summary>
public enum ExecutionDevice
{
    Cpu,
    Cuda,
    TensorRT,
}

/// <summary>Options for <see cref="GraphSession"/>, in the spirit of ONNX Runtime's SessionOptions.</summary>
public sealed record GraphSessionOptions
{
    /// <summary>Threads used inside one op; 0 lets ONNX Runtime pick (one per physical core).</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>
    /// Whether ONNX Runtime's threads spin between ops waiting for work (its default, fastest for back-to-back runs).
    /// Turn it off when other work shares the cores between runs (a video pipeline's decoding and encoding), which
    /// spinning threads would otherwise starve.
    /// </summary>
    public bool SpinWait { get; init; } = true;

    public ExecutionDevice Device { get; init; } = ExecutionDevice.Cpu;

    public int DeviceId { get; init; }

    /// <summary>Writes the translated ONNX model here (for inspection with other ONNX tools).</summary>
    public string? SaveOnnxPath { get; init; }

    /// <summary>
    /// Records ONNX Runtime's per-node timings (Chrome trace JSON) to files starting with this prefix, written by
    /// <see cref="GraphSession.EndProfiling"/>; null = no profiling.
    /// </summary>
    public string? ProfilePrefix { get; init; }
}
