using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Learngene.Models.Kind;

/// <summary>A linear layer held and trained in SVD form, W = U diag(s) Vᵀ (KIND, SPEC.md §4): U [out, r],
/// s [r], V [in, r], bias [out]. Its r components are split into the learngene components (the first
/// <see cref="LearngeneRank"/>, class-agnostic) and tailor blocks of <see cref="TailorRank"/> components
/// each (class-specific). A per-sample gate [N, r] in {0, 1} (<see cref="ClassGate"/>) switches components
/// on in rank space — x·V, times s·gate, times Uᵀ — so a mixed-class batch costs about one dense layer, no
/// per-class matrix is built, and a gated-off component gets exactly zero gradient.</summary>
public sealed class SvdLinear : nn.Module<Tensor, Tensor?, Tensor>
{
    public int In { get; }
    public int Out { get; }
    public int LearngeneRank { get; }
    public int TailorRank { get; }
    public int TailorBlocks { get; }
    public int Rank => LearngeneRank + TailorRank * TailorBlocks;

    // Names kept short and ordered as the formula reads: u, s, v, bias.
    private readonly Parameter u, s, v, bias;

    public SvdLinear(int inFeatures, int outFeatures, int learngeneRank, int tailorRank, int tailorBlocks) : base(nameof(SvdLinear))
    {
        if (learngeneRank < 0 || tailorRank < 0 || tailorBlocks < 0 || learngeneRank + tailorRank * tailorBlocks < 1)
            throw new LearngeneException($"an SVD-form layer needs at least one component (learngene rank {learngeneRank}, tailor rank {tailorRank} × {tailorBlocks} blocks)", setting: "rank");
        (In, Out, LearngeneRank, TailorRank, TailorBlocks) = (inFeatures, outFeatures, learngeneRank, tailorRank, tailorBlocks);
        int r = Rank;
        u = new Parameter(torch.zeros(outFeatures, r));
        s = new Parameter(torch.zeros(r));
        v = new Parameter(torch.zeros(inFeatures, r));
        bias = new Parameter(torch.zeros(outFeatures));
        RegisterComponents();
    }

    public Parameter U => u;
    public Parameter S => s;
    public Parameter V => v;
    public Parameter Bias => bias;

    /// <summary>A fresh layer (adopted; the paper gives no initialization): U and V with orthonormal columns
    /// (QR of Gaussian matrices; unit-norm random columns beyond min(in, out)), every singular value equal
    /// and set so that ‖W‖_F² matches a Xavier-uniform matrix's expectation, in·out·2/(in + out) — the dense
    /// DiT's scale — and a zero bias.</summary>
    public void InitializeFresh(Generator? generator = null)
    {
        using var _ = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        u.copy_(OrthonormalColumns(Out, Rank, generator));
        v.copy_(OrthonormalColumns(In, Rank, generator));
        s.fill_(Math.Sqrt(2.0 * In * Out / ((In + Out) * (double)Rank)));
        bias.zero_();
    }

    static Tensor OrthonormalColumns(int rows, int columns, Generator? generator)
    {
        var g = torch.randn(rows, columns, dtype: float64, generator: generator);
        int k = Math.Min(rows, columns);
        var (q, r) = torch.linalg.qr(g.narrow(1, 0, k));
        q = q * r.diagonal().sign(); // a unique QR: columns are not flipped by the factorization's sign choice
        if (columns == k) return q.to(float32);
        var rest = g.narrow(1, k, columns - k);
        return torch.cat([q, rest / rest.norm(0, keepdim: true)], 1).to(float32);
    }

    /// <summary>‖UᵀU − I‖_F² + ‖VᵀV − I‖_F²: zero when the factors are orthonormal (KIND's SVD form; the
    /// penalty option of keeping them so, added to the loss with a weight).</summary>
    public Tensor OrthogonalityPenalty()
    {
        int r = Rank;
        using var eye = torch.eye(r, device: u.device);
        return (u.t().matmul(u) - eye).square().sum() + (v.t().matmul(v) - eye).square().sum();
    }

    /// <summary>The components of tailor block <paramref name="block"/>: [start, start + TailorRank).</summary>
    public int TailorStart(int block) => LearngeneRank + block * TailorRank;

    /// <summary>Sets the layer from a dense weight [out, in] and bias: its top singular components, in order,
    /// fill the learngenes and then the tailor blocks (the dense matrix is reproduced exactly when the rank
    /// reaches min(out, in)).</summary>
    public void LoadDense(Tensor weight, Tensor? b)
    {
        using var _ = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var (uu, ss, vh) = torch.linalg.svd(weight.to(float64), fullMatrices: false);
        int k = Math.Min(Rank, (int)ss.shape[0]);
        u.zero_(); s.zero_(); v.zero_();
        u.narrow(1, 0, k).copy_(uu.narrow(1, 0, k));
        s.narrow(0, 0, k).copy_(ss.narrow(0, 0, k));
        v.narrow(1, 0, k).copy_(vh.narrow(0, 0, k).t());
        if (b is not null) bias.copy_(b); else bias.zero_();
    }

    /// <summary>The dense matrix a gate row [r] selects (every component when null): U diag(s·g) Vᵀ.</summary>
    public Tensor Dense(Tensor? gate = null) => (u * (gate is null ? s : s * gate)).matmul(v.t());

    /// <summary>x [N, …, in] → [N, …, out]; <paramref name="gate"/> [N, r] (null: every component).</summary>
    public override Tensor forward(Tensor x, Tensor? gate)
    {
        var h = x.matmul(v); // [N, …, r]
        var scale = gate is null ? s : s * gate; // [r] or [N, r]
        if (gate is not null)
            for (long d = 2; d < x.dim(); d++) scale = scale.unsqueeze(1); // broadcast over tokens
        return (h * scale).matmul(u.t()) + bias;
    }
}
