using Learngene.Methods;
using Learngene.Models;
using Learngene.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Methods.Tleg;

/// <summary>TLEG (Transformer as Linear Expansion of learnGene, AAAI 2024): learn <c>P_B</c> and <c>P_A</c>
/// for every block tensor in an auxiliary model by distillation; a descendant of any depth L' takes block
/// i = P_B + (i/L')·P_A, the embeddings and final norm, and the head when the label space is the same.</summary>
public sealed class TlegMethod : IAuxiliaryMethod
{
    public string Name => "tleg";
    public string Description => "TLEG: block weights linear in depth, P_i = P_B + (i/L)·P_A; any depth from two tensors per weight";

    public int DefaultAuxiliaryDepth => 12;

    public Classifier CreateAuxiliary(VitConfig architecture, string? settings = null) => new TlegAuxiliary(architecture);

    public Classifier Build(LearngeneFile.Loaded gene, DescendantSpec descendant, int classes, bool sameLabelSpace = true)
    {
        if (descendant.LayerSources is not null) throw new LearngeneException("TLEG expands by depth only; an explicit layer mapping is an SWS option", setting: "layers-source");
        int depth = descendant.Depth;
        if (depth < 1) throw new LearngeneException($"depth must be at least 1 (got {depth})");
        var arch = gene.Info.Architecture with { Depth = depth, Classes = classes, Pooling = "avg" };
        var model = new VisionTransformer(arch);
        var pairs = Block.TensorNames.Select(n => (n, gene.Get("base." + n), gene.Get("slope." + n))).ToArray();
        var state = model.state_dict();
        using var _ = torch.no_grad();
        using var scope = torch.NewDisposeScope(); // the block temporaries; the model's own tensors predate the scope
        foreach (var name in Inherit.SharedTensors)
            Inherit.Tensor(state, name, gene.Get(name), gene.Path);
        if (sameLabelSpace && classes == gene.Info.Architecture.Classes) foreach (var name in Inherit.HeadTensors) Inherit.Tensor(state, name, gene.Get(name), gene.Path);
        for (int i = 0; i < depth; i++)
            foreach (var (name, tensor) in TlegAuxiliary.BlockTensors(pairs, i, depth))
                Inherit.Tensor(state, $"blocks.{i}.{name}", tensor, gene.Path);
        return model;
    }
}
