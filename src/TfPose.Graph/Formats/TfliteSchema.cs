using TfPose.Graph.Proto;

namespace TfPose.Graph.Formats;

/// <summary>
/// The parts of TensorFlow Lite's flatbuffer schema (schema.fbs, version 3) TfPose reads: field ids of each table
/// (a union takes two ids, its type then its value), and the enums' values. Only facts of the published schema.
/// </summary>
internal static class TfliteSchema
{
    public const string Identifier = "TFL3";
    public const uint Version = 3;

    public static class Model
    {
        public const int Version = 0, OperatorCodes = 1, Subgraphs = 2, Description = 3, Buffers = 4, MetadataBuffer = 5, Metadata = 6, SignatureDefs = 7;
    }

    public static class SubGraph
    {
        public const int Tensors = 0, Inputs = 1, Outputs = 2, Operators = 3, Name = 4;
    }

    public static class Tensor
    {
        public const int Shape = 0, Type = 1, Buffer = 2, Name = 3, Quantization = 4, IsVariable = 5, Sparsity = 6, ShapeSignature = 7, HasRank = 8;
    }

    public static class Quantization
    {
        public const int Min = 0, Max = 1, Scale = 2, ZeroPoint = 3, DetailsType = 4, Details = 5, QuantizedDimension = 6;
    }

    public static class Operator
    {
        public const int OpcodeIndex = 0, Inputs = 1, Outputs = 2, BuiltinOptionsType = 3, BuiltinOptions = 4, CustomOptions = 5,
            CustomOptionsFormat = 6, MutatingVariableInputs = 7, Intermediates = 8, LargeCustomOptionsOffset = 9, LargeCustomOptionsSize = 10,
            BuiltinOptions2Type = 11, BuiltinOptions2 = 12;
    }

    public static class OperatorCode
    {
        public const int DeprecatedBuiltinCode = 0, CustomCode = 1, Version = 2, BuiltinCode = 3;
    }

    public static class Buffer
    {
        public const int Data = 0, Offset = 1, Size = 2;
    }

    public static class Metadata
    {
        public const int Name = 0, Buffer = 1;
    }

    public static class TensorMap
    {
        public const int Name = 0, TensorIndex = 1;
    }

    public static class SignatureDef
    {
        public const int Inputs = 0, Outputs = 1, SignatureKey = 2, SubgraphIndex = 4;
    }

    /// <summary>TensorType values, by name.</summary>
    public static readonly string[] TypeNames =
    [
        "float32", "float16", "int32", "uint8", "int64", "string", "bool", "int16", "complex64", "int8", "float64", "complex128",
        "uint64", "resource", "variant", "uint32", "uint16", "int4", "bfloat16",
    ];

    public const sbyte Float32 = 0, Float16 = 1, Int32 = 2, UInt8 = 3, Int64 = 4, String = 5, Bool = 6, Int16 = 7, Int8 = 9, Float64 = 10;

    public static string TypeName(sbyte type) => type >= 0 && type < TypeNames.Length ? TypeNames[type] : $"type {type}";

    /// <summary>The TensorFlow dtype of a TensorType (DT_INVALID where TensorFlow has none, e.g. int4).</summary>
    public static DataType ToDataType(sbyte type) => type switch
    {
        0 => DataType.DtFloat,
        1 => DataType.DtHalf,
        2 => DataType.DtInt32,
        3 => DataType.DtUint8,
        4 => DataType.DtInt64,
        5 => DataType.DtString,
        6 => DataType.DtBool,
        7 => DataType.DtInt16,
        8 => DataType.DtComplex64,
        9 => DataType.DtInt8,
        10 => DataType.DtDouble,
        11 => DataType.DtComplex128,
        12 => DataType.DtUint64,
        13 => DataType.DtResource,
        14 => DataType.DtVariant,
        15 => DataType.DtUint32,
        16 => DataType.DtUint16,
        18 => DataType.DtBfloat16,
        _ => DataType.DtInvalid,
    };

