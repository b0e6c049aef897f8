using Learngene.Baselines.Tuning;
using Learngene.Experiments;
using Learngene.Models;
using Learngene.Models.Linears;

namespace Learngene.Methods.Kind;

/// <summary>What KIND stores and trains, and the adapter rank that matches it.</summary>
public static class KindCosts
{
    /// <summary>Parameters of the learngene (everything but the tailors: learngene components and shared parts,
    /// the class table included) and of one tailor block over every layer.</summary>
    public static (long Learngene, long TailorPerBlock) Stored(DiffusionTransformer svd)
    {
        var layers = svd.Blocks.SelectMany(b => b.Linears).OfType<SvdLinear>().ToList();
        long tailors = layers.Sum(l => l.Tailors.Sum(p => p.numel()));
        long perBlock = layers.Sum(l => (long)l.TailorRank * (l.In + l.Out + 1));
        return (svd.parameters().Sum(p => p.numel()) - tailors, perBlock);
    }

    /// <summary>The smallest LoRA rank at which the adapters on <paramref name="dense"/>'s block linears train at
    /// least as many parameters as <paramref name="kind"/> trains outside the class table.</summary>
    public static int MatchedRank(DiffusionTransformer kind, DiffusionTransformer dense)
    {
        long kindTrains = kind.named_parameters().Where(p => p.parameter.requires_grad && !p.name.StartsWith(Baselines.Tuning.DitTransfer.TableName)).Sum(p => p.parameter.numel());
        long perRank = dense.Blocks.SelectMany(b => b.Linears).Sum(l => (long)(l.In + l.Out));
        return (int)Math.Max(1, (kindTrains + perRank - 1) / perRank);
    }

    /// <summary>What trains in a transfer of this architecture and <paramref name="trainOnly"/> choice, in words.</summary>
    public static string Trains(DitConfig c, string[]? trainOnly) => trainOnly is null ? "everything" : c.Linears switch
    {
        SvdForm => trainOnly.Contains("u") ? "learngenes, tailors, class table" : "tailors, class table",
        LoraForm l => $"LoRA rank {l.Rank}, class table",
        PissaForm p => $"PiSSA rank {p.Rank}, class table",
        SvdiffForm => "spectral shifts, class table",
        _ => string.Join(", ", trainOnly),
    };
}
