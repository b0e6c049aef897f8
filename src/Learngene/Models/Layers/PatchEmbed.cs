using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Learngene.Models.Layers;

/// <summary>Image to token sequence: a conv with kernel = stride = patch size, flattened to [B, N, D].</summary>
public sealed class PatchEmbed : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d proj;
    public int NumPatches { get; }
    /// <summary>The patch projection (DiT initializes it as a linear layer).</summary>
    public Conv2d Projection => proj;

    public PatchEmbed(int imageSize, int patchSize, int channels, int width) : base(nameof(PatchEmbed))
    {
        proj = nn.Conv2d(channels, width, patchSize, stride: patchSize);
        NumPatches = (imageSize / patchSize) * (imageSize / patchSize);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => proj.forward(x).flatten(2).transpose(1, 2);
}
