using System.Text.Json;
using Microsoft.ML.OnnxRuntime.Tensors;
using TfPose.Graph;
using TfPose.Tests;
using Xunit.Abstractions;

namespace TfPose.Runtime.Tests;

/// <summary>
/// Real TensorFlow.js graph models (fused ops, gathers, TopK, selects, a while loop with NMS) run from their model.json
/// and from the frozen GraphDef `graph convert` writes, against what TensorFlow.js itself computed on the same input.
/// </summary>
public class TfjsModelTests(ITestOutputHelper output)
{
    public static TheoryData<string, string> Cases => new()
    {
        { "movenet-lightning", "p1" },
        { "movenet-multipose", "p3" },
        { "blazepose-detector", "p1" },
        { "blazepose-lite", "p1" },
        { "selfie", "p2" },
        { "faceboxes", "p2" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Model_json_matches_tensorflow_js(string model, string reference) =>
        Check(TfGraph.Load(SharedData.Path("data", "tfjs-models", model, "model.json")), model, reference);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Converted_frozen_graph_matches_tensorflow_js(string model, string reference)
    {
        var graph = TfGraph.Load(SharedData.Path("data", "tfjs-models", model));
        var path = Path.Combine(Path.GetTempPath(), $"tfpose-{model}-{Guid.NewGuid():N}.pb");
        try
        {
            graph.Save(path);
            var frozen = TfGraph.Load(path);
            Assert.Null(frozen.Signature);
            Check(frozen, model, reference, graph.Outputs);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private void Check(TfGraph graph, string model, string reference, IReadOnlyList<string>? fetches = null)
    {
        var folder = SharedData.Path("data", "tfjs-models", model, "reference", reference);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "reference.json")));
        var outputs = json.RootElement.GetProperty("outputs").EnumerateArray()
            .Select(o => (Name: o.GetProperty("name").GetString()!, File: o.GetProperty("file").GetString()!)).ToList();
        using var session = new GraphSession(graph);
        using var input = NpyFile.Read(Path.Combine(folder, "input.npy"));
        using var results = session.Run(new Dictionary<string, GraphTensor> { [session.Inputs[0].Name] = input }, outputs.Select(o => o.Name).ToList());
        for (var i = 0; i < outputs.Count; i++)
        {
            using var expected = NpyFile.Read(Path.Combine(folder, outputs[i].File));
            var actual = results[i];
            Assert.Equal(expected.Shape, actual.Shape);
            Assert.Equal(expected.ElementType, actual.ElementType);
            if (expected.ElementType == TensorElementType.Float)
            {
                ReferenceComparison.AssertClose(expected.AsSpan<float>(), actual.AsSpan<float>(), $"{model} {outputs[i].Name}", output);
            }
            else if (expected.ElementType == TensorElementType.Int32)
            {
                Assert.Equal(expected.ToArray<int>(), actual.ToArray<int>());
            }
            else
            {
                Assert.Fail($"{model} {outputs[i].Name}: no comparison for {expected.ElementType}");
            }
        }
    }
}
