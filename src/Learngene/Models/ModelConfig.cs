using System.Text.Json;
using System.Text.Json.Serialization;

namespace Learngene.Models;

/// <summary>Everything needed to rebuild a model's architecture. Stored in every model file's metadata.</summary>
public sealed record ModelConfig
{
    /// <summary>"vit" (DeiT-style transformer) or "resnet" (small CNN, used as a teacher).</summary>
    public string Family { get; init; } = "vit";
    public int ImageSize { get; init; } = 28;
    public int Channels { get; init; } = 1;
    public int Classes { get; init; } = 10;

    // ViT
    public int PatchSize { get; init; } = 7;
    public int Width { get; init; } = 96;
    public int Depth { get; init; } = 12;
    public int Heads { get; init; } = 3;
    public double MlpRatio { get; init; } = 4.0;
    /// <summary>"cls" (class token) or "avg" (mean of the patch tokens, as the learngene auxiliary models).</summary>
    public string Pooling { get; init; } = "cls";

    // ResNet
    public int[] StageBlocks { get; init; } = [2, 2, 2];

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = false,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static ModelConfig FromJson(string json, string source)
    {
        try { return JsonSerializer.Deserialize<ModelConfig>(json, Json) ?? throw new JsonException(); }
        catch (JsonException) { throw new LearngeneException($"{source}: the model configuration in its metadata does not parse"); }
    }

    /// <summary>Throws a one-line <see cref="LearngeneException"/> naming the first invalid setting.</summary>
    public ModelConfig Validate()
    {
        void Require(bool ok, string message) { if (!ok) throw new LearngeneException(message); }
        Require(Family is "vit" or "resnet", $"unknown model family '{Family}' (expected vit or resnet)");
        Require(ImageSize >= 1, $"image size must be at least 1 (got {ImageSize})");
        Require(Channels >= 1, $"channels must be at least 1 (got {Channels})");
        Require(Classes >= 1, $"classes must be at least 1 (got {Classes})");
        Require(Width >= 1, $"width must be at least 1 (got {Width})");
        if (Family == "vit")
        {
            Require(Depth >= 1, $"depth must be at least 1 (got {Depth})");
            Require(Heads >= 1, $"heads must be at least 1 (got {Heads})");
            Require(Width % Heads == 0, $"heads ({Heads}) must divide the width ({Width})");
            Require(PatchSize >= 1 && ImageSize % PatchSize == 0,
                $"patch size {PatchSize} does not divide the image size {ImageSize} (use --image-size or --patch-size)");
            Require(MlpRatio > 0, $"MLP ratio must be positive (got {MlpRatio})");
            Require(Pooling is "cls" or "avg", $"unknown pooling '{Pooling}' (expected cls or avg)");
        }
        else
        {
            Require(StageBlocks.Length >= 1 && StageBlocks.All(b => b >= 1), "every ResNet stage needs at least one block");
        }
        return this;
    }

    public string Describe() => Family == "vit"
        ? $"ViT depth {Depth}, width {Width}, {Heads} heads, MLP x{MlpRatio:g}, patch {PatchSize}, {ImageSize}x{ImageSize}x{Channels}, {Classes} classes, {Pooling} pooling"
        : $"ResNet stages [{string.Join(",", StageBlocks)}], width {Width}, {ImageSize}x{ImageSize}x{Channels}, {Classes} classes";

    /// <summary>True when two configs build modules with the same parameter names and shapes.</summary>
    public bool SameArchitecture(ModelConfig other) => ToJson() == other.ToJson();
}
