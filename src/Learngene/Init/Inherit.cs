using Learngene.Models;
using Learngene.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Init;

/// <summary>Copying from an ancestry ViT into a descendant: whole blocks, the embeddings, the top
/// (final norm, and head when the label space is the same). Tensors of a wider ancestry are cut to
/// their leading slices (<see cref="Slice"/>).</summary>
static class Inherit
{
    public static void Block(VisionTransformer target, int targetIndex, VisionTransformer source, int sourceIndex)
    {
        var t = target.state_dict();
        var s = source.state_dict();
        using var _ = torch.no_grad();
        foreach (var name in Models.Layers.Block.TensorNames)
            Copy(t[$"blocks.{targetIndex}.{name}"], s[$"blocks.{sourceIndex}.{name}"], name.StartsWith("attn.qkv"), name);
    }

    public static void Embeddings(VisionTransformer target, VisionTransformer source)
    {
        var t = target.state_dict();
        var s = source.state_dict();
        using var _ = torch.no_grad();
        foreach (var name in new[] { "patch_embed.proj.weight", "patch_embed.proj.bias", "cls_token" })
            if (t.ContainsKey(name) && s.ContainsKey(name)) Copy(t[name], s[name], false, name);
        // With a class token on one side only, the patch positions are the trailing tokens of both.
        var (tp, sp) = (t["pos_embed"], s["pos_embed"]);
        long n = Math.Min(tp.shape[1], sp.shape[1]);
        if (Math.Abs(tp.shape[1] - sp.shape[1]) > 1)
            throw new LearngeneException($"the ancestry has {sp.shape[1]} positions, the descendant {tp.shape[1]}: another image or patch size");
        Copy(tp.narrow(1, tp.shape[1] - n, n), sp.narrow(1, sp.shape[1] - n, n), false, "pos_embed");
    }

    public static void Top(VisionTransformer target, VisionTransformer source, bool sameLabelSpace)
    {
        var t = target.state_dict();
        var s = source.state_dict();
        using var _ = torch.no_grad();
        Copy(t["norm.weight"], s["norm.weight"], false, "norm.weight");
        Copy(t["norm.bias"], s["norm.bias"], false, "norm.bias");
        if (sameLabelSpace && target.Config.Classes == source.Config.Classes)
        {
            Copy(t["head.weight"], s["head.weight"], false, "head.weight");
            Copy(t["head.bias"], s["head.bias"], false, "head.bias");
        }
    }

    static void Copy(Tensor target, Tensor source, bool fusedQkv, string name)
    {
        using var scope = torch.NewDisposeScope();
        target.copy_(fusedQkv ? SliceQkv(source, target.shape) : Slice(source, target.shape, name));
    }

    /// <summary>The leading slice of every dimension (weight selection's "consecutive" selection).</summary>
    public static Tensor Slice(Tensor source, long[] shape, string name = "")
    {
        if (source.dim() != shape.Length || source.shape.Zip(shape).Any(p => p.First < p.Second))
            throw new LearngeneException($"cannot take tensor '{name}' of shape [{string.Join(",", shape)}] from [{string.Join(",", source.shape)}]: the ancestry must be at least as large in every dimension");
        var x = source;
        for (int d = 0; d < shape.Length; d++) x = x.narrow(d, 0, shape[d]);
        return x;
    }

    /// <summary>qkv stacks three width×width matrices: slice each of q, k and v, not the stack.</summary>
    static Tensor SliceQkv(Tensor source, long[] shape)
    {
        long big = source.shape[0] / 3, small = shape[0] / 3;
        var parts = source.reshape([3, big, .. source.shape.Skip(1)]);
        var cut = Slice(parts, [3, small, .. shape.Skip(1)], "attn.qkv");
        return cut.reshape(shape);
    }
}
