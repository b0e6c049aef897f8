using Learngene.Models;

namespace Learngene.Init;

/// <summary>Heur-LG (Learngene, AAAI 2022): the learngene is the last few (high-level) layers of the
/// ancestry model; a descendant stacks randomly initialized layers below them. Here the last k ancestry
/// blocks (k = --inherit, default 3, at most the depth) become the descendant's last k blocks, with the
/// final norm and (same label space) head; embeddings and the lower blocks are random.</summary>
public sealed class HeurLg : IInitializer
{
    public string Name => "heur-lg";
    public string Description => "the ancestry's last k layers (default 3) on top of random layers (--ancestry)";
    public bool NeedsAncestry => true;

    public static int[] InheritedLayers(int k, int ancestryDepth) =>
        Enumerable.Range(ancestryDepth - Math.Min(k, ancestryDepth), Math.Min(k, ancestryDepth)).ToArray();

    public VisionTransformer Create(ModelConfig architecture, InitContext context)
    {
        var source = Initializers.AncestryVit(this, context);
        var layers = InheritedLayers(Math.Min(context.InheritLayers, architecture.Depth), source.Config.Depth);
        return StackOnTop(architecture, source, layers, context.SameLabelSpace);
    }

    /// <summary>A random descendant whose last blocks are the given ancestry blocks, in order.</summary>
    internal static VisionTransformer StackOnTop(ModelConfig architecture, VisionTransformer source, int[] layers, bool sameLabelSpace)
    {
        var model = new VisionTransformer(architecture);
        int first = architecture.Depth - layers.Length;
        for (int i = 0; i < layers.Length; i++) Inherit.Block(model, first + i, source, layers[i]);
        Inherit.Top(model, source, sameLabelSpace);
        return model;
    }
}
