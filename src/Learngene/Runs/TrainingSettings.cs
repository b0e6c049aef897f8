using Learngene.Models;
using Learngene.Training;

namespace Learngene.Runs;

/// <summary>The settings every training command shares — the architecture's (<c>--depth</c>, <c>--width</c>…)
/// and the recipe's (<c>--epochs</c>, <c>--lr</c>…) — each overriding a preset, checked here.</summary>
public static class TrainingSettings
{
    public static readonly IReadOnlyList<Setting> Architecture =
    [
        new("depth", "Transformer blocks"),
        new("width", "Embedding width"),
        new("heads", "Attention heads (must divide the width)"),
        new("patch-size", "Patch size (images are resized to the nearest size it divides, unless --image-size is given, which it must divide)"),
        new("mlp-ratio", "MLP hidden width / width"),
        new("pooling", "cls (class token) or avg (mean of patch tokens)"),
        new("image-size", "Resize images to this square size (default: the data's own, or the nearest size the patch size divides)"),
    ];

    public static readonly IReadOnlyList<Setting> Recipe =
    [
        new("epochs", "Epochs"),
        new("batch-size", "Batch size"),
        new("lr", "Peak learning rate (AdamW)"),
        new("weight-decay", "AdamW weight decay"),
        new("warmup-epochs", "Linear warmup, in epochs (fractions allowed)"),
        new("label-smoothing", "Label smoothing"),
        new("clip-grad", "Max gradient norm (0: off)"),
        new("no-augment", "Turn off random crops and flips", Flag: true),
        new("seed", "Seed for weights, data order and augmentation"),
        new("distill", "none, soft or hard (needs --teacher)"),
        new("distill-alpha", "Weight of the distillation loss (CE gets 1 - alpha)"),
        new("temperature", "Soft distillation temperature"),
        new("train-limit", "Use at most this many training images (seeded subset)"),
        new("test-limit", "Use at most this many test images (seeded subset)"),
    ];

    public static bool AnyArchitecture(GivenSettings s) => Architecture.Any(a => s.Has(a.Name));

    /// <summary>The architecture with the given settings; a transformer's setting on a ResNet is refused.</summary>
    public static ModelConfig ApplyArchitecture(ModelConfig c, GivenSettings s) => c switch
    {
        VitConfig v => v with
        {
            Depth = s.Count("depth") ?? v.Depth,
            Width = s.Count("width") ?? v.Width,
            Heads = s.Count("heads") ?? v.Heads,
            PatchSize = s.Count("patch-size") ?? v.PatchSize,
            MlpRatio = s.Double("mlp-ratio") ?? v.MlpRatio,
            Pooling = s.Text("pooling") ?? v.Pooling,
            ImageSize = s.Count("image-size") ?? v.ImageSize,
        },
        // A ResNet has a width and an input size; the transformer's settings do not apply to it.
        ResNetConfig when new[] { "depth", "heads", "patch-size", "mlp-ratio", "pooling" }.FirstOrDefault(s.Has) is { } name =>
            throw new LearngeneException($"--{name} is a ViT setting; a ResNet takes --width and --image-size", setting: name),
        ResNetConfig n => n with { Width = s.Count("width") ?? n.Width, ImageSize = s.Count("image-size") ?? n.ImageSize },
        DitConfig when s.Has("pooling") => throw new LearngeneException("--pooling is a ViT setting; a DiT has no pooling", setting: "pooling"),
        DitConfig d => d with
        {
            Depth = s.Count("depth") ?? d.Depth,
            Width = s.Count("width") ?? d.Width,
            Heads = s.Count("heads") ?? d.Heads,
            PatchSize = s.Count("patch-size") ?? d.PatchSize,
            MlpRatio = s.Double("mlp-ratio") ?? d.MlpRatio,
            ImageSize = s.Count("image-size") ?? d.ImageSize,
        },
        _ => c with { ImageSize = s.Count("image-size") ?? c.ImageSize },
    };

    /// <summary>The recipe with the given settings (a distillation weight alone turns soft distillation on).</summary>
    public static TrainOptions ApplyRecipe(TrainOptions o, GivenSettings s) => (o with
    {
        Epochs = s.Count("epochs") ?? o.Epochs,
        BatchSize = s.Count("batch-size") ?? o.BatchSize,
        LearningRate = s.Double("lr") ?? o.LearningRate,
        WeightDecay = s.Double("weight-decay") ?? o.WeightDecay,
        WarmupEpochs = s.Double("warmup-epochs") ?? o.WarmupEpochs,
        LabelSmoothing = s.Double("label-smoothing") ?? o.LabelSmoothing,
        ClipGrad = s.Double("clip-grad") ?? o.ClipGrad,
        Augment = !s.Flag("no-augment") && o.Augment,
        Seed = s.Int("seed") ?? o.Seed,
        Distill = s.Text("distill") ?? (s.Has("distill-alpha") ? "soft" : o.Distill),
        DistillAlpha = s.Double("distill-alpha") ?? o.DistillAlpha,
        Temperature = s.Double("temperature") ?? o.Temperature,
    }).Validate();

    /// <summary>The spec with the given architecture, recipe and image limits.</summary>
    public static RunSpec Apply(RunSpec spec, GivenSettings s) => spec with
    {
        Model = ApplyArchitecture(spec.Model, s),
        Options = ApplyRecipe(spec.Options, s),
        TrainLimit = Positive(s, "train-limit") ?? spec.TrainLimit,
        TestLimit = Positive(s, "test-limit") ?? spec.TestLimit,
    };

    static int? Positive(GivenSettings s, string name) =>
        s.Int(name) is int v && v < 1 ? throw new LearngeneException($"--{name} must be at least 1 (got {v})", setting: name) : s.Int(name);

    /// <summary>A classifier run of a training preset (<c>train --preset</c>): its model (or <paramref name="model"/>),
    /// recipe (through <paramref name="defaults"/>) and limits, then the given settings.</summary>
    public static RunSpec FromPreset(string presetName, string? model, string data, GivenSettings s, Func<TrainOptions, TrainOptions>? defaults = null)
    {
        var preset = TrainPresets.Registry.Find(presetName);
        var spec = new RunSpec
        {
            Data = data, Model = ModelPresets.Registry.Find(model ?? preset.Model).Config with { ImageSize = preset.ImageSize ?? 0 },
            Options = (defaults ?? (o => o))(preset.Options), TrainLimit = preset.TrainLimit, TestLimit = preset.TestLimit,
        };
        return Apply(spec, s);
    }
}
