
namespace TfPose.Keras;

public partial class Model
{
    /// <summary>Keras-style table of layers, output shapes and parameter counts.</summary>
    public string Summary()
    {
        EnsureGraph();
        var sb = new System.Text.StringBuilder();
        sb.AppendLine($"Model: \"{Name}\"");
        sb.AppendLine($"{"Layer (type)",-40}{"Output Shape",-24}{"Param #",12}");
        sb.AppendLine(new string('=', 76));
        foreach (var i in _inputs)
            sb.AppendLine($"{(i.Input?.Name ?? i.Name) + " (InputLayer)",-40}{Layout.Format(i.Shape),-24}{0,12}");
        foreach (var n in _nodes)
            sb.AppendLine($"{n.Layer.Name + " (" + n.Layer.KerasName + ")",-40}{Layout.Format(n.Output.Shape),-24}{n.Layer.CountParams(),12:N0}");
        sb.AppendLine(new string('=', 76));
        var all = CountParams();
        var trainable = TrainableLayers().SelectMany(l => l.Weights).Where(w => w.IsTrainableWeight).Distinct().Sum(w => w.Value.numel());
        sb.AppendLine($"Total params: {all:N0}");
        sb.AppendLine($"Trainable params: {trainable:N0}");
        sb.AppendLine($"Non-trainable params: {all - trainable:N0}");
        return sb.ToString();
    }
}
