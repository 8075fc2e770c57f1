namespace TfPose.Datasets.CamVid;

/// <summary>The 11 CamVid classes as SegNet's version of the data set labels them; grey value 11 is void.</summary>
public static class CamVidClasses
{
    /// <summary>Number of real classes (0–10).</summary>
    public const int Count = 11;

    /// <summary>Grey value of unlabelled pixels: ignored by the loss and every metric.</summary>
    public const byte Void = 11;

    public static IReadOnlyList<string> Names { get; } =
        ["Sky", "Building", "Pole", "Road", "Pavement", "Tree", "SignSymbol", "Fence", "Car", "Pedestrian", "Bicyclist"];

    /// <summary>RGB colours of classes 0–10, then void (index 11) black.</summary>
    public static IReadOnlyList<(byte R, byte G, byte B)> Colors { get; } =
    [
        (128, 128, 128), (128, 0, 0), (192, 192, 128), (128, 64, 128), (60, 40, 222), (128, 128, 0),
        (192, 128, 128), (64, 64, 128), (64, 0, 128), (64, 64, 0), (0, 128, 192), (0, 0, 0),
    ];
}
