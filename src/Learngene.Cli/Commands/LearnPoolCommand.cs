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

/// <summary>The pool preset's settings as <c>learn pool</c> options (the experiment's own: <see cref="PoolBench.PresetSettings"/>), with data and threads.</summary>
sealed class PoolOptions
{
    readonly Dictionary<string, Option<string?>> own = PoolBench.PresetSettings.ToDictionary(s => s.Name, s => new Option<string?>("--" + s.Name) { Description = s.Description });
    readonly Option<string?> dataDir = Shared.DataDir();
    readonly Option<int> threads = Shared.Threads();

    public void AddTo(Command cmd)
    {
        foreach (var o in own.Values) cmd.Options.Add(o);
        cmd.Options.Add(dataDir);
        cmd.Options.Add(threads);
    }

    public PoolPreset Apply(ParseResult r, PoolPreset p)
    {
        Shared.SetThreads(r.GetValue(threads));
        return PoolBench.Apply(p, new GivenSettings(own.Where(kv => r.GetValue(kv.Value) is not null).ToDictionary(kv => kv.Key, kv => r.GetValue(kv.Value)!)));
    }

    public Data.DataCache Cache(ParseResult r) => Shared.Cache(r, dataDir);
}
