namespace Learngene.Models;

/// <summary>What the training loop and the files need of any model, whatever its forward signature:
/// the architecture it was built from and its cost per image.</summary>
public interface IModel
{
    ModelConfig Config { get; }
    /// <summary>Multiply-accumulates for one image's forward pass (the "FLOPs" of the DeiT papers).</summary>
    long MacsPerImage();
}
