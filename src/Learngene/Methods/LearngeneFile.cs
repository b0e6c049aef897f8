using System.Text.Json;
using Learngene.Data;
using Learngene.IO;
using Learngene.Models;
using static TorchSharp.torch;

namespace Learngene.Methods;

/// <summary>What a learngene file says about itself, beside its tensors.</summary>
public sealed record LearngeneInfo
{
    /// <summary>tleg, sws, pool or kind.</summary>
    public string Method { get; init; } = "";
    /// <summary>The auxiliary model's architecture; descendants share its width, heads, patch and image size.</summary>
    public VitConfig Architecture { get; init; } = new();
    /// <summary>The network's architecture when it is not a ViT (KIND: an SVD-form DiT); null for ViT methods.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public ModelConfig? Model { get; init; }
    public string SourceData { get; init; } = "";
    public string[] ClassNames { get; init; } = [];
    public Normalization Normalization { get; init; } = new([0f], [1f]);
    public string Teacher { get; init; } = "";
    public long ImagesSeen { get; init; }
    public int Seed { get; init; }
    /// <summary>Method-specific settings (TLEG: none; SWS: the stage layout…), as JSON.</summary>
    public string MethodSettings { get; init; } = "{}";
    public string Version { get; init; } = typeof(LearngeneInfo).Assembly.GetName().Version?.ToString(3) ?? "0";
}

/// <summary>A learngene on disk: safetensors holding the learngene tensors and the shared pieces (patch
/// and positional embedding, final norm, head) with <c>format = learngene</c> and the
/// <see cref="LearngeneInfo"/> fields in <c>__metadata__</c>. One format for every method.</summary>
public static class LearngeneFile
{
    public const string Format = "learngene";

    public sealed record Loaded(LearngeneInfo Info, Dictionary<string, Tensor> Tensors, string Path) : IDisposable
    {
        /// <summary>Frees the tensors now, on this thread (see <see cref="Native"/>).</summary>
        public void Dispose()
        {
            foreach (var t in Tensors.Values) t.Dispose();
        }
    }

    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, LearngeneInfo info)
    {
        SafeTensors.Save(path, tensors, new Dictionary<string, string>
        {
            ["format"] = Format,
            ["method"] = info.Method,
            ["info"] = JsonSerializer.Serialize(info, ModelConfig.Json),
            ["config"] = (info.Model ?? info.Architecture).ToJson(),
        });
    }

    public static Loaded Load(string path, string? expectedMethod = null)
    {
        // Everything the header says is checked before a tensor is read: the format, the method, the architecture
        // (its values, and whether it fits in memory).
        var meta = SafeTensors.ReadMetadata(path);
        string format = meta.GetValueOrDefault("format", "");
        if (format != Format)
            throw new LearngeneException(format.Length == 0
                ? $"{path} is not a learngene file (no Learngene metadata)"
                : $"{path} is a '{format}' file, not a learngene file");
        LearngeneInfo info;
        try { info = JsonSerializer.Deserialize<LearngeneInfo>(meta["info"], ModelConfig.Json) ?? throw new JsonException(); }
        catch (Exception e) when (e is JsonException or KeyNotFoundException)
        { throw new LearngeneException($"{path}: the learngene metadata is missing or malformed"); }
        if (expectedMethod is not null && info.Method != expectedMethod)
            throw new LearngeneException($"{path} is a '{info.Method}' learngene, not a '{expectedMethod}' one");
        try { (info.Model ?? info.Architecture).Validate(); }
        catch (LearngeneException e) { throw new LearngeneException($"{path}: {e.Message}"); }
        var (tensors, _) = SafeTensors.Load(path);
        return new Loaded(info, tensors, path);
    }

    /// <summary>The tensor, or a clear error naming the file and the tensor.</summary>
    public static Tensor Get(this Loaded gene, string name) =>
        gene.Tensors.TryGetValue(name, out var t) ? t : throw new LearngeneException($"{gene.Path}: tensor '{name}' is missing (corrupt or another method's learngene?)");
}
