using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Learngene.Data;
using Learngene.Diffusion;
using Learngene.IO;
using Learngene.Methods.Kind;
using Learngene.Models;
using Learngene.Models.Linears;
using Learngene.Training.Objectives;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Interop;

/// <summary>A Learngene DiT as facebookresearch/DiT's <c>models.DiT</c> state dict and back. The names are
/// already DiT's; a tuned model's adapters (LoRA, PiSSA, SVDiff) are merged into plain matrices on export,
/// since DiT has none. What the shapes do not say (heads, label dropout, the prediction target) travels as
/// DiT's constructor arguments in the metadata (<c>dit_args</c>) or comes from <c>--config</c>.</summary>
public static partial class DitNaming
{
    public const string ArgsKey = "dit_args";

    /// <summary>DiT's keyword arguments that build this architecture: <c>DiT(**args)</c>.</summary>
    public static JsonObject Args(DitConfig c) => new()
    {
        ["input_size"] = c.ImageSize, ["patch_size"] = c.PatchSize, ["in_channels"] = c.Channels, ["hidden_size"] = c.Width,
        ["depth"] = c.Depth, ["num_heads"] = c.Heads, ["mlp_ratio"] = c.MlpRatio, ["class_dropout_prob"] = c.ClassDropout,
        ["num_classes"] = c.Classes, ["learn_sigma"] = c.LearnSigma,
    };

    /// <summary>The state dict in DiT's names with plain block matrices.</summary>
    public static Dictionary<string, Tensor> PlainState(DiffusionTransformer model)
    {
        var c = model.Architecture;
        if (c.Linears is SvdForm)
            throw new LearngeneException("a KIND model applies another matrix for each class (its class gate): DiT's naming has no place for that; " +
                                         "sample from it with Learngene, or export a model tuned with LoRA, PiSSA, SVDiff or full fine-tuning");
        var state = ModelFile.StateDict(model);
        if (c.Linears is null) return state;
        string[] own = ["attn.qkv", "attn.proj", "mlp.fc1", "mlp.fc2"];
        var plain = state.Where(kv => !own.Any(o => kv.Key.StartsWith("blocks.") && kv.Key.Contains("." + o + "."))).ToDictionary();
        using var _ = torch.no_grad();
        for (int i = 0; i < model.Blocks.Count; i++)
            foreach (var (name, linear) in own.Zip(model.Blocks[i].Linears))
            {
                plain[$"blocks.{i}.{name}.weight"] = linear.Weight().detach().clone();
                plain[$"blocks.{i}.{name}.bias"] = linear.Bias.detach().clone();
            }
        return plain;
    }

    /// <summary>Writes the plain state dict with DiT's constructor arguments, the normalization, class names and
    /// the diffusion settings (prediction target, steps) of the model file's <paramref name="metadata"/>.</summary>
    public static void Export(string path, DiffusionTransformer model, Normalization norm, IReadOnlyList<string> classes, IReadOnlyDictionary<string, string> metadata)
    {
        var meta = new Dictionary<string, string>
        {
            ["format"] = "pt",
            [ArgsKey] = Args(model.Architecture).ToJsonString(),
            ["mean"] = JsonSerializer.Serialize(norm.Mean),
            ["std"] = JsonSerializer.Serialize(norm.Std),
            ["classes"] = JsonSerializer.Serialize(classes),
            [DiffusionFile.PredictionKey] = metadata.GetValueOrDefault(DiffusionFile.PredictionKey, "velocity"),
            [DiffusionFile.StepsKey] = metadata.GetValueOrDefault(DiffusionFile.StepsKey, "1000"),
        };
        using var scope = torch.NewDisposeScope();
        SafeTensors.Save(path, PlainState(model), meta);
    }

    public sealed record Imported(DiffusionTransformer Model, Normalization Normalization, string[] ClassNames, string Prediction, int Steps);

