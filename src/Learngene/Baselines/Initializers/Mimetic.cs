using Learngene.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Baselines.Initializers;

/// <summary>Mimetic initialization (Trockman &amp; Kolter, ICML 2023), data-free: in every block, each
/// head's W_q W_kᵀ ≈ α₁Z₁ + β₁I and the layer's W_v W_proj ≈ α₂Z₂ − β₂I, with Z random N(0, 1/d) and
/// (α₁, β₁, α₂, β₂) = (0.7, 0.7, 0.4, 0.4) as in the paper. The factors come from an SVD of the target:
/// W_q = U√S, W_k = V√S (the head's rank-k part), W_v = U√S, W_proj = √S Vᵀ. Everything else is as scratch.</summary>
public sealed class Mimetic : IInitializer
{
    public const double Alpha1 = 0.7, Beta1 = 0.7, Alpha2 = 0.4, Beta2 = 0.4;

    public string Name => "mimetic";
    public string Description => "data-free attention init: W_q W_kᵀ ≈ 0.7 Z + 0.7 I per head, W_v W_proj ≈ 0.4 Z − 0.4 I";
    public AncestryNeed Needs => AncestryNeed.None;

    public VisionTransformer Create(VitConfig architecture, InitContext context)
    {
        var model = new VisionTransformer(architecture);
        var state = model.state_dict();
        int d = architecture.Width, h = architecture.Heads, k = d / h;
        using var _ = torch.no_grad();
        for (int b = 0; b < architecture.Depth; b++)
        {
            using var scope = torch.NewDisposeScope();
            // nn.Linear computes x Wᵀ, so the stored weight of a map x ↦ x W is Wᵀ.
            var qkv = state[$"blocks.{b}.attn.qkv.weight"]; // [3d, d]: rows of q, then k, then v
            for (int head = 0; head < h; head++)
            {
                var (wq, wk) = Factor(Alpha1, Beta1, d, k);
                qkv.narrow(0, head * k, k).copy_(wq.t());
                qkv.narrow(0, d + head * k, k).copy_(wk.t());
            }
            var (wv, wprojT) = Factor(Alpha2, -Beta2, d, d);
            qkv.narrow(0, 2 * d, d).copy_(wv.t());
            state[$"blocks.{b}.attn.proj.weight"].copy_(wprojT);
        }
        return model;
    }

    /// <summary>A, B of shape [d, rank] with A Bᵀ the best rank-r approximation of αZ + βI.</summary>
    static (Tensor A, Tensor B) Factor(double alpha, double beta, int d, int rank)
    {
        var target = alpha * torch.randn(d, d, dtype: float64) / Math.Sqrt(d) + beta * torch.eye(d, dtype: float64);
        var (u, s, vh) = torch.linalg.svd(target);
        var root = s.narrow(0, 0, rank).sqrt();
        var a = u.narrow(1, 0, rank) * root;
        var b = vh.narrow(0, 0, rank).t() * root;
        return (a.to(float32), b.to(float32));
    }
}
