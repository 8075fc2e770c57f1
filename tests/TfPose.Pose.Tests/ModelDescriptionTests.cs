using TfPose.Graph;
using TfPose.Tests;

namespace TfPose.Pose.Tests;

public sealed class ModelDescriptionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tfpose-desc-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static PoseModel Detect(string folder, string file = "model.pb")
    {
        var path = SharedData.Model(folder, file);
        return PoseModelDescription.Detect(TfGraph.Load(path), path);
    }

    [Fact]
    public void TheSharedGraphs_AreDetected()
    {
        var cpm = Detect("cpm-mobile");
        Assert.Equal(PoseModelKind.Heatmap, cpm.Kind);
        Assert.Equal(["Convolutional_Pose_Machine/stage_5_out"], cpm.OutputNames);
        Assert.Same(KeypointSet.AiChallenger14, cpm.Keypoints);
        Assert.Equal((192, 192, 2, InputSizeRule.Fixed), (cpm.DefaultWidth, cpm.DefaultHeight, cpm.Stride, cpm.SizeRule));
        Assert.Equal((ChannelOrder.Rgb, 0f, 1f), (cpm.ChannelOrder, cpm.Mean, cpm.Scale));

        var hourglass = Detect("hourglass-mobile");
        Assert.Equal(PoseModelKind.Heatmap, hourglass.Kind);
        Assert.Equal(["hourglass_out_3"], hourglass.OutputNames);
        Assert.Equal(4, hourglass.Stride);

        var posenet = Detect("posenet-mobilenet-v1-050");
        Assert.Equal(PoseModelKind.PoseNet, posenet.Kind);
        Assert.Equal(["heatmap", "offset_2", "displacement_fwd_2", "displacement_bwd_2"], posenet.OutputNames);
        Assert.Same(KeypointSet.Coco17, posenet.Keypoints);
        Assert.Equal((16, InputSizeRule.StrideMultiplePlusOne), (posenet.Stride, posenet.SizeRule));
        Assert.Equal(-1f, (0 - posenet.Mean) * posenet.Scale, 6);   // pixel 0 → −1
        Assert.Equal(1f, (255 - posenet.Mean) * posenet.Scale, 6);  // pixel 255 → 1
        Assert.False(posenet.HeatmapLogits); // this graph ends in a Sigmoid already

        var openpose = Detect("openpose-mobilenet-v2-small", "graph_opt.pb");
        Assert.Equal(PoseModelKind.OpenPose, openpose.Kind);
        Assert.Equal(["Openpose/concat_stage7"], openpose.OutputNames);
        Assert.Equal(ChannelOrder.Bgr, openpose.ChannelOrder);
    }

    [Fact]
    public void AGraphOfNoKnownKind_SaysWhatItHas_AndWhereToDescribeIt()
    {
        var path = SharedData.Model("tf2onnx-tests", Path.Combine("fc-layers", "frozen.pb"));
        var ex = Assert.Throws<InvalidDataException>(() => PoseModelDescription.Load(path));
        Assert.Contains("not a known pose graph", ex.Message);
        Assert.Contains("fc-layers" + Path.DirectorySeparatorChar + "frozen.pose.json", ex.Message);
    }

    /// <summary>The hourglass graph linked (not copied) into a temp folder, with an override file beside it.</summary>
    private string LinkHourglass(string json)
    {
        var link = Path.Combine(_dir, "model.pb");
        File.CreateSymbolicLink(link, SharedData.Model("hourglass-mobile", "model.pb"));
        File.WriteAllText(Path.Combine(_dir, "model.pose.json"), json);
        return link;
    }

    [Fact]
    public void TheOverrideFile_ReplacesOnlyTheFieldsItGives()
    {
        var link = LinkHourglass("""
            { "name": "mine", "channelOrder": "bgr", "mean": 128, "scale": 0.0078125,
              "keypoints": { "name": "reversed14", "names": ["k0","k1","k2","k3","k4","k5","k6","k7","k8","k9","k10","k11","k12","k13"],
                             "skeleton": [[0, 1], [1, 2]], "coco17": [0, -1, -1, -1, -1, 1, 2, -1, -1, -1, -1, -1, -1, -1, -1, -1, 13] } }
            """);
        var m = PoseModelDescription.Load(link);
        Assert.Equal("mine", m.Name);
        Assert.Equal((ChannelOrder.Bgr, 128f, 0.0078125f), (m.ChannelOrder, m.Mean, m.Scale));
        Assert.Equal("reversed14", m.Keypoints.Name);
        Assert.Equal([new Bone(0, 1), new Bone(1, 2)], m.Keypoints.Skeleton);
        Assert.Equal(4, m.Keypoints.CocoKeypointCount);
        // Detected fields stay.
        Assert.Equal((PoseModelKind.Heatmap, 4, 192), (m.Kind, m.Stride, m.DefaultWidth));
        Assert.Equal(["hourglass_out_3"], m.OutputNames);
    }

    [Theory]
    [InlineData("""{ "colour": "rgb" }""", "unknown field 'colour'")]
    [InlineData("""{ "kind": "yolo" }""", "\"kind\" must be one of openpose, heatmap, posenet")]
    [InlineData("""{ "keypoints": "coco19" }""", "unknown keypoint set 'coco19'")]
    [InlineData("""{ "keypoints": "coco17" }""", "one map per keypoint (17 for 'coco17'), but 'hourglass_out_3' has 14 channels")]
    [InlineData("""{ "stride": "four" }""", "\"stride\" must be an integer")]
    [InlineData("""{ "name": """, "not valid JSON")]
    public void ABadOverrideFile_NamesTheFileAndTheProblem(string json, string problem)
    {
        var link = LinkHourglass(json);
        var ex = Assert.Throws<InvalidDataException>(() => PoseModelDescription.Load(link));
        Assert.Contains("model.pose.json", ex.Message);
        Assert.Contains(problem, ex.Message);
    }

    [Fact]
    public void AnOverrideFileInAnotherEncoding_NamesTheFileAndTheByte()
    {
        // Latin-1 'caf\xE9' where UTF-8 is required; JsonDocument took it and failed later without naming anything.
        var link = LinkHourglass("");
        File.WriteAllBytes(Path.Combine(_dir, "model.pose.json"), [.. "{ \"name\": \"caf"u8, 0xE9, .. "\" }"u8]);
        var ex = Assert.Throws<InvalidDataException>(() => PoseModelDescription.Load(link));
        Assert.Contains("model.pose.json: not valid UTF-8 (byte 14 is 0xE9", ex.Message);
    }

    [Fact]
    public void AnUnfrozenTrainingGraph_IsReportedAsNotFrozen_NotAsAnUnknownPoseGraph()
    {
        // tfpose pose once said "string constants are not supported ... describe it in .pose.json" here.
        var path = SharedData.Model("openpose-mobilenet-thin-unfrozen", "graph.pb");
        var ex = Assert.Throws<TfPose.Graph.GraphFormatException>(() => new PoseEstimator(path));
        Assert.Contains("graph.pb", ex.Message);
        Assert.Contains("not frozen", ex.Message);
        Assert.Contains("Freeze it first", ex.Message);
    }
}