    /// <summary>Reads a DiT state dict (DiT's names) into a Learngene DiT. Without metadata the prediction target
    /// is DiT's (noise) over 1000 steps, and pixels map to [−1, 1] (mean 0.5, std 0.5), as DiT's data loader does.</summary>
    public static Imported Import(string path, string? config)
    {
        using var dict = ForeignStateDict.Open(path, config, ArgsKey, "a DiT state dict");
        var dit = ConfigOf(dict);
        var cfg = dict.Config;
        string named = cfg.Get<string>("prediction") ?? dict.Metadata.GetValueOrDefault(DiffusionFile.PredictionKey) ?? "noise";
        int steps = cfg.Get<int?>("diffusion_steps") ?? (int.TryParse(dict.Metadata.GetValueOrDefault(DiffusionFile.StepsKey), out int s) ? s : 1000);
        // The objective's own parser (it knows the aliases eps and v); the stored name is its canonical one.
        string prediction;
        try { prediction = DiffusionObjective.ParsePrediction(named).ToString().ToLowerInvariant(); }
        catch (LearngeneException e) { throw dict.Error(e.Message); }
        if (steps < 1) throw dict.Error("diffusion_steps must be positive");
        var model = dict.Build(() => new DiffusionTransformer(dit));
        var half = Enumerable.Repeat(0.5f, dit.Channels).ToArray();
        return new Imported(model, cfg.Normalization(dit.Channels, new Normalization(half, half)), cfg.ClassNames(dict.Metadata, dit.Classes), prediction, steps);
    }

    static DitConfig ConfigOf(ForeignStateDict t)
    {
        t.RefuseUnknown(Known(), "is not part of facebookresearch/DiT's model (a tuned or other model? export it with Learngene's --format dit)");
        var (width, channels, patchSize) = t.PatchEmbedding("x_embedder.proj.weight");
        int grid = t.Grid("pos_embed", extra: 0);
        int depth = t.Blocks(".adaLN_modulation.1.weight");
        long hidden = t.Shape("blocks.0.mlp.fc1.weight", 2)[0];
        long outChannels = t.Shape("final_layer.linear.weight", 2)[0] / (patchSize * patchSize);
        if (outChannels != channels && outChannels != 2 * channels) throw t.Error("final_layer.linear is neither C nor 2C channels per pixel");
        // DiT keeps one more label row for the null class whenever labels are dropped (class_dropout_prob > 0).
        var cfg = t.Config;
        double dropout = cfg.Get<double?>("class_dropout_prob") ?? 0.1;
        int rows = (int)t.Shape("y_embedder.embedding_table.weight", 2)[0];
        int classes = rows - (dropout > 0 ? 1 : 0);

        cfg.Agree("input_size", grid * patchSize);
        cfg.Agree("patch_size", patchSize);
        cfg.Agree("in_channels", channels);
        cfg.Agree("hidden_size", width);
        cfg.Agree("depth", depth);
        cfg.Agree("num_classes", classes);
        cfg.Agree("learn_sigma", outChannels == 2 * channels);
        return (DitConfig)new DitConfig
        {
            ImageSize = grid * patchSize, Channels = channels, Classes = classes, PatchSize = patchSize, Width = width, Depth = depth,
            Heads = t.Heads(), MlpRatio = (double)hidden / width, ClassDropout = dropout, LearnSigma = outChannels == 2 * channels,
        }.Validate();
    }

    [GeneratedRegex(@"^(pos_embed|x_embedder\.proj\.(weight|bias)|t_embedder\.mlp\.[02]\.(weight|bias)|y_embedder\.embedding_table\.weight|final_layer\.(linear|adaLN_modulation\.1)\.(weight|bias)|blocks\.\d+\.(attn\.qkv|attn\.proj|mlp\.fc1|mlp\.fc2|adaLN_modulation\.1)\.(weight|bias))$")]
    private static partial Regex Known();
}
