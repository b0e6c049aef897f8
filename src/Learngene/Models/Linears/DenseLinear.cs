using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Learngene.Models.Linears;

/// <summary>A plain linear layer (<c>weight</c> [out, in], <c>bias</c> [out]): the names of torch's
/// <c>nn.Linear</c>, so a DiT's state dict keeps facebookresearch/DiT's names.</summary>
public sealed class DenseLinear : BlockLinear
{
    private readonly Parameter weight, bias;

    public DenseLinear(int inFeatures, int outFeatures) : base(nameof(DenseLinear))
    {
        weight = new Parameter(torch.empty(outFeatures, inFeatures));
        bias = new Parameter(torch.zeros(outFeatures));
        RegisterComponents();
        InitializeFresh();
    }

    public override int In => (int)weight.shape[1];
    public override int Out => (int)weight.shape[0];
    public override Tensor Weight(Tensor? gate = null) => weight;
    public override Tensor Bias => bias;
    public override long Macs => (long)In * Out;

    public override void InitializeFresh()
    {
        using var _ = torch.no_grad();
        nn.init.xavier_uniform_(weight);
        bias.zero_();
    }

    public override void LoadDense(Tensor w, Tensor b)
    {
        using var _ = torch.no_grad();
        weight.copy_(w);
        bias.copy_(b);
    }

    public override Tensor forward(Tensor x, Tensor? gate) => nn.functional.linear(x, weight, bias);
}
