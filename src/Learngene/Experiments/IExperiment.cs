using Learngene.Experiments.Comparison;
using Learngene.Experiments.Dit;
using Learngene.Methods.Kind;
using Learngene.Methods.Pool;
using Learngene.Reporting;

namespace Learngene.Experiments;

/// <summary>What every experiment offers <c>report</c> and a library user once it has run: its name, whether a
/// run folder holds its results, its report rendered from them, and its checks read from them.</summary>
public interface IExperiment : INamed
{
    /// <summary>Whether the folder's results.json is this experiment's.</summary>
    bool Holds(string runDir);

    /// <summary>Renders report.md and the plots from the folder's results; returns the report's path.</summary>
    string WriteReport(string runDir);

    /// <summary>The experiment's checks (each met, missed or not resolved) read from the folder's results.</summary>
    IReadOnlyList<Check> Checks(string runDir);

    /// <summary>Its budgets (smoke, small, paper…).</summary>
    IReadOnlyList<INamed> Presets { get; }

    /// <summary>Every training a run of the named preset would do with its defaults, for a dry run
    /// (<see cref="Planning.DryRun"/>).</summary>
    IReadOnlyList<Planning.PlannedCell> Plan(string preset);
}

/// <summary>An experiment given by its results record and its report and checks.</summary>
public sealed class Experiment<TResults>(string name, string description, Func<string, bool> holds, Func<string, TResults, string> write, Func<TResults, List<Check>> checks,
    IReadOnlyList<INamed> presets, Func<string, IReadOnlyList<Planning.PlannedCell>> plan)
    : IExperiment where TResults : class
{
    public IReadOnlyList<INamed> Presets => presets;
    public IReadOnlyList<Planning.PlannedCell> Plan(string preset) => plan(preset);
    public string Name => name;
    public string Description => description;
    public bool Holds(string runDir) => holds(runDir);
    public string WriteReport(string runDir) => write(runDir, ExperimentFolder.LoadResults<TResults>(runDir));
    public IReadOnlyList<Check> Checks(string runDir) => checks(ExperimentFolder.LoadResults<TResults>(runDir));
}

public static class ExperimentRegistry
{
    /// <summary>Asked in this order (the comparison's results are told by a field the others lack).</summary>
    public static readonly Registry<IExperiment> Registry = new("experiment",
    [
        new Experiment<PoolResults>("pool", "Learngene Pool against SN-Net: stitched families of many sizes", PoolReport.Holds, PoolReport.Write, PoolChecks.Evaluate,
            PoolPreset.Registry.All, p => PoolPlan.Of(PoolPreset.Registry.Find(p))),
        new Experiment<KindResults>("kind", "KIND against LoRA, PiSSA, SVDiff and full fine-tuning on new classes", KindReport.Holds, KindReport.Write, KindChecks.Evaluate,
            KindPreset.Registry.All, p => KindPlan.Of(KindPreset.Registry.Find(p))),
        new Experiment<DitResults>("dit", "class-conditional DiTs judged by FD-clf, accuracy on samples and patch seams", DitReport.Holds, DitReport.Write, DitChecks.Evaluate,
            DitPreset.Registry.All, p => DitPlan.Of(DitPreset.Registry.Find(p))),
        new Experiment<CompareResults>("compare", "TLEG and SWS against the baseline initializers at every depth", CompareReport.Holds, CompareReport.Write, CompareChecks.Evaluate,
            ComparePreset.Registry.All, p => ComparePlan.Of(ComparePreset.Registry.Find(p))),
    ]);

    /// <summary>The experiment whose results the run folder holds.</summary>
    public static IExperiment OfFolder(string runDir)
    {
        if (!File.Exists(Path.Combine(runDir, ExperimentFolder.ResultsName)))
            throw new LearngeneException($"{runDir} has no {ExperimentFolder.ResultsName}: run its experiment first");
        return Registry.All.FirstOrDefault(e => e.Holds(runDir))
            ?? throw new LearngeneException($"{Path.Combine(runDir, ExperimentFolder.ResultsName)} holds no known experiment's results (known: {string.Join(", ", Registry.Names)})");
    }
}
