namespace TfPose.Pose.Tests;

/// <summary>
/// A PoseNet output built by hand for two people with known keypoints: what a perfect network would
/// give. Offsets point from every cell to the nearest person's keypoint; displacements at a cell hold
/// the edge vector of the person whose source keypoint is nearest; scores fall off with distance.
/// </summary>
public class PoseNetDecoderTests
{
    private const int H = 17, W = 23, Stride = 16, K = 17, E = 16, C = K + 2 * K + 4 * E;

    // Person A in network-input pixels (x, y); fractional parts differ in x and y so that swapping
    // the offsets' y and x channels, or reading the wrong keypoint, moves the result.
    private static readonly (float X, float Y)[] A =
    [
        (100.3f, 40.7f), (106.1f, 34.6f), (94.2f, 34.9f), (114.4f, 38.2f), (86.6f, 38.1f), (124.8f, 80.3f), (76.2f, 80.6f),
        (136.5f, 120.1f), (64.4f, 120.8f), (140.2f, 160.4f), (60.7f, 160.2f), (116.3f, 165.6f), (84.1f, 165.9f),
        (118.6f, 200.2f), (82.3f, 200.7f), (120.4f, 240.1f), (80.8f, 240.3f),
    ];

    private static readonly (float X, float Y)[] B = A.Select(p => (p.X + 163.4f, p.Y + 6.2f)).ToArray();

    private static float Peak(int person) => person == 0 ? 0.95f : 0.9f;

    private static (float X, float Y)[] Of(int person) => person == 0 ? A : B;

    private static float Score(int y, int x, int k)
    {
        // The larger of the two people's bumps (σ = 12 px) at the cell.
        var best = 0f;
        for (var p = 0; p < 2; p++)
        {
            var (px, py) = Of(p)[k];
            float dx = px - x * Stride, dy = py - y * Stride;
            best = Math.Max(best, Peak(p) * MathF.Exp(-(dx * dx + dy * dy) / (2 * 12 * 12)));
        }
        return best;
    }

    private static int Nearest(int y, int x, int k)
    {
        float D(int p) { var (px, py) = Of(p)[k]; return (px - x * Stride) * (px - x * Stride) + (py - y * Stride) * (py - y * Stride); }
        return D(0) <= D(1) ? 0 : 1;
    }

    private static float[] Build()
    {
        var tree = PoseNetDecoder.Tree;
        var data = new float[H * W * C];
        for (var y = 0; y < H; y++)
            for (var x = 0; x < W; x++)
            {
                var o = (y * W + x) * C;
                for (var k = 0; k < K; k++)
                {
                    data[o + k] = Score(y, x, k);
                    var (px, py) = Of(Nearest(y, x, k))[k];
                    data[o + K + k] = py - y * Stride;      // offsets: y for keypoint k at channel k,
                    data[o + 2 * K + k] = px - x * Stride;  // x at channel 17 + k
                }
                for (var e = 0; e < E; e++)
                {
                    int parent = tree[e].From, child = tree[e].To;
                    var f = Of(Nearest(y, x, parent));
                    data[o + 3 * K + e] = f[child].Y - f[parent].Y;            // forward: y at e, x at E + e
                    data[o + 3 * K + E + e] = f[child].X - f[parent].X;
                    var b = Of(Nearest(y, x, child));
                    data[o + 3 * K + 2 * E + e] = b[parent].Y - b[child].Y;    // backward
                    data[o + 3 * K + 3 * E + e] = b[parent].X - b[child].X;
                }
            }
        return data;
    }

    // Network 353×257 shown on a 706×514 image: image pixel = 2 × network pixel.
    private static readonly ImageMapping Map = new(706, 514, 706, 514, 0, 0);

    private static float ScoreNear((float X, float Y) p, int k) =>
        Score(Math.Clamp((int)MathF.Round(p.Y / Stride), 0, H - 1), Math.Clamp((int)MathF.Round(p.X / Stride), 0, W - 1), k);

    private static List<Person> Decode(PoseNetDecoderOptions? o = null) =>
        new PoseNetDecoder(PoseModel.PoseNet(), o).Decode(Build(), H, W, C, Map);

    [Fact]
    public void TwoPeople_AreRecovered_WithTheirKeypointsAndScores()
    {
        var people = Decode();
        Assert.Equal(2, people.Count);
        for (var p = 0; p < 2; p++)
        {
            var person = people[p]; // A's peaks are higher, so A is found first
            Assert.Same(KeypointSet.Coco17, person.KeypointSet);
            Assert.Equal(17, person.PartCount);
            var expectedScore = 0f;
            for (var k = 0; k < K; k++)
            {
                var kp = person[k]!.Value;
                var (x, y) = Of(p)[k];
                Assert.Equal(2 * x, kp.X, 2);
                Assert.Equal(2 * y, kp.Y, 2);
                Assert.Equal(x / 353f, kp.NormalizedX, 4);
                // Score: the heatmap at the cell nearest the keypoint.
                Assert.Equal(ScoreNear(Of(p)[k], k), kp.Score, 5);
                expectedScore += kp.Score;
            }
            // Nobody else claims these keypoints, so the person score is the mean over all 17.
            Assert.Equal(expectedScore / K, person.Score, 5);
        }
    }

