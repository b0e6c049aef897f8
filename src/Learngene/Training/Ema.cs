using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Training;

/// <summary>An exponential moving average of a model's weights (DiT samples with it): after every optimizer
/// step, ema ← decay·ema + (1 − decay)·θ for every parameter; buffers are copied. The average lives in a
/// second model of the same architecture, which is what sampling and the saved file use.</summary>
public sealed class Ema(nn.Module model, nn.Module average, double decay = 0.9999)
{
    public double Decay { get; } = decay is > 0 and < 1 ? decay : throw new LearngeneException($"EMA decay must be in (0, 1) (got {decay})", setting: "ema-decay");

    /// <summary>Starts the average at the model's weights (DiT's <c>update_ema(ema, model, decay=0)</c>).</summary>
    public void Reset() => Blend(0);

    public void Update() => Blend(Decay);

    /// <summary>The update after the <paramref name="updates"/>-th optimizer step with the decay warmed up:
    /// min(decay, (1 + n)/(10 + n)) (TensorFlow's <c>ExponentialMovingAverage</c> with <c>num_updates</c>), so the
    /// average follows a short run instead of keeping the initial weights' share (0.998^1400 = 6% of a
    /// freshly initialized network after 1400 steps; DiT's 400K steps do not need this, and it does not use it).</summary>
    public void Update(long updates) => Blend(WarmedUp(updates));

    public double WarmedUp(long updates) => Math.Min(Decay, (1.0 + updates) / (10.0 + updates));

    void Blend(double decay)
    {
        using var _ = torch.no_grad();
        var source = model.state_dict();
        // Frozen parameters are copied, not blended: a blend of equal values may move their last bit.
        var parameters = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).ToHashSet();
        foreach (var (name, target) in average.state_dict())
        {
            var value = source[name];
            if (parameters.Contains(name)) target.mul_(decay).add_(value, alpha: 1 - decay);
            else target.copy_(value);
        }
    }
}
