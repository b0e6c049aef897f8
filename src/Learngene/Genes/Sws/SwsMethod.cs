using System.Text.Json;
using Learngene.Models;
using Learngene.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Genes.Sws;

/// <summary>SWS (Stage-wise Weight Sharing, IJCAI 2024): the auxiliary model shares one block per stage and
/// is trained by the same distillation as TLEG; the learngene is the stage blocks. A descendant of depth L'
/// copies, for each layer, the block of the stage <see cref="SwsLayout"/> assigns to it (or an explicit
/// mapping), plus the embeddings, the final norm, and the head when the label space is the same.</summary>
public sealed class SwsMethod : ILearngeneMethod
{
    public sealed record Settings(int[] Stages);

    public string Name => "sws";
    public string Description => "SWS: one shared block per stage (stages [3,3,4,3,3]); a descendant copies each stage's block into its layers";
    public int DefaultAuxiliaryDepth => 16;

    public Classifier CreateAuxiliary(ModelConfig architecture, string? settings = null) =>
        new SwsAuxiliary(architecture, ReadStages(settings) ?? SwsLayout.StagesForAuxiliaryDepth(architecture.Depth));

    public string SettingsOf(Classifier auxiliary) =>
        JsonSerializer.Serialize(new Settings(((SwsAuxiliary)auxiliary).StageSizes), ModelConfig.Json);

    public Dictionary<string, Tensor> Extract(Classifier auxiliary) =>
        auxiliary.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value);

    /// <summary>The stage sizes stored in a learngene's settings.</summary>
    public static int[] StagesOf(LearngeneFile.Loaded gene) =>
        ReadStages(gene.Info.MethodSettings) ?? throw new LearngeneException($"{gene.Path}: the SWS stage layout is missing from the learngene metadata");

    static int[]? ReadStages(string? settings)
    {
        if (string.IsNullOrWhiteSpace(settings) || settings == "{}") return null;
        try { return JsonSerializer.Deserialize<Settings>(settings, ModelConfig.Json)?.Stages; }
        catch (JsonException) { throw new LearngeneException($"SWS settings '{settings}' do not parse (expected {{\"stages\":[3,3,4,3,3]}})"); }
    }

    public VisionTransformer Expand(LearngeneFile.Loaded gene, int depth, int classes, bool sameLabelSpace = true, int[]? layerSources = null)
    {
        var stages = StagesOf(gene);
        var sources = layerSources is null ? SwsLayout.DefaultSources(depth, stages) : SwsLayout.Validate(layerSources, stages.Length);
        var model = new VisionTransformer(gene.Info.Architecture with { Depth = sources.Length, Classes = classes, Pooling = "avg" });
        var state = model.state_dict();
        using var _ = torch.no_grad();
        foreach (var name in Expansion.SharedTensors)
            Expansion.CopyInto(state, name, gene.Get(name), gene.Path);
        if (sameLabelSpace && classes == gene.Info.Architecture.Classes) Expansion.CopyHead(state, gene);
        for (int i = 0; i < sources.Length; i++)
            foreach (var name in Block.TensorNames)
                Expansion.CopyInto(state, $"blocks.{i}.{name}", gene.Get($"stages.{sources[i]}.{name}"), gene.Path);
        return model;
    }
}
