using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Learngene.Models;

/// <summary>Named weight initializations. "trunc-normal" is DeiT's: weights ~ N(0, 0.02²) truncated at
/// ±2σ, biases 0, LayerNorm γ=1 β=0, positional embedding and class token also N(0, 0.02²).</summary>
public static class WeightInit
{
    public static void TruncNormal(nn.Module module, double std = 0.02)
    {
        using var _ = torch.no_grad();
        foreach (var (name, p) in module.named_parameters())
        {
            string leaf = name[(name.LastIndexOf('.') + 1)..];
            bool isNorm = name.Contains("norm") || name.StartsWith("bn") || name.Contains(".bn");
            if (isNorm) { if (leaf == "weight") p.fill_(1.0); else p.zero_(); }
            else if (leaf == "bias") p.zero_();
            else { using var t = TruncatedNormal(p.shape, std); p.copy_(t); }
        }
    }

    /// <summary>N(0, std²) truncated at ±2σ by resampling the values outside. (TorchSharp 0.107's
    /// nn.init.trunc_normal_ fills the tensor with a constant, and its torch.erfinv computes erf, so
    /// neither the library routine nor inverse-CDF sampling can be used.)</summary>
    public static Tensor TruncatedNormal(long[] shape, double std)
    {
        using var scope = torch.NewDisposeScope();
        var t = torch.randn(shape);
        var outside = t.abs() > 2;
        while (outside.any().item<bool>())
        {
            t = torch.where(outside, torch.randn(shape), t);
            outside = t.abs() > 2;
        }
        return (t * std).MoveToOuterDisposeScope();
    }
}
