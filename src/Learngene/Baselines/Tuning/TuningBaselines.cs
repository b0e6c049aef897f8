using Learngene.Models;
using Learngene.Models.Linears;

namespace Learngene.Baselines.Tuning;

/// <summary>The baselines KIND is compared with (docs/methods/tuning.md): an ordinary DiT pre-trained on the same classes
/// with the same budget, carried to the new classes by <see cref="DitTransfer"/> and then tuned. Every one
/// trains the new class table; what else trains is the baseline's.</summary>
public static class TuningBaselines
{
    /// <summary>Fragments of the tensors that train besides the adapter: the new classes' embeddings.</summary>
    public static readonly string[] Always = [DitTransfer.TableName];

    /// <summary>LoRA of rank r on every block linear (the update starts at zero).</summary>
    public static DiffusionTransformer Lora(DiffusionTransformer pre, int classes, int rank) =>
        Adapted(pre, classes, new LoraForm { Rank = rank });

    /// <summary>PiSSA of rank r: the top r singular components train, the residual is frozen.</summary>
    public static DiffusionTransformer Pissa(DiffusionTransformer pre, int classes, int rank) =>
        Adapted(pre, classes, new PissaForm { Rank = rank });

    /// <summary>SVDiff: only every block linear's spectral shift trains.</summary>
    public static DiffusionTransformer Svdiff(DiffusionTransformer pre, int classes) => Adapted(pre, classes, new SvdiffForm());

    /// <summary>Full fine-tuning: every tensor trains.</summary>
    public static DiffusionTransformer Full(DiffusionTransformer pre, int classes) =>
        DitTransfer.Build(pre, pre.Architecture with { Classes = classes, Linears = null }, DitTransfer.Carry);

    /// <summary>Heur-LG (AAAI 2022) for a DiT: the last k blocks and the final layer inherited, the embedders
    /// and the lower blocks fresh; everything trains.</summary>
    public static DiffusionTransformer HeurLg(DiffusionTransformer pre, int classes, int inherit)
    {
        var target = pre.Architecture with { Classes = classes, Linears = null };
        int first = target.Depth - Math.Min(inherit, target.Depth);
        var fresh = new DiffusionTransformer(target);
        var model = DitTransfer.Build(pre, target, (b, s, d) => { if (b >= first) DitTransfer.Carry(b, s, d); });
        // Below the inherited blocks everything is the fresh model's: embedders and lower blocks (their modulations too).
        using var _ = TorchSharp.torch.no_grad();
        var init = fresh.state_dict();
        foreach (var (name, t) in model.state_dict())
        {
            bool inherited = name.StartsWith("final_layer.") || Enumerable.Range(first, target.Depth - first).Any(b => name.StartsWith($"blocks.{b}."));
            if (!inherited) t.copy_(init[name]);
        }
        fresh.Dispose();
        return model;
    }

    static DiffusionTransformer Adapted(DiffusionTransformer pre, int classes, LinearForm form) =>
        DitTransfer.Build(pre, pre.Architecture with { Classes = classes, Linears = form }, DitTransfer.Carry, [.. form.TunedTensors, .. Always]);
}