    /// <summary>BuiltinOperator names by code, as schema.fbs lists them.</summary>
    private static readonly string[] OperatorNames =
    [
        "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "DEPTH_TO_SPACE", "DEQUANTIZE", "EMBEDDING_LOOKUP",
        "FLOOR", "FULLY_CONNECTED", "HASHTABLE_LOOKUP", "L2_NORMALIZATION", "L2_POOL_2D", "LOCAL_RESPONSE_NORMALIZATION", "LOGISTIC",
        "LSH_PROJECTION", "LSTM", "MAX_POOL_2D", "MUL", "RELU", "RELU_N1_TO_1", "RELU6", "RESHAPE", "RESIZE_BILINEAR", "RNN", "SOFTMAX",
        "SPACE_TO_DEPTH", "SVDF", "TANH", "CONCAT_EMBEDDINGS", "SKIP_GRAM", "CALL", "CUSTOM", "EMBEDDING_LOOKUP_SPARSE", "PAD",
        "UNIDIRECTIONAL_SEQUENCE_RNN", "GATHER", "BATCH_TO_SPACE_ND", "SPACE_TO_BATCH_ND", "TRANSPOSE", "MEAN", "SUB", "DIV", "SQUEEZE",
        "UNIDIRECTIONAL_SEQUENCE_LSTM", "STRIDED_SLICE", "BIDIRECTIONAL_SEQUENCE_RNN", "EXP", "TOPK_V2", "SPLIT", "LOG_SOFTMAX", "DELEGATE",
        "BIDIRECTIONAL_SEQUENCE_LSTM", "CAST", "PRELU", "MAXIMUM", "ARG_MAX", "MINIMUM", "LESS", "NEG", "PADV2", "GREATER", "GREATER_EQUAL",
        "LESS_EQUAL", "SELECT", "SLICE", "SIN", "TRANSPOSE_CONV", "SPARSE_TO_DENSE", "TILE", "EXPAND_DIMS", "EQUAL", "NOT_EQUAL", "LOG", "SUM",
        "SQRT", "RSQRT", "SHAPE", "POW", "ARG_MIN", "FAKE_QUANT", "REDUCE_PROD", "REDUCE_MAX", "PACK", "LOGICAL_OR", "ONE_HOT", "LOGICAL_AND",
        "LOGICAL_NOT", "UNPACK", "REDUCE_MIN", "FLOOR_DIV", "REDUCE_ANY", "SQUARE", "ZEROS_LIKE", "FILL", "FLOOR_MOD", "RANGE",
        "RESIZE_NEAREST_NEIGHBOR", "LEAKY_RELU", "SQUARED_DIFFERENCE", "MIRROR_PAD", "ABS", "SPLIT_V", "UNIQUE", "CEIL", "REVERSE_V2", "ADD_N",
        "GATHER_ND", "COS", "WHERE", "RANK", "ELU", "REVERSE_SEQUENCE", "MATRIX_DIAG", "QUANTIZE", "MATRIX_SET_DIAG", "ROUND", "HARD_SWISH",
        "IF", "WHILE", "NON_MAX_SUPPRESSION_V4", "NON_MAX_SUPPRESSION_V5", "SCATTER_ND", "SELECT_V2", "DENSIFY", "SEGMENT_SUM", "BATCH_MATMUL",
        "PLACEHOLDER_FOR_GREATER_OP_CODES", "CUMSUM", "CALL_ONCE", "BROADCAST_TO", "RFFT2D", "CONV_3D", "IMAG", "REAL", "COMPLEX_ABS",
        "HASHTABLE", "HASHTABLE_FIND", "HASHTABLE_IMPORT", "HASHTABLE_SIZE", "REDUCE_ALL", "CONV_3D_TRANSPOSE", "VAR_HANDLE", "READ_VARIABLE",
        "ASSIGN_VARIABLE", "BROADCAST_ARGS", "RANDOM_STANDARD_NORMAL", "BUCKETIZE", "RANDOM_UNIFORM", "MULTINOMIAL", "GELU",
        "DYNAMIC_UPDATE_SLICE", "RELU_0_TO_1", "UNSORTED_SEGMENT_PROD", "UNSORTED_SEGMENT_MAX", "UNSORTED_SEGMENT_SUM", "ATAN2",
        "UNSORTED_SEGMENT_MIN", "SIGN", "BITCAST", "BITWISE_XOR", "RIGHT_SHIFT",
    ];

    public const int Custom = 32, Cast = 53;

    /// <summary>A builtin's name; StableHLO and later codes by number, since TfPose runs none of them.</summary>
    public static string OperatorName(int code) =>
        code >= 0 && code < OperatorNames.Length ? OperatorNames[code]
        : code is >= 162 and <= 206 ? $"STABLEHLO_OP_{code}"
        : $"BUILTIN_{code}";

    /// <summary>Values of the BuiltinOptions union's type field (0 is NONE), for the option tables TfPose reads.</summary>
    public static class Options
    {
        public const byte Conv2D = 1, DepthwiseConv2D = 2, Pool2D = 5, FullyConnected = 8, Softmax = 9, Concatenation = 10, Add = 11,
            L2Norm = 12, LocalResponseNormalization = 13, ResizeBilinear = 15, Reshape = 17, SpaceToDepth = 19, Mul = 21, Pad = 22,
            Gather = 23, BatchToSpaceND = 24, SpaceToBatchND = 25, Transpose = 26, Reducer = 27, Sub = 28, Div = 29, Squeeze = 30,
            StridedSlice = 32, Exp = 33, TopKV2 = 34, Split = 35, LogSoftmax = 36, Cast = 37, Dequantize = 38, MaximumMinimum = 39,
            ArgMax = 40, Less = 41, Neg = 42, PadV2 = 43, Greater = 44, GreaterEqual = 45, LessEqual = 46, Select = 47, Slice = 48,
            TransposeConv = 49, SparseToDense = 50, Tile = 51, ExpandDims = 52, Equal = 53, NotEqual = 54, Shape = 55, Pow = 56, ArgMin = 57,
            Pack = 59, LogicalOr = 60, OneHot = 61, LogicalAnd = 62, LogicalNot = 63, Unpack = 64, FloorDiv = 65, Square = 66, ZerosLike = 67,
            Fill = 68, FloorMod = 72, Range = 73, ResizeNearestNeighbor = 74, LeakyRelu = 75, SquaredDifference = 76, MirrorPad = 77, Abs = 78,
            SplitV = 79, ReverseV2 = 81, AddN = 82, GatherNd = 83, Cos = 84, Where = 85, Rank = 86, Quantize = 89, HardSwish = 91, If = 92, While = 93,
            DepthToSpace = 94, NonMaxSuppressionV4 = 95, NonMaxSuppressionV5 = 96, SelectV2 = 98, BatchMatMul = 101, Cumsum = 102,
            BroadcastTo = 104, Gelu = 116, Atan2 = 122, Sign = 123;
    }

    /// <summary>ActivationFunctionType.</summary>
    public const byte ActNone = 0, ActRelu = 1, ActReluN1To1 = 2, ActRelu6 = 3, ActTanh = 4, ActSignBit = 5;
}
