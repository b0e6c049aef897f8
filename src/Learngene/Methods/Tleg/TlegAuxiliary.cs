using Learngene.Methods;
using Learngene.Models;
using Learngene.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Methods.Tleg;

/// <summary>TLEG's auxiliary model: a ViT whose L blocks are all computed from two stored tensors per
/// block tensor, block i using <c>P_i = P_B + (i / L) · P_A</c> (i = 0..L−1, so the last block gets (L−1)/L).
/// P_B lives in <c>base.*</c>, P_A in <c>slope.*</c>, both shaped and named like one <see cref="Block"/>;
/// the weights are computed on the fly, so gradients reach both. Embeddings, final norm and head are
/// ordinary single copies with the descendant ViT's names; pooling is the average of the patch tokens.</summary>
public sealed class TlegAuxiliary : VisionTransformer
{
    private readonly Block @base;
    private readonly Block slope;

    public TlegAuxiliary(VitConfig config) : base(config with { Pooling = "avg" }, buildBlocks: false)
    {
        @base = new Block(config.Width, config.Heads, config.MlpRatio);
        slope = new Block(config.Width, config.Heads, config.MlpRatio);
        register_module("base", @base);
        register_module("slope", slope);
        InitializeAsTheAuthors();
    }

    /// <summary>Weights of P_B and P_A truncated normal (std 0.02), biases 0, LayerNorm γ_B = 1 and
    /// β_B, γ_A, β_A = 0.</summary>
    void InitializeAsTheAuthors()
    {
        WeightInit.Timm(this); // base and slope: matrices N(0, 0.02²), biases 0, norms γ=1 β=0
        using var _ = torch.no_grad();
        foreach (var (name, _, s) in Pairs())
            if (name.StartsWith("norm")) s.zero_();
    }

    /// <summary>(name, P_B, P_A) of every block tensor, looked up through the modules each time:
    /// <c>Module.to(device|dtype)</c> replaces parameters, so a kept reference would go stale.</summary>
    (string Name, Tensor Base, Tensor Slope)[] Pairs()
    {
        var b = @base.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        var s = slope.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        return Block.TensorNames.Select(n => (n, b[n], s[n])).ToArray();
    }

    /// <summary>The coefficient of block i of an L-block model.</summary>
    public static double Coefficient(int i, int depth) => (double)i / depth;

    /// <summary>Block i's tensors, P_B + (i/L)·P_A.</summary>
    public static Dictionary<string, Tensor> BlockTensors(IEnumerable<(string Name, Tensor Base, Tensor Slope)> pairs, int i, int depth)
    {
        double c = Coefficient(i, depth);
        return pairs.ToDictionary(p => p.Name, p => p.Base + c * p.Slope);
    }

    protected override Tensor RunBlocks(Tensor x)
    {
        var pairs = Pairs();
        for (int i = 0; i < Architecture.Depth; i++)
            x = Block.Compute(x, BlockTensors(pairs, i, Architecture.Depth), Architecture.Heads);
        return x;
    }
}
