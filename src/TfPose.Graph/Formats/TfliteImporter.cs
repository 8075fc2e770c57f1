using System.Buffers.Binary;
using System.Text;
using Google.Protobuf;
using TfPose.Graph.Proto;
using S = TfPose.Graph.Formats.TfliteSchema;

namespace TfPose.Graph.Formats;

/// <summary>
/// Writes the main subgraph of a TensorFlow Lite model as a TensorFlow GraphDef. A builtin becomes the TensorFlow op it
/// stands for, its fused activation a following node; weights become Const nodes (constant dequantisation folded into
/// float weights, TFLite's filter layouts turned into TensorFlow's); tensor names become node names; subgraph inputs
/// become Placeholders with their declared shapes (-1 in shape_signature an unknown size). An operator with no
/// TensorFlow counterpart becomes a node of op <c>tflite:NAME</c>, so it is reported with every other unsupported op
/// instead of failing the load. Problems of the file itself are collected, all of them, for one error.
/// </summary>
internal sealed partial class TfliteImporter
{
    /// <summary>The attribute naming the TFLite operator a <c>tflite:</c> node stands for, which unsupported-op reports show.</summary>
    public const string OperatorAttribute = "_tflite_operator";

    private readonly TfliteModel _model;
    private readonly TfliteSubgraph _graph;
    private readonly List<string> _problems;
    private readonly GraphDef _def = new();
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly string[] _tensorNodes;
    private readonly string?[] _refs;
    private readonly TensorValue?[] _folded;
    private readonly Dictionary<(int Tensor, string Form), string> _derived = [];

    /// <summary>Outputs of operators that failed: readers of them are not reported again, so each fault is named once.</summary>
    private readonly HashSet<int> _failed = [];

    private sealed class DownstreamOfFailure : Exception;

    private TfliteImporter(TfliteModel model, TfliteSubgraph graph, List<string> problems)
    {
        _model = model;
        _graph = graph;
        _problems = problems;
        _tensorNodes = new string[graph.Tensors.Count];
        _refs = new string?[graph.Tensors.Count];
        _folded = new TensorValue?[graph.Tensors.Count];
        for (var i = 0; i < graph.Tensors.Count; i++)
            _tensorNodes[i] = Reserve(graph.Tensors[i].Name.Length > 0 ? NodeName(graph.Tensors[i].Name) : $"tensor_{i}");
    }

    /// <summary>The GraphDef of subgraph 0 and its signature (the subgraph's inputs and outputs in order, keyed by TFLite tensor name).</summary>
    public static (GraphDef Graph, GraphSignature Signature) Import(TfliteModel model, List<string> problems)
    {
        var graph = model.Subgraphs[0];
        var importer = new TfliteImporter(model, graph, problems);
        return (importer._def, importer.Run());
    }

    private GraphSignature Run()
    {
        foreach (var input in _graph.Inputs)
        {
            var tensor = _graph.Tensors[input];
            var node = Add(_tensorNodes[input], "Placeholder");
            node.Attr["dtype"] = new AttrValue { Type = TypeOf(tensor) };
            node.Attr["shape"] = new AttrValue { Shape = TensorValue.ShapeProto(tensor.DeclaredShape) };
            _refs[input] = node.Name;
        }
        foreach (var op in _graph.Operators)
        {
            var clash = op.Outputs.FirstOrDefault(o => _refs[o] is not null || IsConstant(o), -1);
            if (clash >= 0)
            {
                _problems.Add($"operator {op.Index} ({op.Name}) writes tensor {clash} '{_graph.Tensors[clash].Name}', which is already " +
                    (_graph.Inputs.Contains(clash) ? "a subgraph input" : IsConstant(clash) ? "a constant" : "written by an earlier operator"));
                continue;
            }
            var failed = false;
            try
            {
                Emit(new Op(this, op));
            }
            catch (Exception ex) when (ex is TfliteFormatException or InvalidDataException or ArgumentException)
            {
                _problems.Add(ex.Message);
                failed = true;
            }
            catch (DownstreamOfFailure)
            {
                // Reported where it started; this operator's outputs fail quietly too.
                failed = true;
            }
            if (failed)
            {
                _failed.UnionWith(op.Outputs);
                continue;
            }
            foreach (var output in op.Outputs)
            {
                if (_refs[output] is null && _folded[output] is null)
                    _problems.Add($"operator {op.Index} ({op.Name}) left its output '{_graph.Tensors[output].Name}' undefined");
            }
        }
        var outputs = new List<SignatureTensor>();
        foreach (var output in _graph.Outputs)
        {
            try
            {
                outputs.Add(new SignatureTensor(Key(output), Ref(output, $"subgraph output {output}")));
            }
            catch (TfliteFormatException ex)
            {
                _problems.Add(ex.Message);
            }
            catch (DownstreamOfFailure)
            {
                // the operator that should have computed it is reported
            }
        }
        var inputs = _graph.Inputs.Select(i => new SignatureTensor(Key(i), _tensorNodes[i])).ToList();
        return new GraphSignature(inputs, outputs);
    }

    /// <summary>A subgraph tensor's key: the name its SignatureDef gives it, else its TFLite tensor name.</summary>
    private string Key(int tensor)
    {
        foreach (var signature in _model.Signatures.Where(s => s.Subgraph == _graph.Index))
        {
            foreach (var (name, index) in signature.Inputs.Concat(signature.Outputs))
            {
                if (index == tensor && name.Length > 0)
                    return name;
            }
        }
        return _graph.Tensors[tensor].Name.Length > 0 ? _graph.Tensors[tensor].Name : _tensorNodes[tensor];
    }

    // ---- names and nodes ----

    /// <summary>
    /// A TensorFlow node name for a TFLite tensor name: characters TensorFlow does not allow in node names (TFLite names
    /// often hold ';' joining fused ops, and ':' which would read as an output index) become '_'.
    /// </summary>
    public static string NodeName(string name)
    {
        var text = new StringBuilder(name.Length);
        foreach (var ch in name)
            text.Append(char.IsAsciiLetterOrDigit(ch) || ch is '_' or '.' or '-' or '/' ? ch : '_');
        if (text.Length == 0 || !(char.IsAsciiLetterOrDigit(text[0]) || text[0] == '.'))
            text.Insert(0, 't');
        return text.ToString();
    }

    private string Reserve(string name)
    {
        var candidate = name;
        for (var i = 1; !_names.Add(candidate); i++)
            candidate = $"{name}_{i}";
        return candidate;
    }

    private NodeDef Add(string name, string op, params string[] inputs)
    {
        var node = new NodeDef { Name = name, Op = op };
        node.Input.AddRange(inputs);
        _def.Node.Add(node);
        return node;
    }

    /// <summary>A node with a fresh name under <paramref name="scope"/>; renamed to the tensor's name when it turns out to be the last.</summary>
    private NodeDef Node(string scope, string op, DataType? type, params string[] inputs)
    {
        var node = Add(Reserve($"{scope}/{op}"), op, inputs);
        if (type is { } t)
            node.Attr["T"] = new AttrValue { Type = t };
        return node;
    }

    private string Const(string scope, TensorValue value)
    {
        var node = Add(Reserve(scope), "Const");
        node.Attr["dtype"] = new AttrValue { Type = value.Type };
        node.Attr["value"] = new AttrValue { Tensor = value.ToProto() };
        return node.Name;
    }

    private string Ints(string scope, params int[] values) => Const(scope, TensorValue.FromArray<int>(DataType.DtInt32, [values.Length], values));

    private string IntScalar(string scope, int value) => Const(scope, TensorValue.FromArray<int>(DataType.DtInt32, [], [value]));

    private string Scalar(string scope, float value, DataType type) => type switch
    {
        DataType.DtHalf => Const(scope, TensorValue.FromArray<Half>(DataType.DtHalf, [], [(Half)value])),
        DataType.DtDouble => Const(scope, TensorValue.FromArray<double>(DataType.DtDouble, [], [value])),
        _ => Const(scope, TensorValue.FromArray<float>(DataType.DtFloat, [], [value])),
    };

