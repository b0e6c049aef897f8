using Learngene.Data;
using Learngene.IO;
using Learngene.Models;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Learngene.Interop.Onnx;

/// <summary>A model file as an ONNX graph for deployment. A classifier (ViT, stitched ViT — an exported pool
/// configuration — or ResNet) takes <c>images</c> N×C×H×W float32 in [0, 1] and applies its own
/// normalization, so a deployer feeds pixels; it returns <c>logits</c> N×K. A DiT is one denoising step:
/// <c>x</c> N×C×H×W (the noisy image in the model's space), <c>t</c> N float32 (the step) and <c>y</c> N int64
/// (the class; the null class is K) to <c>output</c>, as the network maps them.</summary>
public static class OnnxExport
{
    /// <param name="alsoClassifier">Also given the loaded classifier and its normalization (to write a reference
    /// input and output from the same load).</param>
    public static string Export(string modelPath, string outPath, Action<Classifier, Normalization>? alsoClassifier = null)
    {
        var config = ModelFile.ReadConfig(modelPath);
        using var scope = torch.NewDisposeScope();
        ModelProto proto;
        if (config is DitConfig)
        {
            var loaded = ModelFile.LoadDiffusion(modelPath);
            using var model = loaded.Model;
            proto = Dit(model, loaded.Metadata);
        }
        else
        {
            var loaded = ModelFile.Load(modelPath);
            using var model = loaded.Model;
            proto = Classifier(model, loaded.Normalization, loaded.ClassNames);
            alsoClassifier?.Invoke(model, loaded.Normalization);
        }
        AtomicFile.Write(outPath, stream => Google.Protobuf.MessageExtensions.WriteTo(proto, stream));
        return $"ONNX opset {OnnxGraph.Opset}, {proto.Graph.Node.Count} nodes, {config.Describe()}";
    }

    public static ModelProto Classifier(Classifier model, Normalization norm, IReadOnlyList<string> classes)
    {
        var c = model.Config;
        var g = new OnnxGraph(c.Family);
        g.Input("images", DataType.Float, "N", c.Channels, c.ImageSize, c.ImageSize);
        var x = g.Op("Div", [g.Op("Sub", ["images", g.Floats(norm.Mean, 1, c.Channels, 1, 1)]), g.Floats(norm.Std, 1, c.Channels, 1, 1)]);
        var s = model.state_dict();
        string logits = model switch
        {
            VisionTransformer v when v.GetType() == typeof(VisionTransformer) => Vit(g, x, s, v.Architecture),
            StitchedVisionTransformer sv => Stitched(g, x, s, sv.Architecture),
            ResNet r => ResNetGraph(g, x, s, r.Architecture),
            _ => throw new LearngeneException($"ONNX export does not cover {model.GetType().Name} models"),
        };
        g.Output(g.Rename(logits, "logits"), DataType.Float, "N", c.Classes);
        return g.Model(new Dictionary<string, string>
        {
            ["learngene_config"] = c.ToJson(), ["classes"] = System.Text.Json.JsonSerializer.Serialize(classes),
            ["input"] = "images: N x C x H x W float32 in [0, 1]; the graph normalizes",
        });
    }

    static string Vit(OnnxGraph g, string x, Dictionary<string, Tensor> s, VitConfig c)
    {
        x = Tokens(g, x, s, c);
        for (int i = 0; i < c.Depth; i++) x = Block(g, x, s, $"blocks.{i}", c.Width, c.Heads);
        return Head(g, x, s, c);
    }

    static string Stitched(OnnxGraph g, string x, Dictionary<string, Tensor> s, StitchedVitConfig c)
    {
        x = Tokens(g, x, s, c.Front);
        for (int i = 0; i < c.FrontBlocks + c.EndBlocks; i++)
        {
            if (i == c.FrontBlocks) x = g.Linear(x, s["stitch.weight"], s["stitch.bias"], "stitch");
            var arch = i < c.FrontBlocks ? c.Front : c.End;
            x = Block(g, x, s, $"blocks.{i}", arch.Width, arch.Heads);
        }
        return Head(g, x, s, c.End);
    }

    /// <summary>Patch embedding, the class token (expanded to the batch) and the positions.</summary>
    static string Tokens(OnnxGraph g, string x, Dictionary<string, Tensor> s, VitConfig c)
    {
        x = g.Patchify(x, s["patch_embed.proj.weight"], s["patch_embed.proj.bias"], c.PatchSize, "patch_embed.proj");
        if (c.Pooling == "cls")
        {
            var batch = g.Op("Shape", [x], ("start", 0L), ("end", 1L));
            var shape = g.Op("Concat", [batch, g.Ints([1, c.Width])], ("axis", 0L));
            x = g.Op("Concat", [g.Op("Expand", [g.Weight(s["cls_token"], "cls_token"), shape]), x], ("axis", 1L));
        }
        return g.Op("Add", [x, g.Weight(s["pos_embed"], "pos_embed")]);
    }

