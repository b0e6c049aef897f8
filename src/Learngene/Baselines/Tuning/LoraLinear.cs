using Learngene.Models;
using Learngene.Models.Linears;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Learngene.Baselines.Tuning;

/// <summary>A frozen matrix plus a trainable low-rank update, W + scale·B·A (<c>lora_a</c> [r, in],
/// <c>lora_b</c> [out, r], as in Microsoft's LoRA and Hugging Face PEFT). Two initializations:
/// <list type="bullet">
/// <item>LoRA (Hu et al.): W is the pre-trained matrix, A Kaiming-uniform (PEFT's a = √5), B zero, scale α/r —
/// the update starts at zero, so the model starts as the pre-trained one.</item>
/// <item>PiSSA (Meng et al.): A = √S_r V_rᵀ and B = U_r √S_r from the matrix's top r singular components,
/// W the residual (the rest of the spectrum), scale 1 — the principal components train and the model starts
/// equal to the pre-trained one up to rounding.</item>
/// </list></summary>
public sealed class LoraLinear : BlockLinear
{
    private readonly Parameter weight, bias, lora_a, lora_b;
    public int Rank { get; }
    public double Scale { get; }
    public bool Principal { get; }

    public LoraLinear(int inFeatures, int outFeatures, int rank, double scale, bool principal) : base(nameof(LoraLinear))
    {
        if (rank < 1) throw new LearngeneException($"a low-rank update needs rank at least 1 (got {rank})", setting: "rank");
        if (principal && rank > Math.Min(inFeatures, outFeatures))
            throw new LearngeneException($"PiSSA's rank {rank} exceeds the {outFeatures}×{inFeatures} matrix's {Math.Min(inFeatures, outFeatures)} singular components", setting: "rank");
        (Rank, Scale, Principal) = (rank, scale, principal);
        weight = new Parameter(torch.zeros(outFeatures, inFeatures));
        bias = new Parameter(torch.zeros(outFeatures));
        lora_a = new Parameter(torch.zeros(rank, inFeatures));
        lora_b = new Parameter(torch.zeros(outFeatures, rank));
        RegisterComponents();
        InitializeFresh();
    }

    public override int In => (int)weight.shape[1];
    public override int Out => (int)weight.shape[0];
    public override Tensor Bias => bias;
    /// <summary>Unmerged, as trained here (merged for sampling and once deployed: in·out).</summary>
    public override long Macs => (long)In * Out + (long)Rank * (In + Out);
    public override long DeployedMacs => (long)In * Out;
    public Parameter A => lora_a;
    public Parameter B => lora_b;

    public override Tensor Weight(Tensor? gate = null) => weight + lora_b.matmul(lora_a) * Scale;

    public override void InitializeFresh()
    {
        using var _ = torch.no_grad();
        nn.init.xavier_uniform_(weight);
        bias.zero_();
        nn.init.kaiming_uniform_(lora_a, a: Math.Sqrt(5));
        lora_b.zero_();
    }

    public override void LoadDense(Tensor w, Tensor b)
    {
        using var _ = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        bias.copy_(b);
        if (!Principal)
        {
            weight.copy_(w);
            nn.init.kaiming_uniform_(lora_a, a: Math.Sqrt(5));
            lora_b.zero_();
            return;
        }
        // PiSSA: the principal part in the adapter, the residual frozen; computed in double so that
        // residual + B·A reproduces w to float rounding.
        var w64 = w.to(float64);
        var (u, s, vh) = torch.linalg.svd(w64, fullMatrices: false);
        var root = s.narrow(0, 0, Rank).sqrt();
        var a = root.unsqueeze(1) * vh.narrow(0, 0, Rank);
        var bb = u.narrow(1, 0, Rank) * root;
        lora_a.copy_(a);
        lora_b.copy_(bb);
        weight.copy_(w64 - bb.matmul(a) * Scale);
    }

    /// <summary>Unmerged while training (PEFT's forward); without gradients (sampling, judging) merged first, the
    /// same map up to rounding at one in·out product per token instead of an extra pass over the activations.</summary>
    public override Tensor forward(Tensor x, Tensor? gate) => torch.is_grad_enabled()
        ? nn.functional.linear(x, weight, bias) + x.matmul(lora_a.t()).matmul(lora_b.t()) * Scale
        : nn.functional.linear(x, Weight(), bias);
}
