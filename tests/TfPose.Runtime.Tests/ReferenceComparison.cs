using Xunit.Abstractions;

namespace TfPose.Runtime.Tests;

/// <summary>How model tests compare a float output with a reference engine's: within 1e-3 of the output's largest magnitude.</summary>
internal static class ReferenceComparison
{
    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what, ITestOutputHelper output)
    {
        double largest = 0, worst = 0;
        for (var k = 0; k < expected.Length; k++)
        {
            largest = Math.Max(largest, Math.Abs(expected[k]));
            worst = Math.Max(worst, Math.Abs(expected[k] - actual[k]));
        }
        output.WriteLine($"{what}: max |difference| {worst:G3}, largest |value| {largest:G4} (relative {worst / Math.Max(largest, 1e-30):G3})");
        Assert.True(worst <= 1e-3 * largest, $"{what}: max difference {worst:G4} exceeds 1e-3 of the largest magnitude {largest:G4}");
    }
}
