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
        using var dict = ForeignStateDict.Open(path, config, ArgsKey, "a timm VisionTransformer with a classifier head");
        var vit = ConfigOf(dict);
        var model = dict.Build(() => new VisionTransformer(vit));
        var norm = dict.Config.Normalization(vit.Channels, vit.Channels == 3 ? ImageNetDefault : new Normalization(Fill(vit.Channels, 0.5f), Fill(vit.Channels, 0.5f)));
        return new ModelFile.Loaded(model, norm, dict.Config.ClassNames(dict.Metadata, vit.Classes), dict.Metadata);
    }

    /// <summary>timm's IMAGENET_DEFAULT_MEAN and _STD, its default for ViTs trained on ImageNet.</summary>
    public static readonly Normalization ImageNetDefault = new([0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);

    static float[] Fill(int n, float v) => Enumerable.Repeat(v, n).ToArray();

    static VitConfig ConfigOf(ForeignStateDict t)
    {
        t.RefuseUnknown(Known(), "belongs to a timm feature Learngene's ViT does not have " +
                                 "(supported: a plain VisionTransformer — no LayerScale, register or distillation tokens, qk-norm, pre-norm or attention pooling)");
        var (width, channels, patchSize) = t.PatchEmbedding("patch_embed.proj.weight");
        bool cls = t.Has("cls_token");
        int grid = t.Grid("pos_embed", extra: cls ? 1 : 0);
        int depth = t.Blocks(".norm1.weight");
        long hidden = t.Shape("blocks.0.mlp.fc1.weight", 2)[0];
        int classes = (int)t.Shape("head.weight", 2)[0];
        bool fcNorm = t.Has("fc_norm.weight");

        var cfg = t.Config;
        cfg.Agree("img_size", grid * patchSize);
        cfg.Agree("patch_size", patchSize);
        cfg.Agree("in_chans", channels);
        cfg.Agree("embed_dim", width);
        cfg.Agree("depth", depth);
        cfg.Agree("num_classes", classes);
        cfg.Agree("class_token", cls);
        string pool = cfg.Get<string>("global_pool") ?? (cls ? "token" : "avg");
        if (pool is not ("token" or "avg")) throw t.Error($"global_pool '{pool}' is not supported (token or avg)");
        if ((pool == "token") != cls)
            throw t.Error(cls ? "average pooling beside a class token is not supported" : "token pooling needs a class token");
        return (VitConfig)new VitConfig
        {
            ImageSize = grid * patchSize, Channels = channels, Classes = classes, PatchSize = patchSize, Width = width, Depth = depth,
            Heads = t.Heads(), MlpRatio = (double)hidden / width, Pooling = cls ? "cls" : "avg", FcNorm = fcNorm,
        }.Validate();
    }

    [GeneratedRegex(@"^(cls_token|pos_embed|patch_embed\.proj\.(weight|bias)|(norm|fc_norm|head)\.(weight|bias)|blocks\.\d+\.(norm1|norm2|attn\.qkv|attn\.proj|mlp\.fc1|mlp\.fc2)\.(weight|bias))$")]
    private static partial Regex Known();
}
