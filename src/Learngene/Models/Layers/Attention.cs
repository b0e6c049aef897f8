using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Learngene.Models.Layers;

/// <summary>Multi-head self-attention with a fused qkv projection (with bias), as in DeiT.</summary>
public sealed class Attention : nn.Module<Tensor, Tensor>
{
    private readonly Linear qkv;
    private readonly Linear proj;
    private readonly int heads;

    public Attention(int width, int heads) : base(nameof(Attention))
    {
        this.heads = heads;
        qkv = nn.Linear(width, 3 * width, hasBias: true);
        proj = nn.Linear(width, width);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => Compute(x, qkv.weight!, qkv.bias, proj.weight!, proj.bias, heads);

    /// <summary>The attention maths on explicit weights, so that methods which compute block weights on
    /// the fly (TLEG's linear expansion) run the very same code as the plain module.</summary>
    public static Tensor Compute(Tensor x, Tensor qkvW, Tensor? qkvB, Tensor projW, Tensor? projB, int heads)
    {
        return nn.functional.linear(Attend(nn.functional.linear(x, qkvW, qkvB), heads), projW, projB);
    }

    /// <summary>Scaled dot-product attention over a fused qkv projection [B, N, 3d] → [B, N, d] (before the
    /// output projection), for blocks whose projections are another kind of layer.</summary>
    public static Tensor Attend(Tensor qkv, int heads)
    {
        long b = qkv.shape[0], n = qkv.shape[1], d = qkv.shape[2] / 3;
        var parts = qkv.reshape(b, n, 3, heads, d / heads).permute(2, 0, 3, 1, 4);
        var y = nn.functional.scaled_dot_product_attention(parts[0], parts[1], parts[2]);
        return y.transpose(1, 2).reshape(b, n, d);
    }
}
