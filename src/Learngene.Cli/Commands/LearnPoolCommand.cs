using System.CommandLine;
using Learngene.Methods.Pool;
using Learngene.Models.Stitching;

namespace Learngene.Cli;

/// <summary><c>learngene learn pool</c>: Learngene Pool alone — instances distilled from a ViT teacher,
/// pooled, stitches initialized, fine-tuned, every configuration measured — into one learngene file.</summary>
static class LearnPoolCommand
{
    public static Command Create()
    {
        var preset = new Option<string>("--preset") { Description = $"Budget: {string.Join("; ", PoolPreset.Registry.All.Select(p => $"{p.Name} ({p.Description})"))}", DefaultValueFactory = _ => "small" };
        var stitchInit = new Option<string>("--stitch-init") { Description = "How stitch layers start: learned (the authors' rule: the front's distillation maps transposed), learned-pinv (the maps composed through a pseudo-inverse, biases kept), ls (least squares on the calibration images, SN-Net's) or scratch (random)", DefaultValueFactory = _ => "learned" };
        stitchInit.AcceptOnlyFromAmong(StitchedFamilies.StitchInits);
        var pairs = new Option<string>("--pairs") { Description = "Stitch each instance into the next wider (neighbours) or only the narrowest into the widest (ends, as the authors' code)", DefaultValueFactory = _ => "neighbours" };
        pairs.AcceptOnlyFromAmong("neighbours", "ends");
        var output = new Option<string?>("--out") { Description = "Run folder (default: runs/learn-pool-PRESET); the learngene is pool-INIT.safetensors in it; re-running resumes it" };
        var options = new PoolOptions();
        var cmd = new Command("pool", "Learngene Pool: distil a ViT teacher into instances of several widths (half its depth), pool their blocks, stitch them (sliding windows), fine-tune one sampled configuration per step, and measure every configuration. Writes one learngene file (method pool); use it with 'learngene pool list|export'.");
        foreach (var o in new Option[] { preset, stitchInit, pairs, output }) cmd.Options.Add(o);
        options.AddTo(cmd);
        cmd.SetAction(r =>
        {
            var p = options.Apply(r, PoolPreset.Registry.Find(r.GetValue(preset)!));
            string dir = r.GetValue(output) ?? Path.Combine("runs", $"learn-pool-{p.Name}");
            var family = StitchedFamilies.PoolFamily(r.GetValue(stitchInit)!, r.GetValue(pairs)!);
            var result = new PoolExperiment(p, dir, options.Cache(r), ConsoleProgress.Log, only: [family]).Run().Families[0];
            var best = result.Configurations.MaxBy(c => c.ChoiceScore)!; // chosen on validation when the preset keeps a validation split
            Console.WriteLine($"{result.Configurations.Length} configurations, {result.Configurations.Min(c => c.Parameters):N0}–{result.Configurations.Max(c => c.Parameters):N0} parameters; " +
                              $"Pareto front of {BudgetPick.ParetoFront(result.Configurations).Count}; best {(best.ValidationAccuracy is null ? "on test" : "on validation")} {best.Id}: {best.Accuracy * 100:F2}% on test");
            Console.WriteLine($"learngene: {Path.Combine(dir, result.File)} (see 'learngene pool list')");
            return 0;
        });
        return cmd;
    }
}

/// <summary>The options <c>learn pool</c> and <c>bench pool</c> share: data, teacher, widths, depth, seed, threads.</summary>
sealed class PoolOptions
{
    readonly Option<string?> teacher = new("--teacher") { Description = "A trained ViT teacher model file (default: train one with the preset's teacher budget)" };
    readonly Option<string?> data = new("--data") { Description = "Data set (default: fashion-mnist); any --data value" };
    readonly Option<string?> widths = new("--widths") { Description = "Instance (and anchor) widths, e.g. 24,48,96 (default: the authors' 1/4, 1/2, 1 of the teacher's width)" };
    readonly Option<int?> depth = new("--instance-depth") { Description = "The instances' depth (default: half the teacher's)" };
    readonly Option<int?> seed = new("--seed") { Description = "Seed (default: 0)" };
    readonly Option<string?> dataDir = Shared.DataDir();
    readonly Option<int> threads = Shared.Threads();

    public void AddTo(Command cmd)
    {
        foreach (var o in new Option[] { data, teacher, widths, depth, seed, dataDir, threads }) cmd.Options.Add(o);
    }

    public PoolPreset Apply(ParseResult r, PoolPreset p)
    {
        Shared.SetThreads(r.GetValue(threads));
        if (r.GetValue(depth) is < 2) throw new LearngeneException("the instances need at least 2 blocks to stitch", setting: "instance-depth");
        return p with
        {
            Data = r.GetValue(data) ?? p.Data, TeacherFile = r.GetValue(teacher) ?? p.TeacherFile, Seed = r.GetValue(seed) ?? p.Seed, InstanceDepth = r.GetValue(depth) ?? p.InstanceDepth,
            Widths = r.GetValue(widths) is string w ? ParseWidths(w) : p.Widths,
        };
    }

    public Data.DataCache Cache(ParseResult r) => Shared.Cache(r, dataDir);

    static int[] ParseWidths(string text)
    {
        var widths = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => int.TryParse(s, out int v) && v > 0 ? v : -1).ToArray();
        if (widths.Length == 0 || widths.Any(v => v < 0)) throw new LearngeneException($"widths '{text}': expected positive integers like 24,48,96", setting: "widths");
        return widths;
    }
}
