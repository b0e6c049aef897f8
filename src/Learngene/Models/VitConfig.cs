using System.Text.Json.Serialization;

namespace Learngene.Models;

/// <summary>A DeiT-style vision transformer's architecture (<see cref="VisionTransformer"/>).</summary>
public sealed record VitConfig : ModelConfig
{
    public override string Family => "vit";
    public int PatchSize { get; init; } = 7;
    public override int SizeStep() => PatchSize;
    public int Width { get; init; } = 96;
    public int Depth { get; init; } = 12;
    public int Heads { get; init; } = 3;
    public double MlpRatio { get; init; } = 4.0;
    /// <summary>"cls" (class token) or "avg" (mean of the patch tokens, as the learngene auxiliary models).</summary>
    public string Pooling { get; init; } = "cls";
    /// <summary>timm's <c>fc_norm</c>: the final LayerNorm applied to the pooled vector (timm's default with
    /// average pooling) instead of to every token before pooling (<c>norm</c>: DeiT's, and the learngene
    /// auxiliary models'). Only imported timm models set it; absent from files when false.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool FcNorm { get; init; }

    protected override void ValidateFamily()
    {
        Require(Width >= 1, $"width must be at least 1 (got {Width})", "width");
        Require(Depth >= 1, $"depth must be at least 1 (got {Depth})", "depth");
        Require(Heads >= 1, $"heads must be at least 1 (got {Heads})", "heads");
        Require(Width % Heads == 0, $"heads ({Heads}) must divide the width ({Width})", "heads");
        Require(PatchSize >= 1 && ImageSize % PatchSize == 0, $"patch size {PatchSize} does not divide the image size {ImageSize}", "patch-size");
        Require(MlpRatio > 0, $"MLP ratio must be positive (got {MlpRatio})", "mlp-ratio");
        Require(Pooling is "cls" or "avg", $"unknown pooling '{Pooling}' (expected cls or avg)", "pooling");
    }

    public override (double Parameters, double ActivationsPerImage) Size() =>
        TransformerSize(ImageSize, PatchSize, Channels, Width, Depth, Heads, MlpRatio, Pooling == "cls" ? 1 : 0, Classes, 0);

    public override string Describe() =>
        $"ViT depth {Depth}, width {Width}, {Heads} heads, MLP x{MlpRatio:g}, patch {PatchSize}, {ImageSize}x{ImageSize}x{Channels}, {Classes} classes, {Pooling} pooling{(FcNorm ? ", norm after pooling (fc_norm)" : "")}";

    /// <summary>The same family at another width, keeping the width of each head.</summary>
    public VitConfig Narrowed(int width) =>
        width == Width ? this : this with { Width = width, Heads = Math.Max(1, width / (Width / Heads)) };
}
