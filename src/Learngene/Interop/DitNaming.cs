using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Learngene.Data;
using Learngene.Diffusion;
using Learngene.IO;
using Learngene.Models;
using Learngene.Models.Linears;
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
        var (tensors, meta) = SafeTensors.Load(path);
        try
        {
            var cfg = ForeignConfig.Read(config, meta, ArgsKey);
            var dit = ConfigOf(tensors, cfg, path);
            var model = new DiffusionTransformer(dit);
            try { ModelFile.LoadInto(model, tensors, path); }
            catch { model.Dispose(); throw; }
            var half = Enumerable.Repeat(0.5f, dit.Channels).ToArray();
            string prediction = cfg.Get<string>("prediction") ?? meta.GetValueOrDefault(DiffusionFile.PredictionKey) ?? "noise";
            int steps = cfg.Get<int?>("diffusion_steps") ?? (int.TryParse(meta.GetValueOrDefault(DiffusionFile.StepsKey), out int s) ? s : 1000);
            if (prediction is not ("noise" or "velocity")) throw new LearngeneException($"{path}: unknown prediction '{prediction}' (noise or velocity)");
            if (steps < 1) throw new LearngeneException($"{path}: diffusion_steps must be positive");
            return new Imported(model, cfg.Normalization(dit.Channels, new Normalization(half, half)), cfg.ClassNames(meta, dit.Classes), prediction, steps);
        }
        finally { foreach (var t in tensors.Values) t.Dispose(); }
    }

    static DitConfig ConfigOf(Dictionary<string, Tensor> t, ForeignConfig cfg, string path)
    {
        string Where(string what) => $"{path}: {what}";
        foreach (var name in t.Keys)
            if (!Known().IsMatch(name))
                throw new LearngeneException(Where($"tensor '{name}' is not part of facebookresearch/DiT's model (a tuned or other model? export it with Learngene's --format dit)"));
        // Every shape read below is checked for its rank and for positive sizes first: a lying file gets one line.
        long[] Shape(string name, int rank)
        {
            if (!t.TryGetValue(name, out var x)) throw new LearngeneException(Where($"tensor '{name}' is missing: not a DiT state dict"));
            if (x.shape.Length != rank || x.shape.Any(d => d < 1))
                throw new LearngeneException(Where($"tensor '{name}' has shape [{string.Join(",", x.shape)}], not {rank} positive dimensions"));
            return x.shape;
        }

        var patch = Shape("x_embedder.proj.weight", 4);
        if (patch.Length != 4 || patch[2] != patch[3]) throw new LearngeneException(Where("x_embedder.proj.weight is not a square convolution kernel"));
        int width = (int)patch[0], channels = (int)patch[1], patchSize = (int)patch[2];
        long tokens = Shape("pos_embed", 3)[1];
        int grid = (int)Math.Round(Math.Sqrt(tokens));
        if (grid * grid != tokens) throw new LearngeneException(Where($"pos_embed holds {tokens} positions, not a square grid"));
        int depth = t.Keys.Count(k => k.StartsWith("blocks.") && k.EndsWith(".adaLN_modulation.1.weight"));
        if (depth == 0) throw new LearngeneException(Where("there are no blocks"));
        long hidden = Shape("blocks.0.mlp.fc1.weight", 2)[0];
        long outChannels = Shape("final_layer.linear.weight", 2)[0] / (patchSize * patchSize);
        if (outChannels != channels && outChannels != 2 * channels) throw new LearngeneException(Where("final_layer.linear is neither C nor 2C channels per pixel"));
        // DiT keeps one more label row for the null class whenever labels are dropped (class_dropout_prob > 0).
        double dropout = cfg.Get<double?>("class_dropout_prob") ?? 0.1;
        int rows = (int)Shape("y_embedder.embedding_table.weight", 2)[0];
        int classes = rows - (dropout > 0 ? 1 : 0);

        cfg.Agree("input_size", grid * patchSize);
        cfg.Agree("patch_size", patchSize);
        cfg.Agree("in_channels", channels);
        cfg.Agree("hidden_size", width);
        cfg.Agree("depth", depth);
        cfg.Agree("num_classes", classes);
        cfg.Agree("learn_sigma", outChannels == 2 * channels);
        int heads = cfg.Get<int?>("num_heads") ?? throw new LearngeneException(
            $"{path}: the number of attention heads is not in the tensors' shapes; give it: --config '{{\"num_heads\": H}}'");
        return (DitConfig)new DitConfig
        {
            ImageSize = grid * patchSize, Channels = channels, Classes = classes, PatchSize = patchSize, Width = width, Depth = depth,
            Heads = heads, MlpRatio = (double)hidden / width, ClassDropout = dropout, LearnSigma = outChannels == 2 * channels,
        }.Validate();
    }

    [GeneratedRegex(@"^(pos_embed|x_embedder\.proj\.(weight|bias)|t_embedder\.mlp\.[02]\.(weight|bias)|y_embedder\.embedding_table\.weight|final_layer\.(linear|adaLN_modulation\.1)\.(weight|bias)|blocks\.\d+\.(attn\.qkv|attn\.proj|mlp\.fc1|mlp\.fc2|adaLN_modulation\.1)\.(weight|bias))$")]
    private static partial Regex Known();
}
