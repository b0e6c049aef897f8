using Learngene.Models.Stitching;

namespace Learngene.Methods.Pool;

/// <summary>Learngene Pool (docs/methods/pool.md) through the method contract. Its file holds the pooled
/// instances' blocks and the learned stitches, with every configuration measured; a descendant is one
/// configuration, named or the most accurate within a budget, exported as an ordinary model file. SN-Net's
/// stitched family is stored in the same format, so this method reads its files too.</summary>
public sealed class PoolMethod : ILearngeneMethod
{
    public string Name => "pool";
    public string Description => "Learngene Pool: a teacher distilled into small instances whose blocks are stitched into many sizes";
    public IReadOnlyList<string> FileMethods => PoolFile.Methods;
    public string Stores => "the pooled instances' blocks and the stitch layers, with every configuration's measured accuracy and cost";

    public IReadOnlyList<Setting> ExpandSettings =>
    [
        new("config", "Learngene Pool, SN-Net: the configuration to export (see 'pool list')"),
        new("budget-params", "Learngene Pool, SN-Net: export the most accurate configuration with at most this many parameters"),
        new("budget-macs", "Learngene Pool, SN-Net: export the most accurate configuration with at most this many MACs per image"),
    ];

    public Expansion Expand(string genePath, ExpandRequest request)
    {
        var pick = PoolFile.Pick(PoolFile.Read(genePath), request.Text("config"), request.Long("budget-params"), request.Long("budget-macs"));
        string path = Path.Combine(request.OutDir, $"{pick.Id}.safetensors");
        Directory.CreateDirectory(request.OutDir);
        PoolFile.Export(genePath, pick.Id, path);
        return new Expansion([new Descendant(path, pick.Parameters, pick.MacsPerImage, $"{pick.Id} ({pick.Accuracy * 100:F2}% on test)")],
            "1 configuration exported (every configuration: 'pool list')");
    }

    public IReadOnlyList<string> Describe(string genePath)
    {
        var file = PoolFile.Read(genePath);
        var all = file.Record.Configurations;
        var best = all.MaxBy(c => c.ChoiceScore);
        return
        [
            $"learngene ({file.Info.Method}): {file.Record.Pool.Describe()}, stitch init {file.Record.StitchInit}; {Stores}",
            best is null ? "no configuration measured" :
                $"{all.Length} configurations, {all.Min(c => c.Parameters):N0}–{all.Max(c => c.Parameters):N0} parameters, Pareto front of {BudgetPick.ParetoFront(all).Count}; " +
                $"most accurate {best.Id}: {best.Accuracy * 100:F2}% on {file.Record.TestImages} {file.Record.TestData} test images",
            "expands to one configuration ('expand --config ID', or --budget-params N / --budget-macs N); the figures below are for its widest instance",
        ];
    }
}
