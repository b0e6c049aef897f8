using System.Text.Json;
using System.Text.Json.Nodes;
using Learngene.Data;

namespace Learngene.Interop;

/// <summary>The settings a state dict from elsewhere cannot tell by its shapes (a ViT's head count, its
/// normalization…): constructor keyword arguments in the peer's own names (<c>num_heads</c>, <c>global_pool</c>),
/// read from <c>--config</c> (inline JSON or a JSON file, such as a Hugging Face hub <c>config.json</c> with
/// <c>model_args</c> and <c>pretrained_cfg</c>) and from the file's own metadata (what an export wrote).</summary>
public sealed class ForeignConfig
{
    readonly Dictionary<string, JsonNode?> values = new(StringComparer.Ordinal);

    /// <summary>Where the values came from, for error messages.</summary>
    public string Source { get; }

    ForeignConfig(string source) => Source = source;

    /// <summary>Values of the file's metadata entry <paramref name="metadataKey"/> (JSON) first, then those of
    /// <paramref name="config"/> (inline JSON or a path) over them.</summary>
    public static ForeignConfig Read(string? config, IReadOnlyDictionary<string, string> metadata, string metadataKey)
    {
        var result = new ForeignConfig(config is null ? "the file's metadata" : "--config");
        if (metadata.TryGetValue(metadataKey, out var stored)) result.Merge(Parse(stored, "the file's metadata"));
        foreach (var key in new[] { "mean", "std" })
            if (metadata.TryGetValue(key, out var v)) result.values[key] = Parse(v, $"the file's '{key}' metadata");
        if (config is not null)
        {
            string text = File.Exists(config) ? File.ReadAllText(config) : config;
            var root = Parse(text, File.Exists(config) ? config : "--config");
            if (root is not JsonObject obj) throw new LearngeneException("--config must be a JSON object or a JSON file holding one");
            result.Merge(obj);
            // A Hugging Face timm config.json keeps the constructor's arguments and the input's statistics apart.
            if (obj["model_args"] is JsonObject args) result.Merge(args);
            if (obj["pretrained_cfg"] is JsonObject pre) result.Merge(pre);
        }
        return result;
    }

    static JsonNode? Parse(string text, string where)
    {
        try { return JsonNode.Parse(text); }
        catch (JsonException) { throw new LearngeneException($"{where} is neither a JSON file nor JSON text"); }
    }

    void Merge(JsonNode? node)
    {
        if (node is not JsonObject obj) return;
        foreach (var (k, v) in obj) values[k] = v?.DeepClone();
    }

    public bool Has(string key) => values.TryGetValue(key, out var v) && v is not null;

    public T? Get<T>(string key)
    {
        if (!values.TryGetValue(key, out var v) || v is null) return default;
        try { return v.Deserialize<T>(); }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        { throw new LearngeneException($"{Source}: '{key}' is not a {typeof(T).Name.ToLowerInvariant()} ({v.ToJsonString()})"); }
    }

    /// <summary>A value the shapes also tell: the configured one must agree with them.</summary>
    public void Agree<T>(string key, T fromShapes)
    {
        if (Has(key) && !EqualityComparer<T>.Default.Equals(Get<T>(key), fromShapes))
            throw new LearngeneException($"{Source} says {key} = {values[key]!.ToJsonString()}, but the tensors' shapes say {fromShapes}");
    }

    /// <summary>The normalization from <c>mean</c>/<c>std</c>, else the given default.</summary>
    public Normalization Normalization(int channels, Normalization fallback)
    {
        var mean = Get<float[]>("mean") ?? fallback.Mean;
        var std = Get<float[]>("std") ?? fallback.Std;
        if (mean.Length != channels || std.Length != channels || std.Any(s => !(s > 0)))
            throw new LearngeneException($"{Source}: mean and std need {channels} values each, std positive");
        return new Normalization(mean, std);
    }

    /// <summary>Class names from <c>classes</c> (what an export wrote), else the numbers 0…K−1.</summary>
    public string[] ClassNames(IReadOnlyDictionary<string, string> metadata, int classes)
    {
        try
        {
            if (metadata.TryGetValue("classes", out var json) && JsonSerializer.Deserialize<string[]>(json) is { } names && names.Length == classes) return names;
        }
        catch (JsonException) { }
        return Enumerable.Range(0, classes).Select(k => k.ToString()).ToArray();
    }
}
