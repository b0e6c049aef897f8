using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Learngene.Models.Layers;

/// <summary>DiT's final layer: a non-affine norm modulated by the condition (<c>adaLN_modulation</c>: SiLU →
/// Linear to shift and scale), then <c>linear</c> to p·p·C values per token. Both start at zero.</summary>
public sealed class FinalLayer : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly LayerNorm norm_final;
    private readonly Linear linear;
    private readonly Sequential adaLN_modulation;

    public FinalLayer(int width, int patch, int outChannels) : base(nameof(FinalLayer))
    {
        norm_final = nn.LayerNorm(width, eps: 1e-6, elementwise_affine: false);
        linear = nn.Linear(width, patch * patch * outChannels);
        adaLN_modulation = nn.Sequential(("0", nn.SiLU()), ("1", nn.Linear(width, 2 * width)));
        RegisterComponents();
    }

    public void Zero()
    {
        using var _ = torch.no_grad();
        foreach (var l in new[] { linear, (Linear)adaLN_modulation[1] })
        {
            l.weight!.zero_();
            l.bias!.zero_();
        }
    }

    public override Tensor forward(Tensor x, Tensor c)
    {
        var m = adaLN_modulation.forward(c).chunk(2, 1);
        return linear.forward(DitBlock.Modulate(norm_final.forward(x), m[0], m[1]));
    }
}
