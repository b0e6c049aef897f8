using Learngene.Models;
using Learngene.Models.Linears;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Learngene.Methods.Kind;

/// <summary>A linear layer held and trained in SVD form, W = U diag(s) Vᵀ = Σᵢ sᵢ uᵢ vᵢᵀ (KIND, docs/methods/kind.md).
/// Its components are the <see cref="LearngeneRank"/> learngene components (<c>u</c> [out, r_G], <c>s</c>,
/// <c>v</c> [in, r_G]: class-agnostic) followed by tailor blocks of <see cref="TailorRank"/> components each
/// (<c>tailor_u</c>, <c>tailor_s</c>, <c>tailor_v</c>: class-specific), plus a bias. The two kinds are separate
/// tensors so that either can be frozen whole. A per-sample gate [N, r] in {0, 1} (<see cref="ClassGate"/>)
/// switches components on in rank space — x·V, times s·gate, times Uᵀ — so a mixed-class batch costs
/// (in + out)·r per token, no per-class matrix is built, and a gated-off component gets exactly zero gradient.</summary>
public sealed class SvdLinear : BlockLinear
{
    public override int In { get; }
    public override int Out { get; }
    public int LearngeneRank { get; }
    public int TailorRank { get; }
    public int TailorBlocks { get; }
    public int Rank => LearngeneRank + TailorRank * TailorBlocks;

    private readonly Parameter u, s, v, tailor_u, tailor_s, tailor_v, bias;

    public SvdLinear(int inFeatures, int outFeatures, int learngeneRank, int tailorRank, int tailorBlocks) : base(nameof(SvdLinear))
    {
        if (learngeneRank < 0 || tailorRank < 0 || tailorBlocks < 0 || learngeneRank + tailorRank * tailorBlocks < 1)
            throw new LearngeneException($"an SVD-form layer needs at least one component (learngene rank {learngeneRank}, tailor rank {tailorRank} × {tailorBlocks} blocks)", setting: "rank");
        (In, Out, LearngeneRank, TailorRank, TailorBlocks) = (inFeatures, outFeatures, learngeneRank, tailorRank, tailorBlocks);
        int t = tailorRank * tailorBlocks;
        u = new Parameter(torch.zeros(outFeatures, learngeneRank));
        s = new Parameter(torch.zeros(learngeneRank));
        v = new Parameter(torch.zeros(inFeatures, learngeneRank));
        tailor_u = new Parameter(torch.zeros(outFeatures, t));
        tailor_s = new Parameter(torch.zeros(t));
        tailor_v = new Parameter(torch.zeros(inFeatures, t));
        bias = new Parameter(torch.zeros(outFeatures));
        RegisterComponents();
        InitializeFresh();
    }

    /// <summary>Every component, learngenes first: U [out, r], s [r], V [in, r].</summary>
    public Tensor U => torch.cat([u, tailor_u], 1);
    public Tensor S => torch.cat([s, tailor_s], 0);
    public Tensor V => torch.cat([v, tailor_v], 1);
    public override Tensor Bias => bias;
    /// <summary>As run: a mixed batch in rank space costs every component (<see cref="Rank"/>).</summary>
    public override long Macs => (long)(In + Out) * Rank;
    /// <summary>A model recombined for one class runs its learngenes and one tailor block.</summary>
    public override long DeployedMacs => (long)(In + Out) * (LearngeneRank + Math.Min(TailorRank, Rank - LearngeneRank));

    /// <summary>The learngene tensors (u, s, v) and the tailor tensors, for freezing and copying.</summary>
    public IEnumerable<Parameter> Learngenes => [u, s, v];
    public IEnumerable<Parameter> Tailors => [tailor_u, tailor_s, tailor_v];

    /// <summary>A fresh layer (adopted; the paper gives no initialization): U and V with orthonormal columns
    /// (QR of Gaussian matrices; unit-norm random columns beyond min(in, out)), every singular value equal
    /// and set so that ‖W‖_F² matches a Xavier-uniform matrix's expectation, in·out·2/(in + out) — the dense
    /// DiT's scale — and a zero bias.</summary>
    public override void InitializeFresh() => InitializeFresh(null);

    public void InitializeFresh(Generator? generator)
    {
        using var _ = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        SetAll(OrthonormalColumns(Out, Rank, generator), torch.full(Rank, FreshSingularValue), OrthonormalColumns(In, Rank, generator));
        bias.zero_();
    }

    /// <summary>Fresh tailors for new classes (transfer; the paper's randomly initialized tailors): random
    /// orthonormal directions, each singular value that of a fresh layer of this shape and rank
    /// (<see cref="FreshSingularValue"/>), so every tailor component trains from the first step. With
    /// <paramref name="zeroSingularValues"/> the model starts as its learngenes alone, as LoRA's zero B starts at
    /// the base model — but at s = 0 the gradients of u and v vanish and only s moves at first.</summary>
    public void InitializeTailors(Generator? generator = null, bool zeroSingularValues = false)
    {
        using var _ = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        int t = TailorRank * TailorBlocks;
        if (t == 0) return;
        tailor_u.copy_(OrthonormalColumns(Out, t, generator));
        tailor_v.copy_(OrthonormalColumns(In, t, generator));
        tailor_s.fill_(zeroSingularValues ? 0 : FreshSingularValue);
    }

    /// <summary>The singular value of every component of a fresh layer (<see cref="InitializeFresh()"/>).</summary>
    public double FreshSingularValue => Math.Sqrt(2.0 * In * Out / ((In + Out) * (double)Rank));