    private static AttrValue IntList(params long[] values)
    {
        var list = new AttrValue.Types.ListValue();
        list.I.AddRange(values);
        return new AttrValue { List = list };
    }

    private static AttrValue Text(string s) => new() { S = ByteString.CopyFromUtf8(s) };

    private static AttrValue TypeAttr(DataType type) => new() { Type = type };

    private static DataType TypeOf(TfliteTensor tensor) => S.ToDataType(tensor.Type);

    // ---- tensors ----

    private bool IsConstant(int tensor) =>
        _folded[tensor] is not null || (_graph.Tensors[tensor] is { Buffer: >= 0 } t && t.Buffer < _model.Buffers.Count && _model.Buffers[t.Buffer].Length > 0
            && !_graph.Inputs.Contains(tensor));

    /// <summary>The value of a constant tensor (its buffer, or a dequantisation folded at load), decoded; null when not constant.</summary>
    private TensorValue? Constant(int tensor, string where)
    {
        if (_folded[tensor] is { } folded)
            return folded;
        if (!IsConstant(tensor))
            return null;
        var t = _graph.Tensors[tensor];
        if (t.IsSparse)
            throw new TfliteFormatException($"{where}: tensor '{t.Name}' is stored sparse; TfPose reads dense constants only (densify the model when converting)");
        var type = TypeOf(t);
        if (DataTypes.SizeOf(type) == 0)
            throw new TfliteFormatException($"{where}: tensor '{t.Name}' is a {t.TypeName} constant, which TfPose cannot hold");
        var value = new TensorValue(type, Array.ConvertAll(t.Shape, d => (long)d), _model.ReadBuffer(t.Buffer));
        _folded[tensor] = value;
        return value;
    }

    /// <summary>The float value of a constant: float16 widened, quantized integers dequantized (per tensor or per channel).</summary>
    private TensorValue? FloatConstant(int tensor, string where)
    {
        var value = Constant(tensor, where);
        if (value is null)
            return null;
        var t = _graph.Tensors[tensor];
        return value.Type switch
        {
            DataType.DtFloat => value,
            DataType.DtHalf => Widen(value),
            _ when t.IsQuantized => Dequantize(value, t.Quantization!),
            _ => value,
        };
    }

    private static TensorValue Widen(TensorValue half)
    {
        var source = half.Span<Half>();
        var values = new float[source.Length];
        for (var i = 0; i < values.Length; i++)
            values[i] = (float)source[i];
        return TensorValue.FromArray<float>(DataType.DtFloat, half.Shape, values);
    }

    /// <summary>real = scale · (q − zero_point), with the channel's scale and zero point along the quantized dimension.</summary>
    internal static TensorValue Dequantize(TensorValue q, TfliteQuantization quantization)
    {
        var count = (int)q.Count;
        var values = new float[count];
        var channels = quantization.Scale.Length;
        long inner = 1;
        if (channels > 1)
        {
            for (var d = quantization.Dimension + 1; d < q.Rank; d++)
                inner *= q.Shape[d];
        }
        for (var i = 0; i < count; i++)
        {
            var channel = channels > 1 ? (int)(i / inner % channels) : 0;
            long raw = q.Type switch
            {
                DataType.DtInt8 => q.Span<sbyte>()[i],
                DataType.DtUint8 => q.Span<byte>()[i],
                DataType.DtInt16 => q.Span<short>()[i],
                DataType.DtInt32 => q.Span<int>()[i],
                DataType.DtInt64 => q.Span<long>()[i],
                _ => throw new TfliteFormatException($"cannot dequantize a {DataTypes.Name(q.Type)} tensor"),
            };
            // TensorFlow Lite's reference kernel computes in double and rounds once to float.
            values[i] = (float)((double)quantization.Scale[channel] * (raw - quantization.ZeroPointAt(channel)));
        }
        return TensorValue.FromArray<float>(DataType.DtFloat, q.Shape, values);
    }

    /// <summary>The TensorFlow tensor holding a TFLite tensor's value; a constant becomes its Const node on first use.</summary>
    private string Ref(int tensor, string where)
    {
        if (_refs[tensor] is { } known)
            return known;
        if (_failed.Contains(tensor))
            throw new DownstreamOfFailure();
        var t = _graph.Tensors[tensor];
        if (IsConstant(tensor))
        {
            var value = Constant(tensor, where)!;
            var node = Add(_tensorNodes[tensor], "Const");
            node.Attr["dtype"] = new AttrValue { Type = value.Type };
            node.Attr["value"] = new AttrValue { Tensor = value.ToProto() };
            return _refs[tensor] = node.Name;
        }
        if (t.IsVariable)
            throw new TfliteFormatException($"{where} reads '{t.Name}', a variable tensor (state kept between runs, as in LSTMs); TfPose runs stateless graphs only");
        throw new TfliteFormatException($"{where} reads tensor {tensor} '{t.Name}', which no operator before it produces and which is neither a constant nor an input");
    }

    /// <summary>A Const derived from a constant tensor (transposed, dequantized), made once per form.</summary>
    private string Derived(int tensor, string form, Func<TensorValue> make)
    {
        if (_derived.TryGetValue((tensor, form), out var name))
            return name;
        return _derived[(tensor, form)] = Const($"{_tensorNodes[tensor]}/{form}", make());
    }

    internal static TensorValue Permute(TensorValue value, int[] perm)
    {
        var rank = value.Rank;
        var shape = perm.Select(p => value.Shape[p]).ToArray();
        var size = DataTypes.SizeOf(value.Type);
        var source = value.Bytes;
        var target = new byte[source.Length];
        var count = value.Count;
        var strides = new long[rank];
        for (long d = rank - 1, s = 1; d >= 0; d--)
        {
            strides[d] = s;
            s *= value.Shape[d];
        }
        var index = new long[rank];
        for (long i = 0; i < count; i++)
        {
            long from = 0;
            for (var d = 0; d < rank; d++)
                from += index[d] * strides[perm[d]];
            source.Slice((int)(from * size), size).CopyTo(target.AsSpan((int)(i * size), size));
            for (var d = rank - 1; d >= 0; d--)
            {
                if (++index[d] < shape[d])
                    break;
                index[d] = 0;
            }
        }
        return new TensorValue(value.Type, shape, target);
    }

    // ---- operators ----

