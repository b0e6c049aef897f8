using Learngene.Models;

namespace Learngene.Baselines.Initializers;

/// <summary>Random initialization (timm's ViT init, <see cref="WeightInit.Timm"/>), the same recipe and budget as everything else.</summary>
public sealed class Scratch : IInitializer
{
    public string Name => "scratch";
    public string Description => "random initialization (timm's ViT init: Linear weights N(0, 0.02²), biases 0)";
    public AncestryNeed Needs => AncestryNeed.None;

    public VisionTransformer Create(VitConfig architecture, InitContext context) => new(architecture);
}
