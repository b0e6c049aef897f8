using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Learngene.Models.Layers;

/// <summary>Pre-norm transformer block: x + Attn(LN1(x)), then x + MLP(LN2(x)).</summary>
public sealed class Block : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm norm1;
    private readonly Attention attn;
    private readonly LayerNorm norm2;
    private readonly Mlp mlp;

    public Block(int width, int heads, double mlpRatio) : base(nameof(Block))
    {
        norm1 = nn.LayerNorm(width, eps: 1e-6);
        attn = new Attention(width, heads);
        norm2 = nn.LayerNorm(width, eps: 1e-6);
        mlp = new Mlp(width, (int)Math.Round(width * mlpRatio));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => Forward(x).Output;

    /// <summary>The block's output and its attention branch (Attn(LN1(x)), before the residual add): the
    /// two features Learngene Pool distils.</summary>
    public (Tensor Output, Tensor Attention) Forward(Tensor x)
    {
        var a = attn.forward(norm1.forward(x));
        x = x + a;
        return (x + mlp.forward(norm2.forward(x)), a);
    }

    /// <summary>Multiply-accumulates of one block on n tokens of the given width.</summary>
    public static long Macs(long tokens, long width, double mlpRatio)
    {
        long hidden = (long)Math.Round(width * mlpRatio);
        return tokens * width * 3 * width      // qkv
             + 2 * tokens * tokens * width     // q·kᵀ and attention·v
             + tokens * width * width          // proj
             + 2 * tokens * width * hidden;    // fc1, fc2
    }

    /// <summary>The names of a block's tensors, in state-dict order; methods that parameterize blocks
    /// differently (TLEG, SWS) keep exactly these names so their expansions load into a plain ViT.</summary>
    public static readonly string[] TensorNames =
    [
        "norm1.weight", "norm1.bias", "attn.qkv.weight", "attn.qkv.bias", "attn.proj.weight", "attn.proj.bias",
        "norm2.weight", "norm2.bias", "mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias",
    ];

    /// <summary>A block's forward pass on explicit tensors keyed by <see cref="TensorNames"/>.</summary>
    public static Tensor Compute(Tensor x, IReadOnlyDictionary<string, Tensor> p, int heads)
    {
        long d = x.shape[^1];
        var h = nn.functional.layer_norm(x, [d], p["norm1.weight"], p["norm1.bias"], 1e-6);
        x = x + Attention.Compute(h, p["attn.qkv.weight"], p["attn.qkv.bias"], p["attn.proj.weight"], p["attn.proj.bias"], heads);
        h = nn.functional.layer_norm(x, [d], p["norm2.weight"], p["norm2.bias"], 1e-6);
        return x + Mlp.Compute(h, p["mlp.fc1.weight"], p["mlp.fc1.bias"], p["mlp.fc2.weight"], p["mlp.fc2.bias"]);
    }
}
