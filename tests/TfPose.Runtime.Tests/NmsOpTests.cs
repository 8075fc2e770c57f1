using TfPose.Graph;
using TfPose.Graph.Proto;
using TfPose.Tests;
using static TfPose.Runtime.Tests.SpatialOpTests;

namespace TfPose.Runtime.Tests;

/// <summary>NonMaxSuppression V2–V5 against TensorFlow's greedy selection written out here.</summary>
public class NmsOpTests
{
    /// <summary>TensorFlow's IoU: corners in any order, zero when either box has no area.</summary>
    private static float Iou(float[] boxes, int i, int j)
    {
        float Lo(int b, int k) => Math.Min(boxes[4 * b + k], boxes[4 * b + k + 2]);
        float Hi(int b, int k) => Math.Max(boxes[4 * b + k], boxes[4 * b + k + 2]);
        var areaI = (Hi(i, 0) - Lo(i, 0)) * (Hi(i, 1) - Lo(i, 1));
        var areaJ = (Hi(j, 0) - Lo(j, 0)) * (Hi(j, 1) - Lo(j, 1));
        if (areaI <= 0 || areaJ <= 0)
            return 0;
        var inter = Math.Max(Math.Min(Hi(i, 0), Hi(j, 0)) - Math.Max(Lo(i, 0), Lo(j, 0)), 0f) *
                    Math.Max(Math.Min(Hi(i, 1), Hi(j, 1)) - Math.Max(Lo(i, 1), Lo(j, 1)), 0f);
        return inter / (areaI + areaJ - inter);
    }

    /// <summary>
    /// TensorFlow's selection: candidates with score &gt; score_threshold, by descending score and ascending index
    /// among equals; each is kept unless its IoU with a kept box is &gt; iou_threshold; at most max of them.
    /// </summary>
    private static int[] Reference(float[] boxes, float[] scores, int max, float iou, float scoreThreshold)
    {
        var order = Enumerable.Range(0, scores.Length).Where(i => scores[i] > scoreThreshold)
            .OrderByDescending(i => scores[i]).ThenBy(i => i);
        var selected = new List<int>();
        foreach (var i in order)
        {
            if (selected.Count >= max)
                break;
            if (selected.All(j => Iou(boxes, i, j) <= iou))
                selected.Add(i);
        }
        return [.. selected];
    }

    /// <summary>A NonMaxSuppression node reading boxes, scores, max, iou (and score threshold, sigma) by name.</summary>
    private static NodeDef Nms(TfGraphBuilder b, string name, string op, bool? pad = null, params string[] inputs)
    {
        var node = b.Op(name, op, inputs);
        if (op != "NonMaxSuppressionV2")
            node.Attr["T_threshold"] = new AttrValue { Type = DataType.DtFloat };
        if (pad is { } p)
            node.Attr["pad_to_max_output_size"] = new AttrValue { B = p };
        return node;
    }

    private static void Scalars(TfGraphBuilder b, int max, float iou, float score)
    {
        b.ConstInt("max", [max]);
        b.Const("iou", [iou]);
        b.Const("score", [score]);
    }

    // TensorFlow's own test case: two clusters of overlapping boxes and a lone one.
    private static readonly float[] ClusterBoxes =
    [
        0, 0, 1, 1, 0, 0.1f, 1, 1.1f, 0, -0.1f, 1, 0.9f,
        0, 10, 1, 11, 0, 10.1f, 1, 11.1f, 0, 100, 1, 101,
    ];

    private static readonly float[] ClusterScores = [0.9f, 0.75f, 0.6f, 0.95f, 0.5f, 0.3f];

    [Fact]
    [OpTest("NonMaxSuppressionV2", "NonMaxSuppressionV3")]
    public void Selects_greedily_by_score_with_strict_thresholds()
    {
        var b = new TfGraphBuilder();
        b.Placeholder("boxes", 6, 4);
        b.Placeholder("scores", 6);
        Scalars(b, 3, 0.5f, 0.3f);
        Nms(b, "v2", "NonMaxSuppressionV2", null, "boxes", "scores", "max", "iou");
        // V3 with the score threshold equal to the lone box's score: strictly above is required, so it drops out.
        Nms(b, "v3", "NonMaxSuppressionV3", null, "boxes", "scores", "max", "iou", "score");
        b.Const("low", [0.29f]);
        Nms(b, "v3_low", "NonMaxSuppressionV3", null, "boxes", "scores", "max", "iou", "low");
        var outputs = Run(b, Feeds(("boxes", GraphTensor.FromArray(ClusterBoxes, 6, 4)), ("scores", GraphTensor.FromArray(ClusterScores, 6))), "v2", "v3", "v3_low");
        Assert.Equal([3, 0, 5], outputs[0].I); // TensorFlow's expected selection for this case
        Assert.Equal([3, 0], outputs[1].I);
        Assert.Equal([3, 0, 5], outputs[2].I);
    }

