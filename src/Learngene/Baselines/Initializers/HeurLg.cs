using Learngene.Methods;
using Learngene.Models;

namespace Learngene.Baselines.Initializers;

/// <summary>Heur-LG (Learngene, AAAI 2022): the learngene is the last few (high-level) layers of the
/// ancestry model; a descendant stacks randomly initialized layers below them. Here the last k ancestry
/// blocks (k = --inherit, default 3, at most the depth) become the descendant's last k blocks, with the
/// final norm and (same label space) head; embeddings and the lower blocks are random.</summary>
public sealed class HeurLg(int layers = 3) : IInitializer
{
    /// <summary>The k ancestry blocks it keeps.</summary>
    public int Layers => layers;
    public IReadOnlyList<Setting> Settings => [Initializers.Inherit];
    public IInitializer With(GivenSettings s) => new HeurLg(Initializers.InheritedLayers(s, layers));

    public string Name => "heur-lg";
    public string Description => "the ancestry's last k layers (default 3) on top of random layers (needs an ancestry)";
    public AncestryNeed Needs => AncestryNeed.Family;

    public MethodCosts Costs(CostContext c) => InheritedCosts(c, layers);

    public string Stores => InheritedStores;

    internal const string InheritedStores = "the k inherited blocks with the final norm and head, from the ancestry ViT distilled once";

    /// <summary>The k inherited blocks with the final norm and head they sit under are stored; the
    /// ancestry's distillation is the pre-training (Heur-LG and Auto-LG alike).</summary>
    internal static MethodCosts InheritedCosts(CostContext c, int inherited)
    {
        var a = c.Artefacts.Single();
        using var one = new VisionTransformer(c.Member with { Depth = 1 });
        long stored = inherited * one.Blocks[0].parameters().Sum(p => p.numel())
                    + one.named_parameters().Where(p => p.name.StartsWith("norm.") || p.name.StartsWith("head.")).Sum(p => p.parameter.numel());
        return new MethodCosts(stored, a.TrainImages, c.DistillationFlops(a.TrainImages, a.MacsPerImage));
    }

    public static int[] InheritedLayers(int k, int ancestryDepth) =>
        Enumerable.Range(ancestryDepth - Math.Min(k, ancestryDepth), Math.Min(k, ancestryDepth)).ToArray();

    public VisionTransformer Create(VitConfig architecture, InitContext context)
    {
        var source = Initializers.AncestryVit(this, context);
        var kept = InheritedLayers(Math.Min(layers, architecture.Depth), source.Architecture.Depth);
        return StackOnTop(architecture, source, kept, context.SameLabelSpace);
    }

    /// <summary>A random descendant whose last blocks are the given ancestry blocks, in order.</summary>
    internal static VisionTransformer StackOnTop(VitConfig architecture, VisionTransformer source, int[] layers, bool sameLabelSpace)
    {
        var model = new VisionTransformer(architecture);
        int first = architecture.Depth - layers.Length;
        for (int i = 0; i < layers.Length; i++) Inherit.Block(model, first + i, source, layers[i]);
        Inherit.Top(model, source, sameLabelSpace);
        return model;
    }
}