    static string Block(OnnxGraph g, string x, Dictionary<string, Tensor> s, string p, long width, int heads)
    {
        var h = g.LayerNorm(x, s[$"{p}.norm1.weight"], s[$"{p}.norm1.bias"], $"{p}.norm1", width);
        h = g.Attend(g.Linear(h, s[$"{p}.attn.qkv.weight"], s[$"{p}.attn.qkv.bias"], $"{p}.attn.qkv"), width, heads);
        x = g.Op("Add", [x, g.Linear(h, s[$"{p}.attn.proj.weight"], s[$"{p}.attn.proj.bias"], $"{p}.attn.proj")]);
        h = g.LayerNorm(x, s[$"{p}.norm2.weight"], s[$"{p}.norm2.bias"], $"{p}.norm2", width);
        h = g.Gelu(g.Linear(h, s[$"{p}.mlp.fc1.weight"], s[$"{p}.mlp.fc1.bias"], $"{p}.mlp.fc1"));
        return g.Op("Add", [x, g.Linear(h, s[$"{p}.mlp.fc2.weight"], s[$"{p}.mlp.fc2.bias"], $"{p}.mlp.fc2")]);
    }

    /// <summary>Final norm (on the tokens, or timm's fc_norm on the pooled vector), pooling, head.</summary>
    static string Head(OnnxGraph g, string x, Dictionary<string, Tensor> s, VitConfig c)
    {
        if (!c.FcNorm) x = g.LayerNorm(x, s["norm.weight"], s["norm.bias"], "norm", c.Width);
        x = c.Pooling == "cls"
            ? g.Op("Gather", [x, g.Ints([0], scalar: true)], ("axis", 1L))
            : g.Op("ReduceMean", [x], ("axes", new long[] { 1 }), ("keepdims", 0L));
        if (c.FcNorm) x = g.LayerNorm(x, s["fc_norm.weight"], s["fc_norm.bias"], "fc_norm", c.Width);
        return g.Linear(x, s["head.weight"], s["head.bias"], "head");
    }

    static string ResNetGraph(OnnxGraph g, string x, Dictionary<string, Tensor> s, ResNetConfig c)
    {
        string Conv(string input, string name, long stride)
        {
            var w = s[name];
            long k = w.shape[2], pad = (k - 1) / 2;
            return g.Op("Conv", [input, g.Weight(w, name)], ("kernel_shape", new[] { k, k }), ("strides", new[] { stride, stride }), ("pads", new[] { pad, pad, pad, pad }));
        }
        // Batch norm in inference form, with the running statistics (eps 1e-5, TorchSharp's default).
        string Bn(string input, string p) => g.Op("BatchNormalization",
            [input, g.Weight(s[p + ".weight"], p + ".weight"), g.Weight(s[p + ".bias"], p + ".bias"),
             g.Weight(s[p + ".running_mean"], p + ".running_mean"), g.Weight(s[p + ".running_var"], p + ".running_var")], ("epsilon", 1e-5));

        x = g.Op("Relu", [Bn(Conv(x, "stem.weight", 1), "bn")]);
        int block = 0;
        for (int stage = 0; stage < c.StageBlocks.Length; stage++)
            for (int b = 0; b < c.StageBlocks[stage]; b++, block++)
            {
                string p = $"layers.{block}";
                long stride = stage > 0 && b == 0 ? 2 : 1;
                var y = g.Op("Relu", [Bn(Conv(x, p + ".conv1.weight", stride), p + ".bn1")]);
                y = Bn(Conv(y, p + ".conv2.weight", 1), p + ".bn2");
                var shortcut = s.ContainsKey(p + ".shortcut.0.weight") ? Bn(Conv(x, p + ".shortcut.0.weight", stride), p + ".shortcut.1") : x;
                x = g.Op("Relu", [g.Op("Add", [y, shortcut])]);
            }
        x = g.Op("ReduceMean", [x], ("axes", new long[] { 2, 3 }), ("keepdims", 0L));
        return g.Linear(x, s["fc.weight"], s["fc.bias"], "fc");
    }

