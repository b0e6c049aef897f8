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

    public IReadOnlyList<Setting> LearnSettings =>
    [
        new("preset", $"Budget: {string.Join("; ", PoolPreset.Registry.All.Select(p => $"{p.Name} ({p.Description})"))} (default: small)"),
        new("stitch-init", $"How stitch layers start: learned (the authors' rule: the front's distillation maps transposed), learned-pinv (the maps composed through a pseudo-inverse, " +
                           $"biases kept), ls (least squares on the calibration images, SN-Net's) or scratch (random); default: learned"),
        new("pairs", "Stitch each instance into the next wider (neighbours, the default) or only the narrowest into the widest (ends, as the authors' code)"),
        .. PoolBench.PresetSettings,
    ];

    public string? ResumableFolder(GivenSettings settings) => $"learn-pool-{settings.Text("preset") ?? "small"}";

    /// <summary>Learngene Pool alone: the pool experiment for one family — instances distilled from a ViT teacher,
    /// pooled, stitches initialized, fine-tuned, every configuration measured — into one learngene file.</summary>
    public Learned Learn(LearnRequest request)
    {
        var s = request.Settings;
        var p = PoolBench.Apply(PoolPreset.Registry.Find(s.Text("preset") ?? "small"), s);
        var family = StitchedFamilies.PoolFamily(s.Text("stitch-init") ?? LearnedStitchInit.Authors, s.Text("pairs") ?? "neighbours");
        var result = new PoolExperiment(p, request.OutDir, request.Data, request.Log, only: [family]).Run().Families[0];
        var best = result.Configurations.MaxBy(c => c.ChoiceScore)!; // chosen on validation when the preset keeps a validation split
        return new Learned(Path.Combine(request.OutDir, result.File),
        [
            $"{result.Configurations.Length} configurations, {result.Configurations.Min(c => c.Parameters):N0}–{result.Configurations.Max(c => c.Parameters):N0} parameters; " +
            $"Pareto front of {BudgetPick.ParetoFront(result.Configurations).Count}; best {(best.ValidationAccuracy is null ? "on test" : "on validation")} {best.Id}: {best.Accuracy * 100:F2}% on test",
            "its configurations: 'learngene pool list FILE'",
        ]);
    }

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
