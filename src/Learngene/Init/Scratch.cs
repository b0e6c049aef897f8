using Learngene.Models;

namespace Learngene.Init;

/// <summary>Random initialization (DeiT's truncated normal), the same recipe and budget as everything else.</summary>
public sealed class Scratch : IInitializer
{
    public string Name => "scratch";
    public string Description => "random initialization (truncated normal, std 0.02)";
    public bool NeedsAncestry => false;

    public VisionTransformer Create(ModelConfig architecture, InitContext context) => new(architecture);
}
