using Learngene.Experiments;
using Learngene.Experiments.Planning;
using Learngene.Reporting;

namespace Learngene.Methods.Pool;

/// <summary>Learngene Pool against SN-Net as a registered experiment (<c>bench pool</c>, <c>report</c>); its
/// preset settings are also <c>learn pool</c>'s.</summary>
public sealed class PoolBench : IExperiment
{
    public string Name => "pool";
    public string Description =>
        "Learngene Pool against SN-Net: a ViT teacher, distilled half-depth instances and full-depth anchors of the same widths (same per-model budget), six " +
            "stitched families (the pool with the learned, learned-pinv, least-squares and scratch stitch inits, the pool as the authors' code builds it, " +
                "SN-Net) fine-tuned alike with the preset's seeds, every configuration tested and decided by paired-bootstrap intervals; writes " +
                    "results.json, report.md, plots and the families' learngene files.";
    public IReadOnlyList<INamed> Presets => PoolPreset.Registry.All;

    /// <summary>The settings of the pool's preset, shared with <c>learn pool</c>.</summary>
    public static readonly IReadOnlyList<Setting> PresetSettings =
    [
        new("data", "Data set (default: fashion-mnist); any --data value"),
        new("teacher", "A trained ViT teacher model file (default: train one with the preset's teacher budget)"),
        new("widths", "Instance (and anchor) widths, e.g. 24,48,96 (default: the authors' 1/4, 1/2, 1 of the teacher's width)"),
        new("instance-depth", "The instances' depth (default: half the teacher's)"),
        new("seed", "Seed (default: 0)"),
    ];

    public IReadOnlyList<Setting> RunSettings =>
        [new("families", $"Comma-separated stitched families to run (default: all of {string.Join(", ", StitchedFamilies.FamilyNames)})"), .. PresetSettings];

    public bool Holds(string runDir) => PoolReport.Holds(runDir);
    public string WriteReport(string runDir) => PoolReport.Write(runDir, ExperimentFolder.LoadResults<PoolResults>(runDir));
    public IReadOnlyList<Check> Checks(string runDir) => PoolChecks.Evaluate(ExperimentFolder.LoadResults<PoolResults>(runDir));

    /// <summary>The preset with the given <see cref="PresetSettings"/> applied.</summary>
    public static PoolPreset Apply(PoolPreset p, GivenSettings s)
    {
        if (s.Int("instance-depth") is < 2) throw new LearngeneException("the instances need at least 2 blocks to stitch", setting: "instance-depth");
        return p with
        {
            Data = s.Text("data") ?? p.Data,
            TeacherFile = s.Text("teacher") ?? p.TeacherFile,
            Seed = s.Int("seed") ?? p.Seed,
            InstanceDepth = s.Int("instance-depth") ?? p.InstanceDepth,
            Widths = s.Text("widths") is string w ? ParseWidths(w) : p.Widths,
        };
    }

    static int[] ParseWidths(string text)
    {
        var widths = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.TryParse(s, out int v) && v > 0 ? v : -1).ToArray();
        if (widths.Length == 0 || widths.Any(v => v < 0))
            throw new LearngeneException($"widths '{text}': expected positive integers like 24,48,96", setting: "widths");
        return widths;
    }

    public ExperimentRun Configure(string preset, GivenSettings s)
    {
        var p = Apply(PoolPreset.Registry.Find(preset), s);
        var only = s.List("families") is { } names ? StitchedFamilies.Find(names) : null;
        return new ExperimentRun(p.Name, $"Learngene Pool vs SN-Net, preset {p.Name}, data {p.Data}", [], () => PoolPlan.Of(p, only), (dir, data, log) =>
        {
            var results = new PoolExperiment(p, dir, data, log, only).Run();
            return RunOutcome.OfChecks(PoolReport.Write(dir, results), PoolChecks.Evaluate(results),
                $"learngene files: {string.Join(", ", results.Families.Select(f => Path.Combine(dir, f.File)))}");
        });
    }
}