    /// <summary>One operator being written: its tensors, options and the nodes it makes.</summary>
    private readonly struct Op(TfliteImporter importer, TfliteOperator op)
    {
        public TfliteOperator Source => op;
        public string Where => importer._graph.Index == 0 ? $"operator {op.Index} ({op.Name})" : $"subgraph {importer._graph.Index} operator {op.Index} ({op.Name})";

        public bool Has(int k) => k < op.Inputs.Length && op.Inputs[k] >= 0;
        public int InputCount => op.Inputs.Length;
        public int OutputCount => op.Outputs.Length;

        public TfliteTensor InTensor(int k) => Has(k) ? importer._graph.Tensors[op.Inputs[k]]
            : throw new TfliteFormatException($"{Where} needs input {k}, which it does not have");

        public TfliteTensor OutTensor(int k) => k < op.Outputs.Length ? importer._graph.Tensors[op.Outputs[k]]
            : throw new TfliteFormatException($"{Where} needs output {k}, which it does not have");

        /// <summary>
        /// The TensorFlow tensor of input <paramref name="k"/>. A float operator reading a constant stored as quantized
        /// integers or float16 (dynamic-range quantized models feed int8 weights to float ops) reads it dequantized.
        /// </summary>
        public string In(int k)
        {
            var t = InTensor(k);
            if (Quantized && importer.IsQuantizedActivation(t.Index))
                return importer.DequantizedActivation(t.Index, op.Index);
            if (Quantized && t.IsQuantized && importer.IsConstant(t.Index))
                return importer.DequantizedConstant(t.Index, Where);
            if (!Dequantizes(k))
                return importer.Ref(t.Index, Where);
            var where = Where;
            var self = importer;
            return importer.Derived(t.Index, "dequantized", () => self.FloatConstant(t.Index, where)!);
        }

        public DataType InType(int k) =>
            Dequantizes(k) || Quantized && InTensor(k) is { IsQuantized: true } t && (importer.IsQuantizedActivation(t.Index) || importer.IsConstant(t.Index))
                ? DataType.DtFloat : TypeOf(InTensor(k));

        /// <summary>
        /// Whether the operator computes on quantized activations: it then reads them dequantized (and its quantized
        /// constants behind a dequantize), computes in float, and its quantized outputs are requantized after it.
        /// </summary>
        public bool Quantized => importer.ComputesQuantized(op);

        /// <summary>CAST converts stored integers as they are; every other float operator reads quantized constants as the reals they stand for.</summary>
        private bool Dequantizes(int k) =>
            Has(k) && op.Code != S.Cast && op.Outputs.Length > 0 && IsFloat(OutType(0)) && importer.IsConstant(op.Inputs[k])
            && InTensor(k) is { } t && (t.IsQuantized || t.Type == S.Float16);

        public DataType OutType(int k = 0) => Quantized && importer.IsQuantizedActivation(OutTensor(k).Index) ? DataType.DtFloat : TypeOf(OutTensor(k));

        /// <summary>Scope for a node computing output <paramref name="k"/>.</summary>
        public string Scope(int k = 0) => importer._tensorNodes[OutTensor(k).Index];

        public TensorValue? Constant(int k) => Has(k) ? importer.Constant(op.Inputs[k], Where) : null;

        public TensorValue? FloatConstant(int k) => Has(k) ? importer.FloatConstant(op.Inputs[k], Where) : null;

        /// <summary>The options table, after checking it is the kind this operator takes (null when the file has none).</summary>
        public FbTable? Options(byte type)
        {
            if (op.OptionsType != 0 && op.OptionsType != type)
                throw new TfliteFormatException($"{Where} carries builtin options of union type {op.OptionsType}, not the type {type} its op takes");
            return op.OptionsType == 0 ? null : op.Options;
        }
    }

    private void Emit(Op c)
    {
        var op = c.Source;
        if (op.Code == S.Custom)
        {
            Custom(c);
            return;
        }
        if (QuantizedActivation(c) is { } quantized)
        {
            Unsupported(c, quantized);
            return;
        }
        var name = S.OperatorName(op.Code);
        var mapped = MappedBuiltins.Contains(name);
        _clamp = null;
        switch (name)
        {
            case "QUANTIZE": Quantize(c); break;
            case "CONV_2D": Conv2D(c); break;
            case "DEPTHWISE_CONV_2D": DepthwiseConv2D(c); break;
            case "TRANSPOSE_CONV": TransposeConv(c); break;
            case "FULLY_CONNECTED": FullyConnected(c); break;
            case "MAX_POOL_2D": Pool(c, "MaxPool"); break;
            case "AVERAGE_POOL_2D": Pool(c, "AvgPool"); break;
            case "L2_POOL_2D": Pool(c, "L2Pool"); break;
            case "DEQUANTIZE": Dequantize(c); break;

            case "ADD": Binary(c, "AddV2", S.Options.Add); break;
            case "SUB": Binary(c, "Sub", S.Options.Sub); break;
            case "MUL": Binary(c, "Mul", S.Options.Mul); break;
            case "DIV": Binary(c, IsFloat(c.OutType()) ? "RealDiv" : "Div", S.Options.Div); break;
            case "SQUARED_DIFFERENCE": Binary(c, "SquaredDifference"); break;
            case "MAXIMUM": Binary(c, "Maximum"); break;
            case "MINIMUM": Binary(c, "Minimum"); break;
            case "POW": Binary(c, "Pow"); break;
            case "FLOOR_DIV": Binary(c, "FloorDiv"); break;
            case "FLOOR_MOD": Binary(c, "FloorMod"); break;
            case "ATAN2": Binary(c, "Atan2"); break;
            case "PRELU": Binary(c, "Prelu"); break;
            case "LESS": Compare(c, "Less"); break;
            case "LESS_EQUAL": Compare(c, "LessEqual"); break;
            case "GREATER": Compare(c, "Greater"); break;
            case "GREATER_EQUAL": Compare(c, "GreaterEqual"); break;
            case "EQUAL": Compare(c, "Equal"); break;
            case "NOT_EQUAL": Compare(c, "NotEqual"); break;
            case "LOGICAL_AND": Logical(c, "LogicalAnd"); break;
            case "LOGICAL_OR": Logical(c, "LogicalOr"); break;
            case "LOGICAL_NOT": Logical(c, "LogicalNot"); break;

            case "ABS": Unary(c, "Abs"); break;
            case "NEG": Unary(c, "Neg"); break;
            case "EXP": Unary(c, "Exp"); break;
            case "LOG": Unary(c, "Log"); break;
            case "SQRT": Unary(c, "Sqrt"); break;
            case "RSQRT": Unary(c, "Rsqrt"); break;
            case "SQUARE": Unary(c, "Square"); break;
            case "SIN": Unary(c, "Sin"); break;
            case "COS": Unary(c, "Cos"); break;
            case "FLOOR": Unary(c, "Floor"); break;
            case "CEIL": Unary(c, "Ceil"); break;
            case "ROUND": Unary(c, "Round"); break;
            case "SIGN": Unary(c, "Sign"); break;
            case "LOGISTIC": Unary(c, "Sigmoid"); break;
            case "TANH": Unary(c, "Tanh"); break;
            case "RELU": Unary(c, "Relu"); break;
            case "RELU6": Unary(c, "Relu6"); break;
            case "ELU": Unary(c, "Elu"); break;
            case "LOG_SOFTMAX": Unary(c, "LogSoftmax"); break;
            case "ZEROS_LIKE": Unary(c, "ZerosLike"); break;
            case "RELU_N1_TO_1": Clip(c, -1, 1); break;
            case "RELU_0_TO_1": Clip(c, 0, 1); break;
            case "LEAKY_RELU": LeakyRelu(c); break;
            case "HARD_SWISH": HardSwish(c); break;
            case "GELU": Gelu(c); break;
            case "SOFTMAX": Softmax(c); break;
            case "L2_NORMALIZATION": L2Normalization(c); break;

            case "MEAN": Reduce(c, "Mean"); break;
            case "SUM": Reduce(c, "Sum"); break;
            case "REDUCE_MAX": Reduce(c, "Max"); break;
            case "REDUCE_MIN": Reduce(c, "Min"); break;
            case "REDUCE_PROD": Reduce(c, "Prod"); break;
            case "REDUCE_ANY": Reduce(c, "Any"); break;
            case "REDUCE_ALL": Reduce(c, "All"); break;
            case "ARG_MAX": ArgMinMax(c, "ArgMax", S.Options.ArgMax); break;
            case "ARG_MIN": ArgMinMax(c, "ArgMin", S.Options.ArgMin); break;
            case "CUMSUM": Cumsum(c); break;

            case "RESHAPE": Reshape(c); break;
            case "SQUEEZE": Squeeze(c); break;
            case "EXPAND_DIMS": Simple(c, "ExpandDims", 2, n => n.Attr["Tdim"] = TypeAttr(c.InType(1))); break;
            case "TRANSPOSE": Simple(c, "Transpose", 2, n => n.Attr["Tperm"] = TypeAttr(c.InType(1))); break;
            case "CONCATENATION": Concatenation(c); break;
            case "PACK": Pack(c); break;
            case "UNPACK": Unpack(c); break;
            case "SPLIT": Split(c); break;
            case "SPLIT_V": SplitV(c); break;
            case "SLICE": Simple(c, "Slice", 3, n => n.Attr["Index"] = TypeAttr(c.InType(1))); break;
            case "STRIDED_SLICE": StridedSlice(c); break;
            case "GATHER": Gather(c); break;
            case "GATHER_ND": Simple(c, "GatherNd", 2, n => { n.Attr.Remove("T"); Typed(n, ("Tparams", c.InType(0)), ("Tindices", c.InType(1))); }); break;
            case "EMBEDDING_LOOKUP": EmbeddingLookup(c); break;
            case "PAD": Simple(c, "Pad", 2, n => n.Attr["Tpaddings"] = TypeAttr(c.InType(1))); break;
            case "PADV2": Simple(c, "PadV2", 3, n => n.Attr["Tpaddings"] = TypeAttr(c.InType(1))); break;
            case "MIRROR_PAD": MirrorPad(c); break;
            case "TILE": Simple(c, "Tile", 2, n => n.Attr["Tmultiples"] = TypeAttr(c.InType(1))); break;
            case "BROADCAST_TO": Simple(c, "BroadcastTo", 2, n => n.Attr["Tidx"] = TypeAttr(c.InType(1))); break;
            case "REVERSE_V2": Simple(c, "ReverseV2", 2, n => n.Attr["Tidx"] = TypeAttr(c.InType(1))); break;
            case "SHAPE": Shape(c); break;
            case "RANK": Simple(c, "Rank", 1); break;
            case "FILL": Simple(c, "Fill", 2, n => { n.Attr["T"] = TypeAttr(c.InType(1)); n.Attr["index_type"] = TypeAttr(c.InType(0)); }); break;
            case "RANGE": Simple(c, "Range", 3, n => { n.Attr.Remove("T"); n.Attr["Tidx"] = TypeAttr(c.OutType()); }); break;
            case "CAST": Simple(c, "Cast", 1, n => { n.Attr.Remove("T"); Typed(n, ("SrcT", c.InType(0)), ("DstT", c.OutType())); }); break;
            case "WHERE": Simple(c, "Where", 1, n => n.Attr["T"] = TypeAttr(c.InType(0))); break;
            case "ADD_N": AddN(c); break;
            case "ONE_HOT": OneHot(c); break;
            case "SPACE_TO_BATCH_ND": Simple(c, "SpaceToBatchND", 3, n => Typed(n, ("Tblock_shape", c.InType(1)), ("Tpaddings", c.InType(2)))); break;
            case "BATCH_TO_SPACE_ND": Simple(c, "BatchToSpaceND", 3, n => Typed(n, ("Tblock_shape", c.InType(1)), ("Tcrops", c.InType(2)))); break;
            case "SPARSE_TO_DENSE": SparseToDense(c); break;
            case "SELECT": Simple(c, "Select", 3, n => n.Attr["T"] = TypeAttr(c.InType(1))); break;
            case "SELECT_V2": Simple(c, "SelectV2", 3, n => n.Attr["T"] = TypeAttr(c.InType(1))); break;

            case "RESIZE_BILINEAR": Resize(c, "ResizeBilinear", S.Options.ResizeBilinear, 2); break;
            case "RESIZE_NEAREST_NEIGHBOR": Resize(c, "ResizeNearestNeighbor", S.Options.ResizeNearestNeighbor, 0); break;
            case "DEPTH_TO_SPACE": BlockOp(c, "DepthToSpace", S.Options.DepthToSpace); break;
            case "SPACE_TO_DEPTH": BlockOp(c, "SpaceToDepth", S.Options.SpaceToDepth); break;
            case "BATCH_MATMUL": BatchMatMul(c); break;
            case "TOPK_V2": TopK(c); break;
            case "NON_MAX_SUPPRESSION_V4": NonMaxSuppression(c, "NonMaxSuppressionV4", 5); break;
            case "NON_MAX_SUPPRESSION_V5": NonMaxSuppression(c, "NonMaxSuppressionV5", 6); break;
            case "IF": If(c); break;
            case "WHILE": While(c); break;
            default: Unsupported(c, null); break;
        }
        if (mapped && c.Quantized)
            RequantizeOutputs(c);
    }

