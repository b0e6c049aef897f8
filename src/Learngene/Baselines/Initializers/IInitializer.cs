using Learngene.Data;
using Learngene.IO;
using Learngene.Methods;
using Learngene.Models;

namespace Learngene.Baselines.Initializers;

/// <summary>What an initializer may use besides the descendant's architecture.</summary>
public sealed class InitContext
{
    /// <summary>The trained model knowledge is taken from (weight selection, Heur-LG, Auto-LG: a ViT of the
    /// family, usually deeper or wider; pretrain-finetune: the pre-trained model of the very same size).</summary>
    public ModelFile.Loaded? Ancestry { get; init; }
    public string AncestryPath { get; init; } = "";
    /// <summary>False on a transfer task: the head is then always fresh.</summary>
    public bool SameLabelSpace { get; init; } = true;
    /// <summary>Training data of the descendant's task (Auto-LG adapts a pseudo descendant on it).</summary>
    public ImageDataset? Data { get; init; }
    public int Seed { get; init; }
    /// <summary>Work an initializer does once per context and reuses for every depth (Auto-LG's ranking).</summary>
    public Dictionary<string, object> Memo { get; } = [];
}

/// <summary>A baseline way to initialize a descendant ViT (docs/methods/initializers.md; "Baselines for initializing
/// descendants"): usable by <c>train --init NAME</c>, <c>expand --init NAME</c> and the comparison runner.</summary>
public interface IInitializer : INamed
{
    /// <summary>Which trained model it takes weights from; an experiment pre-trains it with the same budget
    /// as every learngene.</summary>
    AncestryNeed Needs { get; }

    bool NeedsAncestry => Needs != AncestryNeed.None;

    /// <summary>The deepest descendant it can make from an ancestry of the given depth.</summary>
    int MaxDepth(int ancestryDepth) => int.MaxValue;

    /// <summary>A new descendant with the given architecture (depth, width, classes…).</summary>
    VisionTransformer Create(VitConfig architecture, InitContext context);

    /// <summary>The settings it takes (Heur-LG's inherited layers, weight selection's rules); each becomes an
    /// option of <c>train</c> and <c>expand</c>, and a run keeps the given ones in its run.json.</summary>
    IReadOnlyList<Setting> Settings => [];

    /// <summary>This initializer with the given settings, checked (one clear error for a bad one); settings it
    /// does not take are left to the others.</summary>
    IInitializer With(GivenSettings settings) => this;

    /// <summary>What it stores and spends before any descendant trains, for the family of depths
    /// 1..MaxDepth (its artefacts: the ancestry, or one pre-trained model per measured depth).</summary>
    MethodCosts Costs(CostContext context) => MethodCosts.None;

    /// <summary>What it stores and pre-trains, in words, for the report's costs.</summary>
    string Stores => "nothing";

    /// <summary>What the numbers it leaves in <see cref="InitContext.Memo"/> under its name mean (Auto-LG's
    /// layer scores), for the report; null when it leaves none.</summary>
    string? ScoresMeaning => null;
}

/// <summary>The trained model an initializer takes weights from.</summary>
public enum AncestryNeed
{
    /// <summary>None: data-free (scratch, mimetic).</summary>
    None,
    /// <summary>One trained model of the family, at its largest depth, shared by every descendant size.</summary>
    Family,
    /// <summary>A model of the descendant's own size, pre-trained on the source task (one per size).</summary>
    SameSize,
}

public static class Initializers
{
    /// <summary>Each with its default settings.</summary>
    public static readonly Registry<IInitializer> Registry = new("initializer",
        [new Scratch(), new PretrainFinetune(), new WeightSelection(), new HeurLg(), new AutoLg(), new Mimetic()]);

    /// <summary>The named initializer with the given settings.</summary>
    public static IInitializer Configured(string name, GivenSettings settings) => Registry.Find(name).With(settings);

    /// <summary>Every registered initializer's settings, each name once (Heur-LG and Auto-LG share --inherit).</summary>
    public static IReadOnlyList<Setting> AllSettings => Registry.All.SelectMany(i => i.Settings).DistinctBy(s => s.Name).ToList();

    /// <summary>Layers Heur-LG and Auto-LG inherit, from <c>--inherit</c> (default 3).</summary>
    internal static int InheritedLayers(GivenSettings s, int current)
    {
        int k = s.Int("inherit") ?? current;
        return k >= 1 ? k : throw new LearngeneException($"layers to inherit must be at least 1 (got {k})", setting: "inherit");
    }

    internal static readonly Setting Inherit = new("inherit", "Layers heur-lg and auto-lg inherit (default: 3)");

    /// <summary>The ancestry as a ViT, or a clear error.</summary>
    internal static VisionTransformer AncestryVit(IInitializer init, InitContext context) =>
        context.Ancestry?.Model as VisionTransformer
        ?? throw new LearngeneException(context.Ancestry is null
            ? $"{init.Name} needs an ancestry model (a trained ViT)"
            : $"{context.AncestryPath}: {init.Name} needs a ViT ancestry model, not a {context.Ancestry.Model.Config.Family}", setting: "ancestry");
}
