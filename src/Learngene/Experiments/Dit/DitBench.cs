using Learngene.Experiments.Planning;
using Learngene.Reporting;

namespace Learngene.Experiments.Dit;

/// <summary>DiTs trained and judged per data set, as a registered experiment (<c>bench dit</c>, <c>report</c>).</summary>
public sealed class DitBench : IExperiment
{
    public string Name => "dit";
    public string Description =>
        "A class-conditional DiT per data set: a judge classifier, DiT training with FD-clf and accuracy on samples each epoch, a final evaluation (guidance " +
            "and DDIM steps of the preset), grids and ImageFolders of samples; writes results.json, report.md and plots.";
    public IReadOnlyList<INamed> Presets => DitPreset.Registry.All;
    public IReadOnlyList<Setting> RunSettings => [new("data", "Comma-separated data sets (default: mnist,fashion-mnist)")];

    public bool Holds(string runDir) => DitReport.Holds(runDir);
    public string WriteReport(string runDir) => DitReport.Write(runDir, ExperimentFolder.LoadResults<DitResults>(runDir));
    public IReadOnlyList<Check> Checks(string runDir) => DitChecks.Evaluate(ExperimentFolder.LoadResults<DitResults>(runDir));

    public ExperimentRun Configure(string preset, GivenSettings s)
    {
        var p = DitPreset.Registry.Find(preset);
        if (s.List("data") is { } names) p = p with { Data = names };
        return new ExperimentRun(p.Name, $"DiT, preset {p.Name}, data {string.Join(", ", p.Data)}", [], () => DitPlan.Of(p), (dir, data, log) =>
        {
            var results = new DitExperiment(p, dir, data, log).Run();
            return RunOutcome.OfChecks(DitReport.Write(dir, results), DitChecks.Evaluate(results));
        });
    }
}