    /// <summary>The builtins <see cref="Emit"/> maps to TensorFlow ops (every other one becomes a <c>tflite:</c> node).</summary>
    public static readonly IReadOnlySet<string> MappedBuiltins = new HashSet<string>(StringComparer.Ordinal)
    {
        "CONV_2D", "DEPTHWISE_CONV_2D", "TRANSPOSE_CONV", "FULLY_CONNECTED", "MAX_POOL_2D", "AVERAGE_POOL_2D", "L2_POOL_2D", "DEQUANTIZE", "QUANTIZE",
        "ADD", "SUB", "MUL", "DIV", "SQUARED_DIFFERENCE", "MAXIMUM", "MINIMUM", "POW", "FLOOR_DIV", "FLOOR_MOD", "ATAN2", "PRELU",
        "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL", "EQUAL", "NOT_EQUAL", "LOGICAL_AND", "LOGICAL_OR", "LOGICAL_NOT",
        "ABS", "NEG", "EXP", "LOG", "SQRT", "RSQRT", "SQUARE", "SIN", "COS", "FLOOR", "CEIL", "ROUND", "SIGN", "LOGISTIC", "TANH", "RELU",
        "RELU6", "ELU", "LOG_SOFTMAX", "ZEROS_LIKE", "RELU_N1_TO_1", "RELU_0_TO_1", "LEAKY_RELU", "HARD_SWISH", "GELU", "SOFTMAX",
        "L2_NORMALIZATION", "MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD", "REDUCE_ANY", "REDUCE_ALL", "ARG_MAX", "ARG_MIN",
        "CUMSUM", "RESHAPE", "SQUEEZE", "EXPAND_DIMS", "TRANSPOSE", "CONCATENATION", "PACK", "UNPACK", "SPLIT", "SPLIT_V", "SLICE",
        "STRIDED_SLICE", "GATHER", "GATHER_ND", "EMBEDDING_LOOKUP", "PAD", "PADV2", "MIRROR_PAD", "TILE", "BROADCAST_TO", "REVERSE_V2",
        "SHAPE", "RANK", "FILL", "RANGE", "CAST", "WHERE", "ADD_N", "ONE_HOT", "SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND", "SPARSE_TO_DENSE",
        "SELECT", "SELECT_V2", "RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR", "DEPTH_TO_SPACE", "SPACE_TO_DEPTH", "BATCH_MATMUL", "TOPK_V2",
        "NON_MAX_SUPPRESSION_V4", "NON_MAX_SUPPRESSION_V5", "IF", "WHILE",
    };

    private static bool IsFloat(DataType type) => type is DataType.DtFloat or DataType.DtHalf or DataType.DtDouble or DataType.DtBfloat16;

    private static void Typed(NodeDef node, params (string Name, DataType Type)[] attrs)
    {
        foreach (var (name, type) in attrs)
            node.Attr[name] = TypeAttr(type);
    }

    /// <summary>
    /// The first tensor an operator computes with that holds quantized integers of a width TfPose does not dequantize
    /// (int8, uint8 and int16 activations it does; constants are read as reals), as "int32 'name'"; null otherwise.
    /// </summary>
    private string? QuantizedActivation(Op c)
    {
        foreach (var index in c.Source.Inputs.Concat(c.Source.Outputs))
        {
            if (index < 0)
                continue;
            var t = _graph.Tensors[index];
            if (t.IsQuantized && !IsConstant(index) && !IsQuantizedActivation(index))
                return $"quantized activations ({t.TypeName} '{t.Name}') are not run";
        }
        if (!c.Quantized || c.Source.Name is "GATHER" or "GATHER_ND" or "EMBEDDING_LOOKUP")
            return null;
        // An integer tensor with no scale read by an operator computing on reals cannot be dequantized.
        foreach (var index in c.Source.Inputs)
        {
            if (index >= 0 && _graph.Tensors[index] is { IsQuantized: false, Type: S.Int8 or S.UInt8 or S.Int16 } t)
                return $"it computes on quantized tensors but its input {t.TypeName} '{t.Name}' has no quantization parameters";
        }
        return null;
    }

