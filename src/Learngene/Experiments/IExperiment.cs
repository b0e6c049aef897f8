using Learngene.Experiments.Comparison;
using Learngene.Experiments.Dit;
using Learngene.Experiments.Planning;
using Learngene.Methods.Kind;
using Learngene.Methods.Pool;
using Learngene.Reporting;

namespace Learngene.Experiments;

/// <summary>What every experiment offers <c>bench</c>, <c>report</c> and a library user: its presets and the
/// settings a run takes, a run configured from them (its plan for a dry run, and how it runs and reports),
/// whether a run folder holds its results, its report rendered from them, and its checks read from them.
/// An experiment is its folder plus one line in <see cref="ExperimentRegistry.Registry"/>.</summary>
public interface IExperiment : INamed
{
    /// <summary>Its budgets (smoke, small, paper…).</summary>
    IReadOnlyList<INamed> Presets { get; }

    /// <summary>The settings a run takes beyond its preset; each is a <c>bench NAME --NAME VALUE</c> option.</summary>
    IReadOnlyList<Setting> RunSettings { get; }

    /// <summary>The run of the named preset with the given settings (checked here: one clear error for a bad one).</summary>
    ExperimentRun Configure(string preset, GivenSettings settings);

    /// <summary>Every training a run of the named preset would do with its defaults (<see cref="DryRun"/>).</summary>
    IReadOnlyList<PlannedCell> Plan(string preset) => Configure(preset, GivenSettings.None).Plan();

    /// <summary>Whether the folder's results.json is this experiment's.</summary>
    bool Holds(string runDir);

    /// <summary>Renders report.md and the plots from the folder's results; returns the report's path.</summary>
    string WriteReport(string runDir);

    /// <summary>The experiment's checks (each met, missed or not resolved) read from the folder's results.</summary>
    IReadOnlyList<Check> Checks(string runDir);
}

/// <summary>An experiment given by its functions (one registered from outside the library, in a few lines).</summary>
public sealed class Experiment<TResults>(string name, string description, Func<string, bool> holds, Func<string, TResults, string> write, Func<TResults, List<Check>> checks,
    IReadOnlyList<INamed> presets, Func<string, GivenSettings, ExperimentRun> configure, IReadOnlyList<Setting>? settings = null)
    : IExperiment where TResults : class
{
    public string Name => name;
    public string Description => description;
    public IReadOnlyList<INamed> Presets => presets;
    public IReadOnlyList<Setting> RunSettings => settings ?? [];
    public ExperimentRun Configure(string preset, GivenSettings given) => configure(preset, given);
    public bool Holds(string runDir) => holds(runDir);
    public string WriteReport(string runDir) => write(runDir, ExperimentFolder.LoadResults<TResults>(runDir));
    public IReadOnlyList<Check> Checks(string runDir) => checks(ExperimentFolder.LoadResults<TResults>(runDir));
}

public static class ExperimentRegistry
{
    /// <summary>Asked in this order (the comparison's results are told by a field the others lack).</summary>
    public static readonly Registry<IExperiment> Registry = new("experiment", [new PoolBench(), new KindBench(), new DitBench(), new CompareBench()]);

    /// <summary>The experiment whose results the run folder holds.</summary>
    public static IExperiment OfFolder(string runDir)
    {
        if (!File.Exists(Path.Combine(runDir, ExperimentFolder.ResultsName)))
            throw new LearngeneException($"{runDir} has no {ExperimentFolder.ResultsName}: run its experiment first");
        return Registry.All.FirstOrDefault(e => e.Holds(runDir))
            ?? throw new LearngeneException($"{Path.Combine(runDir, ExperimentFolder.ResultsName)} holds no known experiment's results (known: {string.Join(", ", Registry.Names)})");
    }
}
