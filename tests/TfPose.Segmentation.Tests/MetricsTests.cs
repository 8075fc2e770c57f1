using static TorchSharp.torch;

namespace TfPose.Segmentation.Tests;

public sealed class MetricsTests
{
    // 3 classes, ignore label 3. Ten pixels:
    //   truth: 0 0 0 0 1 1 1 2 3 3
    //   pred : 0 0 1 2 1 1 0 2 0 1
    // Void pixels (last two) drop out. Matrix (rows truth):
    //   [2 1 1]
    //   [1 2 0]
    //   [0 0 1]
    private static readonly byte[] Truth = [0, 0, 0, 0, 1, 1, 1, 2, 3, 3];
    private static readonly byte[] Pred = [0, 0, 1, 2, 1, 1, 0, 2, 0, 1];

    private static void AssertHandMetrics(ConfusionMatrix m)
    {
        Assert.Equal(8, m.Total);
        Assert.Equal(2, m[0, 0]);
        Assert.Equal(1, m[0, 1]);
        Assert.Equal(1, m[0, 2]);
        Assert.Equal(1, m[1, 0]);
        Assert.Equal(2, m[1, 1]);
        Assert.Equal(1, m[2, 2]);
        // Global: (2 + 2 + 1) / 8.
        Assert.Equal(5.0 / 8, m.GlobalAccuracy, 12);
        // Class accuracy: 2/4, 2/3, 1/1.
        Assert.Equal(new[] { 0.5, 2.0 / 3, 1.0 }, m.ClassAccuracy);
        Assert.Equal((0.5 + 2.0 / 3 + 1.0) / 3, m.MeanClassAccuracy, 12);
        // IoU: class 0: 2 / (4 + 3 − 2) = 2/5; class 1: 2 / (3 + 3 − 2) = 1/2; class 2: 1 / (1 + 2 − 1) = 1/2.
        Assert.Equal(new[] { 0.4, 0.5, 0.5 }, m.IoU);
        Assert.Equal((0.4 + 0.5 + 0.5) / 3, m.MeanIoU, 12);
    }

    [Fact]
    public void Hand_computed_matrix_from_spans()
    {
        var m = new ConfusionMatrix(3, ignoreLabel: 3);
        m.Add(Truth, Pred);
        AssertHandMetrics(m);
    }

    [Fact]
    public void Tensor_path_gives_the_same_matrix()
    {
        var m = new ConfusionMatrix(3, ignoreLabel: 3);
        using var t = tensor(Truth.Select(b => (long)b).ToArray()).reshape(2, 5);
        using var p = tensor(Pred.Select(b => (long)b).ToArray()).reshape(2, 5);
        m.Add(t, p);
        AssertHandMetrics(m);
    }

    [Fact]
    public void Absent_classes_are_left_out_of_the_means_and_matrices_add()
    {
        // 4 classes; class 3 never labelled nor predicted: its IoU and accuracy are undefined and skipped.
        var a = new ConfusionMatrix(4, ignoreLabel: 11);
        a.Add([0, 1, 2, 11], [0, 1, 1, 3]);
        var b = new ConfusionMatrix(4, ignoreLabel: 11);
        b.Add([2], [2]);
        a.Add(b);
        // Matrix: [1 0 0 0], [0 1 0 0], [0 1 1 0], [0 0 0 0].
        Assert.Equal(3.0 / 4, a.GlobalAccuracy, 12);
        Assert.True(double.IsNaN(a.ClassAccuracy[3]));
        Assert.Equal((1 + 1 + 0.5) / 3, a.MeanClassAccuracy, 12);
        // IoU: 1, 1/2 (1 / (1 + 2 − 1)), 1/2 (1 / (2 + 1 − 1)), undefined.
        Assert.Equal(1.0, a.IoU[0]);
        Assert.Equal(0.5, a.IoU[1]);
        Assert.Equal(0.5, a.IoU[2]);
        Assert.True(double.IsNaN(a.IoU[3]));
        Assert.Equal(2.0 / 3, a.MeanIoU, 12);
    }

    [Fact]
    public void A_predicted_but_unlabelled_class_has_zero_iou()
    {
        var m = new ConfusionMatrix(3);
        m.Add([0, 0], [0, 2]);
        Assert.Equal(0.0, m.IoU[2]);
        Assert.True(double.IsNaN(m.IoU[1]));
        Assert.Equal((0.5 + 0) / 2, m.MeanIoU, 12);
        Assert.Throws<ArgumentException>(() => m.Add([5], [0]));
    }
}
