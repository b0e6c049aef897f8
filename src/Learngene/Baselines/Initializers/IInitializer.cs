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
    /// <summary>Layers Heur-LG and Auto-LG inherit (at most the descendant's depth).</summary>
    public int InheritLayers { get; init; } = 3;
    public int Seed { get; init; }
    /// <summary>Weight selection's layer and element rules.</summary>
    public WeightSelectionRules WeightSelection { get; init; } = new();
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
    public static readonly Registry<IInitializer> Registry = new("initializer",
        [new Scratch(), new PretrainFinetune(), new WeightSelection(), new HeurLg(), new AutoLg(), new Mimetic()]);

    /// <summary>The ancestry as a ViT, or a clear error.</summary>
    internal static VisionTransformer AncestryVit(IInitializer init, InitContext context) =>
        context.Ancestry?.Model as VisionTransformer
        ?? throw new LearngeneException(context.Ancestry is null
            ? $"{init.Name} needs an ancestry model (a trained ViT)"
            : $"{context.AncestryPath}: {init.Name} needs a ViT ancestry model, not a {context.Ancestry.Model.Config.Family}", setting: "ancestry");
}