    [Fact]
    public void Options_LimitPeople_AndRaiseTheRootThreshold()
    {
        var one = Assert.Single(Decode(new PoseNetDecoderOptions { MaxDetections = 1 }));
        Assert.Equal(2 * A[0].X, one[0]!.Value.X, 2);
        // No cell reaches 0.96: no root, nobody.
        Assert.Empty(Decode(new PoseNetDecoderOptions { ScoreThreshold = 0.96f }));
        // Keypoints below a minimum score are left out.
        var weakest = Enumerable.Range(0, K).Min(k => ScoreNear(A[k], k));
        var strict = Decode(new PoseNetDecoderOptions { MinKeypointScore = weakest + 1e-4f })[0];
        Assert.True(strict.PartCount < 17);
        Assert.All(strict.Keypoints, k => Assert.True(k.Score > weakest));
    }

    [Fact]
    public void APersonWithinTheNmsRadius_IsNotFoundTwice()
    {
        // B's keypoints lie 163 px right of A's: a 170 px radius swallows every root of B.
        Assert.Single(Decode(new PoseNetDecoderOptions { NmsRadius = 170 }));
        // Every other root lands exactly on a keypoint already found; tfjs rejects at distance <= radius,
        // so even radius 0 (and no pose-score filter) finds each person once.
        Assert.Equal(2, Decode(new PoseNetDecoderOptions { NmsRadius = 0, MinPoseScore = 0 }).Count);
    }

    [Fact]
    public void SinglePose_TakesTheArgmaxPerKeypoint_PlusItsOffset()
    {
        var person = Assert.Single(Decode(new PoseNetDecoderOptions { SinglePose = true }));
        var sum = 0f;
        for (var k = 0; k < K; k++)
        {
            // Independent argmax over the hand-built scores; its offset leads to the nearest person's keypoint.
            var (by, bx, best) = (0, 0, float.MinValue);
            for (var y = 0; y < H; y++)
                for (var x = 0; x < W; x++)
                    if (Score(y, x, k) > best) (by, bx, best) = (y, x, Score(y, x, k));
            var (ex, ey) = Of(Nearest(by, bx, k))[k];
            Assert.Equal(2 * ex, person[k]!.Value.X, 2);
            Assert.Equal(2 * ey, person[k]!.Value.Y, 2);
            Assert.Equal(best, person[k]!.Value.Score, 6);
            sum += best;
        }
        Assert.Equal(sum / K, person.Score, 5);
    }

    [Fact]
    public void LogitHeatmaps_GoThroughASigmoid()
    {
        // The same maps as logits: decoding with HeatmapLogits gives the same people and scores.
        var data = Build();
        for (var i = 0; i < H * W; i++)
            for (var k = 0; k < K; k++)
            {
                var s = Math.Clamp(data[i * C + k], 1e-6f, 1 - 1e-6f);
                data[i * C + k] = MathF.Log(s / (1 - s));
            }
        var people = new PoseNetDecoder(PoseModel.PoseNet(heatmapLogits: true)).Decode(data, H, W, C, Map);
        var plain = Decode();
        Assert.Equal(plain.Count, people.Count);
        for (var p = 0; p < plain.Count; p++)
            Assert.Equal(plain[p].Score, people[p].Score, 4);
    }

    /// <summary>
    /// tfjs' getInstanceScore: a pose's score sums only its keypoints that are not within the NMS radius of the same
    /// keypoint of an earlier pose, divided by all 17. A lone left-knee response at (320, 16), whose displacements lead
    /// onto person A, grows a pose that shares A's other 16 keypoints: its score is its knee's alone over 17.
    /// </summary>
    [Fact]
    public void AGhostSharingAnotherPersonsKeypoints_ScoresOnlyItsOwnAndIsDropped()
    {
        const int knee = 13, hip = 11, ankle = 15, ky = 1, kx = 20;
        const float ghostScore = 0.55f;
        var data = Build();
        var o = (ky * W + kx) * C;
        data[o + knee] = ghostScore;
        (data[o + K + knee], data[o + 2 * K + knee]) = (0, 0); // the root stays on its cell: (320, 16)
        int up = Edge(hip, knee), down = Edge(knee, ankle);
        data[o + 3 * K + 2 * E + up] = A[hip].Y - ky * Stride;      // backward: knee -> hip lands on A's hip
        data[o + 3 * K + 3 * E + up] = A[hip].X - kx * Stride;
        data[o + 3 * K + down] = A[ankle].Y - ky * Stride;          // forward: knee -> ankle lands on A's ankle
        data[o + 3 * K + E + down] = A[ankle].X - kx * Stride;

        var all = new PoseNetDecoder(PoseModel.PoseNet(), new PoseNetDecoderOptions { MinPoseScore = 0 }).Decode(data, H, W, C, Map);
        Assert.Equal(3, all.Count);
        var ghost = Assert.Single(all, p => Math.Abs(p[knee]!.Value.X - 2 * kx * Stride) < 1e-3f);
        Assert.Equal(2f * ky * Stride, ghost[knee]!.Value.Y, 3);
        for (var k = 0; k < K; k++)
            if (k != knee)
                Assert.Equal(2 * A[k].X, ghost[k]!.Value.X, 2);
        Assert.Equal(ghostScore / K, ghost.Score, 5);

        // The default pose-score filter (0.5) keeps A and B only.
        var kept = new PoseNetDecoder(PoseModel.PoseNet()).Decode(data, H, W, C, Map);
        Assert.Equal(2, kept.Count);
        Assert.DoesNotContain(kept, p => Math.Abs(p[knee]!.Value.X - 2 * kx * Stride) < 1e-3f);
    }

    private static int Edge(int from, int to)
    {
        for (var e = 0; e < E; e++)
            if (PoseNetDecoder.Tree[e].From == from && PoseNetDecoder.Tree[e].To == to) return e;
        throw new ArgumentException($"no edge {from}->{to}");
    }
}
