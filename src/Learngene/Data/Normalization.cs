using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Data;

/// <summary>Per-channel normalization applied to pixels in [0, 1]; stored with every model so that
/// evaluation uses the statistics the model was trained with.</summary>
public sealed record Normalization(float[] Mean, float[] Std)
{
    public static Normalization Of(ImageDataset train)
    {
        var (mean, std) = train.Statistics();
        return new Normalization(mean, std);
    }

    public Tensor Apply(Tensor x01)
    {
        var (mean, std) = Shaped(x01.device);
        return (x01 - mean) / std;
    }

    /// <summary>Images normalized with these statistics, re-expressed in <paramref name="target"/>'s (a
    /// teacher trained with other statistics); unchanged when the target is null or these.</summary>
    public Tensor Renormalize(Tensor normalized, Normalization? target) =>
        target is null || target == this ? normalized : target.Apply(Invert(normalized));

    /// <summary>Back to pixels in [0, 1].</summary>
    public Tensor Invert(Tensor normalized)
    {
        var (mean, std) = Shaped(normalized.device);
        return normalized * std + mean;
    }

    (Tensor Mean, Tensor Std) Shaped(Device device) =>
        (torch.tensor(Mean, device: device).reshape(1, -1, 1, 1), torch.tensor(Std, device: device).reshape(1, -1, 1, 1));
}
