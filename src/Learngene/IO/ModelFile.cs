using System.Text.Json;
using Learngene.Data;
using Learngene.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.IO;

/// <summary>A trained or initialized model as one safetensors file: the state dict (timm-style names) and,
/// in <c>__metadata__</c>, <c>format = learngene-model</c>, the architecture (<c>config</c>), the
/// normalization, the class names and free-form provenance. Loads in PyTorch with safetensors.</summary>
public static class ModelFile
{
    public const string Format = "learngene-model";

    public sealed record Loaded(Classifier Model, Normalization Normalization, string[] ClassNames, Dictionary<string, string> Metadata);

    /// <summary>A diffusion model file (family dit): the network with the normalization its data had and
    /// its class names; the metadata names the objective's settings (prediction, diffusion steps).</summary>
    public sealed record LoadedDiffusion(DiffusionTransformer Model, Normalization Normalization, string[] ClassNames, Dictionary<string, string> Metadata);

    public static void Save<TModel>(string path, TModel model, Normalization norm, IReadOnlyList<string> classNames, IReadOnlyDictionary<string, string>? extra = null)
        where TModel : nn.Module, IModel => Save(path, model, model, norm, classNames, extra);

    /// <summary>Saves a module held as <see cref="nn.Module"/> (<paramref name="info"/> is the same object as a model).</summary>
    public static void Save(string path, nn.Module model, IModel info, Normalization norm, IReadOnlyList<string> classNames, IReadOnlyDictionary<string, string>? extra = null)
    {
        var meta = new Dictionary<string, string>(extra ?? new Dictionary<string, string>())
        {
            ["format"] = Format,
            ["config"] = info.Config.ToJson(),
            ["normalization"] = JsonSerializer.Serialize(new { mean = norm.Mean, std = norm.Std }),
            ["classes"] = JsonSerializer.Serialize(classNames),
            ["learngene_version"] = typeof(ModelFile).Assembly.GetName().Version?.ToString(3) ?? "0",
        };
        if (model is DiffusionTransformer { TrainOnly: { } trains }) meta[Training.TrainedTensors.MetadataKey] = Training.TrainedTensors.Encode(trains);
        SafeTensors.Save(path, StateDict(model), meta);
    }

    public static Dictionary<string, Tensor> StateDict(nn.Module model) =>
        model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value);

    /// <summary>The architecture of a model file, from its metadata alone.</summary>
    public static ModelConfig ReadConfig(string path)
    {
        var meta = SafeTensors.ReadMetadata(path);
        if (meta.GetValueOrDefault("format") != Format)
            throw new LearngeneException($"{path} is not a model file ({Format})");
        return ModelConfig.FromJson(meta.GetValueOrDefault("config") ?? "", path);
    }

    public static Loaded Load(string path)
    {
        var (model, norm, classes, meta) = Read(path, Classifier.Create);
        return new Loaded((Classifier)model, norm, classes, meta);
    }

    public static LoadedDiffusion LoadDiffusion(string path)
    {
        var (model, norm, classes, meta) = Read(path, c => c is DitConfig d
            ? new DiffusionTransformer(d)
            : throw new LearngeneException($"{path} holds a {c.Family} model, not a diffusion transformer (dit)"));
        return new LoadedDiffusion((DiffusionTransformer)model, norm, classes, meta);
    }

    static (nn.Module, Normalization, string[], Dictionary<string, string>) Read(string path, Func<ModelConfig, nn.Module> build)
    {
        // The architecture is checked (and its memory counted) from the header before any tensor is read.
        if (SafeTensors.ReadMetadata(path) is var header && header.GetValueOrDefault("format") == Format) ConfigOf(header, path);
        var (tensors, meta) = SafeTensors.Load(path);
        try
        {
            meta.TryGetValue("format", out var format);
            if (format != Format)
                throw new LearngeneException(format is null
                    ? $"{path} is a safetensors file without Learngene metadata (no 'format' field)"
                    : $"{path} is a '{format}' file, not a model file ({Format})");
            var config = ConfigOf(meta, path);
            Normalization norm;
            string[] classes;
            try
            {
                var n = JsonDocument.Parse(meta["normalization"]).RootElement;
                norm = new Normalization(n.GetProperty("mean").Deserialize<float[]>()!, n.GetProperty("std").Deserialize<float[]>()!);
                classes = JsonSerializer.Deserialize<string[]>(meta["classes"])!;
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw new LearngeneException($"{path}: its normalization or class metadata is missing or malformed");
            }
            var model = build(config);
            try { LoadInto(model, tensors, path); }
            catch { model.Dispose(); throw; }
            if (model is DiffusionTransformer dit) dit.TrainOnly = TrainOnlyOf(meta);
            return (model, norm, classes, meta);
        }
        finally { foreach (var t in tensors.Values) t.Dispose(); }
    }

    /// <summary>What trains in a file's network: its metadata's record, or (files written before it moved there)
    /// the config's own <c>train_only</c>.</summary>
    public static string[]? TrainOnlyOf(IReadOnlyDictionary<string, string> meta)
    {
        if (meta.TryGetValue(Training.TrainedTensors.MetadataKey, out var text)) return Training.TrainedTensors.Decode(text);
        try
        {
            return System.Text.Json.Nodes.JsonNode.Parse(meta.GetValueOrDefault("config") ?? "{}")?["train_only"]?.AsArray().Select(e => (string)e!).ToArray();
        }
        catch (JsonException) { return null; }
    }

    static ModelConfig ConfigOf(Dictionary<string, string> meta, string path) => ModelConfig.FromJson(meta.GetValueOrDefault("config") ?? "", path);

    /// <summary>Copies tensors into a module, requiring exactly the module's names and shapes.</summary>
    public static void LoadInto(nn.Module model, IReadOnlyDictionary<string, Tensor> tensors, string source)
    {
        var state = model.state_dict();
        var missing = state.Keys.Where(k => !tensors.ContainsKey(k)).ToList();
        if (missing.Count > 0) throw new LearngeneException($"{source}: tensor '{missing[0]}' is missing ({missing.Count} missing in all): another architecture?");
        using var _ = torch.no_grad();
        foreach (var (name, target) in state)
        {
            var src = tensors[name];
            if (!src.shape.SequenceEqual(target.shape))
                throw new LearngeneException($"{source}: tensor '{name}' has shape [{string.Join(",", src.shape)}], the model expects [{string.Join(",", target.shape)}]");
            target.copy_(src);
        }
    }
}