    /// <summary>A node standing for an operator TfPose has no translation for, reading its inputs so the graph stays connected.</summary>
    private void Unsupported(Op c, string? reason)
    {
        var op = c.Source;
        var inputs = new List<string>();
        for (var k = 0; k < op.Inputs.Length; k++)
        {
            if (c.Has(k) && (_refs[op.Inputs[k]] is not null || IsConstant(op.Inputs[k])))
                inputs.Add(c.In(k));
        }
        var opName = TfliteGraphModel.UnsupportedOpName(op.Name);
        var note = $"TFLite operator {op.Index}" + (reason is null ? "" : $", {reason}");
        if (op.Outputs.Length == 1)
        {
            var node = Add(c.Scope(), opName, [.. inputs]);
            node.Attr[OperatorAttribute] = Text(note);
            _refs[op.Outputs[0]] = node.Name;
            return;
        }
        var multi = Add(Reserve($"tflite_operator_{op.Index}"), opName, [.. inputs]);
        multi.Attr[OperatorAttribute] = Text(note);
        Outputs(c, multi);
    }

    /// <summary>Identity nodes named after each output tensor of a multi-output node.</summary>
    private void Outputs(Op c, NodeDef node)
    {
        for (var k = 0; k < c.OutputCount; k++)
        {
            var identity = Add(c.Scope(k), "Identity", k == 0 ? node.Name : $"{node.Name}:{k}");
            identity.Attr["T"] = TypeAttr(c.OutType(k));
            _refs[c.Source.Outputs[k]] = identity.Name;
        }
    }

    /// <summary>Makes <paramref name="last"/> the node of output <paramref name="k"/>: it takes the tensor's name.</summary>
    private void Name(Op c, NodeDef last, int k = 0)
    {
        var name = c.Scope(k);
        // Nothing reads the last node yet, so it can take the name the tensor reserved.
        _names.Remove(last.Name);
        last.Name = name;
        _refs[c.Source.Outputs[k]] = name;
    }

    /// <summary>The fused activation after <paramref name="node"/>; returns the last node.</summary>
    private NodeDef Activate(Op c, NodeDef node, byte activation)
    {
        if (ClampsQuantized(c, activation))
            return node;
        var type = c.OutType();
        return activation switch
        {
            S.ActNone => node,
            S.ActRelu => Node(c.Scope(), "Relu", type, node.Name),
            S.ActRelu6 => Node(c.Scope(), "Relu6", type, node.Name),
            S.ActTanh => Node(c.Scope(), "Tanh", type, node.Name),
            S.ActReluN1To1 => Node(c.Scope(), "ClipByValue", type, node.Name, Scalar($"{c.Scope()}/clip_min", -1, type), Scalar($"{c.Scope()}/clip_max", 1, type)),
            _ => throw new TfliteFormatException($"{c.Where} has fused activation {activation} ({(activation == S.ActSignBit ? "SIGN_BIT" : "unknown")}), which TfPose does not run"),
        };
    }

    private void Simple(Op c, string tfOp, int inputs, Action<NodeDef>? attrs = null)
    {
        var args = Enumerable.Range(0, inputs).Select(c.In).ToArray();
        var node = Node(c.Scope(), tfOp, c.InType(0), args);
        attrs?.Invoke(node);
        Name(c, node);
    }

    private void Unary(Op c, string tfOp) => Name(c, Node(c.Scope(), tfOp, c.OutType(), c.In(0)));

    private void Binary(Op c, string tfOp, byte optionsType = 0)
    {
        var activation = optionsType != 0 && c.Options(optionsType) is { } o ? o.Byte(0) : S.ActNone;
        var node = Node(c.Scope(), tfOp, c.OutType(), c.In(0), c.In(1));
        Name(c, Activate(c, node, activation));
    }

    private void Compare(Op c, string tfOp) => Name(c, Node(c.Scope(), tfOp, c.InType(0), c.In(0), c.In(1)));

    private void Logical(Op c, string tfOp)
    {
        var node = tfOp == "LogicalNot" ? Node(c.Scope(), tfOp, null, c.In(0)) : Node(c.Scope(), tfOp, null, c.In(0), c.In(1));
        Name(c, node);
    }

    private void Clip(Op c, float min, float max)
    {
        var type = c.OutType();
        Name(c, Node(c.Scope(), "ClipByValue", type, c.In(0), Scalar($"{c.Scope()}/min", min, type), Scalar($"{c.Scope()}/max", max, type)));
    }

    private void LeakyRelu(Op c)
    {
        var node = Node(c.Scope(), "LeakyRelu", c.OutType(), c.In(0));
        node.Attr["alpha"] = new AttrValue { F = c.Options(S.Options.LeakyRelu) is { } o ? o.Float(0) : 0f };
        Name(c, node);
    }

    /// <summary>x · relu6(x + 3) / 6, TensorFlow Lite's hard swish, in ops TfPose runs.</summary>
    private void HardSwish(Op c)
    {
        var type = c.OutType();
        var x = c.In(0);
        var shifted = Node(c.Scope(), "AddV2", type, x, Scalar($"{c.Scope()}/three", 3, type));
        var relu6 = Node(c.Scope(), "Relu6", type, shifted.Name);
        var product = Node(c.Scope(), "Mul", type, x, relu6.Name);
        Name(c, Node(c.Scope(), "RealDiv", type, product.Name, Scalar($"{c.Scope()}/six", 6, type)));
    }

    /// <summary>0.5 · x · (1 + erf(x / √2)), or with <c>approximate</c> 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³))).</summary>
    private void Gelu(Op c)
    {
        var type = c.OutType();
        var scope = c.Scope();
        var x = c.In(0);
        var approximate = c.Options(S.Options.Gelu) is { } o && o.Bool(0);
        string inner;
        if (approximate)
        {
            var cube = Node(scope, "Mul", type, x, Node(scope, "Square", type, x).Name);
            var sum = Node(scope, "AddV2", type, x, Node(scope, "Mul", type, cube.Name, Scalar($"{scope}/c", 0.044715f, type)).Name);
            var scaled = Node(scope, "Mul", type, sum.Name, Scalar($"{scope}/sqrt_2_over_pi", (float)Math.Sqrt(2 / Math.PI), type));
            inner = Node(scope, "Tanh", type, scaled.Name).Name;
        }
        else
        {
            var scaled = Node(scope, "Mul", type, x, Scalar($"{scope}/rsqrt2", (float)(1 / Math.Sqrt(2)), type));
            inner = Node(scope, "Erf", type, scaled.Name).Name;
        }
        var onePlus = Node(scope, "AddV2", type, inner, Scalar($"{scope}/one", 1, type));
        var half = Node(scope, "Mul", type, x, Scalar($"{scope}/half", 0.5f, type));
        Name(c, Node(scope, "Mul", type, half.Name, onePlus.Name));
    }

    private void Softmax(Op c)
    {
        var type = c.OutType();
        // Like TensorFlow Lite: beta from the options (0 when the options table is absent, as its parser leaves it).
        var beta = c.Options(S.Options.Softmax) is { } o ? o.Float(0) : 0f;
        var x = c.In(0);
        if (beta != 1f)
            x = Node(c.Scope(), "Mul", type, x, Scalar($"{c.Scope()}/beta", beta, type)).Name;
        Name(c, Node(c.Scope(), "Softmax", type, x));
    }

