using Google.Protobuf;
using Onnx;
using static TorchSharp.torch;

namespace Learngene.Interop.Onnx;

/// <summary>Builds one ONNX graph from typed protobuf messages (OnnxSharp's compiled ONNX schema): weights
/// become initializers, each operator a node whose output gets a fresh name. Opset 17, the first with
/// LayerNormalization; GELU is written in its erf (or tanh) form, since the Gelu operator needs opset 20.</summary>
public sealed class OnnxGraph
{
    public const int Opset = 17;
    const long IrVersion = 8; // the IR version of opset 17 (ONNX 1.12)

    readonly GraphProto graph;
    readonly HashSet<string> names = [];
    int counter;

    public OnnxGraph(string name) => graph = new GraphProto { Name = name };

    string Fresh(string stem)
    {
        string name;
        do name = $"{stem}_{counter++}"; while (!names.Add(name));
        return name;
    }

    /// <summary>A float32 initializer holding a copy of <paramref name="value"/> (detached, on the CPU).</summary>
    public string Weight(Tensor value, string name)
    {
        using var t = value.detach().to(float32).cpu().contiguous();
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(t.bytes) };
        proto.Dims.AddRange(t.shape);
        if (!names.Add(name)) throw new InvalidOperationException($"initializer '{name}' added twice");
        graph.Initializer.Add(proto);
        return name;
    }

    /// <summary>A float32 constant of the given shape ([]: a scalar).</summary>
    public string Floats(float[] values, params long[] shape)
    {
        var proto = new TensorProto { Name = Fresh("const"), DataType = (int)TensorProto.Types.DataType.Float };
        proto.Dims.AddRange(shape);
        proto.FloatData.AddRange(values);
        graph.Initializer.Add(proto);
        return proto.Name;
    }

    /// <summary>An int64 vector constant (shapes, axes, indices); <paramref name="scalar"/> for a 0-d index.</summary>
    public string Ints(long[] values, bool scalar = false)
    {
        var proto = new TensorProto { Name = Fresh("ints"), DataType = (int)TensorProto.Types.DataType.Int64 };
        if (!scalar) proto.Dims.Add(values.Length);
        proto.Int64Data.AddRange(values);
        graph.Initializer.Add(proto);
        return proto.Name;
    }

    /// <summary>Adds a node; returns its (single) output's name.</summary>
    public string Op(string type, string[] inputs, params (string Name, object Value)[] attributes) => Op(type, inputs, 1, attributes)[0];

    public string[] Op(string type, string[] inputs, int outputs, params (string Name, object Value)[] attributes)
    {
        var node = new NodeProto { OpType = type, Name = Fresh(type) };
        node.Input.AddRange(inputs);
        var outs = Enumerable.Range(0, outputs).Select(_ => Fresh(type.ToLowerInvariant())).ToArray();
        node.Output.AddRange(outs);
        foreach (var (name, value) in attributes) node.Attribute.Add(Attribute(name, value));
        graph.Node.Add(node);
        return outs;
    }

    static AttributeProto Attribute(string name, object value)
    {
        var a = new AttributeProto { Name = name };
        switch (value)
        {
            case long or int:
                a.Type = AttributeProto.Types.AttributeType.Int; a.I = Convert.ToInt64(value); break;
            case float or double:
                a.Type = AttributeProto.Types.AttributeType.Float; a.F = Convert.ToSingle(value); break;
            case long[] ints:
                a.Type = AttributeProto.Types.AttributeType.Ints; a.Ints.AddRange(ints); break;
            default: throw new ArgumentException($"attribute {name}: unsupported type {value.GetType().Name}");
        }
        return a;
    }

    /// <summary>Renames the last node's output: graph outputs carry fixed names.</summary>
    public string Rename(string output, string name)
    {
        foreach (var n in graph.Node)
            for (int i = 0; i < n.Output.Count; i++)
                if (n.Output[i] == output) { n.Output[i] = name; names.Add(name); return name; }
        throw new InvalidOperationException($"no node outputs '{output}'");
    }

    /// <summary>Declares a graph input or output: element type and dims (a string: a symbolic dim, e.g. "N").</summary>
    public void Input(string name, TensorProto.Types.DataType type, params object[] dims) { names.Add(name); graph.Input.Add(Value(name, type, dims)); }

    public void Output(string name, TensorProto.Types.DataType type, params object[] dims) => graph.Output.Add(Value(name, type, dims));

    static ValueInfoProto Value(string name, TensorProto.Types.DataType type, object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
            shape.Dim.Add(d is string s ? new TensorShapeProto.Types.Dimension { DimParam = s } : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(d) });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } } };
    }

    /// <summary>The whole model with producer and free-form metadata.</summary>
    public ModelProto Model(IReadOnlyDictionary<string, string> metadata)
    {
        var model = new ModelProto
        {
            IrVersion = IrVersion, ProducerName = "learngene",
            ProducerVersion = typeof(OnnxGraph).Assembly.GetName().Version?.ToString(3) ?? "0", Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        foreach (var (k, v) in metadata) model.MetadataProps.Add(new StringStringEntryProto { Key = k, Value = v });
        return model;
    }

    // ---- layers shared by the exported families ----

    /// <summary>x·Wᵀ + b for x [..., in] (W stored transposed, [in, out], so MatMul needs no Transpose node).</summary>
    public string Linear(string x, Tensor weight, Tensor? bias, string name)
    {
        using var wt = weight.detach().t();
        var y = Op("MatMul", [x, Weight(wt, name + ".weight_t")]);
        return bias is null ? y : Op("Add", [y, Weight(bias, name + ".bias")]);
    }

    public string LayerNorm(string x, Tensor? weight, Tensor? bias, string name, long width, double eps = 1e-6)
    {
        string w = weight is null ? Floats(Enumerable.Repeat(1f, (int)width).ToArray(), width) : Weight(weight, name + ".weight");
        string b = bias is null ? Floats(new float[width], width) : Weight(bias, name + ".bias");
        return Op("LayerNormalization", [x, w, b], ("axis", -1L), ("epsilon", eps));
    }

    /// <summary>Exact GELU: x · ½ · (1 + erf(x / √2)).</summary>
    public string Gelu(string x)
    {
        var e = Op("Erf", [Op("Div", [x, Floats([MathF.Sqrt(2f)])])]);
        return Op("Mul", [Op("Mul", [x, Floats([0.5f])]), Op("Add", [e, Floats([1f])])]);
    }

    /// <summary>GELU's tanh approximation (DiT's): ½x(1 + tanh(√(2/π)(x + 0.044715x³))).</summary>
    public string GeluTanh(string x)
    {
        var cube = Op("Mul", [Op("Mul", [x, x]), x]);
        var inner = Op("Mul", [Op("Add", [x, Op("Mul", [cube, Floats([0.044715f])])]), Floats([MathF.Sqrt(2f / MathF.PI)])]);
        return Op("Mul", [Op("Mul", [x, Floats([0.5f])]), Op("Add", [Op("Tanh", [inner]), Floats([1f])])]);
    }

    public string Silu(string x) => Op("Mul", [x, Op("Sigmoid", [x])]);

    /// <summary>Multi-head self-attention over a fused qkv [N, T, 3d] → [N, T, d] (before the output projection).</summary>
    public string Attend(string qkv, long width, int heads)
    {
        long dh = width / heads;
        var parts = Op("Transpose", [Op("Reshape", [qkv, Ints([0, 0, 3, heads, dh])])], ("perm", new long[] { 2, 0, 3, 1, 4 }));
        string Part(long i) => Op("Gather", [parts, Ints([i], scalar: true)], ("axis", 0L));
        var (q, k, v) = (Part(0), Part(1), Part(2));
        var scores = Op("Mul", [Op("MatMul", [q, Op("Transpose", [k], ("perm", new long[] { 0, 1, 3, 2 }))]), Floats([1f / MathF.Sqrt(dh)])]);
        var y = Op("MatMul", [Op("Softmax", [scores], ("axis", -1L)), v]);
        return Op("Reshape", [Op("Transpose", [y], ("perm", new long[] { 0, 2, 1, 3 })), Ints([0, 0, width])]);
    }

    /// <summary>A patch embedding: a conv of kernel = stride = patch, flattened to tokens [N, T, d].</summary>
    public string Patchify(string images, Tensor weight, Tensor bias, int patch, string name)
    {
        var conv = Op("Conv", [images, Weight(weight, name + ".weight"), Weight(bias, name + ".bias")],
            ("kernel_shape", new long[] { patch, patch }), ("strides", new long[] { patch, patch }));
        return Op("Transpose", [Op("Reshape", [conv, Ints([0, weight.shape[0], -1])])], ("perm", new long[] { 0, 2, 1 }));
    }
}
