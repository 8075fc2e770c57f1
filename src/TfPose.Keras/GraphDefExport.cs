using Google.Protobuf;
using TfPose.Graph.Proto;
using static TorchSharp.torch;

namespace TfPose.Keras;

/// <summary>
/// Writes a trained model as a frozen TensorFlow GraphDef: a Placeholder input (NHWC, batch -1), weights as
/// Const nodes in TensorFlow layouts (Dense [in, out], Conv2D HWIO), and the ops with the attributes
/// TensorFlow itself writes (T, data_format "NHWC", strides/ksize as 4-vectors, padding "SAME"/"VALID").
/// Inference semantics: Dropout becomes Identity, BatchNormalization a FusedBatchNormV3 with is_training=false
/// (a Mul/AddV2 pair with folded constants on rank-2 inputs, which FusedBatchNorm does not accept).
/// Conv2DTranspose becomes Conv2DBackpropInput, whose <c>input_sizes</c> includes the batch. TensorFlow computes it
/// at run time (Shape → StridedSlice → Pack), but OpenCV DNN and the project's runtime need it constant, so a model
/// with a Conv2DTranspose is exported for a fixed batch (1 unless the caller asks for another), Placeholder included:
/// a graph that declared batch -1 but could only run one batch size would fail later and less clearly.
/// </summary>
internal sealed class GraphDefExporter
{
    private readonly GraphDef _graph = new();
    private readonly HashSet<string> _names = [];
    private int _batch = -1;

