using Learngene.Experiments;
using Learngene.Experiments.Planning;
using Learngene.Reporting;

namespace Learngene.Methods.Kind;

/// <summary>KIND against PEFT and a learngene baseline on new classes, as a registered experiment
/// (<c>bench kind</c>, <c>report</c>).</summary>
public sealed class KindBench : IExperiment
{
    public string Name => "kind";
    public string Description =>
        "KIND: pre-train an SVD-form DiT (learngenes and class tailors) and an ordinary DiT on digits 0–4 and garments 0–4, check knowledge diversion, then " +
            "transfer to digits 5–9 and garments 5–9 with KIND (also with a null tailor block, and the ungated ablation), LoRA, PiSSA, SVDiff, full " +
                "fine-tuning and Heur-LG over the transfer seeds; writes results.json, report.md with intervals, grids and a plot.";
    public IReadOnlyList<INamed> Presets => KindPreset.Registry.All;

    public IReadOnlyList<Setting> RunSettings =>
    [
        new("methods", $"Comma-separated transfer methods (default: {string.Join(",", KindExperiment.DefaultMethods)}; also " +
            $"{string.Join(", ", KindExperiment.AllMethods.Except(KindExperiment.DefaultMethods))}); methods may be added to an existing run folder"),
        new("seeds", "Transfer seeds of every method (default: the preset's); seeds may be added to an existing run folder"),
    ];

    public bool Holds(string runDir) => KindReport.Holds(runDir);
    public string WriteReport(string runDir) => KindReport.Write(runDir, ExperimentFolder.LoadResults<KindResults>(runDir));
    public IReadOnlyList<Check> Checks(string runDir) => KindChecks.Evaluate(ExperimentFolder.LoadResults<KindResults>(runDir));

    public ExperimentRun Configure(string preset, GivenSettings s)
    {
        var p = KindPreset.Registry.Find(preset);
        if (s.List("methods") is { } names) p = p with { Methods = names };
        if (s.Count("seeds") is int n)
            p = n >= 1 ? p with { TransferSeeds = n } : throw new LearngeneException($"--seeds must be at least 1 (got {n})", setting: "seeds");
        return new ExperimentRun(p.Name, $"KIND, preset {p.Name}", [], () => KindPlan.Of(p), (dir, data, log) =>
        {
            var results = new KindExperiment(p, dir, data, log).Run();
            return RunOutcome.OfChecks(KindReport.Write(dir, results), KindChecks.Evaluate(results));
        });
    }
}
