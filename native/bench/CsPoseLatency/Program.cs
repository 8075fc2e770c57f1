// Per-image latency of PoseEstimator.Estimate(Mat), measured exactly as native/examples/pose_image.c
// measures tfpose_estimate: same image, network size and threads; the first run is excluded and the
// median of the rest is reported.
//   dotnet run -c Release --project native/bench/CsPoseLatency -- MODEL IMAGE [RUNS] [WxH] [THREADS]
using System.Diagnostics;
using OpenCvSharp;
using TfPose.Pose;

if (args.Length < 2)
{
    Console.Error.WriteLine("usage: CsPoseLatency MODEL IMAGE [RUNS] [WxH] [THREADS]");
    return 2;
}
var runs = args.Length > 2 ? int.Parse(args[2]) : 30;
var size = (args.Length > 3 ? args[3] : "432x368").Split('x').Select(int.Parse).ToArray();
var threads = args.Length > 4 ? int.Parse(args[4]) : 0;
using var estimator = new PoseEstimator(args[0], new PoseEstimatorOptions { Width = size[0], Height = size[1], Session = new() { IntraOpThreads = threads } });
using var image = Cv2.ImRead(args[1], ImreadModes.Color);
var times = new List<double>();
var people = 0;
for (var i = 0; i < runs; i++)
{
    var sw = Stopwatch.StartNew();
    people = estimator.Estimate(image).Count;
    times.Add(sw.Elapsed.TotalMilliseconds);
}
var rest = times.Skip(1).Order().ToList();
Console.WriteLine($"{args[1]}: {people} people; latency median {rest[(rest.Count - 1) / 2]:F2} ms, min {rest[0]:F2} ms over {rest.Count} runs (first run {times[0]:F2} ms)");
return 0;
