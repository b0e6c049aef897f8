using System.Text.Json;
using System.Text.Json.Serialization;

namespace Learngene.Models;

/// <summary>Everything needed to rebuild a model's architecture, stored in every model file's metadata.
/// Each family has its own record (<see cref="VitConfig"/>, <see cref="ResNetConfig"/>…) deriving from this
/// one, and its builder in <see cref="ModelFamilies"/>; the stored JSON carries the family's name, by which
/// it is read back.</summary>
public abstract record ModelConfig
{
    /// <summary>The family's name in <see cref="ModelFamilies"/> ("vit", "resnet"…).</summary>
    public abstract string Family { get; }
    public int ImageSize { get; init; } = 28;
    public int Channels { get; init; } = 1;
    public int Classes { get; init; } = 10;

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = false,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Converters = { new ModelConfigConverter() },
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static ModelConfig FromJson(string json, string source)
    {
        ModelConfig config;
        try { config = JsonSerializer.Deserialize<ModelConfig>(json, Json) ?? throw new JsonException(); }
        catch (JsonException e) { throw new LearngeneException($"{source}: the model configuration in its metadata does not parse{(e.Message.StartsWith("unknown") ? $" ({e.Message})" : "")}"); }
        // A stored config is checked like a typed one (values, and whether it fits in memory) before anything is built.
        try { return config.Validate(); }
        catch (LearngeneException e) { throw new LearngeneException($"{source}: {e.Message}"); }
    }

    /// <summary>Throws a one-line <see cref="LearngeneException"/> naming the first invalid setting.</summary>
    public ModelConfig Validate()
    {
        Require(ImageSize >= 1, $"image size must be at least 1 (got {ImageSize})", "image-size");
        Require(Channels >= 1, $"channels must be at least 1 (got {Channels})");
        Require(Classes >= 1, $"classes must be at least 1 (got {Classes})");
        ValidateFamily();
        MemoryNeed.RequireModelFits(this);
        return this;
    }

    /// <summary>A rough size before anything is built, in float32 numbers: the parameters, and the activations one
    /// image keeps for the backward pass (an under-estimate: it decides only what cannot fit).</summary>
    public abstract (double Parameters, double ActivationsPerImage) Size();

    protected abstract void ValidateFamily();

    protected static void Require(bool ok, string message, string? setting = null)
    {
        if (!ok) throw new LearngeneException(message, null, setting);
    }

    public abstract string Describe();

    /// <summary>A transformer's <see cref="Size"/>: per block attention (4w²) and MLP (2·w·hidden) matrices plus
    /// <paramref name="extraPerBlock"/> (DiT's adaLN), embeddings and head; per image and block the tokens' inputs,
    /// q, k, v, attention output, MLP hidden (twice) and the attention maps.</summary>
    protected static (double, double) TransformerSize(double image, double patch, double channels, double width, double depth, double heads, double mlpRatio, double extraTokens, double classes, double extraPerBlock)
    {
        double tokens = Math.Pow(image / Math.Max(1, patch), 2) + extraTokens, hidden = width * mlpRatio;
        double parameters = depth * (4 * width * width + 2 * width * hidden + extraPerBlock) + channels * patch * patch * width + tokens * width + width * classes;
        double activations = depth * tokens * (8 * width + 2 * hidden + heads * tokens);
        return (parameters, activations);
    }

    /// <summary>The image size must be a multiple of this (a transformer's patch size); data of another size
    /// is resized to the nearest multiple (<see cref="Data.InputSize"/>).</summary>
    public virtual int SizeStep() => 1;

    /// <summary>The same architecture for data of this image size, channels and classes (families that
    /// hold other configs, like a stitched model, pass them on).</summary>
    public virtual ModelConfig WithData(int imageSize, int channels, int classes) => this with { ImageSize = imageSize, Channels = channels, Classes = classes };

    /// <summary>True when two configs build modules with the same parameter names and shapes.</summary>
    public bool SameArchitecture(ModelConfig other) => ToJson() == other.ToJson();
}

/// <summary>Reads a stored config into its family's record (files written before families had records
/// hold every family's fields in one object: the family's own are read, the rest ignored) and writes a
/// config with its family's fields.</summary>
sealed class ModelConfigConverter : JsonConverter<ModelConfig>
{
    public override bool CanConvert(Type typeToConvert) => typeToConvert == typeof(ModelConfig);

    public override ModelConfig Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var doc = JsonDocument.ParseValue(ref reader);
        string family = doc.RootElement.TryGetProperty("family", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString()! : "vit";
        var type = ModelFamilies.Registry.TryFind(family)?.ConfigType ?? throw new JsonException($"unknown model family '{family}'");
        return (ModelConfig)(doc.RootElement.Deserialize(type, options) ?? throw new JsonException());
    }

    public override void Write(Utf8JsonWriter writer, ModelConfig value, JsonSerializerOptions options) =>
        JsonSerializer.Serialize(writer, value, value.GetType(), options);
}
