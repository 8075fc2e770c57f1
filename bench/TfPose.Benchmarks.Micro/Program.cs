// Micro-benchmarks of the pose pipeline's CPU stages, with BenchmarkDotNet (statistics, outliers, allocations).
//   dotnet run -c Release --project bench/TfPose.Benchmarks.Micro -- --filter '*' [--inProcess]
// The model and image default to the shared data beside the repository; TFPOSE_SHARED points elsewhere.
using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(TfPose.Benchmarks.Micro.PoseStages).Assembly).Run(args);
