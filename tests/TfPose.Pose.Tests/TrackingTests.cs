using OpenCvSharp;
using TfPose.Pose.Tracking;

namespace TfPose.Pose.Tests;

/// <summary>Synthetic people for the tracking and smoothing tests, in a 640×480 image.</summary>
internal static class SyntheticPeople
{
    public const int Width = 640, Height = 480;

    // A standing COCO-17 person about 180 px tall, relative to the hips' midpoint.
    private static readonly (float X, float Y)[] Template =
    [
        (0, -90), (4, -94), (-4, -94), (9, -92), (-9, -92), (22, -65), (-22, -65), (30, -35), (-30, -35),
        (34, -5), (-34, -5), (14, 0), (-14, 0), (15, 45), (-15, 45), (16, 90), (-16, 90),
    ];

    public static Keypoint At(int part, float x, float y, float score = 0.9f) => new(part, x, y, x / Width, y / Height, score);

    /// <summary>A COCO-17 person with its hips' midpoint at (cx, cy), scaled, optionally jittered per keypoint.</summary>
    public static Person Coco(float cx, float cy, float score = 0.8f, float scale = 1, Random? noise = null, float sigma = 0,
        bool withBox = false, float keypointScore = 0.9f)
    {
        var kps = new Keypoint[Template.Length];
        for (var i = 0; i < kps.Length; i++)
        {
            var x = cx + scale * Template[i].X + (noise is null ? 0 : sigma * (float)Gaussian(noise));
            var y = cy + scale * Template[i].Y + (noise is null ? 0 : sigma * (float)Gaussian(noise));
            kps[i] = At(i, x, y, keypointScore);
        }
        return new Person(KeypointSet.Coco17, kps, score)
        {
            Box = withBox ? new Rect2f(cx - 40 * scale, cy - 100 * scale, 80 * scale, 200 * scale) : null,
        };
    }

    public static Person WithBox(float x, float y, float w, float h, float score = 0.8f) =>
        new(KeypointSet.Coco17, [At(0, x + w / 2, y + h / 2)], score) { Box = new Rect2f(x, y, w, h) };

    public static double Gaussian(Random r) =>
        Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());

    public static TimeSpan Frame(int i, double fps = 30) => TimeSpan.FromSeconds(i / fps);
}

public class TrackingTests
{
    // ---- similarity by hand ----

    [Fact]
    public void Iou_ByHand()
    {
        // Two 2/3 × 1 boxes shifted by 1/3: intersection 1/3, union 2/3 + 2/3 − 1/3 = 1 (pose-detection's own case).
        Assert.Equal(1.0 / 3, PoseSimilarity.Iou(new Rect2f(0, 0, 2f / 3, 1), new Rect2f(1f / 3, 0, 2f / 3, 1)), 6);
        Assert.Equal(1, PoseSimilarity.Iou(new Rect2f(0, 0, 1, 1), new Rect2f(0, 0, 1, 1)), 12);
        Assert.Equal(0, PoseSimilarity.Iou(new Rect2f(0, 0, 0.5f, 0.5f), new Rect2f(0.5f, 0.5f, 0.5f, 0.5f)));
        // 10×10 and 10×10 overlapping in 5×5: 25 / (100 + 100 − 25) = 1/7.
        Assert.Equal(1.0 / 7, PoseSimilarity.Iou(new Rect2f(0, 0, 10, 10), new Rect2f(5, 5, 10, 10)), 12);
    }

    [Fact]
    public void Iou_WithoutABox_UsesTheConfidentKeypointsExtent()
    {
        var a = new Person(KeypointSet.Coco17, [SyntheticPeople.At(0, 0, 0), SyntheticPeople.At(1, 10, 10), SyntheticPeople.At(2, 500, 500, 0.1f)], 1);
        var b = new Person(KeypointSet.Coco17, [SyntheticPeople.At(0, 5, 5), SyntheticPeople.At(1, 15, 15)], 1);
        Assert.Equal(new Rect2f(0, 0, 10, 10), PoseSimilarity.BoxOf(a, 0.3));
        Assert.Equal(1.0 / 7, PoseSimilarity.Iou(a, b), 6);
        // Nothing above the threshold: all keypoints count.
        var weak = new Person(KeypointSet.Coco17, [SyntheticPeople.At(0, 1, 2, 0.1f), SyntheticPeople.At(1, 3, 6, 0.1f)], 1);
        Assert.Equal(new Rect2f(1, 2, 2, 4), PoseSimilarity.BoxOf(weak, 0.3));
        Assert.Null(PoseSimilarity.BoxOf(new Person(KeypointSet.Coco17, [], 0), 0.3));
    }

