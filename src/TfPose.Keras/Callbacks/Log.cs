using Microsoft.Extensions.Logging;

namespace TfPose.Keras;

internal static partial class Log
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Epoch {Epoch}: early stopping")]
    public static partial void LogEarlyStop(this ILogger logger, int epoch);

    [LoggerMessage(Level = LogLevel.Information, Message = "Epoch {Epoch}: learning rate set to {LearningRate}")]
    public static partial void LogLearningRate(this ILogger logger, int epoch, double learningRate);

    [LoggerMessage(Level = LogLevel.Information, Message = "Epoch {Epoch}: {Monitor} improved from {Previous} to {Current}, saving {Path}")]
    public static partial void LogCheckpoint(this ILogger logger, int epoch, string monitor, double previous, double current, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Resuming from {Path}: epoch {Epoch}, batch {Step}")]
    public static partial void LogResume(this ILogger logger, string path, int epoch, int step);
}
