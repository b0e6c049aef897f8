using Learngene.Methods;
using Learngene.Models;

namespace Learngene.Baselines.Initializers;

/// <summary>Weight selection's two choices. The defaults are the authors' code (OscarXZQ/weight-selection,
/// <c>weight_selection.py</c>): the student's block i takes the teacher's block i, so the <b>first</b> N
/// layers, and every shrinking dimension takes <b>uniform</b> elements. "spaced" (layer ⌊i·N/L⌋) and
/// "leading" (the consecutive slice) are the variants the paper also discusses.</summary>
public sealed record WeightSelectionRules(string Layers = "first", string Elements = "uniform")
{
    public static readonly string[] LayerRules = ["first", "spaced"];
    public static readonly string[] ElementRules = ["uniform", "leading"];

    public WeightSelectionRules Validate()
    {
        if (!LayerRules.Contains(Layers)) throw new LearngeneException($"unknown weight-selection layer rule '{Layers}' (expected {string.Join(" or ", LayerRules)})");
        if (!ElementRules.Contains(Elements)) throw new LearngeneException($"unknown weight-selection element rule '{Elements}' (expected {string.Join(" or ", ElementRules)})");
        return this;
    }

    public ElementSelection Selection => Elements == "leading" ? ElementSelection.Leading : ElementSelection.Uniform;

    public string Describe() => $"{Layers} layers, {Elements} elements";
}

/// <summary>Weight selection ("Initializing Models with Larger Ones", ICLR 2024): a smaller descendant
/// takes layers of a larger trained ViT and, in every tensor, a selection of each shrinking dimension
/// (q, k and v selected separately), by <see cref="WeightSelectionRules"/>. Embeddings and final norm are
/// selected the same way. The authors never copy the head (their targets are new tasks); on the same
/// label space we copy it too, as every other inheriting method here does.</summary>
public sealed class WeightSelection(WeightSelectionRules? rules = null) : IInitializer
{
    public WeightSelectionRules Rules { get; } = (rules ?? new()).Validate();

    public IReadOnlyList<Setting> Settings =>
    [
        new("ws-layers", "Weight selection's layers: first (the first N, the authors' code; the default) or spaced (layer floor(i*N/L))"),
        new("ws-elements", "Weight selection's elements of a wider ancestry: uniform (every (large/small)-th, the authors' code; the default) or leading (consecutive slice)"),
    ];

    public IInitializer With(GivenSettings s) => new WeightSelection(new WeightSelectionRules(s.Text("ws-layers") ?? Rules.Layers, s.Text("ws-elements") ?? Rules.Elements));

    public string Name => "weight-selection";
    public string Description => "layers and weight elements of a larger trained ViT (the ancestry); the authors' first-N layers and uniform elements by default";
    public AncestryNeed Needs => AncestryNeed.Family;

    /// <summary>Weight selection makes smaller models: no deeper than the ancestry.</summary>
    public int MaxDepth(int ancestryDepth) => ancestryDepth;

    /// <summary>The whole ancestry is stored; its distillation is the pre-training.</summary>
    public string Stores => "the whole ancestry ViT (the family's largest model, distilled once)";

    public MethodCosts Costs(CostContext c)
    {
        var a = c.Artefacts.Single();
        return new MethodCosts(c.Parameters(c.MaxDepth), a.TrainImages, c.DistillationFlops(a.TrainImages, a.MacsPerImage));
    }

    public static int[] SelectedLayers(int depth, int ancestryDepth, string rule = "first")
    {
        if (depth > ancestryDepth)
            throw new LearngeneException($"weight selection makes smaller models: depth {depth} is deeper than the ancestry's {ancestryDepth}");
        return rule == "spaced"
            ? Enumerable.Range(0, depth).Select(i => i * ancestryDepth / depth).ToArray()
            : Enumerable.Range(0, depth).ToArray();
    }

    public VisionTransformer Create(VitConfig architecture, InitContext context)
    {
        var rules = Rules;
        var source = Initializers.AncestryVit(this, context);
        var c = source.Architecture;
        if (architecture.Width > c.Width || architecture.Width / architecture.Heads > c.Width / c.Heads)
            throw new LearngeneException($"{context.AncestryPath}: weight selection needs an ancestry at least as wide, with heads at least as wide ({c.Describe()} cannot initialize {architecture.Describe()})");
        var layers = SelectedLayers(architecture.Depth, c.Depth, rules.Layers);
        var model = new VisionTransformer(architecture);
        Inherit.Embeddings(model, source, rules.Selection);
        for (int i = 0; i < layers.Length; i++) Inherit.Block(model, i, source, layers[i], rules.Selection);
        Inherit.Top(model, source, context.SameLabelSpace, rules.Selection);
        return model;
    }
}
