using System.Runtime.CompilerServices;
using OpenCvSharp;
using TfPose.Tests;
using Xunit.Abstractions;

namespace TfPose.Pose.Tests;

/// <summary>
/// The steady-state estimate path allocates the people it returns and a small fixed amount, whatever the image size: a
/// long run (5,000 estimations) grew the managed heap by 30 MB between full collections when decoders and image
/// preparation allocated per call. Counted with <see cref="GC.GetAllocatedBytesForCurrentThread"/> after warm-up (the
/// worker pool, the runtime's compiled session and the decoders' buffers are made on the first calls).
/// </summary>
public class AllocationTests(ITestOutputHelper output)
{
    // The first calls make the workers, bound runs and decoder buffers.
    private const int WarmUp = 10;
    // The smallest of a few rounds: what every call allocates shows in each, while one-time work that can land in any
    // round (the runtime recompiling hot methods after their 30th call, on the calling thread) shows in one.
    private const int Rounds = 3;
    private const int Calls = 10;

    /// <summary>
    /// What a call may allocate besides its people: the returned list, OpenCvSharp's view of the caller's image (a new Mat
    /// each call, so no view of it can be kept), and BlazePose's result object. Measured at 144–216 B on the models below
    /// (5.2 KB with 2 people on OpenPose when every call went through ONNX Runtime's name-based run and OpenCvSharp's
    /// per-argument wrappers); the bound leaves room for runtime versions, not for anything per run, per pixel or per row.
    /// </summary>
    private const long FixedBytes = 512;

    /// <summary>
    /// How far the fixed part may move between an image and the same image at twice the size: the pipelines' detectors
    /// may keep a few more or fewer candidates on another image (their lists keep their capacity), but anything per pixel
    /// or per row would differ by kilobytes (the twice-size image has 633,000 more pixels).
    /// </summary>
    private const long SizeIndependenceBytes = 256;

    public static TheoryData<string> Models => new()
    {
        "openpose-mobilenet-v2-small",
        "posenet-mobilenet-v1-050",
        "cpm-mobile",
        "hourglass-mobile",
        "movenet-lightning",
        "movenet-multipose",
        "blazepose-lite",
    };

    private static PoseEstimator Create(string model) => model switch
    {
        "openpose-mobilenet-v2-small" => new PoseEstimator(SharedData.Model(model, "graph_opt.pb")),
        "movenet-lightning" or "movenet-multipose" or "blazepose-lite" => new PoseEstimator(SharedData.Path("data", "tfjs-models", model, "model.json")),
        _ => new PoseEstimator(SharedData.Model(model, "model.pb")),
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void Estimate_AfterWarmUp_AllocatesItsPeopleAndAFixedAmount(string model)
    {
        using var estimator = Create(model);
        using var image = Cv2.ImRead(SharedData.Image("p2.jpg"));
        using var twice = image.Resize(new Size(image.Width * 2, image.Height * 2), 0, 0, InterpolationFlags.Linear);

        var (bytes, people) = PerCall(estimator, image);
        var (bytesTwice, peopleTwice) = PerCall(estimator, twice);
        long own = people.Sum(PersonBytes), ownTwice = peopleTwice.Sum(PersonBytes);
        output.WriteLine($"{model}: {bytes} B/call with {people.Count} people ({own} B of people); at twice the size {bytesTwice} B/call with {peopleTwice.Count} people ({ownTwice} B)");

        Assert.NotEmpty(people); // p2.jpg shows people: a path that finds none would allocate nothing to bound
        Assert.InRange(bytes, 0, FixedBytes + own);
        Assert.InRange(bytesTwice, 0, FixedBytes + ownTwice);
        Assert.InRange(Math.Abs(bytes - own - (bytesTwice - ownTwice)), 0, SizeIndependenceBytes);
    }

    private static (long Bytes, List<Person> People) PerCall(PoseEstimator estimator, Mat image)
    {
        var people = new List<Person>();
        for (var i = 0; i < WarmUp; i++)
            people = estimator.Estimate(image);
        var least = long.MaxValue;
        for (var round = 0; round < Rounds; round++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < Calls; i++)
                people = estimator.Estimate(image);
            least = Math.Min(least, (GC.GetAllocatedBytesForCurrentThread() - before) / Calls);
        }
        return (least, people);
    }

    /// <summary>
    /// The managed size of a returned person, from the CLR's layout on 64-bit: the object (header, method table, its
    /// fields: three references, a score, a nullable int and a nullable box) and its keypoint slots (an array of
    /// <c>Keypoint?</c>, one per keypoint of its set), plus BlazePose's world keypoints (an array).
    /// </summary>
    private static long PersonBytes(Person p)
    {
        const int objectHeader = 16, arrayHeader = 24;
        long person = objectHeader + 3 * 8 + 4 + 8 + Unsafe.SizeOf<Rect2f?>();
        person += ArrayBytes(p.KeypointSet.Count, Unsafe.SizeOf<Keypoint?>());
        if (p.WorldKeypoints is { } world)
            person += ArrayBytes(world.Count, Unsafe.SizeOf<WorldKeypoint>());
        // The returned list's slot for this person, its array grown by doubling at most.
        return person + 2 * 8;

        static long ArrayBytes(int count, int element) => Align(arrayHeader + (long)count * element);
    }

    private static long Align(long bytes) => (bytes + 7) / 8 * 8;
}
