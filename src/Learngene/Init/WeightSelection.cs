using Learngene.Models;

namespace Learngene.Init;

/// <summary>Weight selection ("Initializing Models with Larger Ones", ICLR 2024): a smaller descendant takes
/// evenly spaced layers of a larger trained ViT (layer ⌊i·N/L⌋ of N for descendant layer i of L) and, in
/// every tensor, the leading slice of each dimension (q, k and v sliced separately). Embeddings, final
/// norm and (same label space) head are selected the same way.</summary>
public sealed class WeightSelection : IInitializer
{
    public string Name => "weight-selection";
    public string Description => "evenly spaced layers and leading weight slices of a larger trained ViT (--ancestry)";
    public bool NeedsAncestry => true;

    public static int[] SelectedLayers(int depth, int ancestryDepth)
    {
        if (depth > ancestryDepth)
            throw new LearngeneException($"weight selection makes smaller models: depth {depth} is deeper than the ancestry's {ancestryDepth}");
        return Enumerable.Range(0, depth).Select(i => i * ancestryDepth / depth).ToArray();
    }

    public VisionTransformer Create(ModelConfig architecture, InitContext context)
    {
        var source = Initializers.AncestryVit(this, context);
        var c = source.Config;
        if (architecture.Width > c.Width || architecture.Width / architecture.Heads > c.Width / c.Heads)
            throw new LearngeneException($"{context.AncestryPath}: weight selection needs an ancestry at least as wide, with heads at least as wide ({c.Describe()} cannot initialize {architecture.Describe()})");
        var layers = SelectedLayers(architecture.Depth, c.Depth);
        var model = new VisionTransformer(architecture);
        Inherit.Embeddings(model, source);
        for (int i = 0; i < layers.Length; i++) Inherit.Block(model, i, source, layers[i]);
        Inherit.Top(model, source, context.SameLabelSpace);
        return model;
    }
}
