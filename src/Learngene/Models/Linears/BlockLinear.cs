using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Models.Linears;

/// <summary>A linear layer of a DiT block (attention qkv and proj, MLP fc1 and fc2) in one of several forms:
/// a plain matrix, KIND's SVD form with a class gate, or a pre-trained matrix with a tuning adapter (LoRA,
/// PiSSA, SVDiff). Every form maps x [N, …, in] to [N, …, out]; a gate [N, r] (per sample, in rank space)
/// matters only to the gated form, the others ignore it.</summary>
public abstract class BlockLinear(string name) : nn.Module<Tensor, Tensor?, Tensor>(name)
{
    public abstract int In { get; }
    public abstract int Out { get; }

    /// <summary>The dense matrix [out, in] the layer applies (for one gate row when given).</summary>
    public abstract Tensor Weight(Tensor? gate = null);

    public abstract Tensor Bias { get; }

    /// <summary>Multiply-accumulates per token as the layer runs (a factored form costs its factors).</summary>
    public abstract long Macs { get; }

    /// <summary>Multiply-accumulates per token once deployed: an adapter merged into its matrix (in·out), a
    /// KIND layer recombined for one class (its learngenes and one tailor block).</summary>
    public virtual long DeployedMacs => Macs;

    /// <summary>A fresh layer at the dense DiT's scale (Xavier-uniform, zero bias).</summary>
    public abstract void InitializeFresh();

    /// <summary>Takes a trained dense matrix [out, in] and bias: copied, factored, or frozen under an adapter.</summary>
    public abstract void LoadDense(Tensor weight, Tensor bias);
}
