using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Learngene.Models;

/// <summary>timm's ViT initialization (<c>VisionTransformer.init_weights</c> with mode '', that is
/// <c>init_weights_vit_timm</c>): every Linear weight <c>trunc_normal_(std=.02)</c> and bias 0; LayerNorm
/// γ=1 β=0; positional embedding <c>trunc_normal_(std=.02)</c>; class token N(0, 1e-6²). The patch
/// embedding's convolution is left as constructed (PyTorch's default Conv2d init, which timm also keeps).
/// timm's truncation bounds are ±2 in absolute value, so at std 0.02 nothing is in practice cut.</summary>
public static class WeightInit
{
    public const double Std = 0.02;

    public static void Timm(nn.Module module)
    {
        using var _ = torch.no_grad();
        foreach (var (_, m) in module.named_modules().Prepend(("", module)))
        {
            switch (m)
            {
                case Linear linear:
                    using (var t = TruncatedNormal(linear.weight!.shape, Std)) linear.weight.copy_(t);
                    linear.bias?.zero_();
                    break;
                case LayerNorm norm:
                    norm.weight?.fill_(1.0);
                    norm.bias?.zero_();
                    break;
            }
        }
        foreach (var (name, p) in module.named_parameters(recurse: false))
        {
            if (name == "pos_embed") { using var t = TruncatedNormal(p.shape, Std); p.copy_(t); }
            else if (name == "cls_token") p.normal_(0, 1e-6);
        }
    }

    /// <summary>N(0, std²) truncated to [a, b] (absolute bounds, as timm's <c>trunc_normal_</c>) by
    /// resampling the values outside. (TorchSharp 0.107's nn.init.trunc_normal_ fills the tensor with a
    /// constant, and its torch.erfinv computes erf, so neither the library routine nor inverse-CDF
    /// sampling can be used.)</summary>
    public static Tensor TruncatedNormal(long[] shape, double std, double a = -2, double b = 2)
    {
        using var scope = torch.NewDisposeScope();
        var t = torch.randn(shape) * std;
        var outside = (t < a).logical_or(t > b);
        while (outside.any().item<bool>())
        {
            t = torch.where(outside, torch.randn(shape) * std, t);
            outside = (t < a).logical_or(t > b);
        }
        return t.MoveToOuterDisposeScope();
    }
}
