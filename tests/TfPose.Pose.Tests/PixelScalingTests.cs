using OpenCvSharp;
using TfPose.Runtime;

namespace TfPose.Pose.Tests;

public class PixelScalingTests
{
    [Fact]
    public void PoseNetsDescription_GivesRgbInMinusOneToOne_ByHand()
    {
        // PoseNet: RGB, (pixel - 127.5) / 127.5. A BGR pixel (0, 128, 255) is RGB (255, 128, 0) -> (1, 0.5/127.5, -1).
        using var bgr = new Mat(1, 1, MatType.CV_8UC3, new Scalar(0, 128, 255));
        using var input = PoseModel.PoseNet().Pixels.ToFloat(bgr);
        var v = input.Get<Vec3f>(0, 0);
        Assert.Equal(MatType.CV_32FC3, input.Type());
        Assert.Equal(1f, v.Item0, 6);
        Assert.Equal(0.5f / 127.5f, v.Item1, 6);
        Assert.Equal(-1f, v.Item2, 6);
    }

    [Fact]
    public void OpenPosesDescription_KeepsBgr_AndTheGraphRunnersOffsetIsTheSameConversion()
    {
        // OpenPose graphs take BGR 0..255 as they are; a graph run with --scale 2 --offset -1 doubles and shifts.
        using var bgr = new Mat(1, 1, MatType.CV_8UC3, new Scalar(10, 20, 30));
        using var openPose = PoseModel.OpenPose.Pixels.ToFloat(bgr);
        Assert.Equal(new Vec3f(10, 20, 30), openPose.Get<Vec3f>(0, 0));
        using var prepared = ImageTensors.Prepare(bgr, new ImagePreprocessing(1, 1, Rgb: true, Scale: 2, Offset: -1));
        Assert.Equal(new Vec3f(59, 39, 19), prepared.Get<Vec3f>(0, 0));
    }
}
