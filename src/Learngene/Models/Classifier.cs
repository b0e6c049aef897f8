using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Models;

/// <summary>An image classifier built from a <see cref="ModelConfig"/>: images [B, C, H, W] → logits [B, classes].</summary>
public abstract class Classifier(string name, ModelConfig config) : nn.Module<Tensor, Tensor>(name), IModel
{
    public ModelConfig Config { get; } = config;

    /// <summary>Multiply-accumulates for one image's forward pass (the "FLOPs" of the DeiT papers).</summary>
    public abstract long MacsPerImage();

    public long ParameterCount() => ModelSize.ParameterCount(this);

    /// <summary>The penultimate features [B, D]: what the head reads (a Fréchet distance is measured on them).</summary>
    public virtual Tensor Features(Tensor images) =>
        throw new LearngeneException($"a {Config.Family} model does not expose its penultimate features");

    /// <summary>Creates the model a config describes, with fresh weights from the global torch seed.</summary>
    public static Classifier Create(ModelConfig config)
    {
        var model = ModelFamilies.Registry.Find(config.Validate().Family).Build(config);
        if (model is Classifier classifier) return classifier;
        model.Dispose();
        throw new LearngeneException($"a {config.Family} model is not an image classifier (this command trains and evaluates classifiers)", setting: "model");
    }
}
