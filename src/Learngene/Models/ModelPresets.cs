namespace Learngene.Models;

/// <summary>Named architectures. Image size, channels and classes are those of the data a command uses
/// (they are set from it), except where a preset's size is part of its identity (DeiT at 224).</summary>
public static class ModelPresets
{
    public sealed record Preset(string Name, string Description, ModelConfig Config) : INamed
    {
        /// <summary>The preset's ViT architecture, or a clear error for another family.</summary>
        public VitConfig Vit => Config as VitConfig ?? throw new LearngeneException($"model preset '{Name}' is a {Config.Family}, not a ViT", setting: "model");
    }

    static readonly VitConfig Vit = new();

    public static readonly Registry<Preset> Registry = new("model preset",
    [
        new("vit-smoke", "2-block ViT, width 32, for tests (seconds)", Vit with { Width = 32, Depth = 2, Heads = 2, PatchSize = 7 }),
        new("vit-cpu", "12-block ViT, width 64, 2 heads, patch 7 at 28x28: one Fashion-MNIST epoch in about 80 s on 2 cores",
            Vit with { Width = 64, Depth = 12, Heads = 2, PatchSize = 7 }),
        new("vit-cpu-96", "12-block ViT, width 96, 3 heads, patch 7 at 28x28 (about 2.3x slower than vit-cpu)",
            Vit with { Width = 96, Depth = 12, Heads = 3, PatchSize = 7 }),
        new("deit-ti-32", "DeiT-Ti-like: width 192, 3 heads, depth 6, patch 4 at 32x32x3 (the throughput benchmark's model)",
            Vit with { Width = 192, Depth = 6, Heads = 3, PatchSize = 4, ImageSize = 32, Channels = 3 }),
        new("deit-ti", "DeiT-Ti: width 192, 3 heads, depth 12, patch 16 at 224x224x3", Vit with { Width = 192, Depth = 12, Heads = 3, PatchSize = 16, ImageSize = 224, Channels = 3, Classes = 1000 }),
        new("deit-s", "DeiT-S: width 384, 6 heads, depth 12, patch 16 at 224x224x3", Vit with { Width = 384, Depth = 12, Heads = 6, PatchSize = 16, ImageSize = 224, Channels = 3, Classes = 1000 }),
        new("deit-b", "DeiT-B: width 768, 12 heads, depth 12, patch 16 at 224x224x3", Vit with { Width = 768, Depth = 12, Heads = 12, PatchSize = 16, ImageSize = 224, Channels = 3, Classes = 1000 }),
        new("resnet-smoke", "tiny ResNet teacher for tests", new ResNetConfig { Width = 8, StageBlocks = [1, 1] }),
        new("resnet-cpu", "small ResNet (width 16, stages [2,2,2]): a strong CPU teacher",
            new ResNetConfig { Width = 16, StageBlocks = [2, 2, 2] }),
        new("dit-cpu", "DiT of the diffusion presets: width 128, depth 6, 4 heads, patch 4 at 28x28x1, 10 classes (bench dit, bench throughput)",
            new DitConfig { Width = 128, Depth = 6, Heads = 4, PatchSize = 4, ImageSize = 28, Channels = 1, Classes = 10 }),
        // DiT's sizes at patch 2, 4 and 8 (dit-s-2 … dit-xl-8), on the data's image size, channels and classes.
        .. from size in new[] { "S", "B", "L", "XL" }
           from patch in new[] { 2, 4, 8 }
           let c = DitConfig.Paper(size, patch)
           select new Preset($"dit-{size.ToLowerInvariant()}-{patch}", $"DiT-{size}/{patch}: width {c.Width}, depth {c.Depth}, {c.Heads} heads, patch {patch} (for GPUs)",
               c with { ImageSize = 0, Channels = 1, Classes = 10 }),
    ]);
}