    /// <summary>x / max(‖x‖, 1e-6) along the last axis, as TensorFlow Lite's kernel computes it.</summary>
    private void L2Normalization(Op c)
    {
        var type = c.OutType();
        var scope = c.Scope();
        var x = c.In(0);
        var square = Node(scope, "Square", type, x);
        var sum = Node(scope, "Sum", type, square.Name, IntScalar($"{scope}/axis", -1));
        sum.Attr["keep_dims"] = new AttrValue { B = true };
        sum.Attr["Tidx"] = TypeAttr(DataType.DtInt32);
        var norm = Node(scope, "Sqrt", type, sum.Name);
        var floor = Node(scope, "Maximum", type, norm.Name, Scalar($"{scope}/epsilon", 1e-6f, type));
        Name(c, Node(scope, "RealDiv", type, x, floor.Name));
    }

    private static string Padding(byte padding, string where) => padding switch
    {
        0 => "SAME",
        1 => "VALID",
        _ => throw new TfliteFormatException($"{where} has padding {padding}, neither SAME (0) nor VALID (1)"),
    };

    private void Conv2D(Op c)
    {
        var o = c.Options(S.Options.Conv2D);
        var type = c.OutType();
        var filter = c.InTensor(1);
        if (filter.Shape.Length != 4)
            throw new TfliteFormatException($"{c.Where}: its filter '{filter.Name}' has shape [{string.Join(",", filter.Shape)}], not [out, height, width, in]");
        // TFLite keeps filters as [out, h, w, in]; TensorFlow's Conv2D takes [h, w, in, out].
        var weights = QuantizedWeights(c, 1, "hwio", w => Permute(w, [1, 2, 3, 0]), d => Array.IndexOf([1, 2, 3, 0], d))
            ?? (c.FloatConstant(1) is { } w
                ? Derived(filter.Index, "hwio", () => Permute(w, [1, 2, 3, 0]))
                : Node(c.Scope(), "Transpose", type, c.In(1), Ints($"{c.Scope()}/hwio", 1, 2, 3, 0)).Name);
        var conv = Node(c.Scope(), "Conv2D", type, c.In(0), weights);
        conv.Attr["strides"] = IntList(1, o?.Int(2) ?? 0, o?.Int(1) ?? 0, 1);
        conv.Attr["dilations"] = IntList(1, o?.Int(5, 1) ?? 1, o?.Int(4, 1) ?? 1, 1);
        conv.Attr["padding"] = Text(Padding(o?.Byte(0) ?? 0, c.Where));
        conv.Attr["data_format"] = Text("NHWC");
        Name(c, Activate(c, Bias(c, conv, 2), o?.Byte(3) ?? 0));
    }

    private NodeDef Bias(Op c, NodeDef node, int input)
    {
        if (!c.Has(input))
            return node;
        var bias = Node(c.Scope(), "BiasAdd", c.OutType(), node.Name, c.In(input));
        bias.Attr["data_format"] = Text("NHWC");
        return bias;
    }

    private void DepthwiseConv2D(Op c)
    {
        var o = c.Options(S.Options.DepthwiseConv2D);
        var type = c.OutType();
        var filter = c.InTensor(1);
        if (filter.Shape is not [1, var kh, var kw, var total])
            throw new TfliteFormatException($"{c.Where}: its filter '{filter.Name}' has shape [{string.Join(",", filter.Shape)}], not [1, height, width, channels × multiplier]");
        // The filter is [1, h, w, in·multiplier] with output channel in·multiplier + m, which is TensorFlow's [h, w, in, multiplier] in memory.
        var inShape = c.InTensor(0).DeclaredShape;
        var multiplier = o?.Int(3) ?? 0;
        var channels = inShape.Length == 4 && inShape[3] > 0 ? (int)inShape[3] : multiplier > 0 ? total / multiplier : -1;
        if (channels <= 0 || total % channels != 0)
            throw new TfliteFormatException($"{c.Where}: cannot tell the input channels of its filter [{string.Join(",", filter.Shape)}] " +
                $"from its input '{c.InTensor(0).Name}' [{string.Join(",", inShape)}]");
        long[] shape = [kh, kw, channels, total / channels];
        // Per-channel scales run along in·multiplier, one axis of [h, w, in, multiplier] only when the multiplier is 1.
        var weights = QuantizedWeights(c, 1, "hwim", w => new TensorValue(w.Type, shape, w.Bytes.ToArray()), d => d == 3 && shape[3] == 1 ? 2 : -1)
            ?? (c.FloatConstant(1) is { } w
                ? Derived(filter.Index, "hwim", () => new TensorValue(w.Type, shape, w.Bytes.ToArray()))
                : Node(c.Scope(), "Reshape", type, c.In(1), Ints($"{c.Scope()}/hwim", Array.ConvertAll(shape, d => (int)d))).Name);
        var conv = Node(c.Scope(), "DepthwiseConv2dNative", type, c.In(0), weights);
        conv.Attr["strides"] = IntList(1, o?.Int(2) ?? 0, o?.Int(1) ?? 0, 1);
        conv.Attr["dilations"] = IntList(1, o?.Int(6, 1) ?? 1, o?.Int(5, 1) ?? 1, 1);
        conv.Attr["padding"] = Text(Padding(o?.Byte(0) ?? 0, c.Where));
        conv.Attr["data_format"] = Text("NHWC");
        Name(c, Activate(c, Bias(c, conv, 2), o?.Byte(4) ?? 0));
    }

    /// <summary>TRANSPOSE_CONV(output_shape, weights [out, h, w, in], input[, bias]) is Conv2DBackpropInput with an [h, w, out, in] filter.</summary>
    private void TransposeConv(Op c)
    {
        var o = c.Options(S.Options.TransposeConv);
        var type = c.OutType();
        var filter = c.InTensor(1);
        if (filter.Shape.Length != 4)
            throw new TfliteFormatException($"{c.Where}: its filter '{filter.Name}' has shape [{string.Join(",", filter.Shape)}], not [out, height, width, in]");
        var weights = c.FloatConstant(1) is { } w
            ? Derived(filter.Index, "hwoi", () => Permute(w, [1, 2, 0, 3]))
            : Node(c.Scope(), "Transpose", type, c.In(1), Ints($"{c.Scope()}/hwoi", 1, 2, 0, 3)).Name;
        var conv = Node(c.Scope(), "Conv2DBackpropInput", type, c.In(0), weights, c.In(2));
        conv.Attr["strides"] = IntList(1, o?.Int(2) ?? 0, o?.Int(1) ?? 0, 1);
        conv.Attr["dilations"] = IntList(1, 1, 1, 1);
        conv.Attr["padding"] = Text(Padding(o?.Byte(0) ?? 0, c.Where));
        conv.Attr["data_format"] = Text("NHWC");
        Name(c, Activate(c, Bias(c, conv, 3), o?.Byte(3) ?? 0));
    }

