using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Learngene.Data;
using Learngene.IO;
using Learngene.Models;
using static TorchSharp.torch;

namespace Learngene.Interop;

/// <summary>A Learngene ViT as timm's <c>VisionTransformer</c> (timm/models/vision_transformer.py) and back.
/// The tensor names are already timm's; what a timm state dict does not say by its shapes (heads, pooling
/// with a class token, normalization) travels as timm's constructor arguments in the metadata
/// (<c>timm_args</c>) on export and comes from there or <c>--config</c> on import.</summary>
public static partial class TimmVit
{
    public const string ArgsKey = "timm_args";

    /// <summary>timm's keyword arguments that build this architecture: <c>VisionTransformer(**args)</c>.</summary>
    public static JsonObject Args(VitConfig c) => new()
    {
        ["img_size"] = c.ImageSize, ["patch_size"] = c.PatchSize, ["in_chans"] = c.Channels, ["num_classes"] = c.Classes,
        ["embed_dim"] = c.Width, ["depth"] = c.Depth, ["num_heads"] = c.Heads, ["mlp_ratio"] = c.MlpRatio,
        ["qkv_bias"] = true, ["class_token"] = c.Pooling == "cls", ["global_pool"] = c.Pooling == "cls" ? "token" : "avg",
        // timm puts the final norm after pooling by default with average pooling; ours may sit before it.
        ["fc_norm"] = c.FcNorm,
    };

    /// <summary>Writes the model's state dict in timm's names with the constructor arguments, normalization and
    /// class names as metadata (<c>format = pt</c>, as Hugging Face's safetensors files say).</summary>
    public static void Export(string path, VisionTransformer model, Normalization norm, IReadOnlyList<string> classes)
    {
        var meta = new Dictionary<string, string>
        {
            ["format"] = "pt",
            [ArgsKey] = Args(model.Architecture).ToJsonString(),
            ["mean"] = JsonSerializer.Serialize(norm.Mean),
            ["std"] = JsonSerializer.Serialize(norm.Std),
            ["classes"] = JsonSerializer.Serialize(classes),
        };
        SafeTensors.Save(path, ModelFile.StateDict(model), meta);
    }

    /// <summary>Reads a timm ViT state dict: the architecture from the shapes and the configuration, the tensors
    /// into a Learngene ViT. Tensors of timm features this ViT lacks are refused by name.</summary>
    public static ModelFile.Loaded Import(string path, string? config)
    {
        var (tensors, meta) = SafeTensors.Load(path);
        try
        {
            var cfg = ForeignConfig.Read(config, meta, ArgsKey);
            var vit = ConfigOf(tensors, cfg, path);
            var model = new VisionTransformer(vit);
            try { ModelFile.LoadInto(model, tensors, path); }
            catch { model.Dispose(); throw; }
            var norm = cfg.Normalization(vit.Channels, vit.Channels == 3 ? ImageNetDefault : new Normalization(Fill(vit.Channels, 0.5f), Fill(vit.Channels, 0.5f)));
            return new ModelFile.Loaded(model, norm, cfg.ClassNames(meta, vit.Classes), meta);
        }
        finally { foreach (var t in tensors.Values) t.Dispose(); }
    }

    /// <summary>timm's IMAGENET_DEFAULT_MEAN and _STD, its default for ViTs trained on ImageNet.</summary>
    public static readonly Normalization ImageNetDefault = new([0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);

    static float[] Fill(int n, float v) => Enumerable.Repeat(v, n).ToArray();

    static VitConfig ConfigOf(Dictionary<string, Tensor> t, ForeignConfig cfg, string path)
    {
        string Where(string what) => $"{path}: {what}";
        foreach (var name in t.Keys)
            if (!Known().IsMatch(name))
                throw new LearngeneException(Where($"tensor '{name}' belongs to a timm feature Learngene's ViT does not have " +
                                                   "(supported: a plain VisionTransformer — no LayerScale, register or distillation tokens, qk-norm, pre-norm or attention pooling)"));
        // Every shape read below is checked for its rank and for positive sizes first: a lying file gets one line.
        long[] Shape(string name, int rank)
        {
            if (!t.TryGetValue(name, out var x)) throw new LearngeneException(Where($"tensor '{name}' is missing: not a timm VisionTransformer with a classifier head"));
            if (x.shape.Length != rank || x.shape.Any(d => d < 1))
                throw new LearngeneException(Where($"tensor '{name}' has shape [{string.Join(",", x.shape)}], not {rank} positive dimensions"));
            return x.shape;
        }

        var patch = Shape("patch_embed.proj.weight", 4);
        if (patch.Length != 4 || patch[2] != patch[3]) throw new LearngeneException(Where("patch_embed.proj.weight is not a square convolution kernel"));
        int width = (int)patch[0], channels = (int)patch[1], patchSize = (int)patch[2];
        bool cls = t.ContainsKey("cls_token");
        long tokens = Shape("pos_embed", 3)[1] - (cls ? 1 : 0);
        int grid = (int)Math.Round(Math.Sqrt(tokens));
        if (grid * grid != tokens) throw new LearngeneException(Where($"pos_embed holds {tokens} patch positions, not a square grid"));
        int depth = t.Keys.Where(k => k.StartsWith("blocks.") && k.EndsWith(".norm1.weight")).Count();
        if (depth == 0) throw new LearngeneException(Where("there are no blocks"));
        long hidden = Shape("blocks.0.mlp.fc1.weight", 2)[0];
        int classes = (int)Shape("head.weight", 2)[0];
        bool fcNorm = t.ContainsKey("fc_norm.weight");

        cfg.Agree("img_size", grid * patchSize);
        cfg.Agree("patch_size", patchSize);
        cfg.Agree("in_chans", channels);
        cfg.Agree("embed_dim", width);
        cfg.Agree("depth", depth);
        cfg.Agree("num_classes", classes);
        cfg.Agree("class_token", cls);
        string pool = cfg.Get<string>("global_pool") ?? (cls ? "token" : "avg");
        if (pool is not ("token" or "avg")) throw new LearngeneException(Where($"global_pool '{pool}' is not supported (token or avg)"));
        if ((pool == "token") != cls)
            throw new LearngeneException(Where(cls ? "average pooling beside a class token is not supported" : "token pooling needs a class token"));
        int heads = cfg.Get<int?>("num_heads") ?? throw new LearngeneException(
            $"{path}: the number of attention heads is not in the tensors' shapes; give it: --config '{{\"num_heads\": H}}'");
        return (VitConfig)new VitConfig
        {
            ImageSize = grid * patchSize, Channels = channels, Classes = classes, PatchSize = patchSize, Width = width, Depth = depth,
            Heads = heads, MlpRatio = (double)hidden / width, Pooling = cls ? "cls" : "avg", FcNorm = fcNorm,
        }.Validate();
    }

    [GeneratedRegex(@"^(cls_token|pos_embed|patch_embed\.proj\.(weight|bias)|(norm|fc_norm|head)\.(weight|bias)|blocks\.\d+\.(norm1|norm2|attn\.qkv|attn\.proj|mlp\.fc1|mlp\.fc2)\.(weight|bias))$")]
    private static partial Regex Known();
}
