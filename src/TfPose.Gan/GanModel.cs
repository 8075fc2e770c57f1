using TfPose.Keras;
using static TorchSharp.torch;

namespace TfPose.Gan;

/// <summary>
/// The combined model (noise → generator → frozen discriminator) as the Keras GAN examples write it: a model whose
/// train step trains both networks, so the GAN trains through <c>Fit</c> with the same callbacks, checkpoints and
/// resuming as any model. Fit's x is a batch of real images; y is not used.
/// </summary>
public sealed class GanModel : Model
{
    private readonly FashionGan _gan;

    internal GanModel(FashionGan gan, KerasTensor noise, KerasTensor output, int seed, string device)
        : base(noise, output, name: "gan", seed: seed, device: device)
    {
        _gan = gan;
    }

    /// <summary>Label of real images for the discriminator (1.0; 0.9 is one-sided label smoothing).</summary>
    public float RealLabel { get; set; } = 1.0f;

    /// <summary>Logs "d_loss" and "g_loss" of <see cref="FashionGan.TrainStep"/>.</summary>
    protected override Logs TrainStep(Tensor x, Tensor? y)
    {
        var (d, g) = _gan.TrainStep(x, RealLabel);
        return new Logs { ["d_loss"] = d, ["g_loss"] = g };
    }

    /// <summary>
    /// A GAN checkpoint folder: generator, discriminator (with its optimizer) and combined model (with the generator's
    /// optimizer) beside <paramref name="path"/>'s own file, plus the noise and dropout generators' states.
    /// </summary>
    public override void SaveTrainingState(string path, IReadOnlyDictionary<string, string> metadata)
    {
        var meta = new Dictionary<string, string>(metadata);
        // Older readers (LoadCheckpoint, gan sample) take "epoch" as the number of finished epochs.
        if (metadata.TryGetValue("fit.epoch", out var e))
            meta["epoch"] = e;
        _gan.SaveCheckpoint(Path.GetDirectoryName(Path.GetFullPath(path))!, meta);
    }

    public override IReadOnlyDictionary<string, string> LoadTrainingState(string path) =>
        _gan.LoadCheckpointState(Path.GetDirectoryName(Path.GetFullPath(path))!, restoreStreams: true);
}