    public static GraphDef Export(Model model, string inputName, string outputName, int? batchSize = null)
    {
        var e = new GraphDefExporter();
        var inputs = model.Inputs;
        if (inputs.Count != 1 || model.Outputs.Count != 1)
            throw new NotSupportedException($"ExportGraphDef supports single-input, single-output models; '{model.Name}' has {inputs.Count} and {model.Outputs.Count}.");
        if (batchSize is <= 0)
            throw new ArgumentOutOfRangeException(nameof(batchSize), $"ExportGraphDef: batch size must be positive, got {batchSize}.");
        bool needsFixedBatch = model.SelfAndDescendants().Any(l => l is Conv2DTranspose);
        e._batch = batchSize ?? (needsFixedBatch ? 1 : -1);
        var ph = e.Node(inputName, "Placeholder");
        ph.Attr["dtype"] = new AttrValue { Type = DataType.DtFloat };
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dim { Size = e._batch });
        foreach (var d in inputs[0].Shape) shape.Dim.Add(new TensorShapeProto.Types.Dim { Size = d });
        ph.Attr["shape"] = new AttrValue { Shape = shape };
        var output = e.EmitModel(model, [ph.Name], "");
        var id = e.Node(outputName, "Identity", output);
        id.Attr["T"] = Float;
        return e._graph;
    }

    private static AttrValue Float => new() { Type = DataType.DtFloat };

    private NodeDef Node(string name, string op, params string[] inputs)
    {
        var unique = name;
        for (int i = 1; !_names.Add(unique); i++) unique = $"{name}_{i}";
        var n = new NodeDef { Name = unique, Op = op };
        n.Input.AddRange(inputs);
        _graph.Node.Add(n);
        return n;
    }

    private string Const(string name, Tensor value)
    {
        using var c = value.detach().cpu().to_type(ScalarType.Float32).contiguous();
        var tp = new TensorProto { Dtype = DataType.DtFloat, TensorShape = Shape(c.shape) };
        tp.TensorContent = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(c.data<float>().ToArray().AsSpan()));
        var n = Node(name, "Const");
        n.Attr["dtype"] = Float;
        n.Attr["value"] = new AttrValue { Tensor = tp };
        return n.Name;
    }

    private string ConstInt(string name, int[] values, long[] shape)
    {
        var tp = new TensorProto { Dtype = DataType.DtInt32, TensorShape = Shape(shape) };
        // Scalars go in int_val, as TensorFlow's make_tensor_proto writes them: OpenCV DNN reads a ConcatV2 axis
        // from int_val only (and aborts the process when it is empty).
        if (shape.Length == 0)
            tp.IntVal.AddRange(values);
        else
            tp.TensorContent = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
        var n = Node(name, "Const");
        n.Attr["dtype"] = new AttrValue { Type = DataType.DtInt32 };
        n.Attr["value"] = new AttrValue { Tensor = tp };
        return n.Name;
    }

    private static TensorShapeProto Shape(long[] dims)
    {
        var s = new TensorShapeProto();
        foreach (var d in dims) s.Dim.Add(new TensorShapeProto.Types.Dim { Size = d });
        return s;
    }

    private static AttrValue Ints(params long[] v)
    {
        var l = new AttrValue.Types.ListValue();
        l.I.AddRange(v);
        return new AttrValue { List = l };
    }

    private static AttrValue Str(string s) => new() { S = ByteString.CopyFromUtf8(s) };

    private string Op(string name, string op, params string[] inputs)
    {
        var n = Node(name, op, inputs);
        n.Attr["T"] = Float;
        return n.Name;
    }

    private string EmitModel(Model model, string[] inputs, string prefix)
    {
        var values = new Dictionary<KerasTensor, string>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < inputs.Length; i++) values[model.Inputs[i]] = inputs[i];
        foreach (var node in model.Nodes)
        {
            var ins = node.Inputs.Select(t => values[t]).ToArray();
            values[node.Output] = node.Layer is Model inner
                ? EmitModel(inner, ins, prefix + inner.Name + "/")
                : EmitLayer(node.Layer, ins, node.Inputs[0].Shape, prefix + node.Layer.Name);
        }
        return values[model.Outputs[0]];
    }

    private string Activation(string x, string activation, string scope) => activation switch
    {
        "linear" => x,
        "relu" => Op(scope + "/Relu", "Relu", x),
        "sigmoid" => Op(scope + "/Sigmoid", "Sigmoid", x),
        "tanh" => Op(scope + "/Tanh", "Tanh", x),
        "softmax" => Op(scope + "/Softmax", "Softmax", x),
        "elu" => Op(scope + "/Elu", "Elu", x),
        "softplus" => Op(scope + "/Softplus", "Softplus", x),
        _ => throw new NotSupportedException($"ExportGraphDef: activation '{activation}' in '{scope}' is not supported."),
    };

    private string BiasAdd(string x, Weight? bias, string scope)
    {
        if (bias is null) return x;
        var b = Const(scope + "/bias", bias.Value);
        var n = Node(scope + "/BiasAdd", "BiasAdd", x, b);
        n.Attr["T"] = Float;
        n.Attr["data_format"] = Str("NHWC");
        return n.Name;
    }

    private string Pad(string x, int t, int b, int l, int r, string scope)
    {
        var p = ConstInt(scope + "/paddings", [0, 0, t, b, l, r, 0, 0], [4, 2]);
        var n = Node(scope + "/Pad", "Pad", x, p);
        n.Attr["T"] = Float;
        n.Attr["Tpaddings"] = new AttrValue { Type = DataType.DtInt32 };
        return n.Name;
    }

    private string EmitLayer(Layer layer, string[] x, int[] inShape, string scope)
    {
        switch (layer)
        {
            case Dense d:
            {
                if (inShape.Length != 1)
                    throw new NotSupportedException($"ExportGraphDef: Dense '{d.Name}' on a rank-{inShape.Length + 1} input is not supported; Flatten first.");
                var k = Const(scope + "/kernel", d.Kernel.Value);
                var mm = Node(scope + "/MatMul", "MatMul", x[0], k);
                mm.Attr["T"] = Float;
                mm.Attr["transpose_a"] = new AttrValue { B = false };
                mm.Attr["transpose_b"] = new AttrValue { B = false };
                return Activation(BiasAdd(mm.Name, d.Bias, scope), d.Activation, scope);
            }
            case Conv2D c:
            {
                using var hwio = c.ToKerasLayout(c.Kernel, c.Kernel.Value).contiguous();
                var k = Const(scope + "/kernel", hwio);
                var n = Node(scope + "/Conv2D", "Conv2D", x[0], k);
                n.Attr["T"] = Float;
                n.Attr["strides"] = Ints(1, c.Strides[0], c.Strides[1], 1);
                n.Attr["dilations"] = Ints(1, c.DilationRate[0], c.DilationRate[1], 1);
                n.Attr["padding"] = Str(c.PaddingMode.ToUpperInvariant());
                n.Attr["data_format"] = Str("NHWC");
                n.Attr["use_cudnn_on_gpu"] = new AttrValue { B = true };
                return Activation(BiasAdd(n.Name, c.Bias, scope), c.Activation, scope);
            }
            case MaxPooling2D or AveragePooling2D:
            {
                var p = (Pooling2D)layer;
                var (pool, stride, pad, op) = (p.PoolSize, p.Strides, p.PaddingMode, layer is MaxPooling2D ? "MaxPool" : "AvgPool");
                var n = Node(scope + "/" + op, op, x[0]);
                n.Attr["T"] = Float;
                n.Attr["ksize"] = Ints(1, pool[0], pool[1], 1);
                n.Attr["strides"] = Ints(1, stride[0], stride[1], 1);
                n.Attr["padding"] = Str(pad.ToUpperInvariant());
                n.Attr["data_format"] = Str("NHWC");
                return n.Name;
            }
            case BatchNormalization bn when inShape.Length == 3:
            {
                long c = inShape[^1];
                using var one = ones(c);
                using var zero = zeros(c);
                var n = Node(scope + "/FusedBatchNormV3", "FusedBatchNormV3", x[0],
                    Const(scope + "/gamma", bn.Gamma?.Value ?? one), Const(scope + "/beta", bn.Beta?.Value ?? zero),
                    Const(scope + "/moving_mean", bn.MovingMean.Value), Const(scope + "/moving_variance", bn.MovingVariance.Value));
                n.Attr["T"] = Float;
                n.Attr["U"] = Float;
                n.Attr["epsilon"] = new AttrValue { F = (float)bn.Epsilon };
                n.Attr["exponential_avg_factor"] = new AttrValue { F = 1f };
                n.Attr["is_training"] = new AttrValue { B = false };
                n.Attr["data_format"] = Str("NHWC");
                return n.Name;
            }
            case BatchNormalization bn:
            {
                // y = x·a + b with a = gamma/sqrt(var + eps), b = beta − mean·a: what TensorFlow's batchnorm
                // subgraph computes, folded, since FusedBatchNorm only takes 4-D inputs.
                using var _ = no_grad();
                using var a = (bn.MovingVariance.Value + bn.Epsilon).rsqrt() * (bn.Gamma?.Value ?? ones(1));
                using var b = (bn.Beta?.Value ?? zeros(1)) - bn.MovingMean.Value * a;
                var mul = Op(scope + "/batchnorm/mul", "Mul", x[0], Const(scope + "/batchnorm/scale", a));
                return Op(scope + "/batchnorm/add", "AddV2", mul, Const(scope + "/batchnorm/offset", b));
            }
            case Conv2DTranspose ct:
            {
                var outShape = ct.ComputeOutputShape([inShape]);
                var sizes = ConstInt(scope + "/stack", [_batch, outShape[0], outShape[1], outShape[2]], [4]);
                // TensorFlow's filter for Conv2DBackpropInput is [kh, kw, out_channels, in_channels]: Keras' layout.
                using var hwoi = ct.ToKerasLayout(ct.Kernel, ct.Kernel.Value).contiguous();
                var k = Const(scope + "/kernel", hwoi);
                var n = Node(scope + "/conv2d_transpose", "Conv2DBackpropInput", sizes, k, x[0]);
                n.Attr["T"] = Float;
                n.Attr["strides"] = Ints(1, ct.Strides[0], ct.Strides[1], 1);
                n.Attr["dilations"] = Ints(1, 1, 1, 1);
                n.Attr["padding"] = Str(ct.PaddingMode.ToUpperInvariant());
                n.Attr["data_format"] = Str("NHWC");
                n.Attr["use_cudnn_on_gpu"] = new AttrValue { B = true };
                n.Attr["explicit_paddings"] = Ints();
                return Activation(BiasAdd(n.Name, ct.Bias, scope), ct.Activation, scope);
            }
            case Cropping2D cr:
            {
                // As Keras writes inputs[:, top:-bottom, left:-right, :]: a zero crop at the end leaves that end open
                // (end_mask), since -0 would mean an empty slice.
                int[] begin = [0, cr.Crop[0], cr.Crop[2], 0];
                int[] end = [0, -cr.Crop[1], -cr.Crop[3], 0];
                long endMask = 1 | 8 | (cr.Crop[1] == 0 ? 2 : 0) | (cr.Crop[3] == 0 ? 4 : 0);
                var n = Node(scope + "/strided_slice", "StridedSlice", x[0],
                    ConstInt(scope + "/strided_slice/stack", begin, [4]), ConstInt(scope + "/strided_slice/stack_1", end, [4]),
                    ConstInt(scope + "/strided_slice/stack_2", [1, 1, 1, 1], [4]));
                n.Attr["T"] = Float;
                n.Attr["Index"] = new AttrValue { Type = DataType.DtInt32 };
                n.Attr["begin_mask"] = new AttrValue { I = 9 };
                n.Attr["end_mask"] = new AttrValue { I = endMask };
                n.Attr["ellipsis_mask"] = new AttrValue { I = 0 };
                n.Attr["new_axis_mask"] = new AttrValue { I = 0 };
                n.Attr["shrink_axis_mask"] = new AttrValue { I = 0 };
                return n.Name;
            }
            case LeakyReLU lr:
            {
                var n = Node(scope + "/LeakyRelu", "LeakyRelu", x[0]);
                n.Attr["T"] = Float;
                n.Attr["alpha"] = new AttrValue { F = (float)lr.Alpha };
                return n.Name;
            }
            case ReLU r when r.MaxValue is null: return Op(scope + "/Relu", "Relu", x[0]);
            case ReLU r when r.MaxValue == 6: return Op(scope + "/Relu6", "Relu6", x[0]);
            case ReLU r:
            {
                // min(relu(x), m) = (m/6)·relu6(6x/m). TensorFlow writes Relu + Minimum, but OpenCV DNN has no
                // Minimum layer while every consumer knows Relu6 and Mul by a constant.
                var m = (float)r.MaxValue!.Value;
                using var up = tensor(6f / m);
                using var down = tensor(m / 6f);
                var scaled = Op(scope + "/mul", "Mul", x[0], Const(scope + "/mul/y", up));
                return Op(scope + "/mul_1", "Mul", Op(scope + "/Relu6", "Relu6", scaled), Const(scope + "/mul_1/y", down));
            }
            case Activation a: return Activation(x[0], a.Function, scope);
            case Softmax: return Op(scope + "/Softmax", "Softmax", x[0]);
            case Dropout: return Op(scope + "/Identity", "Identity", x[0]);
            case Flatten:
            {
                var n = Node(scope + "/Reshape", "Reshape", x[0], ConstInt(scope + "/shape", [-1, inShape.Aggregate(1, (p, q) => p * q)], [2]));
                n.Attr["T"] = Float;
                n.Attr["Tshape"] = new AttrValue { Type = DataType.DtInt32 };
                return n.Name;
            }
            case Reshape rs:
            {
                var target = rs.ComputeOutputShape([inShape]);
                var n = Node(scope + "/Reshape", "Reshape", x[0], ConstInt(scope + "/shape", [-1, .. target], [target.Length + 1]));
                n.Attr["T"] = Float;
                n.Attr["Tshape"] = new AttrValue { Type = DataType.DtInt32 };
                return n.Name;
            }
            case ZeroPadding2D zp: return Pad(x[0], zp.Pad[0], zp.Pad[1], zp.Pad[2], zp.Pad[3], scope);
            case UpSampling2D up:
            {
                var n = Node(scope + "/ResizeNearestNeighbor", "ResizeNearestNeighbor", x[0], ConstInt(scope + "/size", [inShape[0] * up.Size[0], inShape[1] * up.Size[1]], [2]));
                n.Attr["T"] = Float;
                n.Attr["align_corners"] = new AttrValue { B = false };
                n.Attr["half_pixel_centers"] = new AttrValue { B = false };
                return n.Name;
            }
            case Concatenate cc:
            {
                int rank = inShape.Length + 1;
                var n = Node(scope + "/concat", "ConcatV2", [.. x, ConstInt(scope + "/axis", [cc.Axis < 0 ? cc.Axis + rank : cc.Axis], [])]);
                n.Attr["T"] = Float;
                n.Attr["N"] = new AttrValue { I = x.Length };
                n.Attr["Tidx"] = new AttrValue { Type = DataType.DtInt32 };
                return n.Name;
            }
            case Add:
            {
                var y = x[0];
                for (int i = 1; i < x.Length; i++) y = Op(scope + "/add", "AddV2", y, x[i]);
                return y;
            }
            default:
                throw new NotSupportedException($"ExportGraphDef: layer '{layer.Name}' ({layer.KerasName}) is not supported yet.");
        }
    }
}