    private static readonly KeypointSet Four = new("four", ["a", "b", "c", "d"], []);

    private static readonly TrackerOptions FourOptions = new()
    {
        Kind = TrackerKind.Keypoint, MaxTracks = 4, MaxAge = TimeSpan.FromMilliseconds(1000), MinSimilarity = 0.5,
        KeypointConfidenceThreshold = 0.2, KeypointFalloff = [0.1, 0.1, 0.1, 0.1], MinNumberOfKeypoints = 2,
    };

    /// <summary>A four-keypoint person from (normalised x, y, score) triples.</summary>
    private static Person FourPerson(params (float X, float Y, float S)[] k) =>
        new(Four, k.Select((p, i) => new Keypoint(i, p.X * SyntheticPeople.Width, p.Y * SyntheticPeople.Height, p.X, p.Y, p.S)), 0.5f);

    [Fact]
    public void Oks_ByHand()
    {
        // Keypoint c is weak in the detection, so a, b, d count; a and b coincide (term 1), d is 0.1 off.
        // The track's keypoints above 0.2 span 0.2..0.8 both ways: area 0.36. Falloff 0.1: x = 0.2, so
        // OKS = (1 + 1 + exp(−0.01 / (2·0.36·0.04))) / 3.
        var pose = FourPerson((0.2f, 0.2f, 1), (0.4f, 0.4f, 0.8f), (0.6f, 0.6f, 0.1f), (0.8f, 0.7f, 0.8f));
        var track = FourPerson((0.2f, 0.2f, 1), (0.4f, 0.4f, 0.8f), (0.6f, 0.6f, 0.9f), (0.8f, 0.8f, 0.8f));
        var expected = (2 + Math.Exp(-0.01 / (2 * (0.36 + 1e-6) * 0.04))) / 3;
        Assert.Equal(expected, PoseSimilarity.Oks(pose, track, FourOptions), 6);
    }

    [Fact]
    public void Oks_BelowMinimumKeypoints_IsZero()
    {
        var pose = FourPerson((0.2f, 0.2f, 1), (0.4f, 0.4f, 0.1f), (0.6f, 0.6f, 0.9f), (0.8f, 0.8f, 0.8f));
        var track = FourPerson((0.2f, 0.2f, 1), (0.4f, 0.4f, 0.8f), (0.6f, 0.6f, 0.1f), (0.8f, 0.8f, 0));
        Assert.Equal(0, PoseSimilarity.Oks(pose, track, FourOptions));
    }

    [Fact]
    public void Oks_Coco17_UsesCocoSigmas()
    {
        // Same person, only the nose (sigma 0.026) moved by 8 px to the right = 0.0125 of the width.
        // Area: the template spans 68 × 184 px = (68/640)·(184/480) normalised.
        var a = SyntheticPeople.Coco(300, 300);
        var kps = a.Keypoints.ToArray();
        kps[0] = SyntheticPeople.At(0, kps[0].X + 8, kps[0].Y);
        var b = new Person(KeypointSet.Coco17, kps, 0.8f);
        var area = 68.0 / 640 * (184.0 / 480) + 1e-6;
        var d2 = 0.0125 * 0.0125;
        var expected = (16 + Math.Exp(-d2 / (2 * area * Math.Pow(2 * 0.026, 2)))) / 17;
        Assert.Equal(expected, PoseSimilarity.Oks(b, a), 5);
    }

