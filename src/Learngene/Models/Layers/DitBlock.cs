using Learngene.Models.Linears;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Learngene.Models.Layers;

/// <summary>A DiT block with adaLN-Zero conditioning: from the condition c, <c>adaLN_modulation</c> (SiLU →
/// Linear to 6 widths) gives shift, scale and gate for the attention and the MLP branches; the norms have no
/// affine parameters. With the modulation zeroed (DiT's initialization) the gates are 0 and the block is the
/// identity. The MLP uses GELU's tanh approximation, as DiT does. The four big linears (attention qkv and
/// proj, MLP fc1 and fc2) take the config's form (<see cref="LinearForm"/>: plain, KIND's SVD form with a
/// per-sample class gate, or a tuning adapter); the modulation stays a plain linear.</summary>
public sealed class DitBlock : nn.Module<Tensor, Tensor, Tensor?, Tensor>
{
    private readonly LayerNorm norm1, norm2;
    private readonly DitAttention attn;
    private readonly Sequential adaLN_modulation;
    private readonly DitMlp mlp;

    public DitBlock(int width, int heads, double mlpRatio, LinearForm? form = null) : base(nameof(DitBlock))
    {
        Func<int, int, BlockLinear> linear = form is null ? (i, o) => new DenseLinear(i, o) : form.Create;
        norm1 = nn.LayerNorm(width, eps: 1e-6, elementwise_affine: false);
        norm2 = nn.LayerNorm(width, eps: 1e-6, elementwise_affine: false);
        attn = new DitAttention(width, heads, linear, form?.SeparateQkv ?? false);
        mlp = new DitMlp(width, (int)(width * mlpRatio), linear);
        adaLN_modulation = nn.Sequential(("0", nn.SiLU()), ("1", nn.Linear(width, 6 * width)));
        RegisterComponents();
    }

    /// <summary>qkv (or q, k, v), proj, fc1, fc2.</summary>
    public IEnumerable<BlockLinear> Linears => [.. attn.Linears, mlp.fc1, mlp.fc2];

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

    /// <summary>x [N, T, d], condition c [N, d], gate [N, r] for a class-gated form (else null).</summary>
    public override Tensor forward(Tensor x, Tensor c, Tensor? gate)
    {
        var m = adaLN_modulation.forward(c).chunk(6, 1);
        x = x + m[2].unsqueeze(1) * attn.Forward(Modulate(norm1.forward(x), m[0], m[1]), gate);
        var h = mlp.fc2.forward(GeluTanh(mlp.fc1.forward(Modulate(norm2.forward(x), m[3], m[4]), gate)), gate);
        return x + m[5].unsqueeze(1) * h;
    }

    /// <summary>DiT's attention (<c>attn.qkv</c>, <c>attn.proj</c>) over block linears of any form; with
    /// <paramref name="separate"/>, q, k and v are three matrices (<c>attn.q</c>, <c>attn.k</c>, <c>attn.v</c>),
    /// so that a factored form decomposes each on its own rather than the three as one stack.</summary>
    sealed class DitAttention : nn.Module
    {
        public readonly BlockLinear? qkv, q, k, v;
        public readonly BlockLinear proj;
        readonly int heads;

        public DitAttention(int width, int heads, Func<int, int, BlockLinear> linear, bool separate) : base("Attention")
        {
            this.heads = heads;
            if (separate) (q, k, v) = (linear(width, width), linear(width, width), linear(width, width));
            else qkv = linear(width, 3 * width);
            proj = linear(width, width);
            RegisterComponents();
        }

        public IEnumerable<BlockLinear> Linears => qkv is not null ? [qkv, proj] : [q!, k!, v!, proj];

        public Tensor Forward(Tensor x, Tensor? gate)
        {
            var stacked = qkv is not null ? qkv.forward(x, gate) : torch.cat([q!.forward(x, gate), k!.forward(x, gate), v!.forward(x, gate)], -1);
            return proj.forward(Attention.Attend(stacked, heads), gate);
        }
    }

    /// <summary>DiT's MLP (<c>mlp.fc1</c>, <c>mlp.fc2</c>); the block applies the activation.</summary>
    sealed class DitMlp : nn.Module
    {
        public readonly BlockLinear fc1, fc2;

        public DitMlp(int width, int hidden, Func<int, int, BlockLinear> linear) : base("Mlp")
        {
            fc1 = linear(width, hidden);
            fc2 = linear(hidden, width);
            RegisterComponents();
        }
    }
}
