using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Learngene.Models.Layers;

/// <summary>A DiT block with adaLN-Zero conditioning: from the condition c, <c>adaLN_modulation</c> (SiLU →
/// Linear to 6 widths) gives shift, scale and gate for the attention and the MLP branches; the norms have no
/// affine parameters. With the modulation zeroed (DiT's initialization) the gates are 0 and the block is the
/// identity. The MLP uses GELU's tanh approximation, as DiT does.</summary>
public sealed class DitBlock : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly LayerNorm norm1, norm2;
    private readonly Attention attn;
    private readonly Sequential adaLN_modulation;
    private readonly Mlp mlp;

    public DitBlock(int width, int heads, double mlpRatio) : base(nameof(DitBlock))
    {
        norm1 = nn.LayerNorm(width, eps: 1e-6, elementwise_affine: false);
        norm2 = nn.LayerNorm(width, eps: 1e-6, elementwise_affine: false);
        attn = new Attention(width, heads);
        mlp = new Mlp(width, (int)(width * mlpRatio));
        adaLN_modulation = nn.Sequential(("0", nn.SiLU()), ("1", nn.Linear(width, 6 * width)));
        RegisterComponents();
    }

    public void ZeroModulation()
    {
        using var _ = torch.no_grad();
        var linear = (Linear)adaLN_modulation[1];
        linear.weight!.zero_();
        linear.bias!.zero_();
    }

    public static Tensor Modulate(Tensor x, Tensor shift, Tensor scale) => x * (1 + scale.unsqueeze(1)) + shift.unsqueeze(1);

    /// <summary>GELU's tanh approximation (DiT's <c>approx_gelu</c>), libtorch's fused kernel: one op forward and
    /// backward instead of seven (equal to 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))), tested).</summary>
    public static Tensor GeluTanh(Tensor x) => x.gelu(TorchSharp.Modules.GELU.Approximate.tanh);

    public override Tensor forward(Tensor x, Tensor c)
    {
        var m = adaLN_modulation.forward(c).chunk(6, 1);
        x = x + m[2].unsqueeze(1) * attn.forward(Modulate(norm1.forward(x), m[0], m[1]));
        var (w1, b1, w2, b2) = mlp.Weights;
        var h = nn.functional.linear(GeluTanh(nn.functional.linear(Modulate(norm2.forward(x), m[3], m[4]), w1, b1)), w2, b2);
        return x + m[5].unsqueeze(1) * h;
    }
}
