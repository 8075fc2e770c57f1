using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("TfPose.Pose.Tests")]