    /// <summary>One denoising step of a DiT (block matrices plain: adapters merged; a KIND model refused).</summary>
    public static ModelProto Dit(DiffusionTransformer model, IReadOnlyDictionary<string, string> metadata)
    {
        var c = model.Architecture;
        var s = DitNaming.PlainState(model);
        var g = new OnnxGraph("dit");
        g.Input("x", DataType.Float, "N", c.Channels, c.ImageSize, c.ImageSize);
        g.Input("t", DataType.Float, "N");
        g.Input("y", DataType.Int64, "N");
        long w = c.Width;
        var h = g.Op("Add", [g.Patchify("x", s["x_embedder.proj.weight"], s["x_embedder.proj.bias"], c.PatchSize, "x_embedder.proj"), g.Weight(s["pos_embed"], "pos_embed")]);

        // Timestep: [cos, sin] of t·10000^(−i/half), then the MLP (DiT's TimestepEmbedder).
        int half = Models.Layers.TimestepEmbedder.Frequencies / 2;
        var freqs = Enumerable.Range(0, half).Select(i => (float)Math.Exp(-Math.Log(10000) * i / half)).ToArray();
        var args = g.Op("Mul", [g.Op("Unsqueeze", ["t", g.Ints([1])]), g.Floats(freqs, 1, half)]);
        var temb = g.Op("Concat", [g.Op("Cos", [args]), g.Op("Sin", [args])], ("axis", 1L));
        temb = g.Linear(g.Silu(g.Linear(temb, s["t_embedder.mlp.0.weight"], s["t_embedder.mlp.0.bias"], "t_embedder.mlp.0")), s["t_embedder.mlp.2.weight"], s["t_embedder.mlp.2.bias"], "t_embedder.mlp.2");
        var yemb = g.Op("Gather", [g.Weight(s["y_embedder.embedding_table.weight"], "y_embedder.embedding_table.weight"), "y"], ("axis", 0L));
        var cond = g.Op("Add", [temb, yemb]);
        var silu = g.Silu(cond);

        string Modulate(string x, string shift, string scale) =>
            g.Op("Add", [g.Op("Mul", [x, g.Op("Add", [g.Op("Unsqueeze", [scale, g.Ints([1])]), g.Floats([1f])])]), g.Op("Unsqueeze", [shift, g.Ints([1])])]);
        string[] Chunks(string v, int n) => g.Op("Split", [v], n, ("axis", 1L));

        for (int i = 0; i < c.Depth; i++)
        {
            string p = $"blocks.{i}";
            var m = Chunks(g.Linear(silu, s[$"{p}.adaLN_modulation.1.weight"], s[$"{p}.adaLN_modulation.1.bias"], $"{p}.adaLN_modulation.1"), 6);
            var a = g.Attend(g.Linear(Modulate(g.LayerNorm(h, null, null, $"{p}.norm1", w), m[0], m[1]), s[$"{p}.attn.qkv.weight"], s[$"{p}.attn.qkv.bias"], $"{p}.attn.qkv"), w, c.Heads);
            a = g.Linear(a, s[$"{p}.attn.proj.weight"], s[$"{p}.attn.proj.bias"], $"{p}.attn.proj");
            h = g.Op("Add", [h, g.Op("Mul", [g.Op("Unsqueeze", [m[2], g.Ints([1])]), a])]);
            var f = g.GeluTanh(g.Linear(Modulate(g.LayerNorm(h, null, null, $"{p}.norm2", w), m[3], m[4]), s[$"{p}.mlp.fc1.weight"], s[$"{p}.mlp.fc1.bias"], $"{p}.mlp.fc1"));
            f = g.Linear(f, s[$"{p}.mlp.fc2.weight"], s[$"{p}.mlp.fc2.bias"], $"{p}.mlp.fc2");
            h = g.Op("Add", [h, g.Op("Mul", [g.Op("Unsqueeze", [m[5], g.Ints([1])]), f])]);
        }
        var fm = Chunks(g.Linear(silu, s["final_layer.adaLN_modulation.1.weight"], s["final_layer.adaLN_modulation.1.bias"], "final_layer.adaLN_modulation.1"), 2);
        h = g.Linear(Modulate(g.LayerNorm(h, null, null, "final_layer.norm_final", w), fm[0], fm[1]), s["final_layer.linear.weight"], s["final_layer.linear.bias"], "final_layer.linear");
        // Unpatchify: [N, T, p·p·C] → [N, C, H, W] (DiT's einsum nhwpqc → nchpwq).
        int grid = c.ImageSize / c.PatchSize, pp = c.PatchSize;
        h = g.Op("Reshape", [h, g.Ints([0, grid, grid, pp, pp, c.OutChannels])]);
        h = g.Op("Reshape", [g.Op("Transpose", [h], ("perm", new long[] { 0, 5, 1, 3, 2, 4 })), g.Ints([0, c.OutChannels, c.ImageSize, c.ImageSize])]);
        g.Output(g.Rename(h, "output"), DataType.Float, "N", c.OutChannels, c.ImageSize, c.ImageSize);
        return g.Model(new Dictionary<string, string>
        {
            ["learngene_config"] = c.ToJson(),
            [Diffusion.DiffusionFile.PredictionKey] = metadata.GetValueOrDefault(Diffusion.DiffusionFile.PredictionKey, "velocity"),
            [Diffusion.DiffusionFile.StepsKey] = metadata.GetValueOrDefault(Diffusion.DiffusionFile.StepsKey, "1000"),
            ["input"] = "x: N x C x H x W noisy image in the model's space; t: N float32 step; y: N int64 class (null class = number of classes)",
        });
    }
}
