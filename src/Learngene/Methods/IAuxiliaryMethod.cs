using Learngene.Models;
using Learngene.Training;
using static TorchSharp.torch;

namespace Learngene.Methods;

/// <summary>A method whose learngene lives in one auxiliary ViT and expands in depth (TLEG, SWS): how it
/// learns (through an <see cref="IPretrainer"/> that gives every pre-trained model the same recipe and
/// budget), its defaults and settings, the auxiliary model it trains and what it stores of it, how a
/// descendant of any depth is built, and its costs. The comparison experiment runs every method of this
/// kind against the baseline initializers; <c>expand</c> and <c>inspect</c> reach it through
/// <see cref="ILearngeneMethod"/>, whose members this contract implements once for both.</summary>
public interface IAuxiliaryMethod : ILearngeneMethod
{
    /// <summary>The auxiliary depth the paper uses (TLEG 12, SWS 16).</summary>
    int DefaultAuxiliaryDepth { get; }

    /// <summary>Settings a user may give when learning (name and description; <c>learn</c> turns each into
    /// an option), read by <see cref="LearnSpec"/>.</summary>
    IReadOnlyList<(string Name, string Description)> LearnOptions => [];

    /// <summary>How the method's auxiliary model is trained: its recipe from the caller's (the authors'
    /// distillation by default) and the architecture and settings from the given options. <paramref name="depth"/>
    /// is the user's auxiliary depth, null for the method's default.</summary>
    (VitConfig Architecture, string? Settings, TrainOptions Recipe) LearnSpec(VitConfig architecture, int? depth, IReadOnlyDictionary<string, string> options, TrainOptions recipe) =>
        (architecture with { Depth = depth ?? DefaultAuxiliaryDepth, Pooling = "avg" }, null, Distillation.Authors(recipe));

    /// <summary>Learns the learngene with the caller's <paramref name="trainer"/>: trains what the method
    /// needs (one auxiliary model for TLEG and SWS) on the <paramref name="family"/> architecture (its depth
    /// is the experiment's auxiliary depth) and returns the artefact whose file is the learngene.
    /// <paramref name="settings"/> is the method's own JSON, null for its defaults.</summary>
    Artefact Learn(IPretrainer trainer, VitConfig family, string? settings) =>
        trainer.Train($"learngene-{Name}", family with { Pooling = "avg" }, Name, settings);

    /// <summary>The auxiliary model whose trained weights are the learngene.</summary>
    Classifier CreateAuxiliary(VitConfig architecture, string? settings = null);

    /// <summary>The method's settings of a built auxiliary model, stored in the learngene's metadata.</summary>
    string SettingsOf(Classifier auxiliary) => "{}";

    /// <summary>The tensors to store, from a trained auxiliary model.</summary>
    Dictionary<string, Tensor> Extract(Classifier auxiliary) => auxiliary.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value);

    /// <summary>A descendant initialized from the learngene. The head is copied only when
    /// <paramref name="sameLabelSpace"/> (and the class count matches); else it is fresh.</summary>
    Classifier Build(LearngeneFile.Loaded gene, DescendantSpec descendant, int classes, bool sameLabelSpace = true);

    /// <summary>Parameters stored in the learngene file (the learngene plus shared pieces).</summary>
    long StoredParameters(LearngeneFile.Loaded gene) => gene.Tensors.Values.Sum(t => t.numel());

    string ILearngeneMethod.Stores => "the learngene file (learngene plus embeddings, final norm and head), distilled once";

    IReadOnlyList<Setting> ILearngeneMethod.ExpandSettings => DepthExpansion.Settings;

    Expansion ILearngeneMethod.Expand(string genePath, ExpandRequest request) => DepthExpansion.Expand(genePath, request);

    IReadOnlyList<string> ILearngeneMethod.Describe(string genePath) => DepthExpansion.Describe(this, genePath);

    IReadOnlyList<Setting> ILearngeneMethod.LearnSettings => AuxiliaryLearning.Settings(this);

    Learned ILearngeneMethod.Learn(LearnRequest request) => AuxiliaryLearning.Learn(this, request);

    /// <summary>What the method stores and spends before any descendant trains: the learngene file, and
    /// the distillation of every model it trained.</summary>
    MethodCosts Costs(CostContext context)
    {
        using var gene = LearngeneFile.Load(context.Artefacts[0].Path, Name);
        return new MethodCosts(StoredParameters(gene), context.Artefacts.Sum(a => a.TrainImages),
            context.Artefacts.Sum(a => context.DistillationFlops(a.TrainImages, a.MacsPerImage)));
    }
}

/// <summary>One descendant a method can build: an id (stable across runs), its depth, and for methods that
/// take one an explicit layer mapping (SWS's stage per layer).</summary>
public sealed record DescendantSpec(string Id, int Depth, int[]? LayerSources = null)
{
    public static DescendantSpec OfDepth(int depth) => new($"d{depth:D2}", depth);
}
