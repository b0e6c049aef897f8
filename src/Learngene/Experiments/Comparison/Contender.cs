using Learngene.Baselines.Initializers;
using Learngene.Data;
using Learngene.Methods;
using Learngene.Models;

namespace Learngene.Experiments.Comparison;

/// <summary>A method of the comparison as the runner sees it — a learngene method or an initialization
/// baseline, each speaking through its own contract: what it pre-trains, on which tasks it is measured,
/// how a descendant starts, what it costs. The runner knows nothing else of any method.</summary>
public abstract class Contender(string name)
{
    public string Name { get; } = name;

    /// <summary>True for a learngene method (its artefact is a learngene file).</summary>
    public virtual bool IsLearngene => false;

    /// <summary>The models it needs before any descendant, trained by the comparison's shared pretrainer.</summary>
    public abstract IReadOnlyList<Artefact> Pretrain(ComparisonPretrainer pretrainer);

    /// <summary>False where its descendant would be one of its own pre-trained models.</summary>
    public virtual bool MeasuredOn(string task) => true;

    /// <summary>True when nothing comes from the source task: its patch embedding is drawn for the task's channels.</summary>
    public virtual bool DataFree => false;

    /// <summary>A descendant's initial weights and the normalization they were trained with.</summary>
    public abstract (Classifier Model, Normalization Norm) Initialize(DescendantRequest request);

    public abstract MethodCosts Costs(CostContext context);

    /// <summary>The deepest descendant it can make when the family's largest model has the given depth.</summary>
    public virtual int MaxDepth(int familyDepth) => int.MaxValue;

    /// <summary>What the scores it leaves in its init contexts mean (null: it leaves none).</summary>
    public virtual string? ScoresMeaning => null;
}

/// <summary>What a contender gets to start one descendant: the task, size and seed, the descendant's
/// architecture (in the family's input shape), the task's training images, its own artefacts and the
/// task's shared init contexts.</summary>
public sealed record DescendantRequest(string Task, int Depth, int Seed, VitConfig Architecture, ImageDataset Train,
    IReadOnlyList<Artefact> Artefacts, InitContexts? Contexts)
{
    public bool SameLabelSpace => Task == "source";
}

sealed class LearngeneContender(IAuxiliaryMethod method) : Contender(method.Name)
{
    public override bool IsLearngene => true;

    public override IReadOnlyList<Artefact> Pretrain(ComparisonPretrainer p) =>
        [method.Learn(p, p.Family with { Depth = p.Preset.AuxiliaryDepth }, p.Preset.SettingsFor(Name))];

    public override (Classifier Model, Normalization Norm) Initialize(DescendantRequest r)
    {
        using var gene = LearngeneFile.Load(r.Artefacts[0].Path, method.Name);
        return (method.Build(gene, DescendantSpec.OfDepth(r.Depth), r.Train.Classes, r.SameLabelSpace), gene.Info.Normalization);
    }

    public override MethodCosts Costs(CostContext context) => method.Costs(context);
}

sealed class BaselineContender(IInitializer initializer) : Contender(initializer.Name)
{
    readonly Dictionary<int, Artefact> sameSize = [];

    public override IReadOnlyList<Artefact> Pretrain(ComparisonPretrainer p)
    {
        switch (initializer.Needs)
        {
            case AncestryNeed.Family: return [p.Ancestry()];
            case AncestryNeed.SameSize:
                foreach (int d in p.Preset.Depths) sameSize[d] = p.SameSize(d);
                return sameSize.Values.ToArray();
            default: return [];
        }
    }

    public override bool MeasuredOn(string task) => !(initializer.Needs == AncestryNeed.SameSize && task == "source");

    public override bool DataFree => initializer.Needs == AncestryNeed.None;

    public override string? ScoresMeaning => initializer.ScoresMeaning;

    public override int MaxDepth(int familyDepth) => initializer.MaxDepth(familyDepth);

    public override (Classifier Model, Normalization Norm) Initialize(DescendantRequest r)
    {
        string? from = initializer.Needs switch
        {
            AncestryNeed.Family => r.Artefacts[0].Path,
            AncestryNeed.SameSize => sameSize[r.Depth].Path,
            _ => null,
        };
        var context = r.Contexts is null || from is null
            ? new InitContext { Data = r.Train, Seed = r.Seed, SameLabelSpace = r.SameLabelSpace }
            : r.Contexts.For(from, r.Train);
        var model = initializer.Create(r.Architecture, context);
        return (model, context.Ancestry?.Normalization ?? Normalization.Of(r.Train));
    }

    public override MethodCosts Costs(CostContext context) => initializer.Costs(context);
}

/// <summary>Every method a comparison can run: the registered learngene methods, then the registered
/// initializers, and the two baselines the comparison's measures are taken against.</summary>
public static class Contenders
{
    /// <summary>The baseline whose longer runs give the training-cost curve and the one-epoch floor's reference.</summary>
    public const string Reference = "scratch";
    /// <summary>The baseline every storage and pre-training ratio is taken against: one pre-trained model per depth.</summary>
    public const string FamilyReference = "pretrain-finetune";
    public const string LongRun = Reference + "-long";
    public const string FloorRun = Reference + "-floor";

    public static string[] Names => [.. LearngeneMethods.Auxiliary.Select(m => m.Name), .. Initializers.Registry.Names];

    /// <summary>The named method; a baseline initializer with <paramref name="initializerSettings"/> (the comparison's).</summary>
    public static Contender Find(string name, GivenSettings? initializerSettings = null) =>
        LearngeneMethods.Registry.TryFind(name) is IAuxiliaryMethod m ? new LearngeneContender(m)
        : Initializers.Registry.TryFind(name) is { } i ? new BaselineContender(i.With(initializerSettings ?? GivenSettings.None))
        : throw new LearngeneException($"unknown method '{name}' (known: {string.Join(", ", Names)})", setting: "methods");

    /// <summary>"tleg,sws,scratch" → the names, checked, in the given order without repeats.</summary>
    public static string[] Parse(string list)
    {
        var names = list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(n => n.ToLowerInvariant()).Distinct().ToArray();
        foreach (var n in names) Find(n);
        if (names.Length == 0) throw new LearngeneException("the list of methods is empty", setting: "methods");
        return names;
    }
}
