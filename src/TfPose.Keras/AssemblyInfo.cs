using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("TfPose.Keras.Tests")]
[assembly: InternalsVisibleTo("TfPose.Gan")]
