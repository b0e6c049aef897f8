namespace Learngene.Models;

/// <summary>A model family: its config record and how a model is built from one (an image classifier, or
/// another network such as a diffusion transformer).</summary>
public sealed record ModelFamily(string Name, string Description, Type ConfigType, Func<ModelConfig, TorchSharp.torch.nn.Module> Build) : INamed;

/// <summary>Every model family a file or a run can name; a new family is its model and config files plus
/// one line here.</summary>
public static class ModelFamilies
{
    public static readonly Registry<ModelFamily> Registry = new("model family",
    [
        new("vit", "DeiT-style vision transformer (timm names)", typeof(VitConfig), c => new VisionTransformer((VitConfig)c)),
        new("resnet", "small CIFAR-style ResNet (a fast CPU teacher)", typeof(ResNetConfig), c => new ResNet((ResNetConfig)c)),
        new("stitched-vit", "two ViTs of different widths joined by a linear stitch (Learngene Pool, SN-Net)", typeof(StitchedVitConfig), c => new StitchedVisionTransformer((StitchedVitConfig)c)),
        new("dit", "class-conditional diffusion transformer (facebookresearch/DiT names)", typeof(DitConfig), c => new DiffusionTransformer((DitConfig)c)),
        new("stitch-pool", "a stitchable family as one module: models of one depth and several widths, and their stitch layers", typeof(Stitching.StitchPoolConfig), c => new Stitching.StitchPool((Stitching.StitchPoolConfig)c)),
    ]);
}