    /// <summary>
    /// FULLY_CONNECTED(x, weights [out, in][, bias]): x flattened to [-1, in], times the weights transposed, plus bias;
    /// with keep_num_dims the result keeps x's leading dimensions.
    /// </summary>
    private void FullyConnected(Op c)
    {
        var o = c.Options(S.Options.FullyConnected);
        if (o?.Byte(1) is > 0)
            throw new TfliteFormatException($"{c.Where} stores its weights shuffled for int8 kernels (weights_format {o.Value.Byte(1)}), which TfPose does not read");
        var keep = o?.Bool(2) ?? false;
        var type = c.OutType();
        var scope = c.Scope();
        var filter = c.InTensor(1);
        if (filter.Shape is not [var units, var depth])
            throw new TfliteFormatException($"{c.Where}: its weights '{filter.Name}' have shape [{string.Join(",", filter.Shape)}], not [units, inputs]");
        var x = c.In(0);
        var inShape = c.InTensor(0).DeclaredShape;
        if (inShape.Length != 2)
        {
            var flat = Node(scope, "Reshape", type, x, Ints($"{scope}/flat_shape", -1, depth));
            flat.Attr["Tshape"] = TypeAttr(DataType.DtInt32);
            x = flat.Name;
        }
        NodeDef matmul;
        if (QuantizedWeights(c, 1, "transposed", w => Permute(w, [1, 0]), d => 1 - d) is { } quantizedWeights)
        {
            matmul = Node(scope, "MatMul", type, x, quantizedWeights);
        }
        else if (c.FloatConstant(1) is { } w)
        {
            matmul = Node(scope, "MatMul", type, x, Derived(filter.Index, "transposed", () => Permute(w, [1, 0])));
        }
        else
        {
            matmul = Node(scope, "MatMul", type, x, c.In(1));
            matmul.Attr["transpose_b"] = new AttrValue { B = true };
        }
        var last = Activate(c, Bias(c, matmul, 2), o?.Byte(0) ?? S.ActNone);
        if (keep && inShape.Length != 2)
        {
            string shape;
            if (inShape.Take(inShape.Length - 1).Count(d => d < 0) <= 1)
            {
                shape = Ints($"{scope}/out_shape", [.. inShape.Take(inShape.Length - 1).Select(d => (int)d), units]);
            }
            else
            {
                var full = Node(scope, "Shape", c.InType(0), c.In(0));
                full.Attr["out_type"] = TypeAttr(DataType.DtInt32);
                var lead = Node(scope, "StridedSlice", DataType.DtInt32, full.Name, Ints($"{scope}/begin", 0), Ints($"{scope}/end", -1), Ints($"{scope}/stride", 1));
                lead.Attr["Index"] = TypeAttr(DataType.DtInt32);
                var joined = Node(scope, "ConcatV2", DataType.DtInt32, lead.Name, Ints($"{scope}/units", units), IntScalar($"{scope}/axis", 0));
                joined.Attr["N"] = new AttrValue { I = 2 };
                joined.Attr["Tidx"] = TypeAttr(DataType.DtInt32);
                shape = joined.Name;
            }
            last = Node(scope, "Reshape", type, last.Name, shape);
            last.Attr["Tshape"] = TypeAttr(DataType.DtInt32);
        }
        Name(c, last);
    }

    private void Pool(Op c, string tfOp)
    {
        var o = c.Options(S.Options.Pool2D);
        var type = c.OutType();
        var scope = c.Scope();
        var x = c.In(0);
        if (tfOp == "L2Pool")
            x = Node(scope, "Square", type, x).Name;
        var pool = Node(scope, tfOp == "MaxPool" ? "MaxPool" : "AvgPool", type, x);
        pool.Attr["ksize"] = IntList(1, o?.Int(4) ?? 0, o?.Int(3) ?? 0, 1);
        pool.Attr["strides"] = IntList(1, o?.Int(2) ?? 0, o?.Int(1) ?? 0, 1);
        pool.Attr["padding"] = Text(Padding(o?.Byte(0) ?? 0, c.Where));
        pool.Attr["data_format"] = Text("NHWC");
        var last = tfOp == "L2Pool" ? Node(scope, "Sqrt", type, pool.Name) : pool;
        Name(c, Activate(c, last, o?.Byte(5) ?? 0));
    }

    /// <summary>
    /// DEQUANTIZE of a constant (float16 or quantized integer weights) is folded: its output becomes a float constant.
    /// Of a float16 activation it is a cast.
    /// </summary>
    private void Dequantize(Op c)
    {
        var input = c.InTensor(0);
        if (IsConstant(input.Index))
        {
            if (input.Type != S.Float16 && !input.IsQuantized)
                throw new TfliteFormatException($"{c.Where}: its constant input '{input.Name}' is {input.TypeName} without quantization parameters");
            var output = c.OutTensor(0);
            // Every constant's value has its tensor's declared shape, which the operators reading it rely on.
            if (!output.Shape.AsSpan().SequenceEqual(input.Shape))
                throw new TfliteFormatException($"{c.Where}: its output '{output.Name}' has shape [{string.Join(",", output.Shape)}] " +
                    $"but its constant input '{input.Name}' has shape [{string.Join(",", input.Shape)}]");
            // The output becomes a constant whose Const node is written only if something reads it as a tensor: a
            // convolution reads the value itself, in its own layout.
            _folded[output.Index] = c.FloatConstant(0);
            return;
        }
        if (IsQuantizedActivation(input.Index))
        {
            Name(c, UniformDequantize(c.Scope(), Ref(input.Index, c.Where), input));
            return;
        }
        var cast = Node(c.Scope(), "Cast", null, c.In(0));
        Typed(cast, ("SrcT", c.InType(0)), ("DstT", c.OutType()));
        Name(c, cast);
    }

    private void Reduce(Op c, string tfOp)
    {
        var node = Node(c.Scope(), tfOp, tfOp is "Any" or "All" ? null : c.InType(0), c.In(0), c.In(1));
        node.Attr["keep_dims"] = new AttrValue { B = c.Options(S.Options.Reducer) is { } o && o.Bool(0) };
        node.Attr["Tidx"] = TypeAttr(c.InType(1));
        Name(c, node);
    }

    private void ArgMinMax(Op c, string tfOp, byte optionsType)
    {
        _ = c.Options(optionsType);
        var node = Node(c.Scope(), tfOp, c.InType(0), c.In(0), c.In(1));
        node.Attr["Tidx"] = TypeAttr(c.InType(1));
        node.Attr["output_type"] = TypeAttr(c.OutType());
        Name(c, node);
    }

    private void Cumsum(Op c)
    {
        var o = c.Options(S.Options.Cumsum);
        var node = Node(c.Scope(), "Cumsum", c.InType(0), c.In(0), c.In(1));
        node.Attr["Tidx"] = TypeAttr(c.InType(1));
        node.Attr["exclusive"] = new AttrValue { B = o?.Bool(0) ?? false };
        node.Attr["reverse"] = new AttrValue { B = o?.Bool(1) ?? false };
        Name(c, node);
    }

    /// <summary>RESHAPE takes its shape from its second input, or (older files, or an empty shape input) from its options.</summary>
    private void Reshape(Op c)
    {
        string shape;
        var shapeType = DataType.DtInt32;
        if (c.Has(1) && !(c.InTensor(1).Shape is [0]))
        {
            shape = c.In(1);
            shapeType = c.InType(1);
        }
        else if (c.Options(S.Options.Reshape) is { } o && o.Has(0))
        {
            shape = Ints($"{c.Scope()}/shape", o.Ints(0, "new_shape"));
        }
        else
        {
            throw new TfliteFormatException($"{c.Where} has neither a shape input nor new_shape in its options");
        }
        var node = Node(c.Scope(), "Reshape", c.InType(0), c.In(0), shape);
        node.Attr["Tshape"] = TypeAttr(shapeType);
        Name(c, node);
    }

    private void Squeeze(Op c)
    {
        var node = Node(c.Scope(), "Squeeze", c.InType(0), c.In(0));
        var dims = c.Options(S.Options.Squeeze) is { } o ? o.Ints(0, "squeeze_dims") : [];
        node.Attr["squeeze_dims"] = IntList(Array.ConvertAll(dims, d => (long)d));
        Name(c, node);
    }

    private void Concatenation(Op c)
    {
        var o = c.Options(S.Options.Concatenation);
        var inputs = Enumerable.Range(0, c.InputCount).Select(c.In).ToList();
        inputs.Add(IntScalar($"{c.Scope()}/axis", o?.Int(0) ?? 0));
        var node = Node(c.Scope(), "ConcatV2", c.OutType(), [.. inputs]);
        node.Attr["N"] = new AttrValue { I = c.InputCount };
        node.Attr["Tidx"] = TypeAttr(DataType.DtInt32);
        Name(c, Activate(c, node, o?.Byte(1) ?? 0));
    }

