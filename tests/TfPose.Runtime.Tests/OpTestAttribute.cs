namespace TfPose.Runtime.Tests;

/// <summary>Marks a test that runs the named TensorFlow ops alone and checks them against values worked out by hand.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
public sealed class OpTestAttribute(params string[] ops) : Attribute
{
    public IReadOnlyList<string> Ops { get; } = ops;
}