    [Theory]
    [InlineData(0.5f, new[] { 0, 1 })]    // IoU exactly 0.5 is not above 0.5: both kept
    [InlineData(0.4999f, new[] { 0 })]    // just above the threshold: suppressed
    [OpTest("NonMaxSuppressionV3")]
    public void Iou_equal_to_the_threshold_does_not_suppress(float threshold, int[] expected)
    {
        // Box 1 is the left half of box 0 (corners given in the other order): intersection 2, union 4, IoU 0.5 exactly.
        float[] boxes = [0, 0, 2, 2, 2, 1, 0, 0];
        var b = new TfGraphBuilder();
        b.Placeholder("boxes", 2, 4);
        b.Placeholder("scores", 2);
        Scalars(b, 10, threshold, 0f);
        Nms(b, "nms", "NonMaxSuppressionV3", null, "boxes", "scores", "max", "iou", "score");
        var y = Run(b, Feeds(("boxes", GraphTensor.FromArray(boxes, 2, 4)), ("scores", GraphTensor.FromArray(new[] { 0.9f, 0.8f }, 2))), "nms")[0];
        Assert.Equal(expected, y.I);
        Assert.Equal(expected, Reference(boxes, [0.9f, 0.8f], 10, threshold, 0f));
    }

    [Fact]
    [OpTest("NonMaxSuppressionV3")]
    public void Equal_scores_are_taken_lowest_index_first()
    {
        // Eight unit boxes in a row, none overlapping, except that boxes 6 and 1 coincide. Scores tie in groups;
        // TensorFlow (and TfPose) take the lower index first among equals: 1 beats 6, and of the 0.5s, 2 and 3 come first.
        var boxes = new float[8 * 4];
        for (var i = 0; i < 8; i++)
        {
            var at = i == 6 ? 1 : i;
            boxes[4 * i] = 0;
            boxes[4 * i + 1] = 2 * at;
            boxes[4 * i + 2] = 1;
            boxes[4 * i + 3] = 2 * at + 1;
        }
        float[] scores = [0.2f, 0.7f, 0.5f, 0.5f, 0.5f, 0.5f, 0.7f, 0.5f];
        var b = new TfGraphBuilder();
        b.Placeholder("boxes", 8, 4);
        b.Placeholder("scores", 8);
        Scalars(b, 4, 0.5f, 0f);
        Nms(b, "nms", "NonMaxSuppressionV3", null, "boxes", "scores", "max", "iou", "score");
        var y = Run(b, Feeds(("boxes", GraphTensor.FromArray(boxes, 8, 4)), ("scores", GraphTensor.FromArray(scores, 8))), "nms")[0];
        Assert.Equal([1, 2, 3, 4], y.I);
        Assert.Equal([1, 2, 3, 4], Reference(boxes, scores, 4, 0.5f, 0f));

        // All scores equal: a max-heap on scores alone would pop 0, 2, 5, ...; TensorFlow takes 0, 1, 2.
        var same = Enumerable.Repeat(0.5f, 8).ToArray();
        b = new TfGraphBuilder();
        b.Placeholder("boxes", 8, 4);
        b.Placeholder("scores", 8);
        Scalars(b, 3, 0.5f, 0f);
        Nms(b, "nms", "NonMaxSuppressionV3", null, "boxes", "scores", "max", "iou", "score");
        y = Run(b, Feeds(("boxes", GraphTensor.FromArray(boxes, 8, 4)), ("scores", GraphTensor.FromArray(same, 8))), "nms")[0];
        Assert.Equal([0, 1, 2], y.I);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [OpTest("NonMaxSuppressionV4", "NonMaxSuppressionV5")]
    public void V4_and_V5_pad_to_max_output_size_and_count_valid_outputs(bool pad)
    {
        var b = new TfGraphBuilder();
        b.Placeholder("boxes", 6, 4);
        b.Placeholder("scores", 6);
        Scalars(b, 5, 0.5f, 0.4f);
        b.Const("sigma", [0f]);
        Nms(b, "v4", "NonMaxSuppressionV4", pad, "boxes", "scores", "max", "iou", "score");
        Nms(b, "v5", "NonMaxSuppressionV5", pad, "boxes", "scores", "max", "iou", "score", "sigma");
        var outputs = Run(b, Feeds(("boxes", GraphTensor.FromArray(ClusterBoxes, 6, 4)), ("scores", GraphTensor.FromArray(ClusterScores, 6))),
            "v4", "v4:1", "v5", "v5:1", "v5:2");
        // Above 0.4: boxes 3, 0, 1, 2, 4; 1 and 2 overlap 0, 4 overlaps 3. Selected 3, 0, then zeros up to 5 when padded.
        int[] indices = pad ? [3, 0, 0, 0, 0] : [3, 0];
        float[] scores = pad ? [0.95f, 0.9f, 0, 0, 0] : [0.95f, 0.9f];
        Assert.Equal(indices, outputs[0].I);
        Assert.Equal(Array.Empty<long>(), outputs[1].Shape);
        Assert.Equal([2], outputs[1].I);
        Assert.Equal(indices, outputs[2].I);
        Assert.Equal(scores, outputs[3].F);
        Assert.Equal([2], outputs[4].I);
    }

    [Fact]
    [OpTest("NonMaxSuppressionV5")]
    public void Soft_nms_is_reported_as_unsupported()
    {
        foreach (var sigmaFed in new[] { false, true })
        {
            var b = new TfGraphBuilder();
            b.Placeholder("boxes", 6, 4);
            b.Placeholder("scores", 6);
            Scalars(b, 5, 0.5f, 0.4f);
            if (sigmaFed)
                Input(b, "sigma", DataType.DtFloat);
            else
                b.Const("sigma", [0.5f]);
            Nms(b, "v5", "NonMaxSuppressionV5", false, "boxes", "scores", "max", "iou", "score", "sigma");
            var error = Assert.Throws<GraphFormatException>(() => new GraphSession(b.Build()));
            Assert.Contains("soft_nms_sigma must be a constant 0", error.Message);
            Assert.Contains(sigmaFed ? "not a known scalar" : "it is 0.5", error.Message);
        }
    }

    [Fact]
    [OpTest("NonMaxSuppressionV3", "NonMaxSuppressionV4", "NonMaxSuppressionV5")]
    public void Everything_fed_at_run_time_matches_the_reference_on_random_boxes()
    {
        var b = new TfGraphBuilder();
        b.Placeholder("boxes", -1, 4);
        b.Placeholder("scores", -1);
        Input(b, "max", DataType.DtInt32);
        Input(b, "iou", DataType.DtFloat);
        Input(b, "score", DataType.DtFloat);
        b.Const("sigma", [0f]);
        Nms(b, "v3", "NonMaxSuppressionV3", null, "boxes", "scores", "max", "iou", "score");
        Nms(b, "v5", "NonMaxSuppressionV5", true, "boxes", "scores", "max", "iou", "score", "sigma");
        using var session = new GraphSession(b.Build());
        var rng = new Random(7);
        foreach (var (n, max, iou, threshold) in new[] { (40, 10, 0.3f, 0.2f), (60, 100, 0.6f, 0f), (25, 3, 0f, 0.5f), (12, 0, 0.5f, 0f), (0, 4, 0.5f, 0f) })
        {
            var boxes = new float[n * 4];
            var scores = new float[n];
            for (var i = 0; i < n; i++)
            {
                float y = rng.Next(0, 10), x = rng.Next(0, 10), h = rng.Next(1, 5), w = rng.Next(1, 5);
                // Corners in either order; scores on a coarse grid, so many tie.
                (boxes[4 * i], boxes[4 * i + 2]) = rng.Next(2) == 0 ? (y, y + h) : (y + h, y);
                (boxes[4 * i + 1], boxes[4 * i + 3]) = rng.Next(2) == 0 ? (x, x + w) : (x + w, x);
                scores[i] = rng.Next(0, 10) / 10f;
            }
            using var boxesT = GraphTensor.FromArray(boxes, n, 4);
            using var scoresT = GraphTensor.FromArray(scores, n);
            using var maxT = GraphTensor.FromArray(new[] { max }, []);
            using var iouT = GraphTensor.FromArray(new[] { iou }, []);
            using var scoreT = GraphTensor.FromArray(new[] { threshold }, []);
            using var result = session.Run(Feeds(("boxes", boxesT), ("scores", scoresT), ("max", maxT), ("iou", iouT), ("score", scoreT)), ["v3", "v5", "v5:1", "v5:2"]);
            var expected = Reference(boxes, scores, max, iou, threshold);
            Assert.Equal(expected, result[0].ToArray<int>());
            Assert.Equal([.. expected, .. new int[max - expected.Length]], result[1].ToArray<int>());
            Assert.Equal([.. expected.Select(i => scores[i]), .. new float[max - expected.Length]], result[2].ToArray<float>());
            Assert.Equal(expected.Length, result[3].ToArray<int>()[0]);
        }
    }
}
