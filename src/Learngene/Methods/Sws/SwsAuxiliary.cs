using Learngene.Methods;
using Learngene.Models;
using Learngene.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Learngene.Methods.Sws;

/// <summary>SWS's auxiliary model: a ViT whose layers are grouped in stages (the paper: [3, 3, 4, 3, 3],
/// 16 layers); each stage owns one ordinary <see cref="Block"/> (<c>stages.S.*</c>) that every layer of
/// the stage reuses, and nothing is shared across stages. Embeddings, final norm and head are single
/// copies with the descendant ViT's names; pooling is the average of the patch tokens.</summary>
public sealed class SwsAuxiliary : VisionTransformer
{
    private readonly ModuleList<Block> stages;

    public int[] StageSizes { get; }

    public SwsAuxiliary(VitConfig config, IReadOnlyList<int> stageSizes)
        : base(Checked(config, stageSizes) with { Pooling = "avg" }, buildBlocks: false)
    {
        StageSizes = stageSizes.ToArray();
        stages = new ModuleList<Block>(StageSizes.Select(_ => new Block(config.Width, config.Heads, config.MlpRatio)).ToArray());
        register_module("stages", stages);
        WeightInit.Timm(stages);
    }

    public IList<Block> Stages => stages;

    static VitConfig Checked(VitConfig config, IReadOnlyList<int> stageSizes)
    {
        if (stageSizes.Count == 0 || stageSizes.Any(s => s < 1))
            throw new LearngeneException($"SWS stage sizes must be positive (got [{string.Join(",", stageSizes)}])");
        if (stageSizes.Sum() != config.Depth)
            throw new LearngeneException($"SWS stages [{string.Join(",", stageSizes)}] hold {stageSizes.Sum()} layers, the auxiliary depth is {config.Depth}");
        return config;
    }

    protected override Tensor RunBlocks(Tensor x)
    {
        foreach (int stage in SwsLayout.AuxiliarySources(StageSizes)) x = stages[stage].forward(x);
        return x;
    }
}
