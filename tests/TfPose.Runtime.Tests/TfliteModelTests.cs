using System.Text.Json;
using Microsoft.ML.OnnxRuntime.Tensors;
using TfPose.Graph;
using TfPose.Tests;
using Xunit.Abstractions;

namespace TfPose.Runtime.Tests;

/// <summary>
/// A real TensorFlow Lite model (MediaPipe's BlazePose landmark model, float16 weights behind DEQUANTIZE) run from its
/// .tflite file and from the frozen GraphDef `graph convert` writes, against what TensorFlow Lite's own interpreter
/// computed on the same input.
/// </summary>
public class TfliteModelTests(ITestOutputHelper output)
{
    private static string Folder => SharedData.Path("data", "tflite-models", "pose-landmark-lite");

    [Fact]
    public void Pose_landmark_lite_matches_tensorflow_lite() =>
        Check(TfGraph.Load(Path.Combine(Folder, "model.tflite")));

    [Fact]
    public void Converted_frozen_graph_matches_tensorflow_lite()
    {
        var graph = TfGraph.Load(Path.Combine(Folder, "model.tflite"));
        var path = Path.Combine(Path.GetTempPath(), $"tfpose-tflite-{Guid.NewGuid():N}.pb");
        try
        {
            graph.Save(path);
            Check(TfGraph.Load(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private void Check(TfGraph graph)
    {
        var folder = Path.Combine(Folder, "reference", "p1");
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "reference.json")));
        var outputs = json.RootElement.GetProperty("outputs").EnumerateArray()
            .Select(o => (Name: o.GetProperty("name").GetString()!, File: o.GetProperty("file").GetString()!)).ToList();
        using var session = new GraphSession(graph);
        Assert.Equal("input_1", session.Inputs[0].Name);
        using var input = NpyFile.Read(Path.Combine(folder, "input.npy"));
        using var results = session.Run(new Dictionary<string, GraphTensor> { ["input_1"] = input }, outputs.Select(o => o.Name).ToList());
        for (var i = 0; i < outputs.Count; i++)
        {
            using var expected = NpyFile.Read(Path.Combine(folder, outputs[i].File));
            var actual = results[i];
            Assert.Equal(expected.Shape, actual.Shape);
            Assert.Equal(TensorElementType.Float, actual.ElementType);
            ReferenceComparison.AssertClose(expected.AsSpan<float>(), actual.AsSpan<float>(), outputs[i].Name, output);
        }
    }
}
