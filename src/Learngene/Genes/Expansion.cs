using static TorchSharp.torch;

namespace Learngene.Genes;

/// <summary>What every expansion does the same way: copy the shared pieces, check shapes.</summary>
public static class Expansion
{
    /// <summary>Tensors a descendant copies from any learngene (besides its blocks and the head).</summary>
    public static readonly string[] SharedTensors = ["patch_embed.proj.weight", "patch_embed.proj.bias", "pos_embed", "norm.weight", "norm.bias"];

    public static void CopyHead(Dictionary<string, Tensor> state, LearngeneFile.Loaded gene)
    {
        CopyInto(state, "head.weight", gene.Get("head.weight"), gene.Path);
        CopyInto(state, "head.bias", gene.Get("head.bias"), gene.Path);
    }

    /// <summary>Copies one tensor into a model's state (under no_grad), or a clear error on a shape mismatch.</summary>
    public static void CopyInto(Dictionary<string, Tensor> state, string name, Tensor source, string origin)
    {
        var target = state[name];
        if (!target.shape.SequenceEqual(source.shape))
            throw new LearngeneException($"{origin}: tensor '{name}' has shape [{string.Join(",", source.shape)}], the descendant needs [{string.Join(",", target.shape)}]");
        target.copy_(source);
    }
}