    private void Pack(Op c)
    {
        var o = c.Options(S.Options.Pack);
        var node = Node(c.Scope(), "Pack", c.InType(0), [.. Enumerable.Range(0, c.InputCount).Select(c.In)]);
        node.Attr["N"] = new AttrValue { I = c.InputCount };
        node.Attr["axis"] = new AttrValue { I = o?.Int(1) ?? 0 };
        Name(c, node);
    }

    private void Unpack(Op c)
    {
        var o = c.Options(S.Options.Unpack);
        var node = Node(c.Scope(), "Unpack", c.InType(0), c.In(0));
        node.Attr["num"] = new AttrValue { I = c.OutputCount };
        node.Attr["axis"] = new AttrValue { I = o?.Int(1) ?? 0 };
        Outputs(c, node);
    }

    /// <summary>SPLIT(axis, x) has TensorFlow's Split input order.</summary>
    private void Split(Op c)
    {
        _ = c.Options(S.Options.Split);
        var node = Node(c.Scope(), "Split", c.InType(1), c.In(0), c.In(1));
        node.Attr["num_split"] = new AttrValue { I = c.OutputCount };
        Outputs(c, node);
    }

    private void SplitV(Op c)
    {
        _ = c.Options(S.Options.SplitV);
        var node = Node(c.Scope(), "SplitV", c.InType(0), c.In(0), c.In(1), c.In(2));
        node.Attr["num_split"] = new AttrValue { I = c.OutputCount };
        node.Attr["Tlen"] = TypeAttr(c.InType(1));
        Outputs(c, node);
    }

    private void StridedSlice(Op c)
    {
        var o = c.Options(S.Options.StridedSlice);
        var end = c.In(2);
        if (o?.Bool(5) ?? false)
        {
            // offset = true: the end input is a length from begin.
            end = Node(c.Scope(), "AddV2", c.InType(1), c.In(1), end).Name;
        }
        var node = Node(c.Scope(), "StridedSlice", c.InType(0), c.In(0), c.In(1), end, c.In(3));
        node.Attr["Index"] = TypeAttr(c.InType(1));
        node.Attr["begin_mask"] = new AttrValue { I = o?.Int(0) ?? 0 };
        node.Attr["end_mask"] = new AttrValue { I = o?.Int(1) ?? 0 };
        node.Attr["ellipsis_mask"] = new AttrValue { I = o?.Int(2) ?? 0 };
        node.Attr["new_axis_mask"] = new AttrValue { I = o?.Int(3) ?? 0 };
        node.Attr["shrink_axis_mask"] = new AttrValue { I = o?.Int(4) ?? 0 };
        Name(c, node);
    }

    private void Gather(Op c)
    {
        var o = c.Options(S.Options.Gather);
        var node = Node(c.Scope(), "GatherV2", null, c.In(0), c.In(1), IntScalar($"{c.Scope()}/axis", o?.Int(0) ?? 0));
        Typed(node, ("Tparams", c.InType(0)), ("Tindices", c.InType(1)), ("Taxis", DataType.DtInt32));
        node.Attr["batch_dims"] = new AttrValue { I = o?.Int(1) ?? 0 };
        Name(c, node);
    }

    /// <summary>EMBEDDING_LOOKUP(ids, table) gathers rows of the table.</summary>
    private void EmbeddingLookup(Op c)
    {
        var node = Node(c.Scope(), "GatherV2", null, c.In(1), c.In(0), IntScalar($"{c.Scope()}/axis", 0));
        Typed(node, ("Tparams", c.OutType()), ("Tindices", c.InType(0)), ("Taxis", DataType.DtInt32));
        Name(c, node);
    }

    private void MirrorPad(Op c)
    {
        var mode = c.Options(S.Options.MirrorPad) is { } o ? o.Byte(0) : (byte)0;
        var node = Node(c.Scope(), "MirrorPad", c.InType(0), c.In(0), c.In(1));
        node.Attr["Tpaddings"] = TypeAttr(c.InType(1));
        node.Attr["mode"] = Text(mode switch
        {
            0 => "REFLECT",
            1 => "SYMMETRIC",
            _ => throw new TfliteFormatException($"{c.Where} has mirror mode {mode}, neither REFLECT (0) nor SYMMETRIC (1)"),
        });
        Name(c, node);
    }

    private void Shape(Op c)
    {
        var node = Node(c.Scope(), "Shape", c.InType(0), c.In(0));
        node.Attr["out_type"] = TypeAttr(c.OutType());
        Name(c, node);
    }

    private void AddN(Op c)
    {
        var node = Node(c.Scope(), "AddN", c.OutType(), [.. Enumerable.Range(0, c.InputCount).Select(c.In)]);
        node.Attr["N"] = new AttrValue { I = c.InputCount };
        Name(c, node);
    }

    private void OneHot(Op c)
    {
        var o = c.Options(S.Options.OneHot);
        var node = Node(c.Scope(), "OneHot", c.OutType(), c.In(0), c.In(1), c.In(2), c.In(3));
        node.Attr["TI"] = TypeAttr(c.InType(0));
        node.Attr["axis"] = new AttrValue { I = o?.Int(0) ?? -1 };
        Name(c, node);
    }

    private void SparseToDense(Op c)
    {
        var o = c.Options(S.Options.SparseToDense);
        var node = Node(c.Scope(), "SparseToDense", c.InType(2), c.In(0), c.In(1), c.In(2), c.In(3));
        node.Attr["Tindices"] = TypeAttr(c.InType(0));
        node.Attr["validate_indices"] = new AttrValue { B = o?.Bool(0) ?? false };
        Name(c, node);
    }

    private void Resize(Op c, string tfOp, byte optionsType, int firstFlag)
    {
        var o = c.Options(optionsType);
        var node = Node(c.Scope(), tfOp, c.InType(0), c.In(0), c.In(1));
        node.Attr["align_corners"] = new AttrValue { B = o?.Bool(firstFlag) ?? false };
        node.Attr["half_pixel_centers"] = new AttrValue { B = o?.Bool(firstFlag + 1) ?? false };
        Name(c, node);
    }

    private void BlockOp(Op c, string tfOp, byte optionsType)
    {
        var size = c.Options(optionsType)?.Int(0) ?? 0;
        if (size < 2)
            throw new TfliteFormatException($"{c.Where} has block size {size}; it must be at least 2");
        var node = Node(c.Scope(), tfOp, c.InType(0), c.In(0));
        node.Attr["block_size"] = new AttrValue { I = size };
        node.Attr["data_format"] = Text("NHWC");
        Name(c, node);
    }

    private void BatchMatMul(Op c)
    {
        var o = c.Options(S.Options.BatchMatMul);
        var node = Node(c.Scope(), "BatchMatMulV2", c.OutType(), c.In(0), c.In(1));
        node.Attr["adj_x"] = new AttrValue { B = o?.Bool(0) ?? false };
        node.Attr["adj_y"] = new AttrValue { B = o?.Bool(1) ?? false };
        Name(c, node);
    }

    private void TopK(Op c)
    {
        var node = Node(c.Scope(), "TopKV2", c.InType(0), c.In(0), c.In(1));
        node.Attr["sorted"] = new AttrValue { B = true };
        node.Attr["Tk"] = TypeAttr(c.InType(1));
        node.Attr["index_type"] = TypeAttr(c.OutType(1));
        Outputs(c, node);
    }

    /// <summary>TensorFlow Lite's NMS always pads its indices to max_output_size, hence pad_to_max_output_size.</summary>
    private void NonMaxSuppression(Op c, string tfOp, int inputs)
    {
        var node = Node(c.Scope(), tfOp, c.InType(0), [.. Enumerable.Range(0, inputs).Select(c.In)]);
        if (tfOp == "NonMaxSuppressionV4")
            node.Attr["T_threshold"] = TypeAttr(c.InType(3));
        node.Attr["pad_to_max_output_size"] = new AttrValue { B = true };
        Outputs(c, node);
    }
}