    [Fact]
    public void Oks_OtherSets_CountOnlyTheirCocoKeypoints()
    {
        // OpenPose-18: moving the neck (no COCO counterpart) changes nothing.
        var kps = Enumerable.Range(0, 18).Select(i => SyntheticPeople.At(i, 200 + 5 * i, 100 + 10 * i)).ToArray();
        var a = new Person(kps, 1);
        kps[1] = SyntheticPeople.At(1, 400, 50);
        var b = new Person(kps, 1);
        Assert.Equal(1, PoseSimilarity.Oks(a, b), 6);
        // A set with no COCO mapping needs falloffs of its own.
        var ex = Assert.Throws<InvalidOperationException>(() => PoseSimilarity.Oks(FourPerson((0, 0, 1), (0, 0, 1), (0, 0, 1), (0, 0, 1)), FourPerson((0, 0, 1), (0, 0, 1), (0, 0, 1), (0, 0, 1))));
        Assert.Contains("KeypointFalloff", ex.Message);
    }

    // ---- pose-detection's own scenarios ----

    private static int[] Ids(IEnumerable<Person> people) => people.Select(p => p.TrackId ?? 0).ToArray();

    private static (int Id, long Micros)[] TrackList(PoseTracker t) =>
        t.Tracks.Select(x => (x.Id, x.LastSeen.Ticks / 10)).ToArray();

    private static TimeSpan Micros(long us) => TimeSpan.FromMicroseconds(us);

    [Fact]
    public void KeypointTracker_PoseDetectionScenario()
    {
        // pose-detection keypoint_tracker_test.ts, "Apply keypoint tracker".
        var tracker = new PoseTracker(FourOptions);
        Person[] poses = [FourPerson((0.2f, 0.2f, 1), (0.4f, 0.4f, 0.8f), (0.6f, 0.6f, 0.9f), (0.8f, 0.8f, 0))];
        tracker.Update(poses, Micros(0));
        Assert.Equal([1], Ids(poses));
        Assert.Equal([(1, 0L)], TrackList(tracker));

        poses =
        [
            FourPerson((0.2f, 0.2f, 1), (0.4f, 0.4f, 0.8f), (0.6f, 0.6f, 0.9f), (0.8f, 0.8f, 0.8f)),
            FourPerson((0.8f, 0.8f, 0.8f), (0.6f, 0.6f, 0.3f), (0.4f, 0.4f, 0.1f), (0.2f, 0.2f, 0.8f)),
        ];
        tracker.Update(poses, Micros(100_000));
        Assert.Equal([1, 2], Ids(poses));
        Assert.Equal([(1, 100_000L), (2, 100_000L)], TrackList(tracker));

        poses =
        [
            FourPerson((0.6f, 0.7f, 0.7f), (0.5f, 0.6f, 0.7f), (0, 0, 0.1f), (0.2f, 0.1f, 1)),
            FourPerson((0.5f, 0.1f, 0.6f), (0.9f, 0.3f, 0.6f), (0.1f, 1, 0.9f), (0.4f, 0.4f, 0.1f)),
        ];
        tracker.Update(poses, Micros(900_000));
        Assert.Equal([2, 3], Ids(poses));
        Assert.Equal([(2, 900_000L), (3, 900_000L), (1, 100_000L)], TrackList(tracker));

        // Track 1 is now older than a second: an identical pose starts track 4.
        poses =
        [
            FourPerson((0.2f, 0.2f, 1), (0.4f, 0.4f, 0.8f), (0.6f, 0.6f, 0.9f), (0.8f, 0.8f, 0.8f)),
            FourPerson((0.55f, 0.7f, 0.7f), (0.5f, 0.6f, 0.9f), (1, 1, 0.1f), (0.8f, 0.1f, 0)),
            FourPerson((0.1f, 0.1f, 0.1f), (0.2f, 0.2f, 0.9f), (0.3f, 0.3f, 0.7f), (0.4f, 0.4f, 0.8f)),
        ];
        tracker.Update(poses, Micros(1_200_000));
        Assert.Equal([4, 2, 5], Ids(poses));
        Assert.Equal([(2, 1_200_000L), (4, 1_200_000L), (5, 1_200_000L), (3, 900_000L)], TrackList(tracker));

        // maxTracks 4: a new track pushes out the stalest (3).
        poses = [FourPerson((0.1f, 0.8f, 1), (0.2f, 0.9f, 0.6f), (0.2f, 0.9f, 0.5f), (0.8f, 0.2f, 0.4f))];
        tracker.Update(poses, Micros(1_300_000));
        Assert.Equal([6], Ids(poses));
        Assert.Equal([(6, 1_300_000L), (2, 1_200_000L), (4, 1_200_000L), (5, 1_200_000L)], TrackList(tracker));
    }

