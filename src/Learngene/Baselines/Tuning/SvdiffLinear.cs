using Learngene.Models;
using Learngene.Models.Linears;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Learngene.Baselines.Tuning;

/// <summary>SVDiff (Han et al.): a pre-trained matrix's full SVD is frozen (<c>u</c> [out, k], <c>s</c> [k],
/// <c>v</c> [in, k], k = min(in, out)) and only a spectral shift <c>delta</c> [k] trains:
/// W = U diag(ReLU(s + δ)) Vᵀ, built once per forward and applied as a dense layer (mkshing/svdiff-pytorch's
/// <c>layers.py</c>). With δ = 0 the layer is the pre-trained matrix (up to the SVD's rounding). The authors
/// shift every weight of their network; here only the block linears every other method adapts.</summary>
public sealed class SvdiffLinear : BlockLinear
{
    private readonly Parameter u, s, v, delta, bias;

    public SvdiffLinear(int inFeatures, int outFeatures) : base(nameof(SvdiffLinear))
    {
        int k = Math.Min(inFeatures, outFeatures);
        u = new Parameter(torch.zeros(outFeatures, k));
        s = new Parameter(torch.zeros(k));
        v = new Parameter(torch.zeros(inFeatures, k));
        delta = new Parameter(torch.zeros(k));
        bias = new Parameter(torch.zeros(outFeatures));
        RegisterComponents();
        InitializeFresh();
    }

    public override int In => (int)v.shape[0];
    public override int Out => (int)u.shape[0];
    public override Tensor Bias => bias;
    /// <summary>The authors build W once per forward and apply it as a dense layer: in·out per token.</summary>
    public override long Macs => (long)In * Out;
    public Parameter Shift => delta;

    Tensor Spectrum => nn.functional.relu(s + delta);

    public override Tensor Weight(Tensor? gate = null) => (u * Spectrum).matmul(v.t());

    public override void InitializeFresh()
    {
        using var _ = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var w = torch.empty(Out, In);
        nn.init.xavier_uniform_(w);
        LoadDense(w, torch.zeros(Out));
    }

    public override void LoadDense(Tensor w, Tensor b)
    {
        using var _ = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var (uu, ss, vh) = torch.linalg.svd(w.to(float64), fullMatrices: false);
        u.copy_(uu);
        s.copy_(ss);
        v.copy_(vh.t());
        delta.zero_();
        bias.copy_(b);
    }

    public override Tensor forward(Tensor x, Tensor? gate) => nn.functional.linear(x, Weight(), bias);
}
