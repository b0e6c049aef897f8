using Learngene.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Models;

/// <summary>How a smaller dimension is taken from a larger one: weight selection's "uniform" (every
/// (large/small)-th index, the authors' default) or "leading" (the leading slice; the paper calls it consecutive selection).</summary>
public enum ElementSelection { Uniform, Leading }

/// <summary>A descendant inheriting weights — the one act behind every learngene expansion and every
/// inheriting baseline: single tensors by name with a shape check (from a learngene's stored tensors), or
/// whole blocks, the embeddings and the top (final norm, and head when the label space is the same) from an
/// ancestry ViT, whose wider tensors are cut along every dimension that shrinks (<see cref="Select"/>).</summary>
public static class Inherit
{
    /// <summary>Tensors every descendant takes from a learngene besides its blocks and the head.</summary>
    public static readonly string[] SharedTensors = ["patch_embed.proj.weight", "patch_embed.proj.bias", "pos_embed", "norm.weight", "norm.bias"];
    public static readonly string[] HeadTensors = ["head.weight", "head.bias"];

    /// <summary>Copies one tensor into a model's state (call under no_grad), or a clear error on a shape mismatch.</summary>
    public static void Tensor(Dictionary<string, Tensor> state, string name, Tensor source, string origin)
    {
        var target = state[name];
        if (!target.shape.SequenceEqual(source.shape))
            throw new LearngeneException($"{origin}: tensor '{name}' has shape [{string.Join(",", source.shape)}], the descendant needs [{string.Join(",", target.shape)}]");
        target.copy_(source);
    }

    public static void Block(VisionTransformer target, int targetIndex, VisionTransformer source, int sourceIndex, ElementSelection how = ElementSelection.Leading)
    {
        var t = target.state_dict();
        var s = source.state_dict();
        using var _ = torch.no_grad();
        foreach (var name in Models.Layers.Block.TensorNames)
            Copy(t[$"blocks.{targetIndex}.{name}"], s[$"blocks.{sourceIndex}.{name}"], name.StartsWith("attn.qkv"), name, how);
    }

    public static void Embeddings(VisionTransformer target, VisionTransformer source, ElementSelection how = ElementSelection.Leading)
    {
        var t = target.state_dict();
        var s = source.state_dict();
        using var _ = torch.no_grad();
        foreach (var name in new[] { "patch_embed.proj.weight", "patch_embed.proj.bias", "cls_token" })
            if (t.ContainsKey(name) && s.ContainsKey(name)) Copy(t[name], s[name], false, name, how);
        // With a class token on one side only, the patch positions are the trailing tokens of both.
        var (tp, sp) = (t["pos_embed"], s["pos_embed"]);
        long n = Math.Min(tp.shape[1], sp.shape[1]);
        if (Math.Abs(tp.shape[1] - sp.shape[1]) > 1)
            throw new LearngeneException($"the ancestry has {sp.shape[1]} positions, the descendant {tp.shape[1]}: another image or patch size");
        Copy(tp.narrow(1, tp.shape[1] - n, n), sp.narrow(1, sp.shape[1] - n, n), false, "pos_embed", how);
    }

    public static void Top(VisionTransformer target, VisionTransformer source, bool sameLabelSpace, ElementSelection how = ElementSelection.Leading)
    {
        var t = target.state_dict();
        var s = source.state_dict();
        using var _ = torch.no_grad();
        // The final norm is `norm` or, in an imported timm model, `fc_norm`: either initializes either.
        string tn = FinalNorm(t), sn = FinalNorm(s);
        Copy(t[tn + ".weight"], s[sn + ".weight"], false, "norm.weight", how);
        Copy(t[tn + ".bias"], s[sn + ".bias"], false, "norm.bias", how);
        if (sameLabelSpace && target.Config.Classes == source.Config.Classes)
        {
            Copy(t["head.weight"], s["head.weight"], false, "head.weight", how);
            Copy(t["head.bias"], s["head.bias"], false, "head.bias", how);
        }
    }

    static string FinalNorm(IDictionary<string, Tensor> state) => state.ContainsKey("norm.weight") ? "norm" : "fc_norm";

    static void Copy(Tensor target, Tensor source, bool fusedQkv, string name, ElementSelection how)
    {
        using var scope = torch.NewDisposeScope();
        target.copy_(fusedQkv ? SelectQkv(source, target.shape, how) : Select(source, target.shape, how, name));
    }

    /// <summary>The part of <paramref name="source"/> of the given shape: along every dimension that
    /// shrinks, the leading indices or every (large/small)-th index.</summary>
    public static Tensor Select(Tensor source, long[] shape, ElementSelection how, string name = "")
    {
        if (source.dim() != shape.Length || source.shape.Zip(shape).Any(p => p.First < p.Second))
            throw new LearngeneException($"cannot take tensor '{name}' of shape [{string.Join(",", shape)}] from [{string.Join(",", source.shape)}]: the ancestry must be at least as large in every dimension");
        var x = source;
        for (int d = 0; d < shape.Length; d++)
        {
            if (x.shape[d] == shape[d]) continue;
            x = how == ElementSelection.Leading ? x.narrow(d, 0, shape[d])
                : x.index_select(d, torch.tensor(UniformIndices(x.shape[d], shape[d]), device: x.device));
        }
        return x;
    }

    /// <summary>Uniform element selection (OscarXZQ/weight-selection, <c>uniform_element_selection</c>):
    /// every (large/small)-th index when small divides large, else round(linspace(0, large − 1, small)), ties to
    /// even: the evenly spaced indices that stay in range (the authors' rule since their commit 8bbb7a0).</summary>
    public static long[] UniformIndices(long large, long small)
    {
        if (large % small == 0) return Enumerable.Range(0, (int)small).Select(i => i * (large / small)).ToArray();
        return Enumerable.Range(0, (int)small).Select(i => (long)Math.Round(i * (double)(large - 1) / (small - 1), MidpointRounding.ToEven)).ToArray();
    }

    /// <summary>qkv stacks three width×width matrices: select from each of q, k and v, not the stack
    /// (the same rows as the authors' selection on the stack whenever the widths divide).</summary>
    static Tensor SelectQkv(Tensor source, long[] shape, ElementSelection how)
    {
        long big = source.shape[0] / 3, small = shape[0] / 3;
        var parts = source.reshape([3, big, .. source.shape.Skip(1)]);
        var cut = Select(parts, [3, small, .. shape.Skip(1)], how, "attn.qkv");
        return cut.reshape(shape);
    }
}