    [Fact]
    public void BoxTracker_PoseDetectionScenario()
    {
        // pose-detection bounding_box_tracker_test.ts, "Apply bounding box tracker" (boxes in a unit image).
        var tracker = new PoseTracker(new TrackerOptions { MaxTracks = 4, MinSimilarity = 0.5 });
        Person[] poses = [SyntheticPeople.WithBox(0, 0, 0.5f, 0.5f), SyntheticPeople.WithBox(0, 0, 1, 1)];
        tracker.Update(poses, Micros(0));
        Assert.Equal([1, 2], Ids(poses));
        Assert.Equal([(1, 0L), (2, 0L)], TrackList(tracker));

        poses = [SyntheticPeople.WithBox(0.1f, 0.1f, 0.4f, 0.4f), SyntheticPeople.WithBox(0.2f, 0.3f, 0.7f, 0.6f)];
        tracker.Update(poses, Micros(100_000));
        Assert.Equal([1, 3], Ids(poses));
        Assert.Equal([(1, 100_000L), (3, 100_000L), (2, 0L)], TrackList(tracker));

        poses = [SyntheticPeople.WithBox(0.1f, 0.1f, 0.45f, 0.4f), SyntheticPeople.WithBox(0, 0, 1, 1)];
        tracker.Update(poses, Micros(1_050_000));
        Assert.Equal([1, 4], Ids(poses));
        Assert.Equal([(1, 1_050_000L), (4, 1_050_000L), (3, 100_000L)], TrackList(tracker));
    }

    // ---- behaviour over frames ----