    static Tensor OrthonormalColumns(int rows, int columns, Generator? generator)
    {
        var g = torch.randn(rows, columns, dtype: float64, generator: generator);
        int k = Math.Min(rows, columns);
        if (k == 0) return g.to(float32);
        var (q, r) = torch.linalg.qr(g.narrow(1, 0, k));
        q = q * r.diagonal().sign(); // a unique QR: columns are not flipped by the factorization's sign choice
        if (columns == k) return q.to(float32);
        var rest = g.narrow(1, k, columns - k);
        return torch.cat([q, rest / rest.norm(0, keepdim: true)], 1).to(float32);
    }

    void SetAll(Tensor uAll, Tensor sAll, Tensor vAll)
    {
        int g = LearngeneRank, t = Rank - g;
        u.copy_(uAll.narrow(1, 0, g)); s.copy_(sAll.narrow(0, 0, g)); v.copy_(vAll.narrow(1, 0, g));
        tailor_u.copy_(uAll.narrow(1, g, t)); tailor_s.copy_(sAll.narrow(0, g, t)); tailor_v.copy_(vAll.narrow(1, g, t));
    }

    /// <summary>‖UᵀU − I‖_F² + ‖VᵀV − I‖_F²: zero when the factors are orthonormal (the optional penalty that
    /// keeps the SVD form one; it couples every component, so it is off by default).</summary>
    public Tensor OrthogonalityPenalty()
    {
        var (uu, vv) = (U, V);
        using var eye = torch.eye(Rank, device: u.device);
        return (uu.t().matmul(uu) - eye).square().sum() + (vv.t().matmul(vv) - eye).square().sum();
    }

    /// <summary>Sets the layer from a dense weight [out, in] and bias: its top singular components, in order,
    /// fill the learngenes and then the tailor blocks (the dense matrix is reproduced exactly when the rank
    /// reaches min(out, in)). A rank above min(out, in) is refused: the components past it would start at
    /// u = v = s = 0, where all three gradients vanish, and never train.</summary>
    public override void LoadDense(Tensor weight, Tensor b)
    {
        int most = (int)Math.Min(weight.shape[0], weight.shape[1]);
        if (Rank > most)
            throw new LearngeneException($"an SVD-form layer of rank {Rank} cannot take a {weight.shape[0]}×{weight.shape[1]} matrix: it has {most} singular components, and components beyond them would start at zero and never train (lower the learngene or tailor rank)", setting: "rank");
        using var _ = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var (uu, ss, vh) = torch.linalg.svd(weight.to(float64), fullMatrices: false);
        int k = Math.Min(Rank, (int)ss.shape[0]);
        var (uAll, sAll, vAll) = (torch.zeros(Out, Rank, dtype: float64), torch.zeros(Rank, dtype: float64), torch.zeros(In, Rank, dtype: float64));
        uAll.narrow(1, 0, k).copy_(uu.narrow(1, 0, k));
        sAll.narrow(0, 0, k).copy_(ss.narrow(0, 0, k));
        vAll.narrow(1, 0, k).copy_(vh.narrow(0, 0, k).t());
        SetAll(uAll, sAll, vAll);
        bias.copy_(b);
    }

    /// <summary>Copies the learngene components and the bias from a layer of the same shape and learngene rank
    /// (its tailors may differ).</summary>
    public void CopyLearngenes(SvdLinear source)
    {
        if (source.In != In || source.Out != Out || source.LearngeneRank != LearngeneRank)
            throw new LearngeneException($"SVD-form layers do not match ({source.Out}×{source.In}, learngene rank {source.LearngeneRank} vs {Out}×{In}, {LearngeneRank})");
        using var _ = torch.no_grad();
        u.copy_(source.u); s.copy_(source.s); v.copy_(source.v); bias.copy_(source.bias);
    }

    /// <summary>Copies learngenes, bias and the chosen tailor blocks (in the order given) from another layer
    /// of the same shape and ranks: recombination.</summary>
    public void CopyFrom(SvdLinear source, IReadOnlyList<int> tailorBlocks)
    {
        if (source.TailorRank != TailorRank || tailorBlocks.Count > TailorBlocks)
            throw new LearngeneException($"SVD-form layers do not match (tailor rank {source.TailorRank} vs {TailorRank}, {tailorBlocks.Count} blocks asked of {TailorBlocks})");
        CopyLearngenes(source);
        using var _ = torch.no_grad();
        for (int i = 0; i < tailorBlocks.Count; i++)
        {
            long from = (long)tailorBlocks[i] * TailorRank, to = (long)i * TailorRank;
            tailor_u.narrow(1, to, TailorRank).copy_(source.tailor_u.narrow(1, from, TailorRank));
            tailor_s.narrow(0, to, TailorRank).copy_(source.tailor_s.narrow(0, from, TailorRank));
            tailor_v.narrow(1, to, TailorRank).copy_(source.tailor_v.narrow(1, from, TailorRank));
        }
    }

    /// <summary>The dense matrix a gate row [r] selects (every component when null): U diag(s·g) Vᵀ.</summary>
    public override Tensor Weight(Tensor? gate = null) => (U * (gate is null ? S : S * gate)).matmul(V.t());

    /// <summary>x [N, …, in] → [N, …, out]; <paramref name="gate"/> [N, r] (null: every component).</summary>
    public override Tensor forward(Tensor x, Tensor? gate)
    {
        var h = x.matmul(V); // [N, …, r]
        var scale = gate is null ? S : S * gate; // [r] or [N, r]
        if (gate is not null)
            for (long d = 2; d < x.dim(); d++) scale = scale.unsqueeze(1); // broadcast over tokens
        return (h * scale).matmul(U.t()) + bias;
    }
}
