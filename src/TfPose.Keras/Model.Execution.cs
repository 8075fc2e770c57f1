using static TorchSharp.torch;

namespace TfPose.Keras;

// Running the graph: one forward pass, freeing each intermediate value after its last consumer.
public partial class Model
{
    internal Tensor[] Run(Tensor[] inputs, CallContext ctx)
    {
        EnsureGraph();
        if (inputs.Length != _inputs.Length)
            throw new ArgumentException($"Model '{Name}' takes {_inputs.Length} input(s), got {inputs.Length}.");
        var values = new Dictionary<KerasTensor, Tensor>(ReferenceEqualityComparer.Instance);
        // Live bindings per tensor object: identity layers (Dropout at inference, a one-input Concatenate) return
        // their input itself, so a tensor may only be freed once no live value refers to it.
        var bindings = new Dictionary<Tensor, int>(ReferenceEqualityComparer.Instance);
        void Bind(KerasTensor k, Tensor t)
        {
            values[k] = t;
            bindings[t] = bindings.GetValueOrDefault(t) + 1;
        }
        for (int i = 0; i < inputs.Length; i++)
            Bind(_inputs[i], inputs[i]);
        var releaseAfter = ReleasePlan();
        for (int i = 0; i < _nodes.Count; i++)
        {
            var n = _nodes[i];
            var args = new Tensor[n.Inputs.Length];
            for (int j = 0; j < args.Length; j++)
                args[j] = values[n.Inputs[j]];
            Bind(n.Output, n.Layer.Forward(args, ctx));
            // A value's handle is disposed right after its last consumer ran. Autograd keeps (by reference count) what
            // backward needs; everything else — BatchNorm outputs after their ReLU, conv outputs after their Dropout —
            // is freed now instead of when the step's dispose scope ends, which bounds peak memory by what training
            // really needs (the Tiramisu at 224x224 otherwise held every intermediate of the whole network at once).
            foreach (var k in releaseAfter[i])
            {
                var t = values[k];
                values.Remove(k);
                if ((bindings[t] -= 1) == 0)
                {
                    bindings.Remove(t);
                    t.Dispose();
                }
            }
        }
        return _outputs.Select(o => values[o]).ToArray();
    }

    private List<KerasTensor>[]? _releasePlan;

    /// <summary>For each node, the intermediate values whose last consumer it is (never model inputs or outputs).</summary>
    private List<KerasTensor>[] ReleasePlan()
    {
        if (_releasePlan is { } plan && plan.Length == _nodes.Count)
            return plan;
        var lastUse = new Dictionary<KerasTensor, int>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < _nodes.Count; i++)
        {
            lastUse.TryAdd(_nodes[i].Output, i); // unused outputs go right after they are made
            foreach (var k in _nodes[i].Inputs)
                lastUse[k] = i;
        }
        plan = new List<KerasTensor>[_nodes.Count];
        for (int i = 0; i < plan.Length; i++)
            plan[i] = [];
        foreach (var (k, i) in lastUse)
            if (!_inputs.Contains(k) && !_outputs.Contains(k))
                plan[i].Add(k);
        return _releasePlan = plan;
    }
}
