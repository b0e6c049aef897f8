using System.Text.Json;
using Learngene.Methods;
using Learngene.Models;
using Learngene.Models.Layers;
using Learngene.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Methods.Sws;

/// <summary>SWS (Stage-wise Weight Sharing, IJCAI 2024): the auxiliary model shares one block per stage and
/// is trained by the same distillation as TLEG; the learngene is the stage blocks. A descendant of depth L'
/// copies, for each layer, the block of the stage <see cref="SwsLayout"/> assigns to it (or an explicit
/// mapping), plus the embeddings, the final norm, and the head when the label space is the same.</summary>
public sealed class SwsMethod : IAuxiliaryMethod
{
    public sealed record Settings(int[] Stages);

    public string Name => "sws";
    public string Description => "SWS: one shared block per stage (stages [3,3,4,3,3]); a descendant copies each stage's block into its layers";
    public int DefaultAuxiliaryDepth => 16;

    public IReadOnlyList<(string Name, string Description)> LearnOptions =>
        [("stages", "SWS stage sizes, e.g. 3,3,4,3,3 (default: the paper's for depth 16, else the same proportions)")];

    /// <summary>Explicit stages set the depth; otherwise the depth (default 16) sets the stages.</summary>
    public (VitConfig Architecture, string? Settings, TrainOptions Recipe) LearnSpec(VitConfig architecture, int? depth, IReadOnlyDictionary<string, string> options, TrainOptions recipe)
    {
        var arch = architecture with { Pooling = "avg", Depth = depth ?? DefaultAuxiliaryDepth };
        if (!options.TryGetValue("stages", out var text)) return (arch, null, Distillation.Authors(recipe));
        var stages = SwsLayout.Parse(text);
        if (stages.Any(x => x < 1)) throw new LearngeneException($"stages {text}: every stage needs at least one layer", setting: "stages");
        return (arch with { Depth = stages.Sum() }, JsonSerializer.Serialize(new Settings(stages), ModelConfig.Json), Distillation.Authors(recipe));
    }

    /// <summary>The auxiliary model's depth is its stages' sum: the given stages, else the paper's
    /// proportions at the family's depth.</summary>
    public Artefact Learn(IPretrainer trainer, VitConfig family, string? settings)
    {
        var stages = ReadStages(settings) ?? SwsLayout.StagesForAuxiliaryDepth(family.Depth);
        return trainer.Train($"learngene-{Name}", family with { Depth = stages.Sum(), Pooling = "avg" }, Name, JsonSerializer.Serialize(new Settings(stages), ModelConfig.Json));
    }

    public Classifier CreateAuxiliary(VitConfig architecture, string? settings = null) =>
        new SwsAuxiliary(architecture, ReadStages(settings) ?? SwsLayout.StagesForAuxiliaryDepth(architecture.Depth));

    public string SettingsOf(Classifier auxiliary) =>
        JsonSerializer.Serialize(new Settings(((SwsAuxiliary)auxiliary).StageSizes), ModelConfig.Json);

    /// <summary>The stage sizes stored in a learngene's settings.</summary>
    public static int[] StagesOf(LearngeneFile.Loaded gene) =>
        ReadStages(gene.Info.MethodSettings) ?? throw new LearngeneException($"{gene.Path}: the SWS stage layout is missing from the learngene metadata");

    static int[]? ReadStages(string? settings)
    {
        if (string.IsNullOrWhiteSpace(settings) || settings == "{}") return null;
        try { return JsonSerializer.Deserialize<Settings>(settings, ModelConfig.Json)?.Stages; }
        catch (JsonException) { throw new LearngeneException($"SWS settings '{settings}' do not parse (expected {{\"stages\":[3,3,4,3,3]}})"); }
    }

    public IReadOnlyList<Setting> ExpandSettings => [.. DepthExpansion.Settings, new("layers-source",
        "SWS: the stage each layer copies, e.g. 0,0,0,1,1,1,2,2,3,3,4,4 (the authors' 12-layer mapping); sets the depth. Default rule: one layer per stage, " +
        "the other L'-5 shared out in proportion to the stage sizes (largest remainder); below 5 layers, evenly spaced stages from first to last")];

    public Expansion Expand(string genePath, ExpandRequest request) =>
        DepthExpansion.Expand(genePath, request, request.Text("layers-source") is string mapping ? SwsLayout.Parse(mapping) : null);

    public Classifier Build(LearngeneFile.Loaded gene, DescendantSpec descendant, int classes, bool sameLabelSpace = true)
    {
        var stages = StagesOf(gene);
        var sources = descendant.LayerSources is null ? SwsLayout.DefaultSources(descendant.Depth, stages) : SwsLayout.Validate(descendant.LayerSources, stages.Length);
        var model = new VisionTransformer(gene.Info.Architecture with { Depth = sources.Length, Classes = classes, Pooling = "avg" });
        var state = model.state_dict();
        using var _ = torch.no_grad();
        foreach (var name in Inherit.SharedTensors)
            Inherit.Tensor(state, name, gene.Get(name), gene.Path);
        if (sameLabelSpace && classes == gene.Info.Architecture.Classes) foreach (var name in Inherit.HeadTensors) Inherit.Tensor(state, name, gene.Get(name), gene.Path);
        for (int i = 0; i < sources.Length; i++)
            foreach (var name in Block.TensorNames)
                Inherit.Tensor(state, $"blocks.{i}.{name}", gene.Get($"stages.{sources[i]}.{name}"), gene.Path);
        return model;
    }
}
