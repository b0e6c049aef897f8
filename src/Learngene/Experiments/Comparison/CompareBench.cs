using Learngene.Baselines.Initializers;
using Learngene.Data;
using Learngene.Experiments.Planning;
using Learngene.Reporting;

namespace Learngene.Experiments.Comparison;

/// <summary>The comparison as a registered experiment (<c>bench compare</c>, <c>bench tleg</c>, <c>quickstart</c>,
/// <c>report</c>): its presets, the settings a run takes, and a configured run.</summary>
public sealed class CompareBench : IExperiment
{
    public string Name => "compare";
    public string Description =>
        "Learngene methods and initialization baselines side by side: one teacher, one learngene per method, every method's descendants at the same depths, " +
            "epochs, seeds and data, on the source and a transfer data set; writes results.json, report.md and plots. Completed cells are cached: re-running " +
                "resumes, and adding methods or seeds computes only what is new.";
    public IReadOnlyList<INamed> Presets => ComparePreset.Registry.All;

    public IReadOnlyList<Setting> RunSettings =>
    [
        new("methods", $"Comma-separated: {string.Join(", ", Contenders.Names)} (default: all; without a transfer task, those it alone measures are left out)"),
        new("source", "Source data set (default: fashion-mnist); any --data value"),
        new("transfer", "Transfer data set (default: the preset's — mnist, none at quickstart); 'none' for the source task only"),
        new("depths", "Descendant depths, e.g. 1..12 or 2,4,6 (default: the preset's)"),
        new("epochs", "E: descendant training epochs (default: the preset's)"),
        new("seeds", "Repeat every descendant with this many seeds (0, 1, …; default 1); accuracies are means over seeds and every interval resamples the " +
            "seeds, then the test images"),
        new("teacher", "A trained teacher model file (default: train and cache one)"),
        new("seed", "First seed (default: 0)"),
        new("ws-layers", "Weight selection's layers: first (the first N, the authors' code) or spaced (layer floor(i*N/L))"),
        new("ws-elements", "Weight selection's elements of a wider ancestry: uniform (every (large/small)-th, the authors' code) or leading (consecutive " +
            "slice)"),
    ];

    public bool Holds(string runDir) => CompareReport.Holds(runDir);
    public string WriteReport(string runDir) => CompareReport.Write(runDir, ExperimentFolder.LoadResults<CompareResults>(runDir));
    public IReadOnlyList<Check> Checks(string runDir) => CompareChecks.Evaluate(ExperimentFolder.LoadResults<CompareResults>(runDir));

    public ExperimentRun Configure(string preset, GivenSettings s)
    {
        var p = ComparePreset.Registry.Find(preset);
        string? transfer = s.Text("transfer");
        p = p with
        {
            Source = s.Text("source") ?? p.Source,
            Transfer = transfer is null ? p.Transfer : transfer.Equals("none", StringComparison.OrdinalIgnoreCase) ? "" : transfer,
            Depths = s.Text("depths") is string d ? DepthList.Parse(d).ToArray() : p.Depths,
            Epochs = s.Count("epochs") ?? p.Epochs,
            Seed = s.Int("seed") ?? p.Seed,
            WeightSelection = new WeightSelectionRules(s.Text("ws-layers") ?? p.WeightSelection.Layers, s.Text("ws-elements") ?? p.WeightSelection.Elements)
                .Validate(),
        };
        if (p.Epochs < 1) throw new LearngeneException($"--epochs must be at least 1 (got {p.Epochs})", setting: "epochs");
        int seeds = s.Count("seeds") ?? 1;
        if (seeds < 1) throw new LearngeneException($"--seeds must be at least 1 (got {seeds})", setting: "seeds");
        var notes = new List<string>();
        var methods = Contenders.Parse(s.Text("methods") ?? string.Join(",", Contenders.Names));
        var transferOnly = methods.Where(m => !Contenders.Find(m).MeasuredOn("source")).ToArray();
        if (p.Transfer == "" && s.Text("methods") is null && transferOnly.Length > 0)
        {
            // The default list meets a comparison without a transfer task: leave out what only that task measures.
            notes.Add($"no transfer task: {string.Join(", ", transferOnly)} left out (it is measured on the transfer task)");
            methods = methods.Except(transferOnly).ToArray();
        }
        string? teacher = s.Text("teacher");
        string title = $"comparison, preset {p.Name}: {string.Join(", ", methods)}; {p.Source}{(p.Transfer == "" ? "" : " → " + p.Transfer)}, " +
                       $"depths {string.Join(",", p.Depths)}, E = {p.Epochs}, {seeds} seed(s)";
        return new ExperimentRun(p.Name, title, notes, () => ComparePlan.Of(p, methods, seeds, teacher), (dir, data, log) =>
        {
            var results = new CompareExperiment(p, methods, seeds, dir, data, log).Run(teacher);
            string report = CompareReport.Write(dir, results);
            // The report's tables and verdicts, as quickstart ends.
            return new RunOutcome(report, File.ReadAllLines(report).TakeWhile(l => !l.StartsWith("![")).ToArray());
        });
    }
}
