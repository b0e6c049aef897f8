using System.Text.Json.Serialization;
using Learngene.Methods.Kind;
using Learngene.Models.Linears;

namespace Learngene.Models;

/// <summary>A class-conditional diffusion transformer's architecture (<see cref="DiffusionTransformer"/>),
/// with facebookresearch/DiT's parameters: patch size, hidden width, depth, heads, MLP ratio, the label
/// dropout that trains the null class for classifier-free guidance, and whether the output also holds a
/// learned variance (DiT's <c>learn_sigma</c>; off here: v- or ε-prediction with fixed variances).</summary>
public sealed record DitConfig : ModelConfig
{
    public override string Family => "dit";
    public int PatchSize { get; init; } = 4;
    public override int SizeStep() => PatchSize;
    public int Width { get; init; } = 128;
    public int Depth { get; init; } = 6;
    public int Heads { get; init; } = 4;
    public double MlpRatio { get; init; } = 4.0;
    public double ClassDropout { get; init; } = 0.1;
    public bool LearnSigma { get; init; }
    /// <summary>The form of every block's qkv, proj, fc1 and fc2 (null: plain matrices, DiT's).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public LinearForm? Linears { get; init; }

    public int OutChannels => LearnSigma ? 2 * Channels : Channels;
    /// <summary>The label of "no class" (the last row of the label table), present when labels are dropped.</summary>
    public long NullClass => Classes;

    protected override void ValidateFamily()
    {
        Require(Width >= 4 && Width % 4 == 0, $"a DiT's width must be a multiple of 4 (sin and cos of rows and columns; got {Width})", "width");
        Require(Depth >= 1, $"depth must be at least 1 (got {Depth})", "depth");
        Require(Heads >= 1 && Width % Heads == 0, $"heads ({Heads}) must divide the width ({Width})", "heads");
        Require(PatchSize >= 1 && ImageSize % PatchSize == 0, $"patch size {PatchSize} does not divide the image size {ImageSize}", "patch-size");
        Require(MlpRatio > 0, $"MLP ratio must be positive (got {MlpRatio})", "mlp-ratio");
        Require(ClassDropout is >= 0 and < 1, $"class dropout must be in [0, 1) (got {ClassDropout})");
        Linears?.Validate(Classes);
    }

    /// <summary>The data's image size, channels and classes; an SVD form without a class→tailor map gets one
    /// block per class.</summary>
    public override ModelConfig WithData(int imageSize, int channels, int classes)
    {
        var c = (DitConfig)base.WithData(imageSize, channels, classes);
        return c.Linears is SvdForm { TailorOf.Length: 0 } f ? c with { Linears = f with { TailorOf = Enumerable.Range(0, classes).ToArray() } } : c;
    }

    public override (double Parameters, double ActivationsPerImage) Size() =>
        TransformerSize(ImageSize, PatchSize, Channels, Width, Depth, Heads, MlpRatio, 0, Classes, 6.0 * Width * Width);

    public override string Describe() =>
        $"DiT depth {Depth}, width {Width}, {Heads} heads, patch {PatchSize}, {ImageSize}x{ImageSize}x{Channels}, {Classes} classes (label dropout {ClassDropout:P0})" +
        (Linears is null ? "" : $", {Linears.Describe()}");

    /// <summary>DiT's sizes (<c>models.py</c>): S, B, L, XL at patch 2, 4 or 8, on 32×32×4 latents.</summary>
    public static DitConfig Paper(string size, int patch) => size switch
    {
        "S" => new() { Width = 384, Depth = 12, Heads = 6, PatchSize = patch, ImageSize = 32, Channels = 4, Classes = 1000 },
        "B" => new() { Width = 768, Depth = 12, Heads = 12, PatchSize = patch, ImageSize = 32, Channels = 4, Classes = 1000 },
        "L" => new() { Width = 1024, Depth = 24, Heads = 16, PatchSize = patch, ImageSize = 32, Channels = 4, Classes = 1000 },
        "XL" => new() { Width = 1152, Depth = 28, Heads = 16, PatchSize = patch, ImageSize = 32, Channels = 4, Classes = 1000 },
        _ => throw new LearngeneException($"unknown DiT size '{size}' (expected S, B, L or XL)"),
    };
}
