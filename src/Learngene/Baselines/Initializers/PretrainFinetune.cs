using Learngene.Methods;
using Learngene.Models;

namespace Learngene.Baselines.Initializers;

/// <summary>Pretrain-finetune: the descendant starts as a model of its own size pre-trained on the source
/// task (the ancestry here is that model); only the head is fresh when the label space changes.</summary>
public sealed class PretrainFinetune : IInitializer
{
    public string Name => "pretrain-finetune";
    public string Description => "every weight from a model of the same size pre-trained on the source task (the ancestry), fresh head for new labels";
    public AncestryNeed Needs => AncestryNeed.SameSize;

    /// <summary>One model per depth of the family (N = MaxDepth), each stored and each pre-trained with the
    /// per-model budget of the measured ones (the experiment trains only the depths it measures).</summary>
    public string Stores => "one model per depth of the family (N models), each pre-trained with the per-model budget; an experiment trains the depths it measures and counts N";

    public MethodCosts Costs(CostContext c)
    {
        long perModel = c.Artefacts.Select(a => a.TrainImages).DefaultIfEmpty(0).Max();
        return new MethodCosts(c.FamilyDepths.Sum(c.Parameters), perModel * c.MaxDepth, c.FamilyDepths.Sum(d => c.DistillationFlops(perModel, c.Macs(d))));
    }

    public VisionTransformer Create(VitConfig architecture, InitContext context)
    {
        var source = Initializers.AncestryVit(this, context);
        var c = source.Architecture;
        if (c.Depth != architecture.Depth || c.Width != architecture.Width || c.Heads != architecture.Heads)
            throw new LearngeneException($"{context.AncestryPath}: pretrain-finetune needs a pre-trained model of the descendant's size ({architecture.Describe()}), not {c.Describe()}");
        var model = new VisionTransformer(architecture);
        Inherit.Embeddings(model, source);
        for (int i = 0; i < c.Depth; i++) Inherit.Block(model, i, source, i);
        Inherit.Top(model, source, context.SameLabelSpace);
        return model;
    }
}