    public static TheoryData<TrackerKind, TrackAssignment> Kinds => new()
    {
        { TrackerKind.BoundingBox, TrackAssignment.MostConfidentFirst },
        { TrackerKind.BoundingBox, TrackAssignment.MostSimilarFirst },
        { TrackerKind.Keypoint, TrackAssignment.MostConfidentFirst },
        { TrackerKind.Keypoint, TrackAssignment.MostSimilarFirst },
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void TwoPeopleMovingTowardsEachOther_KeepTheirIds(TrackerKind kind, TrackAssignment assignment)
    {
        // A walks right, B left, 4 px a frame, passing 60 px apart at the end; noise on every keypoint.
        var tracker = new PoseTracker(new TrackerOptions { Kind = kind, Assignment = assignment });
        var noise = new Random(1);
        for (var f = 0; f < 40; f++)
        {
            var a = SyntheticPeople.Coco(100 + 4 * f, 250, 0.8f, noise: noise, sigma: 1.5f);
            var b = SyntheticPeople.Coco(500 - 4 * f, 260, 0.7f, noise: noise, sigma: 1.5f);
            tracker.Update([a, b], SyntheticPeople.Frame(f));
            Assert.Equal((1, 2), (a.TrackId!.Value, b.TrackId!.Value));
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void IdsDoNotDependOnTheDetectionOrder(TrackerKind kind, TrackAssignment assignment)
    {
        // Three people, fed in a shuffled order every frame, in two trackers with different shuffles.
        var options = new TrackerOptions { Kind = kind, Assignment = assignment };
        var t1 = new PoseTracker(options);
        var t2 = new PoseTracker(options);
        var shuffle = new Random(7);
        for (var f = 0; f < 30; f++)
        {
            Person[] Make() =>
            [
                SyntheticPeople.Coco(100 + 3 * f, 250, 0.9f), SyntheticPeople.Coco(320, 240 + f, 0.6f),
                SyntheticPeople.Coco(540 - 3 * f, 230, 0.75f),
            ];
            var p1 = Make();
            var p2 = Make();
            var order1 = Enumerable.Range(0, 3).OrderBy(_ => shuffle.Next()).ToArray();
            var order2 = Enumerable.Range(0, 3).OrderBy(_ => shuffle.Next()).ToArray();
            t1.Update(order1.Select(i => p1[i]).ToArray(), SyntheticPeople.Frame(f));
            t2.Update(order2.Select(i => p2[i]).ToArray(), SyntheticPeople.Frame(f));
            // Ids follow confidence on the first frame, then stay with their person.
            Assert.Equal([1, 3, 2], Ids(p1));
            Assert.Equal(Ids(p1), Ids(p2));
        }
    }

    [Theory]
    [InlineData(TrackerKind.BoundingBox)]
    [InlineData(TrackerKind.Keypoint)]
    public void APersonLeaving_AndAnotherArriving_GetsANewId(TrackerKind kind)
    {
        var tracker = new PoseTracker(new TrackerOptions { Kind = kind });
        for (var f = 0; f < 10; f++)
        {
            Person[] people = [SyntheticPeople.Coco(150, 250), SyntheticPeople.Coco(450, 250, 0.5f)];
            tracker.Update(people, SyntheticPeople.Frame(f));
            Assert.Equal([1, 2], Ids(people));
        }
        // Person 2 leaves for a few frames; person 1 stays.
        for (var f = 10; f < 15; f++)
        {
            Person[] people = [SyntheticPeople.Coco(150, 250)];
            tracker.Update(people, SyntheticPeople.Frame(f));
            Assert.Equal([1], Ids(people));
        }
        Assert.True(tracker.Contains(2)); // still remembered: younger than MaxAge
        // Someone else comes in elsewhere.
        for (var f = 15; f < 20; f++)
        {
            Person[] people = [SyntheticPeople.Coco(150, 250), SyntheticPeople.Coco(320, 120, 0.6f, scale: 0.5f)];
            tracker.Update(people, SyntheticPeople.Frame(f));
            Assert.Equal([1, 3], Ids(people));
        }
    }

    [Fact]
    public void ATrackOlderThanMaxAge_IsDropped_AndItsPersonReturnsUnderANewId()
    {
        var tracker = new PoseTracker(new TrackerOptions { MaxAge = TimeSpan.FromMilliseconds(500) });
        Person[] people = [SyntheticPeople.Coco(200, 250)];
        tracker.Update(people, TimeSpan.FromSeconds(1));
        tracker.Update([], TimeSpan.FromSeconds(1.5)); // exactly MaxAge later: kept
        Assert.True(tracker.Contains(1));
        tracker.Update([], TimeSpan.FromSeconds(1.5) + TimeSpan.FromTicks(10));
        Assert.False(tracker.Contains(1));
        Assert.Empty(tracker.Tracks);
        people = [SyntheticPeople.Coco(200, 250)];
        tracker.Update(people, TimeSpan.FromSeconds(1.6));
        Assert.Equal([2], Ids(people));
    }

    [Fact]
    public void MaxTracks_KeepsTheMostRecentlySeen()
    {
        var tracker = new PoseTracker(new TrackerOptions { MaxTracks = 3 });
        // Five people seen one after the other, each in its own place.
        for (var i = 0; i < 5; i++)
        {
            Person[] people = [SyntheticPeople.WithBox(100 * i, 10, 50, 100)];
            tracker.Update(people, SyntheticPeople.Frame(i));
            Assert.Equal([i + 1], Ids(people));
            Assert.True(tracker.Tracks.Count <= 3);
        }
        Assert.Equal([5, 4, 3], tracker.Tracks.Select(t => t.Id));
        // More detections in a frame than MaxTracks: all get ids, only three are kept.
        var crowd = Enumerable.Range(0, 5).Select(i => SyntheticPeople.WithBox(100 * i, 300, 50, 100, 0.9f - 0.1f * i)).ToArray();
        tracker.Update(crowd, SyntheticPeople.Frame(5));
        Assert.Equal([6, 7, 8, 9, 10], Ids(crowd));
        Assert.Equal([6, 7, 8], tracker.Tracks.Select(t => t.Id));
    }

    [Fact]
    public void AssignmentOrders_DifferWhereTheyShould()
    {
        // Tracks 1 (x 0..100) and 2 (x 100..200). A confident detection at x 40..140 overlaps track 1 by
        // IoU 60/140 and track 2 by 40/160; a weaker one sits exactly on track 1 (IoU 1) and misses track 2.
        PoseTracker Start(TrackAssignment a)
        {
            var t = new PoseTracker(new TrackerOptions { Assignment = a, MinSimilarity = 0.1 });
            t.Update([SyntheticPeople.WithBox(0, 0, 100, 100, 0.9f), SyntheticPeople.WithBox(100, 0, 100, 100, 0.8f)], Micros(1000));
            return t;
        }
        Person Strong() => SyntheticPeople.WithBox(40, 0, 100, 100, 0.9f);
        Person Weak() => SyntheticPeople.WithBox(0, 0, 100, 100, 0.5f);

        // pose-detection: the confident detection takes its best track (1) first; the weak one then finds no
        // track it overlaps and starts track 3.
        Person[] byDetection = [Strong(), Weak()];
        Start(TrackAssignment.MostConfidentFirst).Update(byDetection, Micros(2000));
        Assert.Equal([1, 3], Ids(byDetection));

        // Pairs by similarity: weak–1 (1.0) first, then strong–2 (0.25).
        Person[] byPair = [Strong(), Weak()];
        Start(TrackAssignment.MostSimilarFirst).Update(byPair, Micros(2000));
        Assert.Equal([2, 1], Ids(byPair));
    }

    [Fact]
    public void Reset_ForgetsTracks_ButIdsKeepCounting()
    {
        var tracker = new PoseTracker();
        Person[] p = [SyntheticPeople.Coco(200, 200)];
        tracker.Update(p, Micros(1000));
        tracker.Reset();
        Assert.Empty(tracker.Tracks);
        p = [SyntheticPeople.Coco(200, 200)];
        tracker.Update(p, Micros(2000));
        Assert.Equal([2], Ids(p));
        Assert.True(tracker.Remove(2));
        Assert.False(tracker.Remove(2));
    }

    [Fact]
    public void Defaults_ArePoseDetectionsMoveNetMultiPose()
    {
        var box = new TrackerOptions();
        Assert.Equal((TrackerKind.BoundingBox, 18, TimeSpan.FromSeconds(1), 0.15), (box.Kind, box.MaxTracks, box.MaxAge, box.EffectiveMinSimilarity));
        var kp = TrackerOptions.Keypoint;
        Assert.Equal((18, 0.2, 0.3, 4), (kp.MaxTracks, kp.EffectiveMinSimilarity, kp.KeypointConfidenceThreshold, kp.MinNumberOfKeypoints));
    }

    [Fact]
    public void BadOptions_AreRejected()
    {
        Assert.Throws<ArgumentException>(() => new PoseTracker(new TrackerOptions { MaxTracks = 0 }));
        Assert.Throws<ArgumentException>(() => new PoseTracker(new TrackerOptions { MaxAge = TimeSpan.Zero }));
        Assert.Throws<ArgumentException>(() => new PoseTracker(new TrackerOptions { KeypointConfidenceThreshold = 1.1 }));
        Assert.Throws<ArgumentException>(() => new PoseTracker(new TrackerOptions { MinNumberOfKeypoints = 0 }));
        Assert.Throws<ArgumentException>(() => new PoseTracker(new TrackerOptions { KeypointFalloff = [0.1, 0] }));
        Assert.Throws<ArgumentException>(() => new PoseTracker(new TrackerOptions { MinSimilarity = 2 }));
    }

    [Theory]
    [InlineData(TrackerKind.BoundingBox)]
    [InlineData(TrackerKind.Keypoint)]
    public void Update_AllocatesNothing_OnceWarm(TrackerKind kind)
    {
        var tracker = new PoseTracker(new TrackerOptions { Kind = kind });
        Person[] people = [SyntheticPeople.Coco(150, 250, 0.9f), SyntheticPeople.Coco(350, 250, 0.8f), SyntheticPeople.Coco(520, 250, 0.7f)];
        for (var f = 0; f < 5; f++) tracker.Update(people, SyntheticPeople.Frame(f));
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var f = 5; f < 105; f++) tracker.Update(people, SyntheticPeople.Frame(f));
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
